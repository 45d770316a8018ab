//! The hall, its queues and the day's figures: read from the engine's read model.

use super::error::{ApiError, ErrorBody};
use super::{authorize, Data, WINDOW_ROLES};
use crate::app::state::AppState;
use crate::csv::CsvWriter;
use crate::views::{self, HallView, QueuesView, StatsView};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The hall: services with their open state and queue, windows with their current ticket.
#[utoipa::path(get, path = "/api/v1/hall", tag = "hall",
    responses((status = 200, body = HallView)))]
pub async fn hall(state: Data) -> Result<web::Json<HallView>, ApiError> {
    let now = state.clock.now();
    let config = state.config();
    let view = state
        .engine
        .view(|hall| views::hall_view(hall, &hall.queue_stats(now), &config, now));
    Ok(web::Json(view))
}

/// Waiting count, oldest wait and estimate per service.
#[utoipa::path(get, path = "/api/v1/queues", tag = "hall",
    responses((status = 200, body = QueuesView)))]
pub async fn queues(state: Data) -> Result<web::Json<QueuesView>, ApiError> {
    let now = state.clock.now();
    let view = state.engine.view(|hall| QueuesView {
        services: hall
            .queue_stats(now)
            .iter()
            .map(|stats| views::queue_view(hall.spec(), stats))
            .collect(),
    });
    Ok(web::Json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    format: Option<String>,
}

/// Today's figures per service, per window and per hour (staff, managers); `?format=csv` for
/// the day's report.
#[utoipa::path(get, path = "/api/v1/stats/today", tag = "hall",
    security(("bearer" = [])),
    params(("format" = Option<String>, Query, description = "json (default) or csv")),
    responses((status = 200, body = StatsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn stats_today(
    request: HttpRequest,
    state: Data,
    query: web::Query<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &state, WINDOW_ROLES)?;
    let staff = state.auth.staff_at_windows(state.clock.now());
    let now = state.clock.now();
    let view = state
        .engine
        .view(|hall| views::stats_view(hall, &hall.queue_stats(now), &staff));
    match query.into_inner().format.as_deref().unwrap_or("json") {
        "json" => Ok(HttpResponse::Ok().json(view)),
        "csv" => {
            let mut csv = CsvWriter::new();
            csv.row([
                "事项",
                "取号",
                "叫号",
                "办结",
                "过号",
                "等候中",
                "最长等候(秒)",
                "平均办理(秒)",
            ]);
            for s in &view.services {
                csv.row([
                    s.name.clone(),
                    s.issued.to_string(),
                    s.called.to_string(),
                    s.completed.to_string(),
                    s.no_show.to_string(),
                    s.waiting.to_string(),
                    s.oldest_wait_s.to_string(),
                    s.average_service_s.to_string(),
                ]);
            }
            let t = &view.totals;
            csv.row([
                "合计".to_owned(),
                t.issued.to_string(),
                t.called.to_string(),
                t.completed.to_string(),
                t.no_show.to_string(),
                t.waiting.to_string(),
                String::new(),
                String::new(),
            ]);
            Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    "Content-Disposition",
                    format!(
                        "attachment; filename=\"hallq-{}.csv\"",
                        view.service_day.unwrap_or_default()
                    ),
                ))
                .body(csv.into_bytes()))
        }
        _ => Err(ApiError::bad_request(
            "invalid_format",
            "format is json or csv",
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries before this one (its `id`), for paging back.
    before: Option<u64>,
    /// At most this many (default 100, at most 1000).
    limit: Option<usize>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AuditLine {
    pub id: u64,
    /// When, RFC 3339 in UTC.
    pub at: String,
    /// The staff member (or device) who asked.
    pub actor: String,
    pub role: String,
    pub address: Option<String>,
    /// What was asked: call_next, sign_in, book_appointment …
    pub action: String,
    pub target: Option<String>,
    /// ok, or why it was refused.
    pub outcome: String,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AuditView {
    /// Newest first.
    pub entries: Vec<AuditLine>,
}

/// What staff and managers did: every window action, booking, cancellation, reprint,
/// sign-in and lockout, newest first (managers). The log is append-only: nobody can change or
/// delete a line.
#[utoipa::path(get, path = "/api/v1/audit", tag = "hall", security(("bearer" = [])),
    params(("before" = Option<u64>, Query, description = "entries before this id"),
        ("limit" = Option<usize>, Query, description = "at most this many (100 by default, 1000 at most)")),
    responses((status = 200, body = AuditView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit(
    request: HttpRequest,
    state: Data,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<AuditView>, ApiError> {
    authorize(
        &request,
        &state,
        &[crate::auth::Role::Manager, crate::auth::Role::Admin],
    )?;
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let before = query.before;
    let entries = state
        .readers
        .with(move |store| store.audit(before, limit))
        .await?;
    Ok(web::Json(AuditView {
        entries: entries
            .into_iter()
            .map(|(id, entry)| AuditLine {
                id,
                at: entry.at.to_string(),
                actor: entry.actor,
                role: entry.role,
                address: entry.address,
                action: entry.action,
                target: entry.target,
                outcome: entry.outcome,
            })
            .collect(),
    }))
}

/// The link to the city's hub.
#[derive(Serialize, ToSchema)]
pub struct SyncView {
    /// The hub's address; null when this hall reports to no hub.
    pub upstream: Option<String>,
    /// The newest event the hub holds (as last heard; from the kept cursor until the hub has
    /// answered since this start).
    pub pushed_seq: Option<u64>,
    /// Whether the hub confirmed `pushed_seq` since this start.
    pub confirmed: bool,
    /// The newest event in this hall's log.
    pub log_seq: u64,
    /// Events the hub does not have yet.
    pub lag_events: u64,
    /// How old the oldest of them is, in seconds (0 when none wait).
    pub lag_seconds: u64,
    /// RFC 3339.
    pub last_success_at: Option<String>,
    /// What went wrong last, while it still goes wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub events_pushed: u64,
    pub failures: u64,
    pub snapshots_sent: u64,
    pub bookings_applied: u64,
    pub bookings_refused: u64,
    pub calendar_years_fetched: Vec<i16>,
}

/// The sync view of the link's state.
pub fn sync_view(state: &AppState) -> SyncView {
    let link = state.sync.get();
    let log_seq = state.engine.committed_seq();
    let now = state.clock.now();
    let config = state.config();
    let configured = config.upstream.as_ref();
    SyncView {
        upstream: configured.map(|u| u.url.clone()),
        pushed_seq: link.pushed_seq,
        confirmed: link.confirmed,
        log_seq,
        lag_events: configured.map_or(0, |_| log_seq.saturating_sub(link.pushed_seq.unwrap_or(0))),
        lag_seconds: link.oldest_unpushed_at.map_or(0, |oldest| {
            (now.as_second() - oldest.as_second()).max(0) as u64
        }),
        last_success_at: link.last_success_at.map(|at| at.to_string()),
        last_error: link.last_error,
        events_pushed: link.events_pushed,
        failures: link.failures,
        snapshots_sent: link.snapshots_sent,
        bookings_applied: link.bookings_applied,
        bookings_refused: link.bookings_refused,
        calendar_years_fetched: link.calendar_years_fetched,
    }
}

/// Where the link to the city's hub stands: what the hub has, what waits, the last error.
#[utoipa::path(get, path = "/api/v1/sync", tag = "hall", security(("bearer" = [])),
    responses((status = 200, body = SyncView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn sync(request: HttpRequest, state: Data) -> Result<web::Json<SyncView>, ApiError> {
    authorize(&request, &state, WINDOW_ROLES)?;
    Ok(web::Json(sync_view(&state)))
}
