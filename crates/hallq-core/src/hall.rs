//! The hall's live state and the rules that change it.
//!
//! `decide` looks at the state and a command and says which events follow (or why not);
//! `evolve` folds one event into the state. Keeping the two apart means the state after a
//! restart — rebuilt from the stored tables, or from the event log — is the state the events
//! describe, and nothing else.

use crate::appointment::{Appointment, AppointmentStatus, Slot};
use crate::command::{Command, IssueTicket};
use crate::error::DomainError;
use crate::estimate::{wait_estimate_s, ServiceTimeAverage};
use crate::event::Event;
use crate::ids::{ServiceId, TicketId, WindowId};
use crate::ordering::call_order_key;
use crate::spec::HallSpec;
use crate::ticket::{format_ticket_number, PriorityClass, Ticket, TicketStatus};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowStatus {
    Open,
    Paused,
}

impl WindowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowStatus::Open => "open",
            WindowStatus::Paused => "paused",
        }
    }
}

/// A window as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowState {
    pub id: WindowId,
    pub status: WindowStatus,
    /// The ticket the window has called and not yet finished.
    pub current: Option<TicketId>,
}

/// One service's queue at a glance.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueStats {
    pub service: ServiceId,
    pub waiting: usize,
    pub oldest_wait_s: u64,
    /// What a walk-in taking a ticket now should expect to wait.
    pub wait_s_estimate: u64,
    pub issued_today: u32,
    pub called_today: u32,
    pub completed_today: u32,
    pub no_show_today: u32,
    pub average_service_s: f64,
}

/// The result of executing a command: the events (already folded into the state) and the
/// ticket the command was about, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub events: Vec<Event>,
    pub ticket: Option<TicketId>,
}

type QueueEntry = (Timestamp, TicketId);

#[derive(Clone, Debug)]
struct ServiceQueue {
    /// Waiting tickets per priority class, by queue time.
    waiting: [BTreeSet<QueueEntry>; 3],
    /// The last number this service issued today.
    last_number: u32,
    average: ServiceTimeAverage,
}

impl ServiceQueue {
    fn new(prior_service_s: u32) -> Self {
        Self {
            waiting: Default::default(),
            last_number: 0,
            average: ServiceTimeAverage::new(prior_service_s),
        }
    }

    fn waiting_len(&self) -> usize {
        self.waiting.iter().map(BTreeSet::len).sum()
    }

    fn oldest(&self) -> Option<QueueEntry> {
        self.waiting
            .iter()
            .filter_map(|set| set.first().copied())
            .min()
    }

    #[cfg(test)]
    fn entries(&self) -> impl Iterator<Item = (PriorityClass, QueueEntry)> + '_ {
        [
            PriorityClass::Green,
            PriorityClass::Appointment,
            PriorityClass::WalkIn,
        ]
        .into_iter()
        .flat_map(move |class| {
            self.waiting[usize::from(class.rank())]
                .iter()
                .map(move |entry| (class, *entry))
        })
    }
}

/// Everything the store keeps that a restart needs to rebuild the hall.
#[derive(Clone, Debug, Default)]
pub struct RestoredState {
    /// The service day the hall was last in, if it ever started one.
    pub day: Option<Date>,
    /// Every ticket of that day, and every ticket of an earlier day still waiting or called.
    pub tickets: Vec<Ticket>,
    pub paused_windows: Vec<WindowId>,
    /// The highest ticket id ever issued.
    pub last_ticket_id: u64,
    /// Appointments of that day and later.
    pub appointments: Vec<Appointment>,
}

#[derive(Clone, Debug)]
pub struct Hall {
    spec: HallSpec,
    tz: TimeZone,
    service_index: HashMap<ServiceId, usize>,
    queues: Vec<ServiceQueue>,
    window_index: HashMap<WindowId, usize>,
    windows: Vec<WindowState>,
    day: Option<Date>,
    /// Today's tickets and any older ticket not yet final.
    tickets: BTreeMap<TicketId, Ticket>,
    last_ticket_id: u64,
    idempotency: HashMap<String, TicketId>,
    tokens: HashMap<String, TicketId>,
    /// Today's appointments and later ones, by code.
    appointments: BTreeMap<String, Appointment>,
}

fn seconds_between(from: Timestamp, to: Timestamp) -> u64 {
    u64::try_from(to.as_second() - from.as_second()).unwrap_or(0)
}

impl Hall {
    /// A new, empty hall. The spec must have passed [`HallSpec::validate`].
    pub fn new(spec: HallSpec, tz: TimeZone) -> Self {
        let service_index = spec
            .services
            .iter()
            .enumerate()
            .map(|(index, service)| (service.id.clone(), index))
            .collect();
        let queues = spec
            .services
            .iter()
            .map(|service| ServiceQueue::new(service.prior_service_s))
            .collect();
        let window_index = spec
            .windows
            .iter()
            .enumerate()
            .map(|(index, window)| (window.id.clone(), index))
            .collect();
        let windows = spec
            .windows
            .iter()
            .map(|window| WindowState {
                id: window.id.clone(),
                status: WindowStatus::Open,
                current: None,
            })
            .collect();
        Self {
            spec,
            tz,
            service_index,
            queues,
            window_index,
            windows,
            day: None,
            tickets: BTreeMap::new(),
            last_ticket_id: 0,
            idempotency: HashMap::new(),
            tokens: HashMap::new(),
            appointments: BTreeMap::new(),
        }
    }

    /// Rebuilds a hall from what the store kept. Tickets that name services or windows no
    /// longer configured are kept (so they can expire) but cannot be called.
    pub fn restore(spec: HallSpec, tz: TimeZone, restored: RestoredState) -> Self {
        let mut hall = Hall::new(spec, tz);
        hall.day = restored.day;
        hall.last_ticket_id = restored.last_ticket_id;
        for window in &restored.paused_windows {
            if let Some(&index) = hall.window_index.get(window) {
                hall.windows[index].status = WindowStatus::Paused;
            }
        }
        for appointment in restored.appointments {
            hall.appointments
                .insert(appointment.code.clone(), appointment);
        }
        let mut completed: Vec<&Ticket> = Vec::new();
        for ticket in &restored.tickets {
            hall.insert_ticket(ticket.clone());
            if Some(ticket.service_day) == hall.day && ticket.status == TicketStatus::Completed {
                completed.push(ticket);
            }
        }
        completed.sort_by_key(|ticket| (ticket.finished_at, ticket.id));
        let weight = hall.spec.policy.service_time_weight_percent;
        for ticket in completed {
            if let (Some(&service), Some(called_at), Some(finished_at)) = (
                hall.service_index.get(&ticket.service),
                ticket.called_at,
                ticket.finished_at,
            ) {
                hall.queues[service]
                    .average
                    .record(seconds_between(called_at, finished_at), weight);
            }
        }
        hall
    }

    /// Adds a ticket to the indexes as it stands (issue or restore).
    fn insert_ticket(&mut self, ticket: Ticket) {
        self.last_ticket_id = self.last_ticket_id.max(ticket.id.0);
        let today = Some(ticket.service_day) == self.day;
        if today {
            if let Some(&origin) = self.service_index.get(&ticket.number_service) {
                let prefix_len = self.spec.services[origin].prefix.len();
                let sequence = ticket
                    .number
                    .get(prefix_len..)
                    .and_then(|digits| digits.parse::<u32>().ok())
                    .unwrap_or(0);
                let queue = &mut self.queues[origin];
                queue.last_number = queue.last_number.max(sequence);
            }
            if let Some(key) = &ticket.idempotency_key {
                self.idempotency.insert(key.clone(), ticket.id);
            }
        }
        match ticket.status {
            TicketStatus::Waiting => {
                if let Some(&service) = self.service_index.get(&ticket.service) {
                    self.queues[service].waiting[usize::from(ticket.priority.rank())]
                        .insert((ticket.queued_at, ticket.id));
                }
            }
            TicketStatus::Called => {
                if let Some(window) = &ticket.window {
                    if let Some(&index) = self.window_index.get(window) {
                        self.windows[index].current = Some(ticket.id);
                    }
                }
            }
            _ => {}
        }
        self.tokens.insert(ticket.token.clone(), ticket.id);
        self.tickets.insert(ticket.id, ticket);
    }

    pub fn spec(&self) -> &HallSpec {
        &self.spec
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The local date of an instant: tickets belong to it and numbering restarts with it.
    pub fn service_day_of(&self, now: Timestamp) -> Date {
        now.to_zoned(self.tz.clone()).date()
    }

    pub fn day(&self) -> Option<Date> {
        self.day
    }

    pub fn last_ticket_id(&self) -> u64 {
        self.last_ticket_id
    }

    pub fn ticket(&self, id: TicketId) -> Option<&Ticket> {
        self.tickets.get(&id)
    }

    pub fn ticket_by_token(&self, token: &str) -> Option<&Ticket> {
        self.tokens.get(token).and_then(|id| self.tickets.get(id))
    }

    /// Today's tickets and older ones still open, by id.
    pub fn tickets(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets.values()
    }

    /// Today's calls, newest first: what the TV board lists.
    pub fn recent_calls(&self, limit: usize) -> Vec<&Ticket> {
        let mut called: Vec<&Ticket> = self
            .tickets
            .values()
            .filter(|t| Some(t.service_day) == self.day && t.called_at.is_some())
            .collect();
        called.sort_by_key(|t| std::cmp::Reverse((t.called_at, t.id)));
        called.truncate(limit);
        called
    }

    pub fn windows(&self) -> &[WindowState] {
        &self.windows
    }

    pub fn window(&self, id: &WindowId) -> Option<&WindowState> {
        self.window_index.get(id).map(|&index| &self.windows[index])
    }

    /// Moves the hall to the service day of `now`: every ticket of an earlier day still open
    /// expires and numbering restarts. Returns the events (already folded in); empty when the
    /// day has not changed. A clock that jumps backwards never moves the day back.
    pub fn advance_to(&mut self, now: Timestamp) -> Vec<Event> {
        let today = self.service_day_of(now);
        if matches!(self.day, Some(day) if day >= today) {
            return Vec::new();
        }
        let mut events: Vec<Event> = self
            .tickets
            .values()
            .filter(|ticket| ticket.service_day < today && !ticket.status.is_final())
            .map(|ticket| Event::TicketExpired {
                ticket: ticket.id,
                number: ticket.number.clone(),
                previous: ticket.status,
                at: now,
            })
            .collect();
        events.extend(
            self.appointments
                .values()
                .filter(|a| a.date < today && a.status == AppointmentStatus::Booked)
                .map(|a| Event::AppointmentNoShow {
                    code: a.code.clone(),
                    at: now,
                }),
        );
        events.push(Event::ServiceDayStarted {
            day: today,
            at: now,
        });
        for event in &events {
            self.evolve(event);
        }
        events
    }

    /// Decides and applies one command at `now`. On error nothing has changed.
    pub fn execute(&mut self, command: &Command, now: Timestamp) -> Result<Outcome, DomainError> {
        let outcome = self.decide(command, now)?;
        for event in &outcome.events {
            self.evolve(event);
        }
        Ok(outcome)
    }

    fn service_position(&self, id: &ServiceId) -> Result<usize, DomainError> {
        self.service_index
            .get(id)
            .copied()
            .ok_or_else(|| DomainError::UnknownService(id.clone()))
    }

    fn window_position(&self, id: &WindowId) -> Result<usize, DomainError> {
        self.window_index
            .get(id)
            .copied()
            .ok_or_else(|| DomainError::UnknownWindow(id.clone()))
    }

    fn known_ticket(&self, id: TicketId) -> Result<&Ticket, DomainError> {
        self.tickets.get(&id).ok_or(DomainError::UnknownTicket(id))
    }

    fn current_ticket(&self, window: &WindowId) -> Result<&Ticket, DomainError> {
        let index = self.window_position(window)?;
        self.windows[index]
            .current
            .and_then(|id| self.tickets.get(&id))
            .ok_or_else(|| DomainError::NoCurrentTicket(window.clone()))
    }

    /// What a command would cause, without changing anything.
    pub fn decide(&self, command: &Command, now: Timestamp) -> Result<Outcome, DomainError> {
        // The engine calls `advance_to` before every batch; a day behind `now` is a bug.
        // (A day ahead of `now` means the clock stepped back: keep the day we are in.)
        if self.day.is_none_or(|day| day < self.service_day_of(now)) {
            return Err(DomainError::DayNotStarted);
        }
        let single = |event: Event| {
            let ticket = event.ticket();
            Ok(Outcome {
                events: vec![event],
                ticket,
            })
        };
        match command {
            Command::IssueTicket(issue) => self.decide_issue(issue, now),
            Command::CallNext { window } => self.decide_call_next(window, now),
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
            Command::Requeue { window, ticket } => {
                let window_index = self.window_position(window)?;
                let found = self.known_ticket(*ticket)?;
                if found.status != TicketStatus::NoShow {
                    return Err(DomainError::InvalidState {
                        ticket: *ticket,
                        status: found.status,
                        action: "requeued",
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
                    return Err(DomainError::RequeueLimitReached(*ticket));
                }
                let marked_at = found.finished_at.unwrap_or(now);
                if seconds_between(marked_at, now) > u64::from(self.spec.policy.requeue_within_s) {
                    return Err(DomainError::RequeueTooLate(*ticket));
                }
                single(Event::TicketRequeued {
                    ticket: *ticket,
                    number: found.number.clone(),
                    service: found.service.clone(),
                    window: window.clone(),
                    at: now,
                })
            }
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
            Command::Complete { window } => {
                let ticket = self.current_ticket(window)?;
                single(self.completion(ticket, window, now))
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
                phone,
                name,
            } => {
                let appointment =
                    self.decide_booking(code, service, *start, *channel, phone, name, now)?;
                Ok(Outcome {
                    events: vec![Event::AppointmentBooked { appointment }],
                    ticket: None,
                })
            }
            Command::CancelAppointment { code } => {
                let appointment = self
                    .appointments
                    .get(code)
                    .ok_or(DomainError::UnknownAppointment)?;
                if appointment.status != AppointmentStatus::Booked {
                    return Err(DomainError::AppointmentInvalidState {
                        status: appointment.status,
                        action: "cancelled",
                    });
                }
                single(Event::AppointmentCancelled {
                    code: code.clone(),
                    at: now,
                })
            }
            Command::CheckIn { code, phone, token } => {
                self.decide_check_in(code.as_deref(), phone.as_deref(), token, now)
            }
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
            Command::RecordPrintFailure {
                ticket,
                printer,
                condition,
                reason,
            } => {
                let found = self.known_ticket(*ticket)?;
                single(Event::TicketPrintFailed {
                    ticket: *ticket,
                    number: found.number.clone(),
                    printer: printer.clone(),
                    condition: condition.clone(),
                    reason: reason.clone(),
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
        }
    }

    fn completion(&self, ticket: &Ticket, window: &WindowId, now: Timestamp) -> Event {
        Event::TicketCompleted {
            ticket: ticket.id,
            number: ticket.number.clone(),
            service: ticket.service.clone(),
            window: window.clone(),
            at: now,
            service_s: seconds_between(ticket.called_at.unwrap_or(now), now),
        }
    }

    /// A service's mode now, when it next opens or when it closes.
    pub fn availability(
        &self,
        service: &ServiceId,
        now: Timestamp,
    ) -> crate::calendar::Availability {
        self.spec
            .schedule
            .availability(&self.spec.calendar, &self.tz, service, now)
    }

    fn decide_issue(&self, issue: &IssueTicket, now: Timestamp) -> Result<Outcome, DomainError> {
        self.service_position(&issue.service)?;
        if !self.spec.schedule.is_always_open() {
            let availability = self.availability(&issue.service, now);
            match availability.mode {
                crate::calendar::ServiceMode::Closed => {
                    return Err(DomainError::ServiceClosed {
                        service: issue.service.clone(),
                        next_open: availability.next_open,
                    })
                }
                crate::calendar::ServiceMode::AppointmentOnly
                    if issue.priority != PriorityClass::Appointment =>
                {
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
    fn new_ticket(
        &self,
        issue: &IssueTicket,
        now: Timestamp,
    ) -> Result<Result<Ticket, TicketId>, DomainError> {
        let service = self.service_position(&issue.service)?;
        if let Some(key) = &issue.idempotency_key {
            if let Some(&existing) = self.idempotency.get(key) {
                let ticket = &self.tickets[&existing];
                if ticket.number_service != issue.service {
                    return Err(DomainError::IdempotencyKeyReused);
                }
                return Ok(Err(existing));
            }
        }
        if self.tokens.contains_key(&issue.token) {
            return Err(DomainError::TokenInUse);
        }
        let spec = &self.spec.services[service];
        let sequence = self.queues[service].last_number + 1;
        let ticket = Ticket {
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
            phone: issue.phone.clone(),
            kiosk: issue.kiosk.clone(),
            idempotency_key: issue.idempotency_key.clone(),
        };
        Ok(Ok(ticket))
    }

    pub fn appointment(&self, code: &str) -> Option<&Appointment> {
        self.appointments.get(code)
    }

    /// The slots a service offers on a date, with how many are booked.
    pub fn slots(&self, service: &ServiceId, date: jiff::civil::Date) -> Vec<Slot> {
        let day = self.spec.calendar.day(date).day_type;
        let mut slots: Vec<Slot> = self
            .spec
            .appointment_plans
            .iter()
            .filter(|plan| &plan.service == service && plan.days.contains(&day))
            .flat_map(|plan| plan.slots.iter().map(move |slot| (plan.capacity, *slot)))
            .filter_map(|(capacity, (from, to))| {
                let start = self.local_instant(date, from)?;
                let end = self.local_instant(date, to)?;
                let booked = self
                    .appointments
                    .values()
                    .filter(|a| &a.service == service && a.start == start && a.status.holds_place())
                    .count() as u32;
                Some(Slot {
                    start,
                    end,
                    capacity,
                    booked,
                })
            })
            .collect();
        slots.sort_by_key(|slot| slot.start);
        slots
    }

    fn local_instant(&self, date: jiff::civil::Date, time: jiff::civil::Time) -> Option<Timestamp> {
        let instant = date
            .to_datetime(time)
            .to_zoned(self.tz.clone())
            .ok()?
            .timestamp();
        // A slot ending at 24:00 ends at midnight.
        Some(if time == jiff::civil::Time::MAX {
            instant + jiff::SignedDuration::from_nanos(1)
        } else {
            instant
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn decide_booking(
        &self,
        code: &str,
        service: &ServiceId,
        start: Timestamp,
        channel: crate::appointment::BookingChannel,
        phone: &str,
        name: &Option<String>,
        now: Timestamp,
    ) -> Result<Appointment, DomainError> {
        self.service_position(service)?;
        if !self
            .spec
            .appointment_plans
            .iter()
            .any(|plan| &plan.service == service)
        {
            return Err(DomainError::NotBookable(service.clone()));
        }
        if self.appointments.contains_key(code) {
            return Err(DomainError::AppointmentCodeInUse);
        }
        let date = self.service_day_of(start);
        let slot = self
            .slots(service, date)
            .into_iter()
            .find(|slot| slot.start == start)
            .ok_or_else(|| DomainError::SlotNotOffered(service.clone()))?;
        if start <= now {
            return Err(DomainError::SlotInPast);
        }
        let rules = &self.spec.appointment_rules;
        let today = self.service_day_of(now);
        let horizon = today
            .checked_add(jiff::Span::new().days(i64::from(rules.book_ahead_days)))
            .unwrap_or(today);
        if date > horizon {
            return Err(DomainError::TooFarAhead(rules.book_ahead_days));
        }
        if slot.booked >= slot.capacity {
            return Err(DomainError::SlotFull);
        }
        let held = self
            .appointments
            .values()
            .filter(|a| a.phone == phone && a.date == date && a.status.holds_place())
            .count() as u32;
        if held >= rules.per_person_per_day {
            return Err(DomainError::BookingLimitReached(rules.per_person_per_day));
        }
        Ok(Appointment {
            code: code.to_owned(),
            service: service.clone(),
            date,
            start,
            end: slot.end,
            channel,
            phone: phone.to_owned(),
            name: name.clone(),
            status: AppointmentStatus::Booked,
            ticket: None,
            booked_at: now,
        })
    }

    /// When check-in for an appointment opens and closes.
    fn check_in_window(&self, appointment: &Appointment) -> (Timestamp, Timestamp) {
        let rules = &self.spec.appointment_rules;
        let before = jiff::SignedDuration::from_mins(i64::from(rules.check_in_before_min));
        let after = jiff::SignedDuration::from_mins(i64::from(rules.check_in_after_min));
        (appointment.start - before, appointment.start + after)
    }

    fn decide_check_in(
        &self,
        code: Option<&str>,
        phone: Option<&str>,
        token: &str,
        now: Timestamp,
    ) -> Result<Outcome, DomainError> {
        let appointment = match (code, phone) {
            (Some(code), _) => self
                .appointments
                .get(code)
                .ok_or(DomainError::UnknownAppointment)?,
            (None, Some(phone)) => {
                let today = self.service_day_of(now);
                let mut candidates: Vec<&Appointment> = self
                    .appointments
                    .values()
                    .filter(|a| {
                        a.phone == phone && a.date == today && a.status == AppointmentStatus::Booked
                    })
                    .collect();
                candidates.sort_by_key(|a| a.start);
                // The one whose window is open now; otherwise the next one (too early), or the
                // last one (too late).
                candidates
                    .iter()
                    .find(|a| {
                        let (opens, closes) = self.check_in_window(a);
                        opens <= now && now <= closes
                    })
                    .or_else(|| candidates.iter().find(|a| self.check_in_window(a).0 > now))
                    .or(candidates.last())
                    .copied()
                    .ok_or(DomainError::UnknownAppointment)?
            }
            (None, None) => return Err(DomainError::UnknownAppointment),
        };
        if appointment.status != AppointmentStatus::Booked {
            return Err(DomainError::AppointmentInvalidState {
                status: appointment.status,
                action: "checked in",
            });
        }
        let (opens, closes) = self.check_in_window(appointment);
        if now < opens {
            return Err(DomainError::TooEarly(opens));
        }
        if now > closes {
            return Err(DomainError::TooLate(
                self.spec.appointment_rules.check_in_after_min,
            ));
        }
        // Check-in may open before the service does (the first slot of the morning).
        let issue = IssueTicket {
            service: appointment.service.clone(),
            priority: PriorityClass::Appointment,
            channel: crate::ticket::Channel::Appointment,
            phone: Some(appointment.phone.clone()),
            kiosk: None,
            token: token.to_owned(),
            idempotency_key: None,
        };
        let ticket = self
            .new_ticket(&issue, now)?
            .map_err(|_| DomainError::TokenInUse)?;
        let (id, number) = (ticket.id, ticket.number.clone());
        Ok(Outcome {
            events: vec![
                Event::TicketIssued { ticket },
                Event::AppointmentCheckedIn {
                    code: appointment.code.clone(),
                    ticket: id,
                    number,
                    at: now,
                },
            ],
            ticket: Some(id),
        })
    }

    /// The ticket `window` would call at `now`, if any.
    pub fn next_for_window(&self, window: &WindowId, now: Timestamp) -> Option<TicketId> {
        let index = *self.window_index.get(window)?;
        let ageing = self.spec.policy.ageing_max_wait_s;
        let mut best: Option<((u8, i128, i128), TicketId)> = None;
        for (rank, service) in self.spec.windows[index].services.iter().enumerate() {
            let Some(&position) = self.service_index.get(service) else {
                continue;
            };
            let queue = &self.queues[position];
            // The smallest key in a queue is the first of some class, or the oldest ticket
            // once ageing applies; no other entry can win.
            let firsts = [
                PriorityClass::Green,
                PriorityClass::Appointment,
                PriorityClass::WalkIn,
            ]
            .into_iter()
            .filter_map(|class| {
                queue.waiting[usize::from(class.rank())]
                    .first()
                    .map(|entry| (class, *entry))
            });
            for (class, (queued_at, id)) in firsts {
                let key = call_order_key(class, queued_at, rank, now, ageing);
                if best.is_none_or(|(best_key, best_id)| (key, id) < (best_key, best_id)) {
                    best = Some((key, id));
                }
            }
        }
        best.map(|(_, id)| id)
    }

    fn decide_call_next(&self, window: &WindowId, now: Timestamp) -> Result<Outcome, DomainError> {
        let index = self.window_position(window)?;
        let state = &self.windows[index];
        if state.status == WindowStatus::Paused {
            return Err(DomainError::WindowPaused(window.clone()));
        }
        let mut events = Vec::new();
        if let Some(current) = state.current.and_then(|id| self.tickets.get(&id)) {
            events.push(self.completion(current, window, now));
        }
        let next = self.next_for_window(window, now);
        if let Some(ticket) = next.and_then(|id| self.tickets.get(&id)) {
            events.push(Event::TicketCalled {
                ticket: ticket.id,
                number: ticket.number.clone(),
                service: ticket.service.clone(),
                window: window.clone(),
                at: now,
                wait_s: seconds_between(ticket.queued_at, now),
            });
        }
        Ok(Outcome {
            events,
            ticket: next,
        })
    }

    fn remove_waiting(&mut self, ticket: &Ticket) {
        if let Some(&service) = self.service_index.get(&ticket.service) {
            self.queues[service].waiting[usize::from(ticket.priority.rank())]
                .remove(&(ticket.queued_at, ticket.id));
        }
    }

    fn add_waiting(&mut self, ticket: &Ticket) {
        if let Some(&service) = self.service_index.get(&ticket.service) {
            self.queues[service].waiting[usize::from(ticket.priority.rank())]
                .insert((ticket.queued_at, ticket.id));
        }
    }

    fn release_window(&mut self, window: &WindowId, ticket: TicketId) {
        if let Some(&index) = self.window_index.get(window) {
            if self.windows[index].current == Some(ticket) {
                self.windows[index].current = None;
            }
        }
    }

    fn queue_mut(&mut self, service: &ServiceId) -> Option<&mut ServiceQueue> {
        let index = *self.service_index.get(service)?;
        Some(&mut self.queues[index])
    }

    /// Folds one event into the state. Events come from `decide` or from the log, so they are
    /// trusted to be valid; an event about an unknown ticket changes nothing.
    pub fn evolve(&mut self, event: &Event) {
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
                self.appointments.retain(|_, a| a.date >= *day);
                for (queue, spec) in self.queues.iter_mut().zip(&self.spec.services) {
                    let waiting = std::mem::take(&mut queue.waiting);
                    *queue = ServiceQueue::new(spec.prior_service_s);
                    queue.waiting = waiting;
                }
            }
            Event::TicketIssued { ticket } => self.insert_ticket(ticket.clone()),
            Event::TicketCalled {
                ticket, window, at, ..
            } => {
                let Some(mut found) = self.tickets.get(ticket).cloned() else {
                    return;
                };
                self.remove_waiting(&found);
                found.status = TicketStatus::Called;
                found.called_at = Some(*at);
                found.window = Some(window.clone());
                if let Some(&index) = self.window_index.get(window) {
                    self.windows[index].current = Some(*ticket);
                }
                self.tickets.insert(*ticket, found);
            }
            Event::TicketRecalled {
                ticket, recalls, ..
            } => {
                if let Some(found) = self.tickets.get_mut(ticket) {
                    found.recalls = *recalls;
                }
            }
            Event::TicketNoShow {
                ticket, window, at, ..
            } => {
                self.release_window(window, *ticket);
                let Some(found) = self.tickets.get_mut(ticket) else {
                    return;
                };
                found.status = TicketStatus::NoShow;
                found.finished_at = Some(*at);
            }
            Event::TicketRequeued { ticket, at, .. } => {
                let Some(found) = self.tickets.get_mut(ticket) else {
                    return;
                };
                found.status = TicketStatus::Waiting;
                found.queued_at = *at;
                found.finished_at = None;
                found.requeues += 1;
                let found = found.clone();
                self.add_waiting(&found);
            }
            Event::TicketTransferred {
                ticket,
                to_service,
                window,
                ..
            } => {
                self.release_window(window, *ticket);
                let Some(found) = self.tickets.get_mut(ticket) else {
                    return;
                };
                found.status = TicketStatus::Waiting;
                found.service = to_service.clone();
                found.transfers += 1;
                let found = found.clone();
                self.add_waiting(&found);
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
                let Some(found) = self.tickets.get_mut(ticket) else {
                    return;
                };
                found.status = TicketStatus::Completed;
                found.finished_at = Some(*at);
                let service = found.service.clone();
                if let Some(queue) = self.queue_mut(&service) {
                    queue.average.record(*service_s, weight);
                }
            }
            Event::TicketCancelled { ticket, at, .. } | Event::TicketExpired { ticket, at, .. } => {
                let Some(found) = self.tickets.get(ticket).cloned() else {
                    return;
                };
                match found.status {
                    TicketStatus::Waiting => self.remove_waiting(&found),
                    TicketStatus::Called => {
                        if let Some(window) = &found.window {
                            self.release_window(window, found.id);
                        }
                    }
                    _ => {}
                }
                if let Some(stored) = self.tickets.get_mut(ticket) {
                    stored.status = if matches!(event, Event::TicketCancelled { .. }) {
                        TicketStatus::Cancelled
                    } else {
                        TicketStatus::Expired
                    };
                    stored.finished_at = Some(*at);
                }
            }
            Event::WindowPaused { window, .. } => {
                if let Some(&index) = self.window_index.get(window) {
                    self.windows[index].status = WindowStatus::Paused;
                }
            }
            Event::WindowResumed { window, .. } => {
                if let Some(&index) = self.window_index.get(window) {
                    self.windows[index].status = WindowStatus::Open;
                }
            }
            Event::AppointmentBooked { appointment } => {
                self.appointments
                    .insert(appointment.code.clone(), appointment.clone());
            }
            Event::AppointmentCancelled { code, .. } => {
                if let Some(found) = self.appointments.get_mut(code) {
                    found.status = AppointmentStatus::Cancelled;
                }
            }
            Event::AppointmentCheckedIn { code, ticket, .. } => {
                if let Some(found) = self.appointments.get_mut(code) {
                    found.status = AppointmentStatus::CheckedIn;
                    found.ticket = Some(*ticket);
                }
            }
            Event::AppointmentNoShow { code, .. } => {
                if let Some(found) = self.appointments.get_mut(code) {
                    found.status = AppointmentStatus::NoShow;
                }
            }
            // Records for people; the queue does not change.
            Event::DeviceStatusChanged { .. }
            | Event::TicketPrintFailed { .. }
            | Event::SmsNotified { .. } => {}
        }
    }

    /// Open-window capacity serving a service: 1 for each open window where it is the primary
    /// service, ½ where it is a secondary one (that window also serves others first).
    fn window_capacity(&self, service: &ServiceId) -> f64 {
        self.spec
            .windows
            .iter()
            .zip(&self.windows)
            .filter(|(_, state)| state.status == WindowStatus::Open)
            .filter_map(|(spec, _)| spec.services.iter().position(|s| s == service))
            .map(|position| if position == 0 { 1.0 } else { 0.5 })
            .sum()
    }

    /// People ahead of a waiting ticket in its queue and the estimated wait, at `now`.
    /// `None` when the ticket is not waiting.
    pub fn position(&self, id: TicketId, now: Timestamp) -> Option<(usize, u64)> {
        let ticket = self.tickets.get(&id)?;
        if ticket.status != TicketStatus::Waiting {
            return None;
        }
        let service = *self.service_index.get(&ticket.service)?;
        let queue = &self.queues[service];
        let ahead = self.count_ahead(queue, ticket, now);
        let estimate = wait_estimate_s(
            ahead,
            queue.average.average_s(),
            self.window_capacity(&ticket.service),
        );
        Some((ahead, estimate))
    }

    /// Counts the queue entries that `call_order_key` puts before `ticket`, class set by class
    /// set, without computing a key per entry: a new ticket is the last of its set, so issuing
    /// costs O(1) however long the queue. Checked against the plain scan in the tests.
    fn count_ahead(&self, queue: &ServiceQueue, ticket: &Ticket, now: Timestamp) -> usize {
        let ageing = i64::from(self.spec.policy.ageing_max_wait_s);
        let own: QueueEntry = (ticket.queued_at, ticket.id);
        // Entries queued at or before this instant have aged into the first tier.
        let aged_until = now.as_second() - ageing;
        let is_aged = |queued_at: Timestamp| queued_at.as_second() <= aged_until;
        // Entries of a set strictly before `bound` in (queued_at, id) order.
        let before = |set: &BTreeSet<QueueEntry>, bound: &QueueEntry| -> usize {
            match set.last() {
                None => 0,
                Some(last) if last < bound => set.len(),
                Some(_) => set.range(..*bound).count(),
            }
        };
        // Aged entries of a set: a prefix by queue time.
        let aged_before = |set: &BTreeSet<QueueEntry>, bound: &QueueEntry| -> usize {
            set.iter()
                .take_while(|entry| is_aged(entry.0) && *entry < bound)
                .count()
        };
        let [green, appointment, walk_in] = &queue.waiting;
        let tier = if ticket.priority == PriorityClass::Green || is_aged(ticket.queued_at) {
            0
        } else {
            ticket.priority.rank()
        };
        match tier {
            // First tier: earlier greens and earlier aged tickets of the other classes.
            0 => before(green, &own) + aged_before(appointment, &own) + aged_before(walk_in, &own),
            // A fresh appointment: every green, every earlier appointment, aged walk-ins.
            1 => {
                let everything = (Timestamp::MAX, TicketId(u64::MAX));
                green.len() + before(appointment, &own) + aged_before(walk_in, &everything)
            }
            // A fresh walk-in: every green and appointment, every earlier walk-in.
            _ => green.len() + appointment.len() + before(walk_in, &own),
        }
    }

    /// The plain definition of `count_ahead`, for tests.
    #[cfg(test)]
    pub(crate) fn count_ahead_by_scan(&self, id: TicketId, now: Timestamp) -> Option<usize> {
        let ticket = self.tickets.get(&id)?;
        let queue = &self.queues[*self.service_index.get(&ticket.service)?];
        let ageing = self.spec.policy.ageing_max_wait_s;
        let own = (
            call_order_key(ticket.priority, ticket.queued_at, 0, now, ageing),
            ticket.id,
        );
        Some(
            queue
                .entries()
                .filter(|(class, (queued_at, other))| {
                    (call_order_key(*class, *queued_at, 0, now, ageing), *other) < own
                })
                .count(),
        )
    }

    /// Each service's queue now and its figures for the day. The day's counts are derived from
    /// the tickets themselves, so a restarted hall reports exactly what the running one did.
    pub fn queue_stats(&self, now: Timestamp) -> Vec<QueueStats> {
        let mut counts = vec![[0u32; 4]; self.queues.len()];
        for ticket in self
            .tickets
            .values()
            .filter(|t| Some(t.service_day) == self.day)
        {
            if let Some(&origin) = self.service_index.get(&ticket.number_service) {
                counts[origin][0] += 1;
            }
            if let Some(&service) = self.service_index.get(&ticket.service) {
                let count = &mut counts[service];
                count[1] += u32::from(ticket.called_at.is_some());
                count[2] += u32::from(ticket.status == TicketStatus::Completed);
                count[3] += u32::from(ticket.status == TicketStatus::NoShow);
            }
        }
        self.spec
            .services
            .iter()
            .zip(&self.queues)
            .zip(counts)
            .map(|((spec, queue), [issued, called, completed, no_show])| {
                let waiting = queue.waiting_len();
                QueueStats {
                    service: spec.id.clone(),
                    waiting,
                    oldest_wait_s: queue
                        .oldest()
                        .map(|(queued_at, _)| seconds_between(queued_at, now))
                        .unwrap_or(0),
                    wait_s_estimate: wait_estimate_s(
                        waiting,
                        queue.average.average_s(),
                        self.window_capacity(&spec.id),
                    ),
                    issued_today: issued,
                    called_today: called,
                    completed_today: completed,
                    no_show_today: no_show,
                    average_service_s: queue.average.average_s(),
                }
            })
            .collect()
    }

    /// Checks the invariants that must hold between every two commands. Used by tests and by
    /// the engine's debug builds; a failure is a bug, described in the message.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut numbers = HashSet::new();
        let mut holders: HashMap<TicketId, &WindowId> = HashMap::new();
        for window in &self.windows {
            if let Some(id) = window.current {
                let ticket = self
                    .tickets
                    .get(&id)
                    .ok_or_else(|| format!("window {} holds unknown ticket {id}", window.id))?;
                if ticket.status != TicketStatus::Called
                    || ticket.window.as_ref() != Some(&window.id)
                {
                    return Err(format!(
                        "window {} holds ticket {id} not called by it",
                        window.id
                    ));
                }
                if let Some(other) = holders.insert(id, &window.id) {
                    return Err(format!("ticket {id} held by {other} and {}", window.id));
                }
            }
        }
        let mut waiting = 0;
        for ticket in self.tickets.values() {
            if !numbers.insert((ticket.service_day, &ticket.number_service, &ticket.number)) {
                return Err(format!("number {} issued twice", ticket.number));
            }
            match ticket.status {
                TicketStatus::Called => {
                    let held = ticket.window.as_ref().is_some_and(|window| {
                        !self.window_index.contains_key(window) || holders.contains_key(&ticket.id)
                    });
                    if !held {
                        return Err(format!("called ticket {} held by no window", ticket.id));
                    }
                }
                TicketStatus::Waiting => {
                    if let Some(&service) = self.service_index.get(&ticket.service) {
                        waiting += 1;
                        let set =
                            &self.queues[service].waiting[usize::from(ticket.priority.rank())];
                        if !set.contains(&(ticket.queued_at, ticket.id)) {
                            return Err(format!("waiting ticket {} not in its queue", ticket.id));
                        }
                    }
                }
                _ => {}
            }
        }
        let queued: usize = self.queues.iter().map(ServiceQueue::waiting_len).sum();
        if queued != waiting {
            return Err(format!(
                "{queued} queue entries for {waiting} waiting tickets"
            ));
        }
        Ok(())
    }
}
