//! What wraps every request: a span, the latency histogram by route, a log line only for
//! failures of our own; security headers on every answer; HEAD answered wherever GET is; and
//! every error in the JSON error form, including those the framework makes itself.

use super::state::AppState;
use crate::http::error::ApiError;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, ResponseError};
use std::time::Instant;
use tracing::Instrument;

/// Headers every answer carries (pages replace the content security policy with their own).
pub(crate) fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        ))
}

/// HEAD is GET without the body: monitors and proxies probe with it.
pub(crate) fn head_as_get<S, B>(
    mut request: ServiceRequest,
    service: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let head = request.method() == Method::HEAD;
    if head {
        request.head_mut().method = Method::GET;
    }
    let response = service.call(request);
    async move {
        let response = response.await?;
        Ok(if head {
            response.map_body(|_, _| EitherBody::right(BoxBody::new(())))
        } else {
            response.map_into_left_body()
        })
    }
}

/// Errors the framework answers itself (a body too large for a raw body, a route it cannot
/// match) come out in the JSON error form like ours.
pub(crate) fn json_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|response: ServiceResponse<B>| {
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
        if is_json || response.status().as_u16() < 400 {
            return Ok(ErrorHandlerResponse::Response(
                response.map_into_left_body(),
            ));
        }
        let status = response.status();
        let (code, message) = match status.as_u16() {
            400 => ("bad_request", "the request could not be read"),
            404 => ("not_found", "there is nothing here"),
            405 => ("method_not_allowed", "this method is not supported here"),
            408 => ("request_timeout", "the request took too long to arrive"),
            413 => ("payload_too_large", "request bodies are at most 16 KiB"),
            414 => ("uri_too_long", "the address is too long"),
            415 => (
                "unsupported_media_type",
                "send JSON with Content-Type: application/json",
            ),
            431 => ("headers_too_large", "the request's headers are too large"),
            _ if status.is_client_error() => ("bad_request", "the request was refused"),
            _ => ("unavailable", "hallq could not answer; retry shortly"),
        };
        let (request, _) = response.into_parts();
        let answer = ApiError::new(status, code, message).error_response();
        let mut response = ServiceResponse::new(request, answer).map_into_right_body();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(ErrorHandlerResponse::Response(response))
    })
}

/// A span per request, and the latency histogram by route.
pub(crate) fn observe<S, B>(
    request: ServiceRequest,
    service: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
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
