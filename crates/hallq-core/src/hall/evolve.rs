//! `evolve`: folds one event into the state. Events come from `decide` or from the log, so
//! they are trusted to be valid; an event about an unknown ticket changes nothing.

use super::queue::{DayCounts, ServiceQueue};
use super::{Hall, WindowStatus, PAUSE_WEIGHT_PERCENT, RECENT_CALLS_MAX};
use crate::appointment::AppointmentStatus;
use crate::event::Event;
use crate::ids::{TicketId, WindowId};
use crate::ticket::{Ticket, TicketStatus};

impl Hall {
    pub fn evolve(&mut self, event: &Event) {
        self.evolve_rating(event);
        match event {
            Event::ServiceDayStarted { day, .. } => {
                self.day = Some(*day);
                let stale: Vec<TicketId> = self
                    .tickets
                    .values()
                    .filter(|ticket| ticket.service_day < *day && ticket.status.is_final())
                    .map(|ticket| ticket.id)
                    .collect();
                for id in stale {
                    if let Some(ticket) = self.tickets.remove(&id) {
                        self.tokens.remove(&ticket.token);
                    }
                }
                self.idempotency.clear();
                self.recent_calls.clear();
                self.per_person.clear();
                self.appointments.retain(|_, a| a.date >= *day);
                for (queue, spec) in self.queues.iter_mut().zip(&self.spec.services) {
                    let waiting = std::mem::take(&mut queue.waiting);
                    // The screen's average starts the day from the prior again; the
                    // forecast's fit of the service's times goes on from yesterday's.
                    let average = queue.average.next_day(spec.prior_service_s);
                    *queue = ServiceQueue::new(spec.prior_service_s);
                    queue.waiting = waiting;
                    queue.average = average;
                }
                self.counts = vec![DayCounts::default(); self.spec.services.len()];
                self.fold_arrival_day();
            }
            Event::TicketIssued { ticket } => self.insert_ticket(ticket.clone()),
            Event::TicketCalled {
                ticket, window, at, ..
            } => {
                self.change_ticket(*ticket, |hall, found| {
                    hall.remove_waiting(found);
                    found.status = TicketStatus::Called;
                    found.called_at = Some(*at);
                    found.window = Some(window.clone());
                });
                if let Some(&index) = self.window_index.get(window) {
                    self.windows[index].current = Some(*ticket);
                }
                if self.tickets.contains_key(ticket) {
                    self.recent_calls.retain(|id| id != ticket);
                    self.recent_calls.push_front(*ticket);
                    self.recent_calls.truncate(RECENT_CALLS_MAX);
                }
            }
            Event::TicketRecalled {
                ticket, recalls, ..
            } => {
                self.change_ticket(*ticket, |_, found| found.recalls = *recalls);
            }
            Event::TicketNoShow {
                ticket, window, at, ..
            } => {
                self.release_window(window, *ticket);
                self.change_ticket(*ticket, |_, found| {
                    found.status = TicketStatus::NoShow;
                    found.finished_at = Some(*at);
                });
            }
            Event::TicketRequeued { ticket, at, .. } => {
                self.change_ticket(*ticket, |hall, found| {
                    found.status = TicketStatus::Waiting;
                    found.queued_at = *at;
                    found.finished_at = None;
                    found.requeues += 1;
                    hall.add_waiting(found);
                });
            }
            Event::TicketTransferred {
                ticket,
                to_service,
                window,
                ..
            } => {
                self.release_window(window, *ticket);
                self.change_ticket(*ticket, |hall, found| {
                    found.status = TicketStatus::Waiting;
                    found.service = to_service.clone();
                    found.transfers += 1;
                    hall.add_waiting(found);
                });
            }
            Event::TicketCompleted {
                ticket,
                window,
                at,
                service_s,
                ..
            } => {
                self.release_window(window, *ticket);
                let weight = self.spec.policy.service_time_weight_percent;
                self.change_ticket(*ticket, |hall, found| {
                    found.status = TicketStatus::Completed;
                    found.finished_at = Some(*at);
                    if let Some(&index) = hall.service_index.get(&found.service) {
                        hall.queues[index].average.record(*service_s, weight);
                    }
                });
            }
            Event::TicketCancelled { ticket, at, .. } | Event::TicketExpired { ticket, at, .. } => {
                let cancelled = matches!(event, Event::TicketCancelled { .. });
                self.change_ticket(*ticket, |hall, found| {
                    match found.status {
                        TicketStatus::Waiting => hall.remove_waiting(found),
                        TicketStatus::Called => {
                            if let Some(window) = found.window.clone() {
                                hall.release_window(&window, found.id);
                            }
                        }
                        _ => {}
                    }
                    found.status = if cancelled {
                        TicketStatus::Cancelled
                    } else {
                        TicketStatus::Expired
                    };
                    found.finished_at = Some(*at);
                });
            }
            Event::WindowPaused { window, at } => {
                self.set_window_status(window, WindowStatus::Paused);
                if let Some(&index) = self.window_index.get(window) {
                    self.paused_since[index] = Some(*at);
                }
            }
            Event::WindowResumed { window, at } => {
                self.set_window_status(window, WindowStatus::Open);
                if let Some(&index) = self.window_index.get(window) {
                    // How long unplanned pauses last, for the forecast (a planned break is
                    // known already).
                    if let Some(since) = self.paused_since[index].take() {
                        if !self.in_planned_break(index, since) {
                            let length = (at.as_second() - since.as_second()).max(0) as u64;
                            self.pause_length.record(length, PAUSE_WEIGHT_PERCENT);
                        }
                    }
                }
            }
            Event::AppointmentBooked { appointment } => {
                self.appointments
                    .insert(appointment.code.clone(), appointment.clone());
            }
            Event::AppointmentCancelled { code, .. } => {
                self.set_appointment_status(code, AppointmentStatus::Cancelled)
            }
            Event::AppointmentCheckedIn { code, ticket, .. } => {
                if let Some(found) = self.appointments.get_mut(code) {
                    found.status = AppointmentStatus::CheckedIn;
                    found.ticket = Some(*ticket);
                }
            }
            Event::AppointmentNoShow { code, .. } => {
                self.set_appointment_status(code, AppointmentStatus::NoShow)
            }
            // Records for people; the queue does not change.
            Event::DeviceStatusChanged { .. }
            | Event::TicketPrintFailed { .. }
            | Event::TicketReprintRequested { .. }
            | Event::TicketPrinted { .. }
            | Event::SmsNotified { .. } => {}
            Event::BoardNoticeSet { text, .. } => self.board_notice = text.clone(),
            Event::WaitAlarmSet {
                service,
                max_wait_s,
                ..
            } => match max_wait_s {
                Some(limit) => {
                    self.wait_alarms.insert(service.clone(), *limit);
                }
                None => {
                    self.wait_alarms.remove(service);
                }
            },
            // Ratings and cases are folded by `evolve_rating`.
            Event::ServiceRated { .. }
            | Event::CaseOpened { .. }
            | Event::CaseProgressed { .. } => {}
        }
    }

    /// Changes one ticket, keeping the day's figures right: the ticket's old contribution is
    /// taken away before `change` and its new one added after.
    fn change_ticket(&mut self, id: TicketId, change: impl FnOnce(&mut Hall, &mut Ticket)) {
        let Some(mut ticket) = self.tickets.remove(&id) else {
            return;
        };
        self.tally(&ticket, false);
        change(self, &mut ticket);
        self.tally(&ticket, true);
        self.tickets.insert(id, ticket);
    }

    fn release_window(&mut self, window: &WindowId, ticket: TicketId) {
        if let Some(&index) = self.window_index.get(window) {
            if self.windows[index].current == Some(ticket) {
                self.windows[index].current = None;
            }
        }
    }

    fn set_window_status(&mut self, window: &WindowId, status: WindowStatus) {
        if let Some(&index) = self.window_index.get(window) {
            self.windows[index].status = status;
        }
    }

    fn set_appointment_status(&mut self, code: &str, status: AppointmentStatus) {
        if let Some(found) = self.appointments.get_mut(code) {
            found.status = status;
        }
    }
}
