//! Liveness (the process answers), readiness (the database answers) and Prometheus metrics.

use super::error::HubError;
use super::Data;
use crate::state::PUSH_MS_BOUNDS;
use actix_web::HttpResponse;
use std::fmt::Write;
use std::sync::atomic::Ordering;

#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// 200 when the database answers a query, 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200), (status = 503, body = super::error::ErrorBody)))]
pub async fn readyz(state: Data) -> Result<HttpResponse, HubError> {
    let client = state.pool.get().await?;
    client.query_one("SELECT 1", &[]).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}

#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus text")))]
pub async fn metrics(state: Data) -> HttpResponse {
    let m = &state.metrics;
    let mut out = String::with_capacity(2048);
    let mut counter = |name: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    };
    let load = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    counter(
        "hallq_hub_pushes_total",
        "Pushes of halls' logs stored.",
        load(&m.pushes),
    );
    counter(
        "hallq_hub_events_stored_total",
        "Events stored.",
        load(&m.events_stored),
    );
    counter(
        "hallq_hub_duplicates_dropped_total",
        "Events received again and dropped.",
        load(&m.duplicates_dropped),
    );
    counter(
        "hallq_hub_sequence_gaps_total",
        "Pushes refused because they started past the hub's copy.",
        load(&m.gaps),
    );
    counter(
        "hallq_hub_snapshots_total",
        "Wait snapshots stored.",
        load(&m.snapshots),
    );
    counter(
        "hallq_hub_unauthorized_total",
        "Requests refused for a missing or wrong token.",
        load(&m.unauthorized),
    );
    let _ = writeln!(
        out,
        "# HELP hallq_hub_push_seconds Time to store a push.\n# TYPE hallq_hub_push_seconds histogram"
    );
    let mut cumulative = 0;
    for (index, bound) in PUSH_MS_BOUNDS.iter().enumerate() {
        cumulative += load(&m.push_ms_buckets[index]);
        let _ = writeln!(
            out,
            "hallq_hub_push_seconds_bucket{{le=\"{}\"}} {cumulative}",
            *bound as f64 / 1000.0
        );
    }
    cumulative += load(&m.push_ms_buckets[PUSH_MS_BOUNDS.len()]);
    let _ = writeln!(
        out,
        "hallq_hub_push_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
    );
    let _ = writeln!(out, "hallq_hub_push_seconds_count {cumulative}");
    let status = state.pool.status();
    let _ = writeln!(
        out,
        "# HELP hallq_hub_db_connections Connections in the pool.\n# TYPE hallq_hub_db_connections gauge\nhallq_hub_db_connections {}",
        status.size
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}
