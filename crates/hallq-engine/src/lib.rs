//! The engine: one thread that owns the hall's state and the SQLite write connection.
//!
//! Requests arrive on a bounded channel. The engine takes every request waiting (up to
//! `batch_max`), answers reads from the committed state, applies the commands in arrival order,
//! writes all their events and changed rows in **one** transaction, and only after that
//! transaction is on disk answers the callers and publishes the events on a bounded broadcast
//! channel. One fsync is shared by the whole group: that is where the throughput comes from.
//!
//! If a commit fails (disk full, read-only file system), every caller in the group gets the
//! storage error and the engine reloads its state from the database, so memory never holds
//! anything the disk does not.
//!
//! Not here: HTTP, JSON, devices. Callers hold an [`EngineHandle`].

mod clock;

pub use clock::{Clock, SystemClock};

use hallq_core::jiff::tz::TimeZone;
use hallq_core::jiff::Timestamp;
use hallq_core::{Command, DomainError, Event, Hall, HallSpec, Ticket, TicketId, WindowId};
use hallq_store::{Batch, Store, StoreError, StoreErrorKind};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Limits of the engine. Every queue is bounded.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Requests that may wait for the engine before senders are held back.
    pub request_capacity: usize,
    /// The most requests applied and committed together.
    pub batch_max: usize,
    /// Events a subscriber may fall behind before it is told it lagged.
    pub event_capacity: usize,
    /// How often the engine wakes without requests (day rollover at midnight).
    pub tick_interval: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            request_capacity: 4096,
            batch_max: 512,
            event_capacity: 8192,
            tick_interval: Duration::from_secs(5),
        }
    }
}

/// An event as published after its commit.
#[derive(Clone, Debug, PartialEq)]
pub struct Published {
    pub seq: u64,
    pub event: Event,
}

/// The answer to a command, sent once its events are on disk.
#[derive(Clone, Debug)]
pub struct Executed {
    /// This command's own events with their sequence numbers (empty for an idempotent retry).
    pub events: Vec<Arc<Published>>,
    /// The ticket the command was about, as it stands after the commit.
    pub ticket: Option<Ticket>,
    /// People ahead and the estimated wait, when the ticket is waiting.
    pub position: Option<(usize, u64)>,
    pub at: Timestamp,
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("storage failed: {0}")]
    Storage(StoreError),
    #[error("the engine has stopped")]
    Stopped,
}

type ReadJob = Box<dyn FnOnce(&Hall, Timestamp) + Send>;

enum Request {
    Execute {
        command: Command,
        reply: oneshot::Sender<Result<Executed, EngineError>>,
    },
    Read(ReadJob),
    CheckWritable(oneshot::Sender<Result<(), StoreError>>),
    /// Wakes the engine so that it notices a new day.
    Tick,
}

/// Counters the daemon exports as metrics.
#[derive(Clone, Debug, Default)]
pub struct EngineStats {
    pub batches: u64,
    pub commands: u64,
    pub events: u64,
    pub commit_failures: u64,
    /// Histogram of batch sizes: counts of batches with ≤1, ≤2, ≤4 … ≤512 commands.
    pub batch_size_buckets: [u64; 10],
    pub commit_seconds_total: f64,
    pub last_seq: u64,
    pub last_error: Option<String>,
}

pub const BATCH_SIZE_BOUNDS: [usize; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/// The cheap, cloneable way to talk to the engine.
#[derive(Clone)]
pub struct EngineHandle {
    requests: mpsc::Sender<Request>,
    events: broadcast::Sender<Arc<Published>>,
    stats: Arc<Mutex<EngineStats>>,
}

impl EngineHandle {
    /// Applies a command; returns after its events are durable.
    pub async fn execute(&self, command: Command) -> Result<Executed, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Execute { command, reply })
            .await
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)?
    }

    /// Runs `query` against the committed state on the engine thread. Keep it short.
    pub async fn read<R, F>(&self, query: F) -> Result<R, EngineError>
    where
        R: Send + 'static,
        F: FnOnce(&Hall, Timestamp) -> R + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: ReadJob = Box::new(move |hall, now| {
            let _ = reply.send(query(hall, now));
        });
        self.requests
            .send(Request::Read(job))
            .await
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// Proves the database takes writes (for `/readyz`).
    pub async fn check_writable(&self) -> Result<(), EngineError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::CheckWritable(reply))
            .await
            .map_err(|_| EngineError::Stopped)?;
        answer
            .await
            .map_err(|_| EngineError::Stopped)?
            .map_err(EngineError::Storage)
    }

    /// Events published from now on. A subscriber that falls `event_capacity` behind gets
    /// `Lagged` and must catch up from the store: the engine never waits for it.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.events.subscribe()
    }

    pub fn stats(&self) -> EngineStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn is_running(&self) -> bool {
        !self.requests.is_closed()
    }
}

/// The running engine. Dropping every [`EngineHandle`] stops it; `join` waits for that.
pub struct Engine {
    thread: Option<JoinHandle<()>>,
}

impl Engine {
    /// Loads the hall from the store, brings it to today and starts the engine thread.
    pub fn start(
        store: Store,
        spec: HallSpec,
        time_zone: TimeZone,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> Result<(Engine, EngineHandle), StoreError> {
        let loaded = store.load()?;
        let hall = Hall::restore(spec, time_zone, loaded.state);
        let (requests, receiver) = mpsc::channel(config.request_capacity.max(1));
        let (events, _) = broadcast::channel(config.event_capacity.max(1));
        let stats = Arc::new(Mutex::new(EngineStats {
            last_seq: loaded.last_seq,
            ..EngineStats::default()
        }));
        let mut worker = Worker {
            hall,
            store,
            clock,
            last_seq: loaded.last_seq,
            events: events.clone(),
            stats: stats.clone(),
            batch_max: config.batch_max.max(1),
            needs_reload: false,
        };
        // Start the day before serving anyone: yesterday's leftovers expire now. A full or
        // read-only disk must not keep the hall from starting (reads still work): the day
        // start is then retried with the next request.
        if let Err(error) = worker.process(Vec::new()) {
            tracing::error!(%error, "cannot record the start of the service day; will retry");
        }
        let thread = std::thread::Builder::new()
            .name("hallq-engine".into())
            .spawn(move || worker.run(receiver))
            .map_err(|e| StoreError::other(format!("cannot start the engine thread: {e}")))?;
        let ticker = requests.downgrade();
        let interval = config.tick_interval;
        std::thread::Builder::new()
            .name("hallq-engine-tick".into())
            .spawn(move || loop {
                std::thread::sleep(interval);
                let Some(sender) = ticker.upgrade() else {
                    return;
                };
                // A full queue means the engine is busy and will look at the clock anyway.
                let _ = sender.try_send(Request::Tick);
            })
            .map_err(|e| StoreError::other(format!("cannot start the tick thread: {e}")))?;
        Ok((
            Engine {
                thread: Some(thread),
            },
            EngineHandle {
                requests,
                events,
                stats,
            },
        ))
    }

    /// Waits until the engine has answered everything and stopped (all handles dropped).
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Worker {
    hall: Hall,
    store: Store,
    clock: Arc<dyn Clock>,
    last_seq: u64,
    events: broadcast::Sender<Arc<Published>>,
    stats: Arc<Mutex<EngineStats>>,
    batch_max: usize,
    needs_reload: bool,
}

/// A command applied in this batch, waiting for the commit to be answered.
struct Pending {
    reply: oneshot::Sender<Result<Executed, EngineError>>,
    result: Result<(std::ops::Range<usize>, Option<TicketId>), DomainError>,
}

impl Worker {
    fn run(mut self, mut receiver: mpsc::Receiver<Request>) {
        while let Some(first) = receiver.blocking_recv() {
            let mut batch = Vec::with_capacity(16);
            batch.push(first);
            while batch.len() < self.batch_max {
                match receiver.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            if let Err(error) = self.process(batch) {
                tracing::error!(%error, "engine batch failed");
            }
        }
        tracing::info!(last_seq = self.last_seq, "engine stopped");
    }

    fn reload(&mut self) -> Result<(), StoreError> {
        let loaded = self.store.load()?;
        self.hall = Hall::restore(
            self.hall.spec().clone(),
            self.hall.time_zone().clone(),
            loaded.state,
        );
        self.last_seq = loaded.last_seq;
        self.needs_reload = false;
        tracing::warn!(
            last_seq = self.last_seq,
            "engine state reloaded from the database"
        );
        Ok(())
    }

    /// Handles one group of requests. Returns the storage error if the commit failed (every
    /// caller has been told already).
    fn process(&mut self, requests: Vec<Request>) -> Result<(), StoreError> {
        if self.needs_reload {
            if let Err(error) = self.reload() {
                for request in requests {
                    fail(request, &error);
                }
                return Err(error);
            }
        }
        let now = self.clock.now();
        // Reads first, so that they see only committed state.
        let mut commands = Vec::with_capacity(requests.len());
        for request in requests {
            match request {
                Request::Read(job) => job(&self.hall, now),
                Request::CheckWritable(reply) => {
                    let _ = reply.send(self.store.check_writable());
                }
                Request::Tick => {}
                Request::Execute { command, reply } => commands.push((command, reply)),
            }
        }
        let mut events: Vec<Event> = self.hall.advance_to(now);
        let command_count = commands.len();
        let mut pending = Vec::with_capacity(command_count);
        for (command, reply) in commands {
            let result = self.hall.execute(&command, now).map(|outcome| {
                let start = events.len();
                events.extend(outcome.events);
                (start..events.len(), outcome.ticket)
            });
            pending.push(Pending { reply, result });
        }
        #[cfg(debug_assertions)]
        if let Err(message) = self.hall.check_invariants() {
            panic!("hall invariant broken: {message}");
        }
        let started = Instant::now();
        let committed = if events.is_empty() {
            Ok(())
        } else {
            self.commit(&events)
        };
        let commit_seconds = started.elapsed().as_secs_f64();
        let first_seq = self.last_seq + 1;
        match committed {
            Ok(()) => {
                let published: Vec<Arc<Published>> = events
                    .into_iter()
                    .enumerate()
                    .map(|(offset, event)| {
                        Arc::new(Published {
                            seq: first_seq + offset as u64,
                            event,
                        })
                    })
                    .collect();
                self.last_seq += published.len() as u64;
                for item in pending {
                    let answer = item
                        .result
                        .map_err(EngineError::from)
                        .map(|(range, ticket)| Executed {
                            events: published[range].to_vec(),
                            ticket: ticket.and_then(|id| self.hall.ticket(id).cloned()),
                            position: ticket.and_then(|id| self.hall.position(id, now)),
                            at: now,
                        });
                    let _ = item.reply.send(answer);
                }
                for event in &published {
                    // No subscribers is fine; lagging subscribers are their own problem.
                    let _ = self.events.send(event.clone());
                }
                self.record(command_count, published.len(), commit_seconds, None);
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, commands = command_count, "commit failed; reloading state");
                for item in pending {
                    let _ = item.reply.send(Err(EngineError::Storage(error.clone())));
                }
                self.needs_reload = true;
                // Reload at once so that reads do not see what was never written.
                if let Err(reload_error) = self.reload() {
                    tracing::error!(%reload_error, "reload after failed commit failed");
                }
                self.record(command_count, 0, commit_seconds, Some(error.to_string()));
                Err(error)
            }
        }
    }

    fn commit(&mut self, events: &[Event]) -> Result<(), StoreError> {
        let ticket_ids: BTreeSet<TicketId> = events.iter().filter_map(Event::ticket).collect();
        let window_ids: BTreeSet<&WindowId> = events
            .iter()
            .filter(|e| matches!(e, Event::WindowPaused { .. } | Event::WindowResumed { .. }))
            .filter_map(Event::window)
            .collect();
        let day = events.iter().rev().find_map(|event| match event {
            Event::ServiceDayStarted { day, .. } => Some(*day),
            _ => None,
        });
        let batch = Batch {
            events: events
                .iter()
                .enumerate()
                .map(|(offset, event)| (self.last_seq + 1 + offset as u64, event))
                .collect(),
            tickets: ticket_ids
                .iter()
                .filter_map(|id| self.hall.ticket(*id))
                .collect(),
            // Tickets of an earlier day leave the live state in the batch that expires them,
            // so their rows are updated from the events.
            expired: events
                .iter()
                .filter_map(|event| match event {
                    Event::TicketExpired { ticket, at, .. } => Some((*ticket, *at)),
                    _ => None,
                })
                .collect(),
            appointments: events
                .iter()
                .filter_map(Event::appointment)
                .collect::<BTreeSet<&str>>()
                .into_iter()
                .filter_map(|code| self.hall.appointment(code))
                .collect(),
            appointment_no_shows: events
                .iter()
                .filter_map(|event| match event {
                    Event::AppointmentNoShow { code, .. } => Some(code.as_str()),
                    _ => None,
                })
                .collect(),
            windows: window_ids
                .into_iter()
                .filter_map(|id| self.hall.window(id).map(|w| (&w.id, w.status)))
                .collect(),
            day,
        };
        self.store.commit(&batch)
    }

    fn record(&self, commands: usize, events: usize, seconds: f64, error: Option<String>) {
        if let Ok(mut stats) = self.stats.lock() {
            stats.batches += 1;
            stats.commands += commands as u64;
            stats.events += events as u64;
            stats.commit_seconds_total += seconds;
            stats.last_seq = self.last_seq;
            if commands > 0 {
                let bucket = BATCH_SIZE_BOUNDS
                    .iter()
                    .position(|&bound| commands <= bound)
                    .unwrap_or(BATCH_SIZE_BOUNDS.len() - 1);
                stats.batch_size_buckets[bucket] += 1;
            }
            if error.is_some() {
                stats.commit_failures += 1;
            }
            if error.is_some() || events > 0 {
                stats.last_error = error;
            }
        }
    }
}

fn fail(request: Request, error: &StoreError) {
    match request {
        Request::Execute { reply, .. } => {
            let _ = reply.send(Err(EngineError::Storage(error.clone())));
        }
        Request::CheckWritable(reply) => {
            let _ = reply.send(Err(error.clone()));
        }
        Request::Read(_) | Request::Tick => {}
    }
}

impl EngineError {
    /// Whether the failure is the storage's (the caller should retry later) rather than a rule.
    pub fn is_storage(&self) -> bool {
        matches!(self, EngineError::Storage(_) | EngineError::Stopped)
    }

    pub fn storage_kind(&self) -> Option<StoreErrorKind> {
        match self {
            EngineError::Storage(error) => Some(error.kind),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
