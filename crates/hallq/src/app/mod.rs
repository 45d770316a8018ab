//! Builds the daemon from its settings: opens the data directory, starts the engine and the
//! log's followers, binds the listener (port 0 in tests; the real port is read back) and wires
//! the routes.

mod middleware;
pub mod reload;
mod routes;
pub mod state;

use crate::auth::Authenticator;
use crate::config::HallConfig;
use crate::followers::calling::Displays;
use crate::followers::device_reports::DeviceReports;
use crate::followers::printing::Printing;
use crate::followers::projection::Projection;
use crate::followers::{calling, device_reports, printing, projection, sms, upstream};
use crate::metrics::RequestMetrics;
use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use hallq_engine::{Clock, Engine, EngineConfig, SystemClock};
use hallq_store::Store;
use state::{AppState, ReaderPool};
use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub use routes::BODY_LIMIT_BYTES;

pub struct Settings {
    pub config: HallConfig,
    pub data_dir: PathBuf,
    pub listen: String,
    pub workers: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("another hallq is already running with the data directory {0}: stop it first, or give this one its own --data")]
    Locked(String),
    #[error("cannot open the database: {0}")]
    Store(#[from] hallq_store::StoreError),
    #[error("cannot read or make the hall's key: {0}")]
    Key(std::io::Error),
    #[error("cannot listen on {0}: {1} (is another program using the port? set --listen)")]
    Listen(String, std::io::Error),
}

pub struct Application {
    port: u16,
    server: Server,
    engine: Engine,
    shutdown: watch::Sender<bool>,
    _lock: File,
}

impl Application {
    pub fn build(settings: Settings) -> Result<Self, StartError> {
        Self::build_with_clock(settings, Arc::new(SystemClock))
    }

    pub fn build_with_clock(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let data_dir = settings.data_dir;
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| StartError::DataDir(data_dir.display().to_string(), e))?;
        // One daemon per data directory: two engines would both believe they own the numbering.
        let lock = File::create(data_dir.join("hallq.lock"))
            .map_err(|e| StartError::DataDir(data_dir.display().to_string(), e))?;
        if lock.try_lock().is_err() {
            return Err(StartError::Locked(data_dir.display().to_string()));
        }
        // `hallq reload` finds the daemon by this file.
        let _ = std::fs::write(data_dir.join(PID_FILE), std::process::id().to_string());
        let database = data_dir.join("hallq.db");
        let privacy =
            Arc::new(crate::privacy::Privacy::load_or_create(&data_dir).map_err(StartError::Key)?);
        let mut config = settings.config;
        add_fetched_calendar_years(&mut config, &data_dir);
        let config = Arc::new(config);
        let store = Store::open(&database, &config.storage)?;
        let (engine, handle) = Engine::start(
            store,
            config.spec.clone(),
            config.time_zone.clone(),
            clock.clone(),
            EngineConfig::default(),
        )?;
        let auth = Authenticator::new(
            config.devices.clone(),
            config.staff.clone(),
            config.spec.windows.iter().map(|w| w.id.clone()).collect(),
            config.security.sign_in_failures_before_lockout,
        );
        if !config.demo {
            let exposed = auth.demo_credentials_in_use();
            if !exposed.is_empty() {
                for _ in 0..3 {
                    tracing::warn!(
                        entries = %exposed.join(", "),
                        "THIS HALL USES THE PUBLIC DEMO CREDENTIALS: anyone can issue and call \
                         tickets. Give these devices and staff their own secrets \
                         (hallq hash-secret) and restart."
                    );
                }
            }
        }
        // The log's followers; each stops with the daemon, so that the engine can finish.
        let (shutdown, shutdown_signal) = watch::channel(false);
        let readers = ReaderPool::new(database);
        let reports = Arc::new(DeviceReports::default());
        let printing = Arc::new(Printing::start(config.clone(), &data_dir, reports.clone()));
        let displays = Arc::new(Displays::start(config.clone(), &data_dir, reports.clone()));
        let id_cards = crate::followers::id_readers::IdCards::start(
            config.clone(),
            handle.clone(),
            clock.clone(),
            privacy.clone(),
        );
        let services: Vec<hallq_core::ServiceId> =
            config.spec.services.iter().map(|s| s.id.clone()).collect();
        let projection = Arc::new(Projection::new(handle.committed_seq(), &services));
        actix_web::rt::spawn(device_reports::run(
            handle.clone(),
            reports,
            shutdown_signal.clone(),
        ));
        actix_web::rt::spawn(projection::run(
            handle.clone(),
            readers.clone(),
            config.clone(),
            projection.clone(),
            shutdown_signal.clone(),
        ));
        actix_web::rt::spawn(printing::run(
            handle.clone(),
            readers.clone(),
            printing.clone(),
            clock.clone(),
            shutdown_signal.clone(),
        ));
        actix_web::rt::spawn(calling::run(
            handle.clone(),
            readers.clone(),
            displays.clone(),
            shutdown_signal.clone(),
        ));
        let gateway = match config.sms.clone().map(sms::Gateway::start).transpose() {
            Ok(gateway) => gateway.map(|(gateway, delivered)| (Arc::new(gateway), delivered)),
            Err(error) => {
                tracing::error!(%error, "cannot start the SMS gateway thread: no SMS will be sent");
                None
            }
        };
        let sms_gateway = gateway.as_ref().map(|(gateway, _)| gateway.clone());
        actix_web::rt::spawn(sms::run(
            handle.clone(),
            readers.clone(),
            config.clone(),
            privacy.clone(),
            gateway,
            clock.clone(),
            shutdown_signal.clone(),
        ));
        actix_web::rt::spawn(purge_personal_data(
            handle.clone(),
            config.clone(),
            clock.clone(),
            shutdown_signal.clone(),
        ));
        let backups = Arc::new(std::sync::Mutex::new(
            crate::ops::backup::NightlyStatus::default(),
        ));
        if let Some(nightly) = config.backup.clone() {
            actix_web::rt::spawn(nightly_backups(
                nightly,
                data_dir.clone(),
                config.time_zone.clone(),
                clock.clone(),
                backups.clone(),
                shutdown_signal.clone(),
            ));
        }
        if let Some(interval) = crate::ops::systemd::watchdog_interval() {
            actix_web::rt::spawn(feed_watchdog(
                handle.clone(),
                interval,
                shutdown_signal.clone(),
            ));
        }
        let sync = Arc::new(upstream::SyncStatus::default());
        if let Some(settings) = config.upstream.clone() {
            sync.start_from(upstream::kept_cursor(&data_dir));
            actix_web::rt::spawn(upstream::run(
                upstream::Upstream {
                    settings,
                    config: config.clone(),
                    engine: handle.clone(),
                    readers: readers.clone(),
                    privacy: privacy.clone(),
                    printing: printing.clone(),
                    displays: displays.clone(),
                    clock: clock.clone(),
                    data_dir: data_dir.clone(),
                    status: sync.clone(),
                },
                shutdown_signal.clone(),
            ));
        }
        let state = web::Data::new(AppState {
            sync,
            printing,
            displays,
            id_cards,
            projection,
            engine: handle,
            auth,
            config_live: std::sync::RwLock::new(config.clone()),
            readers,
            clock,
            metrics: RequestMetrics::default(),
            shutdown: shutdown_signal,
            sse_clients: AtomicUsize::new(0),
            readiness: Default::default(),
            sign_in_slots: Arc::new(tokio::sync::Semaphore::new(state::SIGN_IN_SLOTS)),
            privacy,
            sms_gateway,
            phone_checks: crate::phone_checks::PhoneChecks::default(),
            issue_limit: crate::limits::RateLimit::per_minute(
                config.security.tickets_per_kiosk_per_minute,
            ),
            check_in_limit: crate::limits::RateLimit::per_minute(
                config.security.check_ins_per_kiosk_per_minute,
            ),
            streams_per_address: crate::limits::OpenCounts::new(
                config.security.streams_per_address,
            ),
            board_cache: Default::default(),
            forecasts: Default::default(),
            backups,
        });
        actix_web::rt::spawn(reload::on_hangup(state.clone()));
        let listener =
            listen(&settings.listen).map_err(|e| StartError::Listen(settings.listen.clone(), e))?;
        let port = listener
            .local_addr()
            .map_err(|e| StartError::Listen(settings.listen.clone(), e))?
            .port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .configure(routes::extractor_errors)
                .wrap(middleware::json_errors())
                .wrap_fn(middleware::head_as_get)
                .wrap(middleware::security_headers())
                .wrap_fn(middleware::observe)
                .configure(routes::routes)
                .default_service(web::to(routes::not_found))
        })
        .workers(settings.workers.max(1))
        // We handle SIGTERM ourselves: event streams must close before the server can stop.
        .disable_signals()
        .shutdown_timeout(3)
        .listen(listener)
        .map_err(|e| StartError::Listen(settings.listen.clone(), e))?
        .run();
        Ok(Self {
            port,
            server,
            engine,
            shutdown,
            _lock: lock,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, closes event streams, lets
    /// requests in flight finish (their commits included) and stops the engine.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let shutdown = self.shutdown;
        crate::ops::systemd::notify("READY=1");
        actix_web::rt::spawn(async move {
            wait_for_signal().await;
            crate::ops::systemd::notify("STOPPING=1");
            tracing::info!("shutting down: closing event streams and finishing requests");
            let _ = shutdown.send(true);
            handle.stop(true).await;
        });
        let served = self.server.await;
        // Every handle lives in the stopped workers and followers; the engine ends once they
        // are gone.
        let engine = self.engine;
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            engine.join();
            let _ = done.send(());
        });
        if finished.recv_timeout(Duration::from_secs(1)).is_err() {
            tracing::warn!(
                "engine still busy at exit; every answered request was already committed"
            );
        }
        tracing::info!("stopped");
        served
    }
}

/// The nightly backup, at the configured hall time, with retention; its outcome is in
/// `/metrics` and, when it failed, on the dashboard's alerts.
async fn nightly_backups(
    settings: crate::ops::backup::NightlySettings,
    data_dir: std::path::PathBuf,
    zone: hallq_core::jiff::tz::TimeZone,
    clock: Arc<dyn Clock>,
    status: Arc<std::sync::Mutex<crate::ops::backup::NightlyStatus>>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let now = clock.now();
        let next = crate::ops::backup::next_run(now, settings.at, &zone);
        let wait =
            Duration::from_millis(u64::try_from((next - now).get_milliseconds()).unwrap_or(0));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        let (settings_now, data, zone_now) = (settings.clone(), data_dir.clone(), zone.clone());
        let at = clock.now();
        let taken = tokio::task::spawn_blocking(move || {
            crate::ops::backup::nightly_once(&data, &settings_now, at, &zone_now)
        })
        .await
        .unwrap_or_else(|e| Err(format!("the backup task failed: {e}")));
        let mut status = status.lock().unwrap_or_else(|p| p.into_inner());
        match taken {
            Ok(path) => {
                tracing::info!(backup = %path.display(), "nightly backup taken");
                status.last_success = Some(at);
                status.last_error = None;
                status.taken += 1;
            }
            Err(error) => {
                tracing::error!(%error, "the nightly backup failed");
                status.last_error = Some(error);
            }
        }
    }
}

/// Pings systemd's watchdog while the engine turns; a stuck or dead engine stops the pings and
/// systemd restarts the service (`WatchdogSec=` in the unit).
async fn feed_watchdog(
    engine: hallq_engine::EngineHandle,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let liveness = engine.liveness();
        if liveness.running && liveness.since_last_turn < Duration::from_secs(30) {
            crate::ops::systemd::notify("WATCHDOG=1");
        } else {
            tracing::error!("the engine is not turning: systemd's watchdog is no longer fed");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval / 2) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Removes personal data older than the configured days, at start and then every few hours.
async fn purge_personal_data(
    engine: hallq_engine::EngineHandle,
    config: Arc<HallConfig>,
    clock: Arc<dyn Clock>,
    mut shutdown: watch::Receiver<bool>,
) {
    let keep = hallq_core::jiff::SignedDuration::from_hours(
        24 * i64::from(config.security.keep_personal_days),
    );
    loop {
        let before = clock.now() - keep;
        match engine.purge_personal(before).await {
            Ok(0) => {}
            Ok(rows) => {
                tracing::info!(rows, %before, "personal data past its keeping time removed")
            }
            Err(error) => tracing::warn!(%error, "removing old personal data failed; will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(6 * 3600)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The daemon's process id, in its data directory.
pub const PID_FILE: &str = "hallq.pid";

/// Connections the kernel queues before the daemon accepts them: a hall's screens all
/// reconnect at once after a restart (std's default of 128 would reset most of them).
const LISTEN_BACKLOG: i32 = 2048;

fn listen(address: &str) -> std::io::Result<TcpListener> {
    use std::net::ToSocketAddrs;
    let address = address.to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to listen on")
    })?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(address),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut terminate), Ok(mut interrupt)) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
        _ => {
            tracing::error!("cannot listen for SIGTERM; stop hallq with SIGKILL");
            std::future::pending::<()>().await;
        }
    }
}

/// Calendar years fetched from the city's hub (kept in the data directory) that the hall's own
/// folder lacks: the hall starts with them even while the hub cannot be reached.
fn add_fetched_calendar_years(config: &mut HallConfig, data_dir: &std::path::Path) {
    let folder = data_dir.join(upstream::calendar::FETCHED_CALENDAR_DIR);
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|entry| entry.path()) {
        if path.extension().is_none_or(|extension| extension != "json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        match hallq_protocol::parse_calendar_file(&text) {
            Ok((year, entries)) if !config.spec.calendar.has_year(year) => {
                if config.spec.calendar.add_year(year, &entries).is_ok() {
                    tracing::info!(
                        year,
                        "calendar year from the hub (kept in the data directory)"
                    );
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(
                file = %path.display(),
                problem = %error.message,
                "a kept calendar file does not parse; ignored"
            ),
        }
    }
}
