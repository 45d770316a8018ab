//! Builds the daemon from its settings: opens the data directory, starts the engine, binds the
//! listener (port 0 in tests; the real port is read back) and wires the routes.

use crate::api;
use crate::auth::Authenticator;
use crate::calling::Displays;
use crate::config::HallConfig;
use crate::error::ApiError;
use crate::health;
use crate::metrics::RequestMetrics;
use crate::pages;
use crate::printing::Printers;
use crate::sse;
use crate::state::{AppState, ReaderPool};
use actix_web::dev::{Server, Service};
use actix_web::error::{InternalError, JsonPayloadError};
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpServer, ResponseError};
use hallq_engine::{Clock, Engine, EngineConfig, SystemClock};
use hallq_store::Store;
use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tracing::Instrument;

/// Largest request body accepted: a ticket request is a few hundred bytes.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;

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
        let database = data_dir.join("hallq.db");
        let config = Arc::new(settings.config);
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
        );
        if !config.demo {
            let exposed = auth.demo_credentials_in_use();
            if !exposed.is_empty() {
                for _ in 0..3 {
                    tracing::warn!(
                        entries = %exposed.join(", "),
                        "THIS HALL USES THE PUBLIC DEMO CREDENTIALS: anyone can issue and call                          tickets. Give these devices and staff their own secrets                          (hallq hash-secret) and restart."
                    );
                }
            }
        }
        // Device reports become commands, executed in order by one task; it and the caller
        // stop with the daemon, so that the engine can finish cleanly.
        let (shutdown, shutdown_signal) = watch::channel(false);
        let (reports, mut report_queue) = tokio::sync::mpsc::unbounded_channel();
        let printers = Printers::start(config.clone(), &data_dir, reports.clone());
        let displays = Arc::new(Displays::start(config.clone(), &data_dir, reports));
        actix_web::rt::spawn(crate::calling::run_caller(
            handle.clone(),
            displays.clone(),
            shutdown_signal.clone(),
        ));
        let readers = ReaderPool::new(database);
        actix_web::rt::spawn(crate::sms::run_sms(
            handle.clone(),
            config.clone(),
            readers.clone(),
            shutdown_signal.clone(),
        ));
        let recorder = handle.clone();
        let mut stop_recording = shutdown_signal.clone();
        actix_web::rt::spawn(async move {
            loop {
                let command = tokio::select! {
                    command = report_queue.recv() => command,
                    _ = stop_recording.changed() => None,
                };
                let Some(command) = command else { return };
                if let Err(error) = recorder.execute(command).await {
                    tracing::warn!(%error, "cannot record a device report");
                }
            }
        });
        let state = web::Data::new(AppState {
            printers,
            displays,
            engine: handle,
            auth,
            config: config.clone(),
            readers,
            clock,
            metrics: RequestMetrics::default(),
            shutdown: shutdown_signal,
            sse_clients: AtomicUsize::new(0),
        });
        let listener = TcpListener::bind(&settings.listen)
            .map_err(|e| StartError::Listen(settings.listen.clone(), e))?;
        let port = listener
            .local_addr()
            .map_err(|e| StartError::Listen(settings.listen.clone(), e))?
            .port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(json_config())
                .app_data(web::PathConfig::default().error_handler(|error, _| {
                    InternalError::from_response(
                        error,
                        ApiError::not_found("no such id: ticket ids are numbers, window and service ids are names from GET /api/v1/hall").error_response(),
                    )
                    .into()
                }))
                .app_data(web::QueryConfig::default().error_handler(|error, _| {
                    let message = format!("bad query string: {error}");
                    InternalError::from_response(error, ApiError::bad_request("invalid_query", message).error_response()).into()
                }))
                .wrap_fn(observe)
                .configure(routes)
                .default_service(web::to(not_found))
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
        actix_web::rt::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down: closing event streams and finishing requests");
            let _ = shutdown.send(true);
            handle.stop(true).await;
        });
        let served = self.server.await;
        // Every handle lives in the stopped workers; the engine ends once they are gone.
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

fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT_BYTES)
        .error_handler(|error, _| {
            let api = match &error {
                JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Overflow { .. } => ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("request bodies are at most {BODY_LIMIT_BYTES} bytes"),
                ),
                JsonPayloadError::ContentType => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the body as JSON with Content-Type: application/json",
                ),
                JsonPayloadError::Deserialize(e) => ApiError::bad_request(
                    "invalid_json",
                    format!("the request body is not valid: {e}"),
                ),
                other => ApiError::bad_request(
                    "invalid_json",
                    format!("the request body could not be read: {other}"),
                ),
            };
            InternalError::from_response(error, api.error_response()).into()
        })
}

fn routes(config: &mut web::ServiceConfig) {
    config
        .service(resource("/api/v1/hall").route(web::get().to(api::hall)))
        .service(resource("/api/v1/queues").route(web::get().to(api::queues)))
        .service(resource("/api/v1/stats/today").route(web::get().to(api::stats_today)))
        .service(resource("/api/v1/tickets").route(web::post().to(api::issue_ticket)))
        .service(resource("/api/v1/tickets/{id}").route(web::get().to(api::get_ticket)))
        .service(resource("/api/v1/tickets/{id}/cancel").route(web::post().to(api::cancel_ticket)))
        .service(
            resource("/api/v1/tickets/{id}/reprint").route(web::post().to(api::reprint_ticket)),
        )
        .service(resource("/api/v1/devices").route(web::get().to(api::devices)))
        .service(resource("/api/v1/windows/{id}").route(web::get().to(api::get_window)))
        .service(
            resource("/api/v1/windows/{id}/{action}")
                .app_data(web::PayloadConfig::new(BODY_LIMIT_BYTES))
                .route(web::post().to(api::window_action)),
        )
        .service(resource("/api/v1/sessions").route(web::post().to(api::sign_in)))
        .service(resource("/api/v1/sessions/current").route(web::delete().to(api::sign_out)))
        .service(resource("/api/v1/events").route(web::get().to(sse::events)))
        .service(resource("/api/v1/board").route(web::get().to(crate::public::board)))
        .service(
            resource("/api/v1/calendar/{date}").route(web::get().to(crate::public::calendar_day)),
        )
        .service(resource("/api/v1/alerts").route(web::get().to(crate::public::alerts_view)))
        .service(resource("/api/v1/lists/{kind}").route(web::get().to(crate::public::list)))
        .service(resource("/api/v1/appointments").route(web::post().to(crate::appointments::book)))
        .service(
            resource("/api/v1/appointments/slots").route(web::get().to(crate::appointments::slots)),
        )
        .service(
            resource("/api/v1/appointments/check-in")
                .route(web::post().to(crate::appointments::check_in_by_phone)),
        )
        .service(
            resource("/api/v1/appointments/{code}")
                .route(web::get().to(crate::appointments::get))
                .route(web::delete().to(crate::appointments::cancel)),
        )
        .service(
            resource("/api/v1/appointments/{code}/check-in")
                .route(web::post().to(crate::appointments::check_in_by_code)),
        )
        .service(resource("/api/v1/t/{token}").route(web::get().to(crate::public::ticket_by_token)))
        .service(resource("/board").route(web::get().to(pages::board)))
        .service(resource("/t/{token}").route(web::get().to(pages::citizen)))
        .service(resource("/t/{token}/qr.svg").route(web::get().to(crate::public::ticket_qr)))
        .service(resource("/api/v1/openapi.json").route(web::get().to(api::openapi)))
        .service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(resource("/readyz").route(web::get().to(health::readyz)))
        .service(resource("/metrics").route(web::get().to(health::metrics)))
        .service(resource("/").route(web::get().to(pages::kiosk)))
        .service(resource("/staff").route(web::get().to(pages::staff)))
        .service(resource("/manage").route(web::get().to(pages::manage)))
        .service(resource("/about").route(web::get().to(pages::index)));
}

/// A resource whose wrong methods get a JSON 405 rather than an empty one.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(|request: HttpRequest| async move {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!(
                "{} is not supported on {}",
                request.method(),
                request.path()
            ),
        )
        .error_response()
    }))
}

async fn not_found(request: HttpRequest) -> actix_web::HttpResponse {
    ApiError::not_found(format!(
        "there is nothing at {}; the API is described at /api/v1/openapi.json",
        request.path().chars().take(200).collect::<String>()
    ))
    .error_response()
}

/// A span per request, and the latency histogram by route.
fn observe<S>(
    request: actix_web::dev::ServiceRequest,
    service: &S,
) -> impl std::future::Future<Output = Result<actix_web::dev::ServiceResponse, actix_web::Error>>
where
    S: Service<
        actix_web::dev::ServiceRequest,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    let started = Instant::now();
    let method = request.method().to_string();
    let path: String = request.path().chars().take(200).collect();
    let span = tracing::info_span!("request", %method, %path);
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let response = service.call(request);
    async move {
        let response = response.await?;
        let seconds = started.elapsed().as_secs_f64();
        let status = response.status().as_u16();
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        if let Some(state) = state {
            state.metrics.observe(&route, &method, status, seconds);
        }
        if method == "GET" && status < 400 {
            tracing::debug!(status, elapsed_ms = seconds * 1000.0, "answered");
        } else {
            tracing::info!(status, elapsed_ms = seconds * 1000.0, "answered");
        }
        Ok(response)
    }
    .instrument(span)
}
