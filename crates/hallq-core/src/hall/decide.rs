//! `decide`: what a command would cause, without changing anything.

use super::{seconds_between, Hall, Outcome, WindowStatus};
use crate::calendar::ServiceMode;
use crate::command::{Command, IssueTicket};
use crate::error::DomainError;
use crate::event::Event;
use crate::ids::{TicketId, WindowId};
use crate::ticket::{format_ticket_number, PriorityClass, Ticket, TicketStatus};
use jiff::Timestamp;

/// An outcome of exactly one event.
fn single(event: Event) -> Result<Outcome, DomainError> {
    let ticket = event.ticket();
    Ok(Outcome {
        events: vec![event],
        ticket,
    })
}

impl Hall {
    /// What a command would cause at `now`: its events, or why it is refused.
    pub fn decide(&self, command: &Command, now: Timestamp) -> Result<Outcome, DomainError> {
        // The engine calls `advance_to` before every batch; a day behind `now` is a bug.
        // (A day ahead of `now` means the clock stepped back: keep the day we are in.)
        if self.day.is_none_or(|day| day < self.service_day_of(now)) {
            return Err(DomainError::DayNotStarted);
        }
        match command {
            Command::IssueTicket(issue) => self.decide_issue(issue, now),
            Command::CallNext { window, staff } => self.decide_call_next(window, staff, now),
            Command::CallTicket {
                window,
                ticket,
                staff,
            } => self.decide_call_ticket(window, *ticket, staff, now),
            Command::SetBoardNotice { text } => {
                if let Some(text) = text {
                    if text.chars().count() > super::BOARD_NOTICE_MAX_CHARS
                        || text.chars().any(char::is_control)
                    {
                        return Err(DomainError::InvalidNotice(super::BOARD_NOTICE_MAX_CHARS));
                    }
                }
                single(Event::BoardNoticeSet {
                    text: text.clone(),
                    at: now,
                })
            }
            Command::SetWaitAlarm {
                service,
                max_wait_s,
            } => {
                self.service_position(service)?;
                if max_wait_s.is_some_and(|limit| !super::WAIT_ALARM_RANGE_S.contains(&limit)) {
                    return Err(DomainError::InvalidWaitAlarm(super::WAIT_ALARM_RANGE_S));
                }
                single(Event::WaitAlarmSet {
                    service: service.clone(),
                    max_wait_s: *max_wait_s,
                    at: now,
                })
            }
            Command::Recall { window } => {
                let ticket = self.current_ticket(window)?;
                single(Event::TicketRecalled {
                    ticket: ticket.id,
                    number: ticket.number.clone(),
                    window: window.clone(),
                    at: now,
                    recalls: ticket.recalls + 1,
                })
            }
            Command::NoShow { window } => {
                let ticket = self.current_ticket(window)?;
                single(Event::TicketNoShow {
                    ticket: ticket.id,
                    number: ticket.number.clone(),
                    window: window.clone(),
                    at: now,
                })
            }
            Command::Requeue { window, ticket } => self.decide_requeue(window, *ticket, now),
            Command::Transfer { window, service } => {
                self.service_position(service)?;
                let ticket = self.current_ticket(window)?;
                if &ticket.service == service {
                    return Err(DomainError::TransferToSameService(
                        ticket.id,
                        service.clone(),
                    ));
                }
                single(Event::TicketTransferred {
                    ticket: ticket.id,
                    number: ticket.number.clone(),
                    from_service: ticket.service.clone(),
                    to_service: service.clone(),
                    window: window.clone(),
                    at: now,
                })
            }
            Command::Complete { window, staff } => {
                let ticket = self.current_ticket(window)?;
                single(self.completion(ticket, window, staff, now))
            }
            Command::Pause { window } => {
                let index = self.window_position(window)?;
                if self.windows[index].status == WindowStatus::Paused {
                    return Err(DomainError::WindowPaused(window.clone()));
                }
                single(Event::WindowPaused {
                    window: window.clone(),
                    at: now,
                })
            }
            Command::Resume { window } => {
                let index = self.window_position(window)?;
                if self.windows[index].status == WindowStatus::Open {
                    return Err(DomainError::WindowNotPaused(window.clone()));
                }
                single(Event::WindowResumed {
                    window: window.clone(),
                    at: now,
                })
            }
            Command::Cancel { ticket } => {
                let found = self.known_ticket(*ticket)?;
                if found.status != TicketStatus::Waiting {
                    return Err(DomainError::InvalidState {
                        ticket: *ticket,
                        status: found.status,
                        action: "cancelled",
                    });
                }
                single(Event::TicketCancelled {
                    ticket: *ticket,
                    number: found.number.clone(),
                    at: now,
                })
            }
            Command::RecordDeviceStatus {
                device,
                condition,
                detail,
            } => single(Event::DeviceStatusChanged {
                device: device.clone(),
                condition: condition.clone(),
                detail: detail.clone(),
                at: now,
            }),
            Command::BookAppointment {
                code,
                service,
                start,
                channel,
                contact,
                name_sealed,
                id_card,
            } => {
                let appointment = self.decide_booking(
                    super::booking::BookingAsked {
                        code,
                        service,
                        start: *start,
                        channel: *channel,
                        contact,
                        name_sealed,
                        id_card,
                    },
                    now,
                )?;
                Ok(Outcome {
                    events: vec![Event::AppointmentBooked { appointment }],
                    ticket: None,
                })
            }
            Command::CancelAppointment { code } => self.decide_cancel_booking(code, now),
            Command::CheckIn { by, token, kiosk } => self.decide_check_in(by, token, kiosk, now),
            Command::RecordSms {
                ticket,
                purpose,
                delivered,
                detail,
            } => {
                let found = self.known_ticket(*ticket)?;
                single(Event::SmsNotified {
                    ticket: *ticket,
                    number: found.number.clone(),
                    purpose: purpose.clone(),
                    delivered: *delivered,
                    detail: detail.clone(),
                    at: now,
                })
            }
            Command::RequestReprint { ticket, printer } => {
                let found = self.known_ticket(*ticket)?;
                single(Event::TicketReprintRequested {
                    ticket: *ticket,
                    number: found.number.clone(),
                    printer: printer.clone(),
                    at: now,
                })
            }
            Command::Rate {
                ticket,
                level,
                reasons,
                comment,
                channel,
            } => self.decide_rating(*ticket, *level, reasons, comment, *channel, now),
            Command::FileComplaint {
                category,
                text,
                contact,
                ticket,
                channel,
            } => self.decide_complaint(category, text, contact, *ticket, *channel, now),
            Command::ProgressCase {
                case,
                action,
                note,
                by,
            } => self.decide_case_action(*case, *action, note, by, now),
            Command::RecordPrintOutcome {
                ticket,
                printer,
                failure,
            } => {
                let number = self.known_ticket(*ticket)?.number.clone();
                single(match failure {
                    None => Event::TicketPrinted {
                        ticket: *ticket,
                        number,
                        printer: printer.clone(),
                        at: now,
                    },
                    Some((condition, reason)) => Event::TicketPrintFailed {
                        ticket: *ticket,
                        number,
                        printer: printer.clone(),
                        condition: condition.clone(),
                        reason: reason.clone(),
                        at: now,
                    },
                })
            }
        }
    }

    pub(super) fn completion(
        &self,
        ticket: &Ticket,
        window: &WindowId,
        staff: &Option<String>,
        now: Timestamp,
    ) -> Event {
        Event::TicketCompleted {
            ticket: ticket.id,
            number: ticket.number.clone(),
            service: ticket.service.clone(),
            window: window.clone(),
            at: now,
            service_s: seconds_between(ticket.called_at.unwrap_or(now), now),
            staff: staff.clone(),
        }
    }

    fn decide_requeue(
        &self,
        window: &WindowId,
        ticket: TicketId,
        now: Timestamp,
    ) -> Result<Outcome, DomainError> {
        let window_index = self.window_position(window)?;
        let found = self.known_ticket(ticket)?;
        if found.status != TicketStatus::NoShow {
            return Err(DomainError::InvalidState {
                ticket,
                status: found.status,
                action: "requeued",
            });
        }
        // The window that marked it puts it back; another window does not undo its work.
        if found.window.as_ref() != Some(window) {
            return Err(DomainError::MarkedAtAnotherWindow {
                ticket,
                window: found.window.clone().unwrap_or_else(|| window.clone()),
            });
        }
        if !self.spec.windows[window_index]
            .services
            .contains(&found.service)
        {
            return Err(DomainError::ServiceNotServed {
                window: window.clone(),
                service: found.service.clone(),
            });
        }
        if found.requeues >= self.spec.policy.requeue_limit {
            return Err(DomainError::RequeueLimitReached(ticket));
        }
        let marked_at = found.finished_at.unwrap_or(now);
        if seconds_between(marked_at, now) > u64::from(self.spec.policy.requeue_within_s) {
            return Err(DomainError::RequeueTooLate(ticket));
        }
        single(Event::TicketRequeued {
            ticket,
            number: found.number.clone(),
            service: found.service.clone(),
            window: window.clone(),
            at: now,
        })
    }

    fn decide_issue(&self, issue: &IssueTicket, now: Timestamp) -> Result<Outcome, DomainError> {
        self.service_position(&issue.service)?;
        if !self.spec.schedule.is_always_open() {
            let availability = self.availability(&issue.service, now);
            match availability.mode {
                ServiceMode::Closed => {
                    return Err(DomainError::ServiceClosed {
                        service: issue.service.clone(),
                        next_open: availability.next_open,
                    })
                }
                ServiceMode::AppointmentOnly if issue.priority != PriorityClass::Appointment => {
                    return Err(DomainError::AppointmentOnly(issue.service.clone()))
                }
                _ => {}
            }
        }
        match self.new_ticket(issue, now)? {
            Ok(ticket) => {
                let id = ticket.id;
                Ok(Outcome {
                    events: vec![Event::TicketIssued { ticket }],
                    ticket: Some(id),
                })
            }
            Err(existing) => Ok(Outcome {
                events: Vec::new(),
                ticket: Some(existing),
            }),
        }
    }

    /// A new ticket for `issue`, or the existing one for a retried idempotency key.
    pub(super) fn new_ticket(
        &self,
        issue: &IssueTicket,
        now: Timestamp,
    ) -> Result<Result<Ticket, TicketId>, DomainError> {
        let service = self.service_position(&issue.service)?;
        if let Some(key) = &issue.idempotency_key {
            if let Some(&existing) = self.idempotency.get(key) {
                let ticket = &self.tickets[&existing];
                // A retry asks for the same ticket; anything else under the key is a mistake.
                let same = ticket.number_service == issue.service
                    && ticket.priority == issue.priority
                    && ticket.channel == issue.channel
                    && ticket.kiosk == issue.kiosk
                    && ticket.contact.as_ref().map(|c| &c.key)
                        == issue.contact.as_ref().map(|c| &c.key)
                    && ticket.id_card.as_ref().map(|c| &c.key)
                        == issue.id_card.as_ref().map(|c| &c.key);
                if !same {
                    return Err(DomainError::IdempotencyKeyReused);
                }
                return Ok(Err(existing));
            }
        }
        // 号贩子: a person — by phone, or by ID card — takes at most so many numbers of a
        // service a day.
        let limit = self.spec.policy.tickets_per_person_per_service_per_day;
        let people = issue.contact.iter().chain(&issue.id_card);
        for person in people.filter(|person| !person.key.is_empty()) {
            let held = self
                .per_person
                .get(&(person.key.clone(), issue.service.clone()))
                .copied()
                .unwrap_or(0);
            if limit > 0 && held >= limit {
                return Err(DomainError::PersonLimitReached(limit));
            }
        }
        if self.tokens.contains_key(&issue.token) {
            return Err(DomainError::TokenInUse);
        }
        let spec = &self.spec.services[service];
        let sequence = self.queues[service].last_number + 1;
        Ok(Ok(Ticket {
            id: TicketId(self.last_ticket_id + 1),
            number: format_ticket_number(&spec.prefix, sequence),
            number_service: spec.id.clone(),
            service: spec.id.clone(),
            service_day: self.day.unwrap_or_else(|| self.service_day_of(now)),
            priority: issue.priority,
            channel: issue.channel,
            status: TicketStatus::Waiting,
            issued_at: now,
            queued_at: now,
            called_at: None,
            finished_at: None,
            window: None,
            recalls: 0,
            requeues: 0,
            transfers: 0,
            token: issue.token.clone(),
            contact: issue.contact.clone(),
            id_card: issue.id_card.clone(),
            kiosk: issue.kiosk.clone(),
            idempotency_key: issue.idempotency_key.clone(),
        }))
    }

    /// What any call at `window` begins with: the window must be open, and the visit it is
    /// serving (if any) is completed. Returns the window's position and that completion.
    fn start_call(
        &self,
        window: &WindowId,
        staff: &Option<String>,
        now: Timestamp,
    ) -> Result<(usize, Vec<Event>), DomainError> {
        let index = self.window_position(window)?;
        let state = &self.windows[index];
        if state.status == WindowStatus::Paused {
            return Err(DomainError::WindowPaused(window.clone()));
        }
        let completed = state
            .current
            .and_then(|id| self.tickets.get(&id))
            .map(|current| self.completion(current, window, staff, now));
        Ok((index, completed.into_iter().collect()))
    }

    fn decide_call_next(
        &self,
        window: &WindowId,
        staff: &Option<String>,
        now: Timestamp,
    ) -> Result<Outcome, DomainError> {
        let (_, mut events) = self.start_call(window, staff, now)?;
        let next = self.next_for_window(window, now);
        if let Some(ticket) = next.and_then(|id| self.tickets.get(&id)) {
            events.push(called(ticket, window, now));
        }
        Ok(Outcome {
            events,
            ticket: next,
        })
    }

    fn decide_call_ticket(
        &self,
        window: &WindowId,
        ticket: TicketId,
        staff: &Option<String>,
        now: Timestamp,
    ) -> Result<Outcome, DomainError> {
        let (index, mut events) = self.start_call(window, staff, now)?;
        let found = self.known_ticket(ticket)?;
        if found.status != TicketStatus::Waiting {
            return Err(DomainError::InvalidState {
                ticket,
                status: found.status,
                action: "called",
            });
        }
        if !self.spec.windows[index].services.contains(&found.service) {
            return Err(DomainError::ServiceNotServed {
                window: window.clone(),
                service: found.service.clone(),
            });
        }
        events.push(called(found, window, now));
        Ok(Outcome {
            events,
            ticket: Some(ticket),
        })
    }
}

/// The call of a waiting ticket to a window, in turn or out of it.
fn called(ticket: &Ticket, window: &WindowId, now: Timestamp) -> Event {
    Event::TicketCalled {
        ticket: ticket.id,
        number: ticket.number.clone(),
        service: ticket.service.clone(),
        window: window.clone(),
        at: now,
        wait_s: seconds_between(ticket.queued_at, now),
    }
}
