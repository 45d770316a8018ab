//! The simulation: hall days as a discrete-event simulation against the real core, with a fake
//! clock and a seeded random source. Citizens arrive (walk-ins along the day's curve, the green
//! channel, appointments), windows call, serve (long-tailed), recall and mark no-shows, requeue
//! latecomers, transfer, pause for breaks and lunch; citizens walk away when their patience
//! runs out; printers fail now and then. The core's invariants are checked throughout.

use crate::model::{self, SERVICES, WINDOWS};
use crate::report::{Record, Tally};
use crate::rng::Rng;
use hallq_core::jiff::civil::{date, Date};
use hallq_core::jiff::tz::TimeZone;
use hallq_core::jiff::Timestamp;
use hallq_core::{
    Channel, Command, Event, Hall, IssueTicket, PriorityClass, ServiceId, TicketId, WindowId,
};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// What may happen, in time order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Arrive { service: usize, class: u8 },
    WindowFree { window: usize },
    ServiceEnd { window: usize },
    Recall { window: usize },
    MarkNoShow { window: usize },
    Requeue { window: usize, ticket: u64 },
    Abandon { ticket: u64 },
    PauseAt { window: usize, minutes: u32 },
    Resume { window: usize },
    Close,
}

#[derive(Clone, Debug, Default)]
struct WindowSim {
    /// The ticket called and being served (or not showing up).
    current: Option<TicketId>,
    paused: bool,
    /// A break asked for, taken when the current citizen is done (minutes).
    pause_pending: Option<u32>,
    /// A WindowFree is already scheduled.
    wake_scheduled: bool,
}

/// Options of a run.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub seed: u64,
    pub days: u32,
    /// Check every invariant after each command (slow) instead of every hundred.
    pub thorough: bool,
    /// Every this many tickets (0: none), also the oracle's estimate (see `oracle_wait`).
    pub oracle_every: u64,
    /// Every this many tickets the promises are measured (1: all). The forecast draws its
    /// futures for each, which costs more than the simulation itself; it changes nothing in
    /// the hall, so measuring a sample leaves the days as they are.
    pub measure_every: u64,
}

/// Futures the oracle draws per ticket: its estimate is their median wait.
const ORACLE_DRAWS: u64 = 31;

/// A clone of the simulation run forward to see when one ticket is called.
#[derive(Clone, Debug)]
struct OracleRun {
    target: TicketId,
    issued: Timestamp,
    called: Option<u64>,
}

#[derive(Clone)]
pub struct Simulation {
    hall: Hall,
    rng: Rng,
    zone: TimeZone,
    day: Date,
    now: Timestamp,
    queue: BinaryHeap<Reverse<(i64, u64, Action)>>,
    sequence: u64,
    windows: Vec<WindowSim>,
    records: HashMap<TicketId, Record>,
    /// The first-call wait of the last ticket called per service (for LES).
    last_wait: Vec<Option<u64>>,
    closed: bool,
    commands: u64,
    thorough: bool,
    /// The day's arrival intensity (drawn each morning).
    day_factor: f64,
    oracle_every: u64,
    measure_every: u64,
    /// Set in the oracle's clones: the ticket whose call they wait for.
    oracle: Option<OracleRun>,
    pub tally: Tally,
}

fn service_id(index: usize) -> ServiceId {
    ServiceId::new(SERVICES[index].id)
}

fn window_id(index: usize) -> WindowId {
    WindowId::new(WINDOWS[index].0)
}

impl Simulation {
    pub fn new(options: &SimOptions) -> Self {
        let zone = TimeZone::fixed(hallq_core::jiff::tz::offset(8));
        let day = date(2026, 3, 2);
        let now = day
            .to_zoned(zone.clone())
            .expect("a day in the hall's zone")
            .timestamp();
        let mut hall = Hall::new(model::spec(), zone.clone());
        hall.advance_to(now);
        Self {
            hall,
            rng: Rng::new(options.seed),
            zone,
            day,
            now,
            queue: BinaryHeap::new(),
            sequence: 0,
            windows: vec![WindowSim::default(); WINDOWS.len()],
            records: HashMap::new(),
            last_wait: vec![None; SERVICES.len()],
            closed: false,
            commands: 0,
            thorough: options.thorough,
            day_factor: 1.0,
            oracle_every: options.oracle_every,
            measure_every: options.measure_every.max(1),
            oracle: None,
            tally: Tally::default(),
        }
    }

    /// Runs `days` hall days; panics on a broken invariant, naming the day and the command.
    pub fn run(&mut self, days: u32) {
        for _ in 0..days {
            self.run_day();
        }
    }

    fn at(&self, seconds: f64) -> Timestamp {
        self.day
            .to_zoned(self.zone.clone())
            .expect("midnight")
            .timestamp()
            + hallq_core::jiff::SignedDuration::from_millis((seconds * 1000.0) as i64)
    }

    fn schedule(&mut self, at: Timestamp, action: Action) {
        self.sequence += 1;
        self.queue
            .push(Reverse((at.as_millisecond(), self.sequence, action)));
    }

    fn schedule_in(&mut self, seconds: f64, action: Action) {
        let at =
            self.now + hallq_core::jiff::SignedDuration::from_millis((seconds * 1000.0) as i64);
        self.schedule(at, action);
    }

    fn run_day(&mut self) {
        self.closed = false;
        let midnight = self.at(0.0);
        self.now = midnight;
        for event in self.hall.advance_to(midnight) {
            self.observe(&event);
        }
        self.windows = vec![WindowSim::default(); WINDOWS.len()];
        for window in 0..WINDOWS.len() {
            // Windows resume if a previous day left them paused.
            if self.hall.window(&window_id(window)).map(|w| w.status)
                == Some(hallq_core::WindowStatus::Paused)
            {
                self.execute(Command::Resume {
                    window: window_id(window),
                });
            }
        }
        self.plan_arrivals();
        self.plan_breaks();
        let close = self.at(model::CLOSE_S);
        self.schedule(close, Action::Close);
        while let Some(Reverse((at_ms, _, action))) = self.queue.pop() {
            self.now = Timestamp::from_millisecond(at_ms).expect("a time of the day");
            self.act(action);
        }
        self.check("the end of the day");
        self.tally.days += 1;
        self.day = self.day.tomorrow().expect("another day");
    }

    fn plan_arrivals(&mut self) {
        self.day_factor = self.rng.between(0.85, 1.15);
        for (index, service) in SERVICES.iter().enumerate() {
            self.plan_walk_ins(index, model::OPEN_S);
            // Appointments (8 % of the day's walk-ins) checked in across the day.
            let booked = (service.daily * 0.08 * self.day_factor).round() as usize;
            for _ in 0..booked {
                let t = self.rng.between(9.0 * 3600.0, 16.5 * 3600.0);
                let at = self.at(t);
                self.schedule(
                    at,
                    Action::Arrive {
                        service: index,
                        class: 1,
                    },
                );
            }
        }
    }

    /// Walk-ins of a service (5 % of them green channel) from `from` (seconds after midnight)
    /// along the day's curve, by thinning.
    fn plan_walk_ins(&mut self, index: usize, from: f64) {
        let peak = model::peak_intensity();
        let rate_max = SERVICES[index].daily * self.day_factor * peak / model::ticket_hours_s();
        let mut t = from;
        loop {
            t += self.rng.exponential(1.0 / rate_max);
            if t >= model::LAST_TICKET_S {
                break;
            }
            if self.rng.unit() * peak < model::intensity(t) {
                let class = if self.rng.chance(0.05) { 0 } else { 2 };
                let at = self.at(t);
                self.schedule(
                    at,
                    Action::Arrive {
                        service: index,
                        class,
                    },
                );
            }
        }
    }

    fn plan_breaks(&mut self) {
        for window in 0..WINDOWS.len() {
            // Lunch in two shifts, so that half the windows stay open.
            let lunch = if window % 2 == 0 { 12.0 } else { 12.5 } * 3600.0;
            let at = self.at(lunch);
            self.schedule(
                at,
                Action::PauseAt {
                    window,
                    minutes: 60,
                },
            );
            if self.rng.chance(0.6) {
                let morning = self.rng.chance(0.5);
                let t = if morning {
                    self.rng.between(9.5, 11.5)
                } else {
                    self.rng.between(14.5, 16.5)
                } * 3600.0;
                let minutes = self.rng.between(5.0, 15.0) as u32;
                let at = self.at(t);
                self.schedule(at, Action::PauseAt { window, minutes });
            }
            let late = self.rng.between(0.0, 300.0);
            let open = self.at(model::OPEN_S + late);
            self.schedule(open, Action::WindowFree { window });
            self.windows[window].wake_scheduled = true;
        }
    }

    fn execute(&mut self, command: Command) -> Option<hallq_core::Outcome> {
        self.commands += 1;
        let result = self.hall.execute(&command, self.now);
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(error) => {
                self.tally.refused += 1;
                let _ = error;
                return None;
            }
        };
        for event in &outcome.events {
            self.observe(event);
        }
        if self.oracle.is_none() && (self.thorough || self.commands.is_multiple_of(100)) {
            self.check(command.name());
        }
        Some(outcome)
    }

    fn check(&self, what: &str) {
        if let Err(message) = self.hall.check_invariants() {
            panic!(
                "invariant broken on {} at {} after {what}: {message}",
                self.day, self.now
            );
        }
    }

    /// Follows the events for the measurements.
    fn observe(&mut self, event: &Event) {
        match event {
            Event::TicketCalled {
                ticket,
                service,
                at,
                ..
            } => {
                if let Some(run) = self.oracle.as_mut() {
                    if *ticket == run.target && run.called.is_none() {
                        run.called = Some((at.as_second() - run.issued.as_second()).max(0) as u64);
                    }
                }
                // The first call ends the wait that was promised.
                if let Some(mut record) = self.records.remove(ticket) {
                    let wait = (at.as_second() - record.issued.as_second()).max(0) as u64;
                    record.actual_s = Some(wait);
                    if let Some(index) = SERVICES.iter().position(|s| s.id == service.as_str()) {
                        self.last_wait[index] = Some(wait);
                    }
                    self.tally.measured(record);
                }
                self.tally.calls += 1;
            }
            Event::TicketCompleted { .. } => self.tally.completed += 1,
            Event::TicketNoShow { .. } => self.tally.no_shows += 1,
            Event::TicketRequeued { .. } => self.tally.requeues += 1,
            Event::TicketTransferred { .. } => self.tally.transfers += 1,
            Event::TicketCancelled { ticket, .. } => {
                self.tally.walked_away += 1;
                if self.records.remove(ticket).is_some() {
                    self.tally.censored += 1;
                }
            }
            Event::TicketExpired { ticket, .. } => {
                self.tally.expired += 1;
                if self.records.remove(ticket).is_some() {
                    self.tally.censored += 1;
                }
            }
            Event::WindowPaused { .. } => self.tally.pauses += 1,
            _ => {}
        }
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Arrive { service, class } => self.arrive(service, class),
            Action::WindowFree { window } => {
                self.windows[window].wake_scheduled = false;
                self.next_citizen(window);
            }
            Action::ServiceEnd { window } => {
                // 2 % of visits turn out to need another service: sent on, number kept.
                if let Some(ticket) = self.windows[window].current {
                    if self.rng.chance(0.02) && !self.closed {
                        let current = self.hall.ticket(ticket).map(|t| t.service.clone());
                        let others: Vec<usize> = (0..SERVICES.len())
                            .filter(|&s| Some(service_id(s)) != current)
                            .collect();
                        let to = others[self.rng.below(others.len())];
                        if self
                            .execute(Command::Transfer {
                                window: window_id(window),
                                service: service_id(to),
                            })
                            .is_some()
                        {
                            self.windows[window].current = None;
                            self.wake_windows_for(to);
                        }
                    }
                }
                self.next_citizen(window);
            }
            Action::Recall { window } => {
                if self.windows[window].current.is_some() {
                    self.execute(Command::Recall {
                        window: window_id(window),
                    });
                }
            }
            Action::MarkNoShow { window } => {
                if let Some(ticket) = self.windows[window].current.take() {
                    self.execute(Command::NoShow {
                        window: window_id(window),
                    });
                    // A third of them turn up late and are put back in their queue.
                    if self.rng.chance(0.3) && !self.closed {
                        let late = self.rng.between(120.0, 600.0);
                        self.schedule_in(
                            late,
                            Action::Requeue {
                                window,
                                ticket: ticket.0,
                            },
                        );
                    }
                    self.next_citizen(window);
                }
            }
            Action::Requeue { window, ticket } => {
                if !self.closed {
                    let id = TicketId(ticket);
                    if self
                        .execute(Command::Requeue {
                            window: window_id(window),
                            ticket: id,
                        })
                        .is_some()
                    {
                        if let Some(service) = self.hall.ticket(id).map(|t| t.service.clone()) {
                            if let Some(index) =
                                SERVICES.iter().position(|s| s.id == service.as_str())
                            {
                                self.wake_windows_for(index);
                            }
                        }
                    }
                }
            }
            Action::Abandon { ticket } => {
                let id = TicketId(ticket);
                let waiting = self
                    .hall
                    .ticket(id)
                    .is_some_and(|t| t.status == hallq_core::TicketStatus::Waiting);
                if waiting {
                    self.execute(Command::Cancel { ticket: id });
                }
            }
            Action::PauseAt { window, minutes } => {
                let state = &mut self.windows[window];
                if state.paused || self.closed {
                    return;
                }
                state.pause_pending = Some(minutes);
                if state.current.is_none() {
                    self.take_break(window);
                }
            }
            Action::Resume { window } => {
                if self.windows[window].paused {
                    self.windows[window].paused = false;
                    self.execute(Command::Resume {
                        window: window_id(window),
                    });
                    self.next_citizen(window);
                }
            }
            Action::Close => self.closed = true,
        }
    }

    fn take_break(&mut self, window: usize) {
        let Some(minutes) = self.windows[window].pause_pending.take() else {
            return;
        };
        if self.windows[window].current.take().is_some() {
            self.execute(Command::Complete {
                window: window_id(window),
                staff: Some(format!("s{window}")),
            });
        }
        if self
            .execute(Command::Pause {
                window: window_id(window),
            })
            .is_some()
        {
            self.windows[window].paused = true;
            self.schedule_in(f64::from(minutes) * 60.0, Action::Resume { window });
        }
    }

    /// The window is done with whoever it had: a break if one is due, else call the next.
    fn next_citizen(&mut self, window: usize) {
        if self.windows[window].paused {
            return;
        }
        if self.windows[window].pause_pending.is_some() {
            self.take_break(window);
            return;
        }
        if self.closed {
            if self.windows[window].current.take().is_some() {
                self.execute(Command::Complete {
                    window: window_id(window),
                    staff: Some(format!("s{window}")),
                });
            }
            return;
        }
        let outcome = self.execute(Command::CallNext {
            window: window_id(window),
            staff: Some(format!("s{window}")),
        });
        let called = outcome.and_then(|o| o.ticket);
        self.windows[window].current = called;
        let Some(ticket) = called else {
            return;
        };
        // 3 % do not come: recalled once, then marked.
        if self.rng.chance(0.03) {
            self.schedule_in(45.0, Action::Recall { window });
            self.schedule_in(90.0, Action::MarkNoShow { window });
            return;
        }
        let service = self
            .hall
            .ticket(ticket)
            .and_then(|t| SERVICES.iter().position(|s| s.id == t.service.as_str()))
            .unwrap_or(0);
        let model = &SERVICES[service];
        let seconds = self
            .rng
            .lognormal(model.mean_s, model.sigma)
            .clamp(20.0, 4.0 * 3600.0);
        self.schedule_in(seconds, Action::ServiceEnd { window });
    }

    /// Idle open windows that serve `service` notice the new ticket (after a few seconds).
    fn wake_windows_for(&mut self, service: usize) {
        let id = SERVICES[service].id;
        for (window, (_, services)) in WINDOWS.iter().enumerate() {
            let state = &self.windows[window];
            if services.contains(&id)
                && state.current.is_none()
                && !state.paused
                && !state.wake_scheduled
            {
                self.windows[window].wake_scheduled = true;
                let reaction = self.rng.between(5.0, 20.0);
                self.schedule_in(reaction, Action::WindowFree { window });
            }
        }
    }

    fn arrive(&mut self, service: usize, class: u8) {
        let (priority, channel) = match class {
            0 => (PriorityClass::Green, Channel::Kiosk),
            1 => (PriorityClass::Appointment, Channel::Appointment),
            _ => (PriorityClass::WalkIn, Channel::Kiosk),
        };
        self.sequence += 1;
        let token = format!("sim{:012}", self.sequence);
        let Some(outcome) = self.execute(Command::IssueTicket(IssueTicket {
            service: service_id(service),
            priority,
            channel,
            contact: None,
            id_card: None,
            kiosk: Some("kiosk".into()),
            token,
            idempotency_key: None,
        })) else {
            return;
        };
        let Some(id) = outcome.ticket else {
            return;
        };
        self.tally.issued += 1;
        // A printer out of paper now and then: the ticket stands, the outcome is recorded.
        let failure = self
            .rng
            .chance(0.01)
            .then(|| ("paper_out".to_owned(), "simulated paper out".to_owned()));
        self.execute(Command::RecordPrintOutcome {
            ticket: id,
            printer: "printer".into(),
            failure,
        });
        if self.oracle.is_some() {
            // A future the oracle draws: nobody's promise is measured in it.
            self.draw_patience(id);
            self.wake_windows_for(service);
            return;
        }
        let measured = self.tally.issued.is_multiple_of(self.measure_every);
        let oracle_s = (measured
            && self.oracle_every > 0
            && self
                .tally
                .issued
                .is_multiple_of(self.oracle_every * self.measure_every))
        .then(|| self.oracle_wait(id));
        let (ahead, queue_length) = self.hall.position(id, self.now).unwrap_or((0, 0));
        let forecast = measured.then(|| self.hall.forecast(id, self.now)).flatten();
        let head_of_line = self
            .hall
            .queue_stats(self.now)
            .into_iter()
            .find(|s| s.service == service_id(service))
            .map(|s| s.oldest_wait_s)
            .unwrap_or(0);
        self.records.insert(
            id,
            Record {
                issued: self.now,
                priority,
                ahead,
                queue_length_s: queue_length,
                last_to_enter_s: self.last_wait[service].unwrap_or(queue_length),
                head_of_line_s: head_of_line,
                forecast,
                oracle_s,
                measured,
                issued_hour: self.now.to_zoned(self.zone.clone()).hour() as u8,
                actual_s: None,
            },
        );
        self.draw_patience(id);
        self.wake_windows_for(service);
    }

    /// Patience: most wait as long as it takes; some walk away.
    fn draw_patience(&mut self, id: TicketId) {
        if self.rng.chance(0.15) {
            let patience = self.rng.exponential(45.0 * 60.0);
            self.schedule_in(patience, Action::Abandon { ticket: id.0 });
        }
    }

    /// The oracle: the best estimate of `target`'s wait there could be at its issue. It knows
    /// everything the hall knows — the queues, who is being served and for how long, the
    /// windows' breaks, the day's bookings — and the simulation's own distributions, and draws
    /// what nobody can know afresh `ORACLE_DRAWS` times: the service times left, the walk-ins
    /// still to come, who walks away. Its estimate is the median of the waits of those
    /// futures (the point with the least expected absolute error). No estimator in the hall
    /// can do better on average, so its error is the floor the forecast is measured against.
    fn oracle_wait(&self, target: TicketId) -> u64 {
        let mut waits: Vec<u64> = (0..ORACLE_DRAWS)
            .map(|draw| self.oracle_draw(target, draw))
            .collect();
        waits.sort_unstable();
        waits[waits.len() / 2]
    }

    fn oracle_draw(&self, target: TicketId, draw: u64) -> u64 {
        let mut future = self.clone();
        future.oracle_every = 0;
        future.measure_every = u64::MAX;
        future.oracle = Some(OracleRun {
            target,
            issued: self.now,
            called: None,
        });
        future.rng = Rng::new(
            self.sequence
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(target.0 << 8)
                .wrapping_add(draw),
        );
        future.records.clear();
        // What the hall cannot know is drawn again: walk-ins still to come, who walks away,
        // and how long the services in progress will take (their time so far is known).
        let mut in_service = Vec::new();
        for Reverse((at, sequence, action)) in std::mem::take(&mut future.queue).into_vec() {
            match action {
                Action::Arrive { class, .. } if class != 1 => {}
                Action::Abandon { .. } => {}
                Action::ServiceEnd { window } => in_service.push(window),
                _ => future.queue.push(Reverse((at, sequence, action))),
            }
        }
        let now_s = (self.now.as_millisecond() - self.at(0.0).as_millisecond()) as f64 / 1000.0;
        for index in 0..SERVICES.len() {
            future.plan_walk_ins(index, now_s);
        }
        let mut waiting: Vec<TicketId> = self.records.keys().copied().collect();
        waiting.sort_unstable();
        for id in waiting {
            future.draw_patience(id);
        }
        in_service.sort_unstable();
        for window in in_service {
            let Some(ticket) = self.windows[window]
                .current
                .and_then(|id| self.hall.ticket(id))
            else {
                continue;
            };
            let elapsed = ticket
                .called_at
                .map(|at| (self.now.as_millisecond() - at.as_millisecond()) as f64 / 1000.0)
                .unwrap_or(0.0);
            let model = SERVICES
                .iter()
                .find(|s| s.id == ticket.service.as_str())
                .unwrap_or(&SERVICES[0]);
            let mut total = 0.0;
            for _ in 0..10_000 {
                total = future
                    .rng
                    .lognormal(model.mean_s, model.sigma)
                    .clamp(20.0, 4.0 * 3600.0);
                if total > elapsed {
                    break;
                }
            }
            let left = (total - elapsed).max(1.0);
            future.schedule_in(left, Action::ServiceEnd { window });
        }
        // The target has just arrived: idle windows notice it, as in the day itself (the
        // oracle is asked before they are woken, and without this it waited for the next
        // arrival of the service to wake them: worse than the forecast with nobody ahead).
        if let Some(service) = self
            .hall
            .ticket(target)
            .and_then(|t| SERVICES.iter().position(|s| s.id == t.service.as_str()))
        {
            future.wake_windows_for(service);
        }
        while let Some(Reverse((at_ms, _, action))) = future.queue.pop() {
            future.now = Timestamp::from_millisecond(at_ms).expect("a time of the day");
            future.act(action);
            if let Some(wait) = future.oracle.as_ref().and_then(|run| run.called) {
                return wait;
            }
        }
        // Not called before the hall closed.
        (model::CLOSE_S - now_s).max(0.0) as u64
    }

    /// The measurements of every day run.
    pub fn finish(mut self) -> Tally {
        self.tally.commands = self.commands;
        self.tally
    }
}
