//! The city's view of its halls (managers): every hall's latest waits, windows, device alerts
//! and the lag of its log; live as snapshots arrive (an SSE stream read with `fetch`, so the
//! session stays in a header); the day's report across halls as CSV.

use super::error::HubError;
use super::Data;
use crate::auth;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::stream;
use hallq_protocol::{ServiceWait, WaitSnapshot};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::sync::broadcast;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema, Clone)]
pub struct DeviceAlert {
    pub device: String,
    pub kind: String,
    pub condition: String,
    pub detail: Option<String>,
}

/// One hall as the city sees it.
#[derive(Serialize, ToSchema, Clone)]
pub struct CityHall {
    pub id: String,
    pub name: String,
    pub waiting: u32,
    pub average_wait_s: u64,
    pub p90_wait_s: u64,
    pub open_windows: u32,
    pub windows: u32,
    pub served_today: u32,
    pub issued_today: u32,
    /// When the latest snapshot was taken (RFC 3339); null before the first.
    pub snapshot_at: Option<String>,
    /// Events the hall had that the hub did not, at its last push.
    pub lag_events: u64,
    pub last_push_at: Option<String>,
    /// Printers and displays not in order.
    pub alerts: Vec<DeviceAlert>,
    pub services: Vec<CityService>,
}

/// One service of a hall, as of the latest snapshot.
#[derive(Serialize, ToSchema, Clone)]
pub struct CityService {
    pub service: String,
    pub name: String,
    pub waiting: u32,
    pub average_wait_s: u64,
    pub p90_wait_s: u64,
    pub served_today: u32,
    pub open_windows: u32,
    pub estimate_s: u64,
}

#[derive(Serialize, ToSchema)]
pub struct CityView {
    pub halls: Vec<CityHall>,
}

/// The city's halls (all, or one).
pub async fn city_halls(
    state: &crate::state::HubState,
    only: Option<&str>,
) -> Result<Vec<CityHall>, HubError> {
    let client = state.pool.get().await?;
    let rows = client
        .query(
            "SELECT h.id, h.name, s.latest_snapshot::text, GREATEST(s.log_seq - s.last_seq, 0),
                    to_char(s.last_push_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                    COALESCE(p.profile->>'name', h.name), p.profile::text
             FROM halls h JOIN hall_sync s ON s.hall = h.id
             LEFT JOIN hall_profiles p ON p.hall = h.id
             WHERE $1::text IS NULL OR h.id = $1
             ORDER BY h.sms_number",
            &[&only],
        )
        .await?;
    let alerts = client
        .query(
            "SELECT hall, device, kind, condition, detail FROM device_health
             WHERE condition NOT IN ('ready', 'connected', 'unknown')
               AND ($1::text IS NULL OR hall = $1)
             ORDER BY hall, device",
            &[&only],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let id: String = row.get(0);
            let snapshot: Option<WaitSnapshot> = row
                .get::<_, Option<String>>(2)
                .and_then(|text| serde_json::from_str(&text).ok());
            let totals = snapshot
                .as_ref()
                .map(|s| s.hall.clone())
                .unwrap_or_default();
            CityHall {
                name: row.get(5),
                waiting: totals.waiting,
                average_wait_s: totals.average_wait_s,
                p90_wait_s: totals.p90_wait_s,
                open_windows: totals.open_windows,
                windows: totals.windows,
                served_today: totals.served_today,
                issued_today: totals.issued_today,
                snapshot_at: snapshot.as_ref().and_then(|s| {
                    hallq_core::jiff::Timestamp::from_millisecond(s.at_ms)
                        .ok()
                        .map(|at| at.to_string())
                }),
                lag_events: row.get::<_, i64>(3) as u64,
                last_push_at: row.get(4),
                alerts: alerts
                    .iter()
                    .filter(|a| a.get::<_, String>(0) == id)
                    .map(|a| DeviceAlert {
                        device: a.get(1),
                        kind: a.get(2),
                        condition: a.get(3),
                        detail: a.get(4),
                    })
                    .collect(),
                services: {
                    let profile: Option<hallq_protocol::HallProfile> = row
                        .get::<_, Option<String>>(6)
                        .and_then(|text| serde_json::from_str(&text).ok());
                    let name_of = |id: &str| {
                        profile
                            .as_ref()
                            .and_then(|p| p.services.iter().find(|s| s.id == id))
                            .map_or_else(|| id.to_owned(), |s| s.name.clone())
                    };
                    snapshot
                        .map(|s| s.services)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|line: ServiceWait| CityService {
                            name: name_of(&line.service),
                            service: line.service,
                            waiting: line.waiting,
                            average_wait_s: line.average_wait_s,
                            p90_wait_s: line.p90_wait_s,
                            served_today: line.served_today,
                            open_windows: line.open_windows,
                            estimate_s: line.estimate_s,
                        })
                        .collect()
                },
                id,
            }
        })
        .collect())
}

/// Every hall of the city now.
#[utoipa::path(get, path = "/v1/city", tag = "city", security(("bearer" = [])),
    responses((status = 200, body = CityView), (status = 401, body = super::error::ErrorBody)))]
pub async fn view(request: HttpRequest, state: Data) -> Result<web::Json<CityView>, HubError> {
    auth::manager(&request, &state).await?;
    Ok(web::Json(CityView {
        halls: city_halls(&state, None).await?,
    }))
}

/// How long the stream gathers changed halls before it sends them (a city of halls pushing
/// every few hundred milliseconds costs one query a second, not one per push).
const COALESCE: Duration = Duration::from_secs(1);
const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn frame(hall: &CityHall) -> web::Bytes {
    let data = serde_json::to_string(hall).unwrap_or_default();
    web::Bytes::from(format!("event: hall\ndata: {data}\n\n"))
}

struct Live {
    state: Data,
    updates: broadcast::Receiver<String>,
    pending: Vec<web::Bytes>,
}

/// `event: hall` with a hall's row, for every hall at once and then whenever one changes.
#[utoipa::path(get, path = "/v1/city/events", tag = "city", security(("bearer" = [])),
    responses((status = 200, description = "text/event-stream"), (status = 401, body = super::error::ErrorBody)))]
pub async fn events(request: HttpRequest, state: Data) -> Result<HttpResponse, HubError> {
    auth::manager(&request, &state).await?;
    let updates = state.city_updates.subscribe();
    let first: Vec<web::Bytes> = city_halls(&state, None).await?.iter().map(frame).collect();
    let live = Live {
        state,
        updates,
        pending: first,
    };
    let body = stream::unfold(live, |mut live| async move {
        loop {
            if let Some(bytes) = live.pending.pop() {
                return Some((Ok::<_, actix_web::Error>(bytes), live));
            }
            let changed = tokio::time::timeout(KEEP_ALIVE, live.updates.recv()).await;
            let mut ids = BTreeSet::new();
            match changed {
                Err(_) => return Some((Ok(web::Bytes::from_static(b": keep-alive\n\n")), live)),
                Ok(Ok(id)) => {
                    ids.insert(id);
                }
                // Fell behind: send every hall again.
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                    ids.insert(String::new());
                }
                Ok(Err(broadcast::error::RecvError::Closed)) => return None,
            }
            tokio::time::sleep(COALESCE).await;
            while let Ok(id) = live.updates.try_recv() {
                ids.insert(id);
            }
            let halls = if ids.contains("") {
                city_halls(&live.state, None).await
            } else {
                let mut halls = Vec::new();
                for id in &ids {
                    match city_halls(&live.state, Some(id)).await {
                        Ok(found) => halls.extend(found),
                        Err(error) => return Some((Err(error.into()), live)),
                    }
                }
                Ok(halls)
            };
            match halls {
                Ok(halls) => live.pending = halls.iter().rev().map(frame).collect(),
                Err(error) => return Some((Err(error.into()), live)),
            }
        }
    });
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "text/event-stream"))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    date: Option<String>,
}

/// The day's figures of every hall and service, from the day's last snapshot, as CSV.
#[utoipa::path(get, path = "/v1/city/report.csv", tag = "city", security(("bearer" = [])),
    params(("date" = Option<String>, Query, description = "YYYY-MM-DD (today by default)")),
    responses((status = 200, description = "text/csv"), (status = 401, body = super::error::ErrorBody)))]
pub async fn report(
    request: HttpRequest,
    state: Data,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, HubError> {
    auth::manager(&request, &state).await?;
    let date = match &query.date {
        Some(text) => super::parse_date(text)?,
        None => hallq_core::jiff::Timestamp::now()
            .to_zoned(state.time_zone.clone())
            .date(),
    };
    let zone = state.time_zone_name.clone();
    let client = state.pool.get().await?;
    let rows = client
        .query(
            "SELECT DISTINCT ON (w.hall, w.service)
                    w.hall, COALESCE(p.profile->>'name', h.name), w.service,
                    w.served_today, w.waiting, w.average_wait_s, w.p90_wait_s, w.open_windows,
                    to_char(w.at AT TIME ZONE $2, 'HH24:MI')
             FROM wait_snapshots w JOIN halls h ON h.id = w.hall
             LEFT JOIN hall_profiles p ON p.hall = w.hall
             WHERE (w.at AT TIME ZONE $2)::date = $1::text::date
             ORDER BY w.hall, w.service, w.at DESC",
            &[&date.to_string(), &zone],
        )
        .await?;
    let mut csv = hallq_protocol::csv::CsvWriter::new();
    csv.row([
        "日期 date",
        "大厅 hall",
        "大厅名称 hall name",
        "事项 service",
        "已办结 served",
        "等候 waiting",
        "平均等候(秒) average wait s",
        "90%等候(秒) p90 wait s",
        "开放窗口 open windows",
        "截至 as of",
    ]);
    for row in &rows {
        let number = |index: usize| row.get::<_, i32>(index).to_string();
        csv.row([
            date.to_string(),
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, String>(2),
            number(3),
            number(4),
            number(5),
            number(6),
            number(7),
            row.get::<_, String>(8),
        ]);
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "text/csv; charset=utf-8"))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"hallq-city-{date}.csv\""),
        ))
        .body(csv.into_bytes()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationsQuery {
    date: Option<String>,
    /// json (default) or csv
    format: Option<String>,
}

/// The day's 好差评 records of every hall, in the shape of GB/T 39046-2020 table 9 (办件编号,
/// 评价渠道, 评价时间, 评价次数, 满意度代码, 文字评价, 行政区划), for the province's platform.
#[utoipa::path(get, path = "/v1/city/evaluations", tag = "city", security(("bearer" = [])),
    params(("date" = Option<String>, Query, description = "YYYY-MM-DD, the day the ratings were given (today by default)"),
        ("format" = Option<String>, Query, description = "json (default) or csv")),
    responses((status = 200, description = "{date, records: [{hall, 办件编号, …}]} or text/csv"),
        (status = 401, body = super::error::ErrorBody)))]
pub async fn evaluations(
    request: HttpRequest,
    state: Data,
    query: web::Query<EvaluationsQuery>,
) -> Result<HttpResponse, HubError> {
    auth::manager(&request, &state).await?;
    let date = match &query.date {
        Some(text) => super::parse_date(text)?,
        None => hallq_core::jiff::Timestamp::now()
            .to_zoned(state.time_zone.clone())
            .date(),
    };
    let zone = state.time_zone_name.clone();
    let client = state.pool.get().await?;
    let rows = client
        .query(
            "SELECT hall, data->'record' FROM hall_events
             WHERE kind = 'service_rated' AND data ? 'record'
               AND (at AT TIME ZONE $2)::date = $1::text::date
             ORDER BY at, hall, seq
             LIMIT 100000",
            &[&date.to_string(), &zone],
        )
        .await?;
    let records: Vec<(String, hallq_protocol::EvaluationRecord)> = rows
        .iter()
        .filter_map(|row| {
            let record: serde_json::Value = row.get(1);
            Some((row.get(0), serde_json::from_value(record).ok()?))
        })
        .collect();
    if query.format.as_deref() == Some("csv") {
        let mut csv = hallq_protocol::csv::CsvWriter::new();
        csv.row([
            "大厅",
            "办件编号",
            "评价渠道",
            "评价时间",
            "评价次数",
            "满意度代码",
            "文字评价",
            "行政区划",
        ]);
        for (hall, r) in &records {
            csv.row([
                hall.as_str(),
                &r.project_no,
                &r.channel,
                &r.rated_at,
                &r.times.to_string(),
                &r.satisfaction,
                &r.text,
                &r.region,
            ]);
        }
        return Ok(HttpResponse::Ok()
            .insert_header(("Content-Type", "text/csv; charset=utf-8"))
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"hallq-evaluations-{date}.csv\""),
            ))
            .body(csv.into_bytes()));
    }
    let records: Vec<serde_json::Value> = records
        .into_iter()
        .map(|(hall, record)| {
            let mut value = serde_json::to_value(record).unwrap_or_default();
            value["hall"] = serde_json::Value::String(hall);
            value
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "date": date.to_string(),
        "records": records,
    })))
}
