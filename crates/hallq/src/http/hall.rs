//! The hall, its queues and the day's figures: read from the engine's read model.

use super::error::{ApiError, ErrorBody};
use super::{authorize, Data, WINDOW_ROLES};
use crate::csv::CsvWriter;
use crate::views::{self, HallView, QueuesView, StatsView};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// The hall: services with their open state and queue, windows with their current ticket.
#[utoipa::path(get, path = "/api/v1/hall", tag = "hall",
    responses((status = 200, body = HallView)))]
pub async fn hall(state: Data) -> Result<web::Json<HallView>, ApiError> {
    let now = state.clock.now();
    let zone = &state.config.time_zone_name;
    let view = state
        .engine
        .view(|hall| views::hall_view(hall, &hall.queue_stats(now), zone, &state.config.id, now));
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
