//! A hall's own exchanges with the hub: its summary, its log's pushes, its snapshots and its
//! profile; and the managers' list of halls.

use super::error::HubError;
use super::{check_hall_id, Data};
use crate::auth;
use crate::ingest::{self, IncomingPush};
use crate::state::Metrics;
use actix_web::{web, HttpRequest, HttpResponse};
use hallq_protocol::{HallProfile, HallSummary, WaitSnapshot};
use std::time::Instant;

/// `GET /v1/halls/{id}/summary`: the hall's token, or a manager.
#[utoipa::path(get, path = "/v1/halls/{id}/summary", tag = "halls", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "HallSummary (docs/upstream-protocol.md)"), (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn summary(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
) -> Result<web::Json<HallSummary>, HubError> {
    let hall = check_hall_id(path.into_inner())?;
    auth::hall_or_manager(&request, &state, &hall).await?;
    let client = state.pool.get().await?;
    let row = client
        .query_opt(
            "SELECT events_received, last_seq, duplicates_dropped, snapshots_received, log_seq,
                    to_char(last_push_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
             FROM hall_sync WHERE hall = $1",
            &[&hall],
        )
        .await?
        .ok_or_else(|| HubError::not_found(format!("there is no hall '{hall}' at this hub")))?;
    let count = |index: usize| row.get::<_, i64>(index) as u64;
    Ok(web::Json(HallSummary {
        hall,
        events_received: count(0),
        last_seq: count(1),
        duplicates_dropped: count(2),
        snapshots_received: count(3),
        log_seq: count(4),
        last_push_at: row.get(5),
    }))
}

/// `POST /v1/halls/{id}/events`: the next events of the hall's log.
#[utoipa::path(post, path = "/v1/halls/{id}/events", tag = "halls", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Object, description = "EventsPush"),
    responses((status = 200, description = "EventsAccepted"), (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody), (status = 409, description = "sequence_gap with last_seq"), (status = 413, body = super::error::ErrorBody)))]
pub async fn push_events(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, HubError> {
    let started = Instant::now();
    let hall = check_hall_id(path.into_inner())?;
    auth::hall_only(&request, &state, &hall).await?;
    let push: IncomingPush = serde_json::from_slice(&body).map_err(|e| {
        HubError::bad_request(
            "invalid_body",
            format!("the body is not a push of events: {e}"),
        )
    })?;
    ingest::check_shape(&push)?;
    let accepted = ingest::store(&state, &hall, &push).await?;
    Metrics::add(&state.metrics.pushes, 1);
    let _ = state.city_updates.send(hall);
    state
        .metrics
        .observe_push(started.elapsed().as_millis() as u64);
    Ok(HttpResponse::Ok().json(accepted))
}

/// Most services and devices one snapshot may name.
const MAX_SNAPSHOT_ROWS: usize = 500;

/// `POST /v1/halls/{id}/snapshots`: waits per service and device health.
#[utoipa::path(post, path = "/v1/halls/{id}/snapshots", tag = "halls", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Object, description = "WaitSnapshot"),
    responses((status = 204), (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)))]
pub async fn push_snapshot(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
    body: web::Json<WaitSnapshot>,
) -> Result<HttpResponse, HubError> {
    let hall = check_hall_id(path.into_inner())?;
    auth::hall_only(&request, &state, &hall).await?;
    let snapshot = body.into_inner();
    if snapshot.services.len() > MAX_SNAPSHOT_ROWS || snapshot.devices.len() > MAX_SNAPSHOT_ROWS {
        return Err(HubError::bad_request(
            "snapshot_too_large",
            format!("a snapshot names at most {MAX_SNAPSHOT_ROWS} services and devices"),
        ));
    }
    let long = |text: &str| text.is_empty() || text.len() > 100;
    if snapshot.services.iter().any(|s| long(&s.service))
        || snapshot
            .devices
            .iter()
            .any(|d| long(&d.device) || long(&d.kind) || long(&d.condition))
    {
        return Err(HubError::bad_request(
            "invalid_snapshot",
            "service, device, kind and condition are 1 to 100 characters",
        ));
    }
    let clamp = |value: u64| value.min(i32::MAX as u64) as i32;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let services: Vec<&str> = snapshot
        .services
        .iter()
        .map(|s| s.service.as_str())
        .collect();
    let column = |pick: &dyn Fn(&hallq_protocol::ServiceWait) -> u64| -> Vec<i32> {
        snapshot.services.iter().map(|s| clamp(pick(s))).collect()
    };
    transaction
        .execute(
            "INSERT INTO wait_snapshots (hall, at, service, waiting, average_wait_s, p90_wait_s,
                 served_today, open_windows, estimate_s)
             SELECT $1, to_timestamp($2::int8 / 1000.0), * FROM unnest($3::text[], $4::int4[],
                 $5::int4[], $6::int4[], $7::int4[], $8::int4[], $9::int4[])
             ON CONFLICT DO NOTHING",
            &[
                &hall,
                &snapshot.at_ms,
                &services,
                &column(&|s| u64::from(s.waiting)),
                &column(&|s| s.average_wait_s),
                &column(&|s| s.p90_wait_s),
                &column(&|s| u64::from(s.served_today)),
                &column(&|s| u64::from(s.open_windows)),
                &column(&|s| s.estimate_s),
            ],
        )
        .await?;
    for device in &snapshot.devices {
        transaction
            .execute(
                "INSERT INTO device_health (hall, device, kind, condition, detail, at)
                 VALUES ($1, $2, $3, $4, $5, to_timestamp($6::int8 / 1000.0))
                 ON CONFLICT (hall, device) DO UPDATE SET kind = EXCLUDED.kind,
                     condition = EXCLUDED.condition, detail = EXCLUDED.detail, at = EXCLUDED.at",
                &[
                    &hall,
                    &device.device,
                    &device.kind,
                    &device.condition,
                    &device
                        .detail
                        .as_deref()
                        .map(|d| d.chars().take(200).collect::<String>()),
                    &snapshot.at_ms,
                ],
            )
            .await?;
    }
    transaction
        .execute(
            "UPDATE hall_sync SET snapshots_received = snapshots_received + 1,
                 last_snapshot_at = now(), latest_snapshot = $2::text::jsonb WHERE hall = $1",
            &[&hall, &serde_json::to_string(&snapshot).unwrap_or_default()],
        )
        .await?;
    transaction.commit().await?;
    Metrics::add(&state.metrics.snapshots, 1);
    let _ = state.city_updates.send(hall);
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT /v1/halls/{id}/profile`: the hall's services, plans and shares, rules and time zone.
#[utoipa::path(put, path = "/v1/halls/{id}/profile", tag = "halls", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Object, description = "HallProfile"),
    responses((status = 204), (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody)))]
pub async fn put_profile(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
    body: web::Json<HallProfile>,
) -> Result<HttpResponse, HubError> {
    let hall = check_hall_id(path.into_inner())?;
    auth::hall_only(&request, &state, &hall).await?;
    let profile = body.into_inner();
    if hallq_core::jiff::tz::TimeZone::get(&profile.time_zone).is_err() {
        return Err(HubError::bad_request(
            "invalid_time_zone",
            format!("unknown time zone '{}'", profile.time_zone),
        ));
    }
    if let Some(plan) = profile.plans.iter().find(|p| p.hub_share > p.capacity) {
        return Err(HubError::bad_request(
            "invalid_plan",
            format!(
                "a plan of '{}' gives the hub more places than the slot has",
                plan.service
            ),
        ));
    }
    if profile.services.len() > 500 || profile.plans.len() > 2000 {
        return Err(HubError::bad_request(
            "profile_too_large",
            "at most 500 services and 2000 plans",
        ));
    }
    let text = serde_json::to_string(&profile).unwrap_or_default();
    let client = state.pool.get().await?;
    client
        .execute(
            "INSERT INTO hall_profiles (hall, profile, updated_at) VALUES ($1, $2::text::jsonb, now())
             ON CONFLICT (hall) DO UPDATE SET profile = EXCLUDED.profile, updated_at = now()",
            &[&hall, &text],
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One hall in the managers' list.
#[derive(serde::Serialize)]
pub struct HallRow {
    pub id: String,
    pub name: String,
    pub last_seq: u64,
    pub log_seq: u64,
    /// Events the hall has that the hub does not (as of its last push).
    pub lag_events: u64,
    pub events_received: u64,
    pub snapshots_received: u64,
    pub last_push_at: Option<String>,
    pub last_snapshot_at: Option<String>,
}

/// `GET /v1/halls`: every hall and its link (managers).
#[utoipa::path(get, path = "/v1/halls", tag = "halls", security(("bearer" = [])),
    responses((status = 200, description = "{\"halls\": [HallRow]}"), (status = 401, body = super::error::ErrorBody)))]
pub async fn list(request: HttpRequest, state: Data) -> Result<HttpResponse, HubError> {
    auth::manager(&request, &state).await?;
    let client = state.pool.get().await?;
    let rows = client
        .query(
            "SELECT h.id, h.name, s.last_seq, s.log_seq, s.events_received, s.snapshots_received,
                    to_char(s.last_push_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                    to_char(s.last_snapshot_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
             FROM halls h JOIN hall_sync s ON s.hall = h.id ORDER BY h.id",
            &[],
        )
        .await?;
    let halls: Vec<HallRow> = rows
        .iter()
        .map(|row| {
            let count = |index: usize| row.get::<_, i64>(index) as u64;
            HallRow {
                id: row.get(0),
                name: row.get(1),
                last_seq: count(2),
                log_seq: count(3),
                lag_events: count(3).saturating_sub(count(2)),
                events_received: count(4),
                snapshots_received: count(5),
                last_push_at: row.get(6),
                last_snapshot_at: row.get(7),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "halls": halls })))
}
