//! The hub's HTTP API, one file per group of endpoints:
//!
//! - `halls` — a hall's summary, pushes of its log, snapshots and profile; the halls' list;
//! - `appointments` — the hub's share of slots, bookings, the halls' booking feed;
//! - `citizens` — the booking page's API (halls, days, phone codes, book, cancel) and inbound SMS;
//! - `city` — the city's view, live stream and day's report (managers);
//! - `calendars` — the holiday files;
//! - `sessions`, `health` — managers' sign-in; liveness, readiness, metrics;
//! - `pages`, `openapi` — `/book`, `/city` and their assets; the API description;
//! - `error` — the error form.

pub mod appointments;
pub mod calendars;
pub mod citizens;
pub mod city;
pub mod error;
pub mod halls;
pub mod health;
pub mod openapi;
pub mod pages;
pub mod sessions;

use crate::state::HubState;
use actix_web::web;
use error::HubError;

pub type Data = web::Data<HubState>;

/// The largest body the hub reads: a push of 1000 events is about 0.5 MB.
pub const BODY_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// A hall id as halls have them (a-z, 0-9, '-', '_', at most 40).
pub fn check_hall_id(id: String) -> Result<String, HubError> {
    if hallq_core::is_valid_id(&id) {
        Ok(id)
    } else {
        Err(HubError::not_found(format!(
            "there is no hall '{}' at this hub",
            id.chars().take(40).collect::<String>()
        )))
    }
}

/// A strict YYYY-MM-DD date between 2000 and 2100.
pub fn parse_date(text: &str) -> Result<hallq_core::jiff::civil::Date, HubError> {
    let shaped = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    shaped
        .then(|| text.parse::<hallq_core::jiff::civil::Date>().ok())
        .flatten()
        .filter(|date| (2000..=2100).contains(&date.year()))
        .ok_or_else(|| HubError::bad_request("invalid_date", "a date is YYYY-MM-DD"))
}

/// Every route of the hub.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(
            web::JsonConfig::default()
                .limit(BODY_LIMIT_BYTES)
                .error_handler(|error, _| {
                    HubError::bad_request("invalid_body", format!("the body is not valid: {error}"))
                        .into()
                }),
        )
        .app_data(web::PayloadConfig::new(BODY_LIMIT_BYTES))
        .app_data(web::QueryConfig::default().error_handler(|error, _| {
            HubError::bad_request("invalid_query", format!("the query is not valid: {error}"))
                .into()
        }))
        .app_data(web::PathConfig::default().error_handler(|error, _| {
            HubError::bad_request("invalid_path", format!("the path is not valid: {error}")).into()
        }))
        .route("/", web::get().to(pages::index))
        .route("/book", web::get().to(pages::book))
        .route("/city", web::get().to(pages::city))
        .route("/assets/book.js", web::get().to(pages::book_js))
        .route("/assets/city.js", web::get().to(pages::city_js))
        .route("/assets/hub.css", web::get().to(pages::hub_css))
        .route("/v1/openapi.json", web::get().to(openapi::openapi))
        .route("/v1/public/halls", web::get().to(citizens::halls))
        .route("/v1/halls/{id}/days", web::get().to(citizens::days))
        .route("/v1/phone-checks", web::post().to(citizens::phone_check))
        .route("/v1/book", web::post().to(citizens::book))
        .route("/v1/book/cancel", web::post().to(citizens::cancel))
        .route("/v1/sms/inbound", web::post().to(citizens::inbound_sms))
        .route("/v1/city", web::get().to(city::view))
        .route("/v1/city/events", web::get().to(city::events))
        .route("/v1/city/report.csv", web::get().to(city::report))
        .route("/v1/city/evaluations", web::get().to(city::evaluations))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics))
        .route("/v1/sessions", web::post().to(sessions::sign_in))
        .route("/v1/halls", web::get().to(halls::list))
        .route("/v1/halls/{id}/summary", web::get().to(halls::summary))
        .route("/v1/halls/{id}/events", web::post().to(halls::push_events))
        .route(
            "/v1/halls/{id}/snapshots",
            web::post().to(halls::push_snapshot),
        )
        .route("/v1/halls/{id}/profile", web::put().to(halls::put_profile))
        .route("/v1/halls/{id}/slots", web::get().to(appointments::slots))
        .route(
            "/v1/halls/{id}/appointments",
            web::get().to(appointments::feed),
        )
        .route(
            "/v1/halls/{id}/appointments",
            web::post().to(appointments::book),
        )
        .route(
            "/v1/halls/{id}/appointments/ack",
            web::post().to(appointments::acknowledge),
        )
        .route(
            "/v1/halls/{id}/appointments/{code}",
            web::get().to(appointments::get),
        )
        .route(
            "/v1/halls/{id}/appointments/{code}",
            web::delete().to(appointments::cancel),
        )
        .route("/v1/calendars", web::get().to(calendars::years))
        .route("/v1/calendars/{year}", web::get().to(calendars::year))
        .route("/v1/calendars/{year}", web::put().to(calendars::put_year))
        .default_service(web::to(|| async {
            Err::<actix_web::HttpResponse, _>(HubError::not_found(
                "no such path: the hub's API is under /v1 (docs/upstream-protocol.md)",
            ))
        }));
}
