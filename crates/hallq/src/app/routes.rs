//! The route table, and the JSON errors of the extractors (bodies, paths, query strings).

use crate::http::error::ApiError;
use crate::http::{
    appointments, devices, hall, health, openapi, pages, public, ratings, sessions, settings,
    streams, tickets, windows,
};
use actix_web::error::{InternalError, JsonPayloadError};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, ResponseError};

/// Largest request body accepted: a ticket request is a few hundred bytes.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;

/// Bad bodies, paths and query strings are answered in the JSON error form.
pub(crate) fn extractor_errors(config: &mut web::ServiceConfig) {
    config
        .app_data(json_config())
        .app_data(web::PathConfig::default().error_handler(|error, _| {
            InternalError::from_response(
                error,
                ApiError::not_found(
                    "no such id: ticket ids are numbers, window and service ids are names from \
                     GET /api/v1/hall",
                )
                .error_response(),
            )
            .into()
        }))
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            let message = format!("bad query string: {error}");
            InternalError::from_response(
                error,
                ApiError::bad_request("invalid_query", message).error_response(),
            )
            .into()
        }));
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

pub(crate) fn routes(config: &mut web::ServiceConfig) {
    config
        .service(resource("/api/v1/hall").route(web::get().to(hall::hall)))
        .service(resource("/api/v1/queues").route(web::get().to(hall::queues)))
        .service(resource("/api/v1/stats/today").route(web::get().to(hall::stats_today)))
        .service(resource("/api/v1/audit").route(web::get().to(hall::audit)))
        .service(resource("/api/v1/sync").route(web::get().to(hall::sync)))
        .service(resource("/api/v1/tickets").route(web::post().to(tickets::issue_ticket)))
        .service(resource("/api/v1/tickets/{id}").route(web::get().to(tickets::get_ticket)))
        .service(
            resource("/api/v1/tickets/{id}/cancel").route(web::post().to(tickets::cancel_ticket)),
        )
        .service(
            resource("/api/v1/tickets/{id}/reprint").route(web::post().to(tickets::reprint_ticket)),
        )
        .service(resource("/api/v1/devices").route(web::get().to(devices::devices)))
        .service(resource("/api/v1/windows/{id}").route(web::get().to(windows::get_window)))
        .service(resource("/api/v1/windows/{id}/waiting").route(web::get().to(windows::waiting)))
        .service(
            resource("/api/v1/windows/{id}/{action}")
                .app_data(web::PayloadConfig::new(BODY_LIMIT_BYTES))
                .route(web::post().to(windows::window_action)),
        )
        .service(resource("/api/v1/sessions").route(web::post().to(sessions::sign_in)))
        .service(resource("/api/v1/sessions/current").route(web::delete().to(sessions::sign_out)))
        .service(resource("/api/v1/events").route(web::get().to(streams::events)))
        .service(resource("/api/v1/board").route(web::get().to(public::board)))
        .service(resource("/api/v1/board/events").route(web::get().to(streams::board_events)))
        .service(resource("/api/v1/kiosk/events").route(web::get().to(streams::kiosk_events)))
        .service(
            resource("/api/v1/board/notice")
                .route(web::get().to(settings::notice))
                .route(web::put().to(settings::set_notice)),
        )
        .service(
            resource("/api/v1/services/{id}/wait-alarm")
                .route(web::put().to(settings::set_wait_alarm)),
        )
        .service(resource("/api/v1/calendar/{date}").route(web::get().to(public::calendar_day)))
        .service(resource("/api/v1/alerts").route(web::get().to(public::alerts_view)))
        .service(resource("/api/v1/lists/{kind}").route(web::get().to(public::list)))
        .service(resource("/api/v1/appointments").route(web::post().to(appointments::book)))
        .service(resource("/api/v1/phone-checks").route(web::post().to(appointments::phone_check)))
        .service(resource("/api/v1/appointments/slots").route(web::get().to(appointments::slots)))
        .service(
            resource("/api/v1/appointments/check-in-by-card")
                .route(web::post().to(appointments::check_in_by_card)),
        )
        .service(
            resource("/api/v1/appointments/check-in")
                .route(web::post().to(appointments::check_in_by_phone)),
        )
        .service(
            resource("/api/v1/appointments/{code}")
                .route(web::get().to(appointments::get))
                .route(web::delete().to(appointments::cancel)),
        )
        .service(
            resource("/api/v1/appointments/{code}/check-in")
                .route(web::post().to(appointments::check_in_by_code)),
        )
        .service(resource("/api/v1/ratings").route(web::post().to(ratings::rate)))
        .service(resource("/api/v1/ratings/options").route(web::get().to(ratings::options)))
        .service(resource("/api/v1/ratings/figures").route(web::get().to(ratings::figures)))
        .service(resource("/api/v1/ratings/figures.csv").route(web::get().to(ratings::figures_csv)))
        .service(resource("/api/v1/complaints").route(web::post().to(ratings::complain)))
        .service(resource("/api/v1/visits/{ticket}").route(web::get().to(ratings::visit)))
        .service(resource("/api/v1/rating-pad").route(web::get().to(ratings::pad)))
        .service(resource("/api/v1/cases").route(web::get().to(ratings::cases)))
        .service(resource("/api/v1/cases/{id}").route(web::get().to(ratings::case)))
        .service(resource("/api/v1/cases/{id}/actions").route(web::post().to(ratings::case_action)))
        .service(resource("/api/v1/t/{token}").route(web::get().to(public::ticket_by_token)))
        .service(
            resource("/api/v1/t/{token}/cancel").route(web::post().to(tickets::cancel_by_token)),
        )
        .service(resource("/board").route(web::get().to(pages::board)))
        .service(resource("/t/{token}").route(web::get().to(pages::citizen)))
        .service(resource("/rate/{window}").route(web::get().to(pages::rate)))
        .service(resource("/api/v1/t/{token}/events").route(web::get().to(streams::ticket_events)))
        .service(resource("/t/{token}/qr.svg").route(web::get().to(public::ticket_qr)))
        .service(resource("/api/v1/openapi.json").route(web::get().to(openapi::openapi)))
        .service(resource("/healthz").route(web::get().to(health::healthz)))
        .service(resource("/readyz").route(web::get().to(health::readyz)))
        .service(resource("/metrics").route(web::get().to(health::metrics)))
        .service(resource("/").route(web::get().to(pages::kiosk)))
        .service(resource("/staff").route(web::get().to(pages::staff)))
        .service(resource("/manage").route(web::get().to(pages::manage)))
        .service(resource("/about").route(web::get().to(pages::index)))
        .service(resource("/assets/{name}").route(web::get().to(pages::asset)));
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

pub(crate) async fn not_found(request: HttpRequest) -> actix_web::HttpResponse {
    ApiError::not_found(format!(
        "there is nothing at {}; the API is described at /api/v1/openapi.json",
        request.path().chars().take(200).collect::<String>()
    ))
    .error_response()
}
