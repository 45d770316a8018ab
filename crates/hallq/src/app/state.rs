//! What every request handler and follower shares: the engine, the configuration, readers for
//! history, the devices and the projection.

use crate::auth::Authenticator;
use crate::config::HallConfig;
use crate::followers::calling::Displays;
use crate::followers::printing::Printing;
use crate::followers::projection::Projection;
use crate::http::error::ApiError;
use crate::metrics::RequestMetrics;
use hallq_core::{Ticket, TicketId};
use hallq_engine::{Clock, EngineHandle};
use hallq_store::{Store, StoreError, StoredEvent};
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub struct AppState {
    pub engine: EngineHandle,
    pub auth: Authenticator,
    /// The configuration, swapped whole by a reload (SIGHUP): take it with `config()`.
    pub config_live: std::sync::RwLock<Arc<HallConfig>>,
    pub readers: ReaderPool,
    pub printing: Arc<Printing>,
    pub displays: Arc<Displays>,
    /// The kiosks' ID card readers and the cards read a moment ago.
    pub id_cards: Arc<crate::followers::id_readers::IdCards>,
    pub projection: Arc<Projection>,
    pub clock: Arc<dyn Clock>,
    pub metrics: RequestMetrics,
    /// Flips to true when the daemon is shutting down: event streams end.
    pub shutdown: watch::Receiver<bool>,
    pub sse_clients: AtomicUsize,
    pub readiness: Readiness,
    /// PIN checks (argon2: slow and ~19 MB each on purpose) that may run at once; more are
    /// refused at once with 429, so that a flood of sign-ins can neither exhaust memory nor
    /// hold up a genuine one for long.
    pub sign_in_slots: Arc<tokio::sync::Semaphore>,
    /// Citizens' numbers in and out of their kept form.
    pub privacy: Arc<crate::privacy::Privacy>,
    /// The SMS gateway, when the hall has one.
    pub sms_gateway: Option<Arc<crate::followers::sms::Gateway>>,
    /// Codes sent to phones, to confirm a number before booking with it.
    pub phone_checks: crate::phone_checks::PhoneChecks,
    /// Tickets per kiosk per minute.
    pub issue_limit: crate::limits::RateLimit,
    /// Check-in attempts per kiosk per minute.
    pub check_in_limit: crate::limits::RateLimit,
    /// Event streams open per address.
    pub streams_per_address: crate::limits::OpenCounts,
    /// The link to the city's hub, as the upstream follower last saw it.
    pub sync: Arc<crate::followers::upstream::SyncStatus>,
    /// The board's answer, made once per committed state and configuration (a reload changes
    /// the notice without a commit) however many screens ask.
    pub board_cache: Mutex<Option<BoardCache>>,
    /// Every waiting ticket's forecast from one replay, shared by citizens' pages.
    pub forecasts: ForecastCache,
    /// What the last nightly backup did.
    pub backups: Arc<Mutex<crate::ops::backup::NightlyStatus>>,
}

/// `/readyz` proves the database takes a write at most once per `READINESS_TTL`; every other
/// call in between gets that answer. A monitor polling every second, or a stranger polling a
/// thousand times a second, costs one fsync'd probe per interval, not one per call.
#[derive(Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<(Instant, Result<(), ApiError>)>>,
}

pub const READINESS_TTL: Duration = Duration::from_secs(5);

/// PIN checks running at once.
pub const SIGN_IN_SLOTS: usize = 2;

impl Readiness {
    pub async fn check(&self, engine: &EngineHandle) -> Result<(), ApiError> {
        let mut last = self.last.lock().await;
        if let Some((at, answer)) = last.as_ref() {
            if at.elapsed() < READINESS_TTL {
                return answer.clone();
            }
        }
        let answer = engine.check_writable().await.map_err(ApiError::from);
        *last = Some((Instant::now(), answer.clone()));
        answer
    }
}

/// Read-only SQLite connections for history (old tickets, event replay), used on the blocking
/// thread pool so that SQLite never stalls the request threads.
#[derive(Clone)]
pub struct ReaderPool {
    inner: Arc<ReaderPoolInner>,
}

struct ReaderPoolInner {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
}

/// Connections kept open between requests.
const IDLE_READERS_MAX: usize = 8;

impl ReaderPool {
    pub fn new(path: PathBuf) -> Self {
        Self {
            inner: Arc::new(ReaderPoolInner {
                path,
                idle: Mutex::new(Vec::new()),
            }),
        }
    }

    pub async fn with<R, F>(&self, query: F) -> Result<R, ApiError>
    where
        R: Send + 'static,
        F: FnOnce(&Store) -> Result<R, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        let result = actix_web::web::block(move || {
            let idle = inner.idle.lock().ok().and_then(|mut idle| idle.pop());
            let store = match idle {
                Some(store) => store,
                None => Store::open_reader(&inner.path)?,
            };
            let result = query(&store);
            if let Ok(mut idle) = inner.idle.lock() {
                if idle.len() < IDLE_READERS_MAX {
                    idle.push(store);
                }
            }
            result
        })
        .await
        .map_err(|_| ApiError::unavailable("the history query was interrupted; retry"))?;
        result.map_err(|e| ApiError::unavailable(format!("reading history failed: {e}")))
    }

    pub async fn ticket(&self, id: TicketId) -> Result<Option<Ticket>, ApiError> {
        self.with(move |store| store.ticket(id)).await
    }

    pub async fn events_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, ApiError> {
        self.with(move |store| store.events_after(after, limit))
            .await
    }

    pub async fn last_seq(&self) -> Result<u64, ApiError> {
        self.with(|store| store.last_seq()).await
    }
}

/// The forecasts of every waiting ticket, made by one replay of the windows
/// (`Hall::forecast_all`) and reused until the log moves on or half a minute passes: a call
/// wakes hundreds of citizens' pages, and they should not each replay the hall.
#[derive(Default)]
pub struct ForecastCache {
    cached: Mutex<Option<ForecastSnapshot>>,
}

struct ForecastSnapshot {
    seq: u64,
    at_second: i64,
    forecasts:
        std::sync::Arc<std::collections::HashMap<hallq_core::TicketId, hallq_core::WaitForecast>>,
}

/// How long a snapshot of forecasts serves when nothing happens in the hall.
const FORECAST_TTL_S: i64 = 30;

impl ForecastCache {
    pub fn of(
        &self,
        engine: &EngineHandle,
        ticket: hallq_core::TicketId,
        now: hallq_core::jiff::Timestamp,
    ) -> Option<hallq_core::WaitForecast> {
        let seq = engine.committed_seq();
        if let Ok(cached) = self.cached.lock() {
            if let Some(snapshot) = cached.as_ref() {
                if snapshot.seq == seq && now.as_second() - snapshot.at_second < FORECAST_TTL_S {
                    return snapshot.forecasts.get(&ticket).copied();
                }
            }
        }
        // The hall is read under the engine's lock only long enough to copy what the
        // forecast starts from; the futures are drawn after the lock is let go.
        let plan = engine.view(|hall| hall.forecast_plan(now));
        let forecasts = std::sync::Arc::new(plan.forecast_all());
        let found = forecasts.get(&ticket).copied();
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some(ForecastSnapshot {
                seq,
                at_second: now.as_second(),
                forecasts,
            });
        }
        found
    }
}

/// The forecast of one waiting ticket, drawn outside the engine's read lock (`None` when it
/// is not waiting).
pub fn forecast_of(
    engine: &EngineHandle,
    ticket: hallq_core::TicketId,
    now: hallq_core::jiff::Timestamp,
) -> Option<hallq_core::WaitForecast> {
    engine
        .view(|hall| hall.forecast_plan_for(ticket, now))
        .forecast(ticket)
}

impl AppState {
    /// The configuration as it stands (a reload may replace it at any moment; each request
    /// works with the one it took).
    /// The configuration in force: the one a reload last installed.
    pub fn config(&self) -> Arc<HallConfig> {
        self.config_live
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// The board's answer as made at a log position from a configuration.
pub struct BoardCache {
    pub seq: u64,
    pub config: Arc<HallConfig>,
    pub body: actix_web::web::Bytes,
}
