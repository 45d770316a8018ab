//! What wraps every request: a span, the latency histogram by route, and a log line only for
//! failures of our own.

use super::state::AppState;
use actix_web::dev::Service;
use actix_web::web;
use std::time::Instant;
use tracing::Instrument;

/// A span per request, and the latency histogram by route.
pub(crate) fn observe<S>(
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
    let span = tracing::debug_span!("request", %method, %path);
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
        // Per-request lines are for debugging (RUST_LOG=debug): counts and latencies are in
        // /metrics. Only server-side failures are worth a line at the default level.
        if status >= 500 {
            tracing::warn!(status, elapsed_ms = seconds * 1000.0, "answered");
        } else {
            tracing::debug!(status, elapsed_ms = seconds * 1000.0, "answered");
        }
        Ok(response)
    }
    .instrument(span)
}
