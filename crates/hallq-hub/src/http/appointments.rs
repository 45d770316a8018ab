//! Bookings at the hub: the hub's share of a hall's slots, booking and cancelling (managers
//! now; citizens through the booking page), and the feed each hall pulls and acknowledges.

use super::error::HubError;
use super::{check_hall_id, Data};
use crate::auth;
use crate::bookings::{self, BookingRequest};
use actix_web::{web, HttpRequest, HttpResponse};
use hallq_protocol::{BookingAck, MAX_BOOKINGS_PER_PULL};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotsQuery {
    service: String,
    date: String,
}

/// `GET /v1/halls/{id}/slots?service=&date=`: the hub's share of each slot (public: counts
/// only).
#[utoipa::path(get, path = "/v1/halls/{id}/slots", tag = "citizens",
    params(("id" = String, Path), ("service" = String, Query), ("date" = String, Query, description = "YYYY-MM-DD")),
    responses((status = 200, description = "the hub's share of each slot"), (status = 400, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody)))]
pub async fn slots(
    state: Data,
    path: web::Path<String>,
    query: web::Query<SlotsQuery>,
) -> Result<HttpResponse, HubError> {
    let hall = check_hall_id(path.into_inner())?;
    let date = super::parse_date(&query.date)?;
    let slots = bookings::slots(&state, &hall, &query.service, date).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "hall": hall, "service": query.service, "date": date.to_string(), "slots": slots
    })))
}

/// `POST /v1/halls/{id}/appointments`: a booking from the hub's share (managers).
#[utoipa::path(post, path = "/v1/halls/{id}/appointments", tag = "bookings", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Object, description = "{service, start, channel, phone, name?}"),
    responses((status = 201), (status = 400, body = super::error::ErrorBody), (status = 401, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn book(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
    body: web::Json<BookingRequest>,
) -> Result<HttpResponse, HubError> {
    let hall = check_hall_id(path.into_inner())?;
    auth::manager(&request, &state).await?;
    let booking = bookings::book(&state, &hall, &body, hallq_core::jiff::Timestamp::now()).await?;
    Ok(HttpResponse::Created().json(booking))
}

/// `GET /v1/halls/{id}/appointments/{code}` (managers).
#[utoipa::path(get, path = "/v1/halls/{id}/appointments/{code}", tag = "bookings", security(("bearer" = [])),
    params(("id" = String, Path), ("code" = String, Path)),
    responses((status = 200), (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn get(
    request: HttpRequest,
    state: Data,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HubError> {
    let (hall, code) = path.into_inner();
    let hall = check_hall_id(hall)?;
    auth::manager(&request, &state).await?;
    Ok(HttpResponse::Ok().json(bookings::find(&state, &hall, &code).await?))
}

/// `DELETE /v1/halls/{id}/appointments/{code}` (managers).
#[utoipa::path(delete, path = "/v1/halls/{id}/appointments/{code}", tag = "bookings", security(("bearer" = [])),
    params(("id" = String, Path), ("code" = String, Path)),
    responses((status = 200), (status = 401, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody)))]
pub async fn cancel(
    request: HttpRequest,
    state: Data,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, HubError> {
    let (hall, code) = path.into_inner();
    let hall = check_hall_id(hall)?;
    auth::manager(&request, &state).await?;
    Ok(HttpResponse::Ok().json(bookings::cancel(&state, &hall, &code).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

/// `GET /v1/halls/{id}/appointments?after=N`: the hall's feed of hub bookings (the hall).
#[utoipa::path(get, path = "/v1/halls/{id}/appointments", tag = "halls", security(("bearer" = [])),
    params(("id" = String, Path), ("after" = Option<u64>, Query), ("limit" = Option<usize>, Query)),
    responses((status = 200, description = "BookingFeed"), (status = 401, body = super::error::ErrorBody)))]
pub async fn feed(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, HubError> {
    let hall = check_hall_id(path.into_inner())?;
    auth::hall_only(&request, &state, &hall).await?;
    let limit = query
        .limit
        .unwrap_or(MAX_BOOKINGS_PER_PULL)
        .clamp(1, MAX_BOOKINGS_PER_PULL);
    Ok(HttpResponse::Ok().json(bookings::feed(&state, &hall, query.after, limit).await?))
}

/// `POST /v1/halls/{id}/appointments/ack` (the hall).
#[utoipa::path(post, path = "/v1/halls/{id}/appointments/ack", tag = "halls", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Object, description = "BookingAck"),
    responses((status = 204), (status = 401, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn acknowledge(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
    body: web::Json<BookingAck>,
) -> Result<HttpResponse, HubError> {
    let hall = check_hall_id(path.into_inner())?;
    auth::hall_only(&request, &state, &hall).await?;
    bookings::acknowledge(&state, &hall, &body).await?;
    Ok(HttpResponse::NoContent().finish())
}
