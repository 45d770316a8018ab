//! The engine: one thread that owns the hall's state and the SQLite write connection.
//!
//! Requests arrive on a bounded channel. The engine takes every request waiting (up to
//! `batch_max`), applies the commands in arrival order, writes all their events and changed
//! rows in **one** transaction, and only after that transaction is on disk folds the events
//! into the *read model*, answers the callers and publishes the events on a bounded broadcast
//! channel. One fsync is shared by the whole group: that is where the throughput comes from.
//!
//! Reads never run on the writer thread. The read model is a second `Hall` that holds exactly
//! the committed state (the writer's own state runs ahead of the disk while a batch is being
//! decided); readers take it with [`EngineHandle::view`] on their own threads, under a read lock
//! held only as long as their closure runs. Because the writer folds a batch into the read
//! model before it answers, a caller who was told "issued" finds the ticket in the next view.
//!
//! If a commit fails (disk full, read-only file system), every caller in the group gets the
//! storage error and the engine reloads its state from the database, so memory never holds
//! anything the disk does not; the read model never saw the failed batch at all.
//!
//! Not here: HTTP, JSON, devices. Callers hold an [`EngineHandle`].

mod clock;
mod worker;

pub use clock::{Clock, ManualClock, SystemClock};

use hallq_core::jiff::tz::TimeZone;
use hallq_core::jiff::Timestamp;
use hallq_core::{Command, DomainError, Event, Hall, HallSpec, Ticket};
use hallq_store::{Store, StoreError, StoreErrorKind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot};
use worker::{Request, Worker};

/// Limits of the engine. Every queue is bounded, every wait has a deadline.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Requests that may wait for the engine before senders are held back.
    pub request_capacity: usize,
    /// The most requests applied and committed together.
    pub batch_max: usize,
    /// Events a subscriber may fall behind before it is told it lagged.
    pub event_capacity: usize,
    /// How often the engine wakes without requests (day rollover at midnight, liveness).
    pub tick_interval: Duration,
    /// How long `execute` waits for its answer (queueing included) before giving up with
    /// `EngineError::Timeout`: a stuck disk must not hang every request.
    pub execute_deadline: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            request_capacity: 4096,
            batch_max: 512,
            event_capacity: 8192,
            tick_interval: Duration::from_secs(5),
            execute_deadline: Duration::from_secs(5),
        }
    }
}

/// Who asked for a command, for the audit log (staff and managers; devices' work is in the
/// event log already).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    pub role: String,
    pub address: Option<String>,
}

pub use hallq_store::AuditEntry;

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
    /// The newest sequence number in the log once this command's batch was committed.
    pub log_seq: u64,
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("storage failed: {0}")]
    Storage(StoreError),
    #[error("the engine has stopped")]
    Stopped,
    /// The engine did not answer within the deadline: the command may still be applied.
    #[error("the engine did not answer within {0:?}")]
    Timeout(Duration),
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
    /// Queries answered on the writer thread (`read_on_writer`): the daemon serves none.
    pub writer_reads: u64,
    pub timeouts: u64,
}

/// How often the write-ahead log is copied into the database.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

pub const BATCH_SIZE_BOUNDS: [usize; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/// The committed state, for readers: a `Hall` the writer folds every committed event into.
pub(crate) struct ReadModel {
    hall: RwLock<Hall>,
    /// The sequence number of the last event folded in.
    seq: AtomicU64,
}

/// Whether the engine thread is alive and turning.
#[derive(Clone, Copy, Debug)]
pub struct Liveness {
    /// False once the engine thread has ended (stopped, or panicked).
    pub running: bool,
    /// Time since the engine last finished a loop (a batch or a tick).
    pub since_last_turn: Duration,
}

pub(crate) struct Heart {
    alive: AtomicBool,
    started: Instant,
    /// Milliseconds since `started` at the last turn of the loop.
    last_turn_ms: AtomicU64,
}

impl Heart {
    pub(crate) fn beat(&self) {
        self.last_turn_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

/// Marks the engine dead when the worker thread ends, however it ends (a panic included).
pub(crate) struct DeathNotice(pub(crate) Arc<Heart>);

impl Drop for DeathNotice {
    fn drop(&mut self) {
        self.0.alive.store(false, Ordering::SeqCst);
    }
}

/// The cheap, cloneable way to talk to the engine.
#[derive(Clone)]
pub struct EngineHandle {
    requests: mpsc::Sender<Request>,
    events: broadcast::Sender<Arc<Published>>,
    stats: Arc<Mutex<EngineStats>>,
    read_model: Arc<ReadModel>,
    heart: Arc<Heart>,
    deadline: Duration,
}

impl EngineHandle {
    /// Applies a command; returns after its events are durable, or `Timeout` after the
    /// configured deadline (the command may then still be applied later).
    pub async fn execute(&self, command: Command) -> Result<Executed, EngineError> {
        self.execute_as(command, None).await
    }

    /// Applies a command on behalf of `actor`: what was asked and how it went is written to the
    /// audit log in the same transaction as the command's events (a refusal too).
    pub async fn execute_as(
        &self,
        command: Command,
        actor: Option<Actor>,
    ) -> Result<Executed, EngineError> {
        let (reply, answer) = oneshot::channel();
        let exchange = async {
            self.requests
                .send(Request::Execute {
                    command,
                    actor,
                    reply,
                })
                .await
                .map_err(|_| EngineError::Stopped)?;
            answer.await.map_err(|_| EngineError::Stopped)?
        };
        match tokio::time::timeout(self.deadline, exchange).await {
            Ok(result) => result,
            Err(_) => {
                if let Ok(mut stats) = self.stats.lock() {
                    stats.timeouts += 1;
                }
                Err(EngineError::Timeout(self.deadline))
            }
        }
    }

    /// Runs `query` against the committed state, on the caller's thread, under a read lock:
    /// keep it short (O(log n) or O(services)), the writer waits for it to fold a batch in.
    pub fn view<R>(&self, query: impl FnOnce(&Hall) -> R) -> R {
        let hall = self
            .read_model
            .hall
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        query(&hall)
    }

    /// The sequence number of the newest event in the read model (and the log).
    pub fn committed_seq(&self) -> u64 {
        self.read_model.seq.load(Ordering::Acquire)
    }

    /// Runs `query` on the writer thread, between batches. Only for tools and tests that must
    /// see the writer's own state; counted in `EngineStats::writer_reads`.
    pub async fn read_on_writer<R, F>(&self, query: F) -> Result<R, EngineError>
    where
        R: Send + 'static,
        F: FnOnce(&Hall, Timestamp) -> R + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: worker::ReadJob = Box::new(move |hall, now| {
            let _ = reply.send(query(hall, now));
        });
        self.requests
            .send(Request::Read(job))
            .await
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// Writes an audit entry that no command carries (a sign-in, a lockout), with the next
    /// group commit.
    pub async fn audit(&self, entry: AuditEntry) -> Result<(), EngineError> {
        let (reply, answer) = oneshot::channel();
        let exchange = async {
            self.requests
                .send(Request::Audit(entry, reply))
                .await
                .map_err(|_| EngineError::Stopped)?;
            answer
                .await
                .map_err(|_| EngineError::Stopped)?
                .map_err(EngineError::Storage)
        };
        tokio::time::timeout(self.deadline, exchange)
            .await
            .unwrap_or(Err(EngineError::Timeout(self.deadline)))
    }

    /// Removes personal data older than `before` from the store (see
    /// `Store::purge_personal`); the live state holds only today's and open tickets.
    pub async fn purge_personal(&self, before: Timestamp) -> Result<usize, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Purge(before, reply))
            .await
            .map_err(|_| EngineError::Stopped)?;
        answer
            .await
            .map_err(|_| EngineError::Stopped)?
            .map_err(EngineError::Storage)
    }

    /// Adds a year of the holiday calendar (fetched from the city's hub) to the running hall:
    /// slots, opening hours and the calendar alert follow at once. The inner error says which
    /// entry of the year is wrong.
    /// Replaces the hall's configuration (a reload); refused when services or windows changed.
    pub async fn replace_spec(&self, spec: HallSpec) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::ReplaceSpec(Box::new(spec), reply))
            .await
            .map_err(|_| "the engine has stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the engine has stopped".to_owned())?
    }

    pub async fn add_calendar_year(
        &self,
        year: i16,
        entries: Vec<hallq_core::CalendarEntry>,
    ) -> Result<Result<(), String>, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::AddCalendarYear(year, entries, reply))
            .await
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// Proves the database takes writes (for readiness probes): costs an fsync'd transaction
    /// on the writer, so callers should not run it per request.
    pub async fn check_writable(&self) -> Result<(), EngineError> {
        let (reply, answer) = oneshot::channel();
        let exchange = async {
            self.requests
                .send(Request::CheckWritable(reply))
                .await
                .map_err(|_| EngineError::Stopped)?;
            answer
                .await
                .map_err(|_| EngineError::Stopped)?
                .map_err(EngineError::Storage)
        };
        tokio::time::timeout(self.deadline, exchange)
            .await
            .unwrap_or(Err(EngineError::Timeout(self.deadline)))
    }

    /// Events published from now on. A subscriber that falls `event_capacity` behind gets
    /// `Lagged` and must catch up from the store: the engine never waits for it.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.events.subscribe()
    }

    pub fn stats(&self) -> EngineStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn liveness(&self) -> Liveness {
        let now_ms = self.heart.started.elapsed().as_millis() as u64;
        let last = self.heart.last_turn_ms.load(Ordering::Relaxed);
        Liveness {
            running: self.heart.alive.load(Ordering::SeqCst) && !self.requests.is_closed(),
            since_last_turn: Duration::from_millis(now_ms.saturating_sub(last)),
        }
    }

    /// Requests waiting for the engine now.
    pub fn queued(&self) -> usize {
        self.requests.max_capacity() - self.requests.capacity()
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
        let store_path = store.path().to_owned();
        let hall = Hall::restore(spec, time_zone, loaded.state);
        let read_model = Arc::new(ReadModel {
            hall: RwLock::new(hall.clone()),
            seq: AtomicU64::new(loaded.last_seq),
        });
        let (requests, receiver) = mpsc::channel(config.request_capacity.max(1));
        let (events, _) = broadcast::channel(config.event_capacity.max(1));
        let stats = Arc::new(Mutex::new(EngineStats {
            last_seq: loaded.last_seq,
            ..EngineStats::default()
        }));
        let heart = Arc::new(Heart {
            alive: AtomicBool::new(true),
            started: Instant::now(),
            last_turn_ms: AtomicU64::new(0),
        });
        let mut worker = Worker {
            hall,
            store,
            clock,
            last_seq: loaded.last_seq,
            events: events.clone(),
            stats: stats.clone(),
            read_model: read_model.clone(),
            heart: heart.clone(),
            batch_max: config.batch_max.max(1),
            needs_reload: false,
        };
        // Start the day before serving anyone: yesterday's leftovers expire now. A full or
        // read-only disk must not keep the hall from starting (reads still work): the day
        // start is then retried with the next request.
        if let Err(error) = worker.process(Vec::new()) {
            tracing::error!(%error, "cannot record the start of the service day; will retry");
        }
        let notice = DeathNotice(heart.clone());
        let thread = std::thread::Builder::new()
            .name("hallq-engine".into())
            .spawn(move || {
                let _notice = notice;
                worker.run(receiver)
            })
            .map_err(|e| StoreError::other(format!("cannot start the engine thread: {e}")))?;
        // The log's pages are copied into the database beside the writer, never inside its
        // commits. The thread ends with the engine.
        let checkpointer = hallq_store::Store::open_checkpointer(store_path.as_path())?;
        let still_running = heart.clone();
        std::thread::Builder::new()
            .name("hallq-checkpoint".into())
            .spawn(move || {
                while still_running.alive.load(Ordering::SeqCst) {
                    std::thread::sleep(CHECKPOINT_INTERVAL);
                    if let Err(error) = checkpointer.checkpoint() {
                        tracing::warn!(%error, "checkpointing the write-ahead log failed; will retry");
                    }
                }
            })
            .map_err(|e| StoreError::other(format!("cannot start the checkpoint thread: {e}")))?;
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
                read_model,
                heart,
                deadline: config.execute_deadline,
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

impl EngineError {
    /// Whether the failure is the storage's (the caller should retry later) rather than a rule.
    pub fn is_storage(&self) -> bool {
        matches!(
            self,
            EngineError::Storage(_) | EngineError::Stopped | EngineError::Timeout(_)
        )
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
