//! Liveness, readiness and metrics.

use super::error::ApiError;
use crate::app::state::AppState;
use crate::metrics::{escape, family};
use actix_web::{web, HttpResponse};
use hallq_engine::BATCH_SIZE_BOUNDS;
use serde_json::json;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The engine has not turned for this long although it ticks every few seconds: it is stuck
/// (a hung disk) and the process should be restarted.
pub const ENGINE_STUCK_AFTER: Duration = Duration::from_secs(30);

/// The process is up and its engine thread alive and turning.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200), (status = 503, body = super::error::ErrorBody)))]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let liveness = state.engine.liveness();
    if !liveness.running {
        return Err(ApiError::unavailable(
            "the engine thread has stopped: restart hallq (systemctl restart hallq) and send \
             its log to support",
        ));
    }
    if liveness.since_last_turn > ENGINE_STUCK_AFTER {
        return Err(ApiError::unavailable(format!(
            "the engine has not turned for {} s: the disk may be hung; restart hallq",
            liveness.since_last_turn.as_secs()
        )));
    }
    Ok(HttpResponse::Ok().json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})))
}

/// The database takes writes: tickets can be issued. Probed at most once every few seconds,
/// whoever asks.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200), (status = 503, body = super::error::ErrorBody), (status = 507, body = super::error::ErrorBody)))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.readiness.check(&state.engine).await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}

/// Prometheus text: queues, the day's tickets per service, engine batches, requests, devices.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let (stats, windows) = state.engine.view(|hall| {
        let windows: Vec<(String, bool, bool)> = hall
            .windows()
            .iter()
            .map(|w| {
                (
                    w.id.0.clone(),
                    w.status == hallq_core::WindowStatus::Paused,
                    w.current.is_some(),
                )
            })
            .collect();
        (hall.queue_stats(now), windows)
    });
    let mut out = String::with_capacity(16 * 1024);
    let per_service = |value: &dyn Fn(&hallq_core::QueueStats) -> f64| -> Vec<(String, f64)> {
        stats
            .iter()
            .map(|s| {
                (
                    format!("service=\"{}\"", escape(s.service.as_str())),
                    value(s),
                )
            })
            .collect()
    };
    family(
        &mut out,
        "hallq_queue_waiting",
        "gauge",
        "Tickets waiting per service.",
        &per_service(&|s| s.waiting as f64),
    );
    family(
        &mut out,
        "hallq_queue_oldest_wait_seconds",
        "gauge",
        "How long the longest-waiting ticket has waited.",
        &per_service(&|s| s.oldest_wait_s as f64),
    );
    family(
        &mut out,
        "hallq_queue_wait_estimate_seconds",
        "gauge",
        "Estimated wait for a new ticket.",
        &per_service(&|s| s.wait_s_estimate as f64),
    );
    family(
        &mut out,
        "hallq_tickets_issued_today",
        "gauge",
        "Tickets issued today per service.",
        &per_service(&|s| f64::from(s.issued_today)),
    );
    family(
        &mut out,
        "hallq_tickets_called_today",
        "gauge",
        "Tickets called today per service.",
        &per_service(&|s| f64::from(s.called_today)),
    );
    family(
        &mut out,
        "hallq_tickets_completed_today",
        "gauge",
        "Tickets completed today per service.",
        &per_service(&|s| f64::from(s.completed_today)),
    );
    family(
        &mut out,
        "hallq_tickets_no_show_today",
        "gauge",
        "No-shows today per service.",
        &per_service(&|s| f64::from(s.no_show_today)),
    );
    family(
        &mut out,
        "hallq_service_time_average_seconds",
        "gauge",
        "Moving average of service time.",
        &per_service(&|s| s.average_service_s),
    );
    let window_samples = |value: &dyn Fn(&(String, bool, bool)) -> bool| -> Vec<(String, f64)> {
        windows
            .iter()
            .map(|w| {
                (
                    format!("window=\"{}\"", escape(&w.0)),
                    f64::from(u8::from(value(w))),
                )
            })
            .collect()
    };
    family(
        &mut out,
        "hallq_window_paused",
        "gauge",
        "1 while the window is paused.",
        &window_samples(&|w| w.1),
    );
    family(
        &mut out,
        "hallq_window_serving",
        "gauge",
        "1 while the window has a called ticket.",
        &window_samples(&|w| w.2),
    );

    let engine = state.engine.stats();
    family(
        &mut out,
        "hallq_engine_batches_total",
        "counter",
        "Groups of commands committed together.",
        &[(String::new(), engine.batches as f64)],
    );
    family(
        &mut out,
        "hallq_engine_commands_total",
        "counter",
        "Commands applied.",
        &[(String::new(), engine.commands as f64)],
    );
    family(
        &mut out,
        "hallq_engine_events_total",
        "counter",
        "Events committed.",
        &[(String::new(), engine.events as f64)],
    );
    family(
        &mut out,
        "hallq_engine_commit_failures_total",
        "counter",
        "Commits that failed (disk full, read-only).",
        &[(String::new(), engine.commit_failures as f64)],
    );
    family(
        &mut out,
        "hallq_engine_commit_seconds_total",
        "counter",
        "Time spent committing.",
        &[(String::new(), engine.commit_seconds_total)],
    );
    family(
        &mut out,
        "hallq_engine_writer_reads_total",
        "counter",
        "Queries answered on the writer thread (the daemon serves every read from the read model: 0).",
        &[(String::new(), engine.writer_reads as f64)],
    );
    family(
        &mut out,
        "hallq_engine_timeouts_total",
        "counter",
        "Commands whose caller stopped waiting for the engine (deadline passed).",
        &[(String::new(), engine.timeouts as f64)],
    );
    family(
        &mut out,
        "hallq_engine_queued_requests",
        "gauge",
        "Requests waiting for the engine now.",
        &[(String::new(), state.engine.queued() as f64)],
    );
    family(
        &mut out,
        "hallq_projection_head_seq",
        "gauge",
        "Sequence number of the newest event sent to the streams.",
        &[(String::new(), state.projection.head() as f64)],
    );
    family(
        &mut out,
        "hallq_event_log_last_seq",
        "gauge",
        "Sequence number of the newest event.",
        &[(String::new(), state.engine.committed_seq() as f64)],
    );
    let _ = writeln!(
        out,
        "# HELP hallq_engine_batch_size Commands per committed group."
    );
    let _ = writeln!(out, "# TYPE hallq_engine_batch_size histogram");
    let mut cumulative = 0;
    for (bound, count) in BATCH_SIZE_BOUNDS.iter().zip(engine.batch_size_buckets) {
        cumulative += count;
        let _ = writeln!(
            out,
            "hallq_engine_batch_size_bucket{{le=\"{bound}\"}} {cumulative}"
        );
    }
    let _ = writeln!(
        out,
        "hallq_engine_batch_size_bucket{{le=\"+Inf\"}} {cumulative}"
    );
    let _ = writeln!(out, "hallq_engine_batch_size_count {cumulative}");
    let _ = writeln!(out, "hallq_engine_batch_size_sum {}", engine.commands);

    let devices: Vec<(String, f64)> = state
        .auth
        .device_health()
        .into_iter()
        .map(|(id, kind, seen)| {
            let age = seen
                .map(|t| (now.as_second() - t.as_second()).max(0) as f64)
                .unwrap_or(-1.0);
            (
                format!(
                    "device=\"{}\",kind=\"{}\"",
                    escape(&id),
                    if kind == crate::config::DeviceKind::Kiosk {
                        "kiosk"
                    } else {
                        "display"
                    }
                ),
                age,
            )
        })
        .collect();
    family(
        &mut out,
        "hallq_device_last_seen_seconds",
        "gauge",
        "Seconds since the device last called the API (-1: not since start).",
        &devices,
    );
    let printers = state.printing.views();
    const CONDITIONS: [&str; 7] = [
        "ready",
        "paper_near_end",
        "paper_out",
        "cover_open",
        "offline",
        "unreachable",
        "unknown",
    ];
    let mut conditions = Vec::new();
    let mut jobs = Vec::new();
    for printer in &printers {
        let id = escape(&printer.id);
        for condition in CONDITIONS {
            conditions.push((
                format!("printer=\"{id}\",condition=\"{condition}\""),
                f64::from(u8::from(printer.condition == condition)),
            ));
        }
        jobs.push((
            format!("printer=\"{id}\",outcome=\"printed\""),
            printer.printed as f64,
        ));
        jobs.push((
            format!("printer=\"{id}\",outcome=\"failed\""),
            printer.failed as f64,
        ));
    }
    family(
        &mut out,
        "hallq_printer_condition",
        "gauge",
        "1 for the printer's current condition (paper_near_end warns before paper_out).",
        &conditions,
    );
    family(
        &mut out,
        "hallq_printer_jobs_total",
        "counter",
        "Print jobs by outcome since start.",
        &jobs,
    );
    let displays: Vec<(String, f64)> = state
        .displays
        .views()
        .iter()
        .map(|d| {
            (
                format!(
                    "display=\"{}\",window=\"{}\"",
                    escape(&d.id),
                    escape(&d.window)
                ),
                f64::from(u8::from(d.connected)),
            )
        })
        .collect();
    family(
        &mut out,
        "hallq_display_connected",
        "gauge",
        "1 while the display's line is open.",
        &displays,
    );
    let readers = state.id_cards.views();
    let per_reader = |value: fn(&crate::followers::id_readers::IdReaderView) -> f64| {
        readers
            .iter()
            .map(|r| {
                let label = format!(
                    "reader=\"{}\",kiosk=\"{}\"",
                    escape(&r.id),
                    escape(&r.kiosk)
                );
                (label, value(r))
            })
            .collect::<Vec<(String, f64)>>()
    };
    family(
        &mut out,
        "hallq_id_reader_connected",
        "gauge",
        "1 while the kiosk's ID card reader answers.",
        &per_reader(|r| f64::from(u8::from(r.connected))),
    );
    family(
        &mut out,
        "hallq_id_reader_reads_total",
        "counter",
        "ID cards read since start.",
        &per_reader(|r| r.reads as f64),
    );
    family(
        &mut out,
        "hallq_id_reader_errors_total",
        "counter",
        "Reader errors since start (unplugged, no answer, broken frames).",
        &per_reader(|r| r.errors as f64),
    );
    family(
        &mut out,
        "hallq_sse_clients",
        "gauge",
        "Open event streams.",
        &[(
            String::new(),
            state.sse_clients.load(Ordering::SeqCst) as f64,
        )],
    );
    if state.config().backup.is_some() {
        let backups = state.backups.lock().map(|s| s.clone()).unwrap_or_default();
        family(
            &mut out,
            "hallq_backup_last_success_timestamp_seconds",
            "gauge",
            "When the last nightly backup was taken (0: none since start).",
            &[(
                String::new(),
                backups.last_success.map_or(0.0, |t| t.as_second() as f64),
            )],
        );
        family(
            &mut out,
            "hallq_backup_failing",
            "gauge",
            "1 when the last nightly backup failed.",
            &[(
                String::new(),
                f64::from(u8::from(backups.last_error.is_some())),
            )],
        );
    }
    // 好差评: what the hall holds now, and what is late.
    let today = state
        .clock
        .now()
        .to_zoned(state.config().time_zone.clone())
        .date();
    let (rateable, open_cases, overdue_cases) = state.engine.view(|hall| {
        let open: Vec<&hallq_core::Case> = hall.cases().filter(|c| !c.is_closed()).collect();
        (
            hall.visits().filter(|v| v.rating.is_none()).count(),
            open.len(),
            open.iter().filter(|c| c.overdue(today).is_some()).count(),
        )
    });
    for (name, help, value) in [
        (
            "hallq_visits_unrated",
            "Completed visits not yet rated and still within their rating time.",
            rateable,
        ),
        (
            "hallq_cases_open",
            "Bad ratings and complaints not yet closed.",
            open_cases,
        ),
        (
            "hallq_cases_overdue",
            "Open cases past their callback or rectification date.",
            overdue_cases,
        ),
    ] {
        family(
            &mut out,
            name,
            "gauge",
            help,
            &[(String::new(), value as f64)],
        );
    }
    if state.config().upstream.is_some() {
        let sync = super::hall::sync_view(&state);
        let one = |value: f64| [(String::new(), value)];
        family(
            &mut out,
            "hallq_upstream_lag_events",
            "gauge",
            "Events of the log the city's hub does not have yet.",
            &one(sync.lag_events as f64),
        );
        family(
            &mut out,
            "hallq_upstream_lag_seconds",
            "gauge",
            "Age of the oldest event the hub does not have yet.",
            &one(sync.lag_seconds as f64),
        );
        family(
            &mut out,
            "hallq_upstream_up",
            "gauge",
            "1 when the last exchange with the hub succeeded.",
            &one(f64::from(u8::from(
                sync.last_error.is_none() && sync.confirmed,
            ))),
        );
        family(
            &mut out,
            "hallq_upstream_events_pushed_total",
            "counter",
            "Events the hub stored from this hall since start.",
            &one(sync.events_pushed as f64),
        );
        family(
            &mut out,
            "hallq_upstream_failures_total",
            "counter",
            "Failed exchanges with the hub since start.",
            &one(sync.failures as f64),
        );
    }
    state.metrics.render(&mut out);
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out))
}
