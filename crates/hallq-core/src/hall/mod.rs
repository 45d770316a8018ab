//! The hall's live state and the rules that change it, one file per job:
//!
//! - `decide` — what a command causes (events) or why not (a `DomainError`); changes nothing;
//! - `evolve` — folds one event into the state;
//! - `queue` — the queues: call order, positions (O(log n)), estimates, the day's figures;
//! - `booking` — appointment slots, booking and check-in decisions;
//! - `invariants` — what must hold between any two commands, checked by tests and debug builds.
//!
//! Keeping decide and evolve apart means the state after a restart — rebuilt from the stored
//! tables, or folded from the event log by a follower — is the state the events describe.

mod booking;
mod decide;
mod evolve;
mod forecast;
mod invariants;
mod queue;
mod rating;

pub use forecast::{
    ForecastPlan, WaitForecast, CALIBRATION, CALIBRATION_OFFSET_S, DRAWN_CALIBRATION,
};
pub use queue::QueueStats;

use crate::appointment::Appointment;
use crate::command::Command;
use crate::error::DomainError;
use crate::event::Event;
use crate::ids::{ServiceId, TicketId, WindowId};
use crate::spec::HallSpec;
use crate::ticket::{PriorityClass, Ticket, TicketStatus};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use queue::{DayCounts, ServiceQueue};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};

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

/// The result of executing a command: the events (already folded into the state) and the
/// ticket the command was about, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub events: Vec<Event>,
    pub ticket: Option<TicketId>,
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
    /// Visits still rateable or awaiting a follow-up rating.
    pub visits: Vec<crate::feedback::Visit>,
    /// Cases not yet closed.
    pub cases: Vec<crate::feedback::Case>,
    /// The highest case id ever opened.
    pub last_case_id: u64,
    /// The boards' notice a manager set last, if it still stands.
    pub board_notice: Option<String>,
    /// The services' wait alarms as they stand.
    pub wait_alarms: Vec<(ServiceId, u32)>,
    /// The tickets of the service days before `day` (the last weeks of them), from which the
    /// forecast learns again what the running hall had learned: the usual day of arrivals and
    /// each service's times.
    pub past_tickets: Vec<PastTicket>,
}

/// A ticket of an earlier service day, as the forecast learns from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastTicket {
    pub day: Date,
    /// The service that numbered it (where it arrived, whatever it was transferred to).
    pub service: ServiceId,
    pub priority: PriorityClass,
    pub issued_at: Timestamp,
    /// How it was served, if it was completed.
    pub served: Option<PastService>,
}

/// A completed past ticket's service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastService {
    /// The service that completed it.
    pub service: ServiceId,
    pub finished_at: Timestamp,
    pub service_s: u64,
}

/// How many calendar days of past tickets a restart reads: about thirty working days, past
/// which a day weighs less than 1 % in the usual day (and a service's times far less).
pub const PAST_TICKET_DAYS: i64 = 42;

/// How many calls the hall remembers for boards (newest first).
pub const RECENT_CALLS_MAX: usize = 32;

/// What a window's unplanned pause is expected to last before any has been seen, and how
/// much each one seen weighs.
const PAUSE_PRIOR_S: u32 = 15 * 60;
const PAUSE_WEIGHT_PERCENT: u32 = 20;

#[derive(Clone, Debug)]
pub struct Hall {
    spec: HallSpec,
    tz: TimeZone,
    service_index: HashMap<ServiceId, usize>,
    queues: Vec<ServiceQueue>,
    /// The day's figures per service, kept up to date by `evolve`.
    counts: Vec<DayCounts>,
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
    /// Today's calls, newest first, at most `RECENT_CALLS_MAX`.
    recent_calls: VecDeque<TicketId>,
    /// Today's tickets per (contact key, numbering service): the per-person limit.
    per_person: HashMap<(String, ServiceId), u32>,
    /// Completed visits that may still be rated or followed up, by ticket.
    visits: BTreeMap<TicketId, crate::feedback::Visit>,
    /// Unrated visits by the end of their rating time: where defaults come due.
    rating_deadlines: std::collections::BTreeSet<(Timestamp, TicketId)>,
    /// Open cases, and cases closed since the day began.
    cases: BTreeMap<u64, crate::feedback::Case>,
    last_case_id: u64,
    /// How long windows' unplanned pauses last (the forecast expects a paused window back).
    pause_length: crate::estimate::ServiceTimeAverage,
    /// Each service's usual arrivals over a working day, learned day by day (by service index).
    arrival_profiles: Vec<crate::estimate::ArrivalProfile>,
    /// When each paused window paused (by window index; unknown after a restart).
    paused_since: Vec<Option<Timestamp>>,
    /// Visits forgotten at the last start of a day, for the store.
    last_pruned_visits: Vec<TicketId>,
    /// The boards' notice a manager set (`None`: the hall file's).
    board_notice: Option<String>,
    /// The longest wait each service may reach before the dashboard's alarm, in seconds.
    wait_alarms: BTreeMap<ServiceId, u32>,
}

/// The longest notice a manager may put on the boards, in characters.
pub const BOARD_NOTICE_MAX_CHARS: usize = 200;
/// Wait alarms are set between one minute and eight hours.
pub const WAIT_ALARM_RANGE_S: std::ops::RangeInclusive<u32> = 60..=8 * 3600;

pub(crate) fn seconds_between(from: Timestamp, to: Timestamp) -> u64 {
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
            paused_since: vec![None; spec.windows.len()],
            arrival_profiles: vec![Default::default(); spec.services.len()],
            counts: vec![DayCounts::default(); spec.services.len()],
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
            recent_calls: VecDeque::new(),
            per_person: HashMap::new(),
            visits: BTreeMap::new(),
            rating_deadlines: std::collections::BTreeSet::new(),
            cases: BTreeMap::new(),
            last_case_id: 0,
            pause_length: crate::estimate::ServiceTimeAverage::new(PAUSE_PRIOR_S),
            last_pruned_visits: Vec::new(),
            board_notice: None,
            wait_alarms: BTreeMap::new(),
        }
    }

    /// Rebuilds a hall from what the store kept. Tickets that name services or windows no
    /// longer configured are kept (so they can expire) but cannot be called.
    pub fn restore(spec: HallSpec, tz: TimeZone, restored: RestoredState) -> Self {
        let mut hall = Hall::new(spec, tz);
        hall.learn_past_tickets(restored.past_tickets, restored.day);
        hall.day = restored.day;
        hall.last_ticket_id = restored.last_ticket_id;
        for window in &restored.paused_windows {
            if let Some(&index) = hall.window_index.get(window) {
                hall.windows[index].status = WindowStatus::Paused;
            }
        }
        for visit in restored.visits {
            if visit.rating.is_none() {
                hall.rating_deadlines.insert((visit.rate_by, visit.ticket));
            }
            hall.visits.insert(visit.ticket, visit);
        }
        hall.board_notice = restored.board_notice;
        hall.wait_alarms = restored
            .wait_alarms
            .into_iter()
            .filter(|(service, _)| hall.service_index.contains_key(service))
            .collect();
        hall.last_case_id = restored.last_case_id;
        for case in restored.cases {
            hall.last_case_id = hall.last_case_id.max(case.id);
            hall.cases.insert(case.id, case);
        }
        for appointment in restored.appointments {
            hall.appointments
                .insert(appointment.code.clone(), appointment);
        }
        let mut completed: Vec<(Timestamp, TicketId, usize, u64)> = Vec::new();
        let mut called: Vec<(Timestamp, TicketId)> = Vec::new();
        for ticket in restored.tickets {
            if Some(ticket.service_day) == hall.day {
                if let (
                    TicketStatus::Completed,
                    Some(called_at),
                    Some(finished_at),
                    Some(&service),
                ) = (
                    ticket.status,
                    ticket.called_at,
                    ticket.finished_at,
                    hall.service_index.get(&ticket.service),
                ) {
                    completed.push((
                        finished_at,
                        ticket.id,
                        service,
                        seconds_between(called_at, finished_at),
                    ));
                }
                if let Some(called_at) = ticket.called_at {
                    called.push((called_at, ticket.id));
                }
            }
            hall.insert_ticket(ticket);
        }
        completed.sort_unstable();
        let weight = hall.spec.policy.service_time_weight_percent;
        for (_, _, service, service_s) in completed {
            hall.queues[service].average.record(service_s, weight);
        }
        called.sort_unstable_by(|a, b| b.cmp(a));
        hall.recent_calls = called
            .into_iter()
            .take(RECENT_CALLS_MAX)
            .map(|(_, id)| id)
            .collect();
        hall
    }

    /// Learns again from the days before `today` what a running hall learned on them, day by
    /// day as it would have: each day's arrivals join the usual day at its end, and each
    /// completed service joins its service's fit in the order they finished.
    fn learn_past_tickets(&mut self, mut past: Vec<PastTicket>, today: Option<Date>) {
        past.retain(|ticket| today.is_some_and(|today| ticket.day < today));
        past.sort_by_key(|ticket| ticket.day);
        for day in past.chunk_by(|a, b| a.day == b.day) {
            for ticket in day {
                if let Some(&service) = self.service_index.get(&ticket.service) {
                    let second = self.minute_of_day(ticket.issued_at) * 60.0;
                    self.arrival_profiles[service]
                        .record(usize::from(ticket.priority.rank()), second);
                }
            }
            let mut served: Vec<&PastService> = day
                .iter()
                .filter_map(|ticket| ticket.served.as_ref())
                .collect();
            served.sort_by_key(|served| served.finished_at);
            for served in served {
                if let Some(&service) = self.service_index.get(&served.service) {
                    self.queues[service].average.record_fit(served.service_s);
                }
            }
            self.fold_arrival_day();
        }
    }

    /// A service day is over: its arrivals join the usual day.
    pub(super) fn fold_arrival_day(&mut self) {
        for profile in &mut self.arrival_profiles {
            profile.fold_day();
        }
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
            // Every ticket of the day counts to its queue's arrivals (also when a restart
            // folds in tickets already called), so the forecast knows what is coming.
            if let Some(&service) = self.service_index.get(&ticket.service) {
                self.queues[service].arrivals[usize::from(ticket.priority.rank())]
                    .record(ticket.issued_at);
            }
            if let Some(&origin) = self.service_index.get(&ticket.number_service) {
                let second = self.minute_of_day(ticket.issued_at) * 60.0;
                self.arrival_profiles[origin].record(usize::from(ticket.priority.rank()), second);
            }
            let people = ticket.contact.iter().chain(&ticket.id_card);
            for person in people.filter(|person| !person.key.is_empty()) {
                *self
                    .per_person
                    .entry((person.key.clone(), ticket.number_service.clone()))
                    .or_default() += 1;
            }
        }
        match ticket.status {
            TicketStatus::Waiting => self.add_waiting(&ticket),
            TicketStatus::Called => {
                if let Some(window) = &ticket.window {
                    if let Some(&index) = self.window_index.get(window) {
                        self.windows[index].current = Some(ticket.id);
                    }
                }
            }
            _ => {}
        }
        self.tally(&ticket, true);
        self.tokens.insert(ticket.token.clone(), ticket.id);
        self.tickets.insert(ticket.id, ticket);
    }

    /// Adds a year of the holiday calendar fetched while running (from the city's hub): the
    /// calendar is configuration, not state, so no event records it.
    pub fn add_calendar_year(
        &mut self,
        year: i16,
        entries: &[crate::calendar::CalendarEntry],
    ) -> Result<(), (usize, String)> {
        self.spec.calendar.add_year(year, entries)
    }

    /// Replaces the configuration while running (a reload): texts, names, departments,
    /// materials, the schedule, the calendar, appointment plans and rules, the queueing policy
    /// and the rating rules may change; the services and windows themselves (their ids, order
    /// and prefixes) may not — the queues, numbering and windows' state are built on them, and
    /// changing them needs a restart. The new spec must have passed `HallSpec::validate`.
    pub fn replace_spec(&mut self, spec: HallSpec) -> Result<(), String> {
        let services = |s: &HallSpec| -> Vec<(ServiceId, String)> {
            s.services
                .iter()
                .map(|x| (x.id.clone(), x.prefix.clone()))
                .collect()
        };
        let windows =
            |s: &HallSpec| -> Vec<WindowId> { s.windows.iter().map(|w| w.id.clone()).collect() };
        if services(&spec) != services(&self.spec) {
            return Err(
                "services were added, removed, reordered or renumbered: restart to apply".into(),
            );
        }
        if windows(&spec) != windows(&self.spec) {
            return Err("windows were added, removed or reordered: restart to apply".into());
        }
        // Calendar years fetched while running (from the hub) stay known.
        let mut spec = spec;
        for year in self.spec.calendar.years().collect::<Vec<_>>() {
            if !spec.calendar.has_year(year) {
                spec.calendar = self.spec.calendar.clone();
                break;
            }
        }
        self.spec = spec;
        Ok(())
    }

    pub fn spec(&self) -> &HallSpec {
        &self.spec
    }

    /// The boards' notice a manager set, if one stands (else the hall file's applies).
    pub fn board_notice(&self) -> Option<&str> {
        self.board_notice.as_deref()
    }

    /// Each service's wait alarm, in seconds.
    pub fn wait_alarms(&self) -> &BTreeMap<ServiceId, u32> {
        &self.wait_alarms
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

    /// How many tickets the hall holds in memory (today's and older open ones).
    pub fn ticket_count(&self) -> usize {
        self.tickets.len()
    }

    /// Today's calls, newest first: what the TV board lists.
    pub fn recent_calls(&self, limit: usize) -> Vec<&Ticket> {
        self.recent_calls
            .iter()
            .take(limit)
            .filter_map(|id| self.tickets.get(id))
            .collect()
    }

    pub fn windows(&self) -> &[WindowState] {
        &self.windows
    }

    pub fn window(&self, id: &WindowId) -> Option<&WindowState> {
        self.window_index.get(id).map(|&index| &self.windows[index])
    }

    pub fn appointment(&self, code: &str) -> Option<&Appointment> {
        self.appointments.get(code)
    }

    /// Today's and later appointments, by code.
    pub fn appointments(&self) -> impl Iterator<Item = &Appointment> {
        self.appointments.values()
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

    /// Moves the hall to the service day of `now`: every ticket of an earlier day still open
    /// expires and numbering restarts; visits nobody rated in time get the default rating.
    /// Returns the events (already folded in); empty when neither happened. A clock that jumps backwards never moves the day back.
    pub fn advance_to(&mut self, now: Timestamp) -> Vec<Event> {
        // Default ratings come due at any time of day, not only at midnight.
        let mut events = self.default_ratings_due(now);
        for event in &events {
            self.evolve(event);
        }
        let today = self.service_day_of(now);
        if matches!(self.day, Some(day) if day >= today) {
            return events;
        }
        let mut day_events: Vec<Event> = self
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
        day_events.extend(
            self.appointments
                .values()
                .filter(|a| {
                    a.date < today && a.status == crate::appointment::AppointmentStatus::Booked
                })
                .map(|a| Event::AppointmentNoShow {
                    code: a.code.clone(),
                    at: now,
                }),
        );
        day_events.push(Event::ServiceDayStarted {
            day: today,
            at: now,
        });
        for event in &day_events {
            self.evolve(event);
        }
        events.extend(day_events);
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
}
