//! Builds the hub: connects to PostgreSQL (waiting for it at start, as a service started beside
//! the database must), runs the migrations, loads the calendar and serves.

use crate::db;
use crate::state::{HubState, Metrics};
use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub struct HubSettings {
    pub listen: String,
    pub database_url: String,
    /// Holds `secret.key`, the hub's key for citizens' numbers.
    pub data_dir: PathBuf,
    pub workers: usize,
    pub pool_size: usize,
    /// The SMS gateway's URL and token, for phone codes, confirmations and replies.
    pub sms_gateway: Option<(String, Option<String>)>,
    /// The token the gateway presents when it posts citizens' messages.
    pub sms_inbound_token: Option<String>,
    /// Bookings, cancellations and phone codes one address may ask for a minute.
    pub citizen_requests_per_minute: u32,
    /// The city's time zone (reports' days).
    pub time_zone: String,
}

#[derive(Debug, thiserror::Error)]
pub enum HubStartError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("cannot read or make the hub's key in {0}: {1}")]
    Key(String, std::io::Error),
    #[error("cannot listen on {0}: {1} (is another program using the port? set --listen)")]
    Listen(String, std::io::Error),
    #[error("unknown time zone '{0}': {1} (give one like Asia/Shanghai)")]
    TimeZone(String, String),
    #[error(
        "PostgreSQL did not answer within {0:?}: {1} (is it running? is --database-url right?)"
    )]
    Unreachable(Duration, String),
}

pub struct Hub {
    pub port: u16,
    server: Server,
}

const CALENDAR_REFRESH: Duration = Duration::from_secs(60);

/// How long the hub waits for the database at start before giving up.
const STARTUP_WAIT: Duration = Duration::from_secs(60);

impl Hub {
    pub async fn build(settings: HubSettings) -> Result<Self, HubStartError> {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|e| HubStartError::Key(settings.data_dir.display().to_string(), e))?;
        let privacy = hallq_privacy::Privacy::load_or_create(&settings.data_dir)
            .map_err(|e| HubStartError::Key(settings.data_dir.display().to_string(), e))?;
        let mut client = connect_patiently(&settings.database_url).await?;
        db::migrate(&mut client).await?;
        drop(client);
        let pool = db::pool(&settings.database_url, settings.pool_size)?;
        let state = HubState {
            pool,
            privacy,
            calendar: RwLock::new(hallq_core::Calendar::default()),
            hall_tokens: RwLock::new(Default::default()),
            metrics: Metrics::default(),
            sms: settings
                .sms_gateway
                .clone()
                .map(|(url, token)| crate::sms::Gateway::new(url, token)),
            sms_inbound_token: settings.sms_inbound_token.clone(),
            citizen_limit: hallq_privacy::limits::RateLimit::per_minute(
                settings.citizen_requests_per_minute,
            ),
            city_updates: tokio::sync::broadcast::channel(1024).0,
            time_zone: hallq_core::jiff::tz::TimeZone::get(&settings.time_zone)
                .map_err(|e| HubStartError::TimeZone(settings.time_zone.clone(), e.to_string()))?,
            time_zone_name: settings.time_zone.clone(),
        };
        let years = state.reload_calendar().await?;
        tracing::info!(?years, "calendar years at the hub");
        let state = web::Data::from(Arc::new(state));
        // Years loaded by `hallq-hub add-calendar` (another process) reach the cache within a
        // minute.
        let refreshing = state.clone();
        actix_web::rt::spawn(async move {
            loop {
                tokio::time::sleep(CALENDAR_REFRESH).await;
                if let Err(error) = refreshing.reload_calendar().await {
                    tracing::warn!(%error, "could not refresh the calendar");
                }
            }
        });
        let listener = TcpListener::bind(&settings.listen)
            .map_err(|e| HubStartError::Listen(settings.listen.clone(), e))?;
        let port = listener
            .local_addr()
            .map_err(|e| HubStartError::Listen(settings.listen.clone(), e))?
            .port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                // What every answer carries; pages set their own content policy.
                .wrap(
                    actix_web::middleware::DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "no-referrer"))
                        .add((
                            "Content-Security-Policy",
                            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
                        )),
                )
                .configure(crate::http::routes)
        })
        .workers(settings.workers.max(1))
        .disable_signals()
        .shutdown_timeout(5)
        .listen(listener)
        .map_err(|e| HubStartError::Listen(settings.listen.clone(), e))?
        .run();
        Ok(Self { port, server })
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        actix_web::rt::spawn(async move {
            wait_for_stop_signal().await;
            tracing::info!("stopping");
            handle.stop(true).await;
        });
        self.server.await
    }
}

async fn wait_for_stop_signal() {
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
        _ => std::future::pending().await,
    }
}

/// A first connection, retried while PostgreSQL is still starting.
pub async fn connect_patiently(url: &str) -> Result<tokio_postgres::Client, HubStartError> {
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        match db::connect(url).await {
            Ok(client) => return Ok(client),
            Err(db::DbError::Url(error)) => return Err(db::DbError::Url(error).into()),
            Err(error) if started.elapsed() >= STARTUP_WAIT => {
                return Err(HubStartError::Unreachable(STARTUP_WAIT, error.to_string()))
            }
            Err(error) => {
                tracing::warn!(%error, "waiting for PostgreSQL");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}
