//! What a citizen's phone asks of the hub: the halls and their bookable services, the days and
//! slots with what is left of the online share, a code to confirm the phone, the booking, and
//! cancelling with the code and the phone. And the SMS gateway's inbound messages. No answer
//! here carries anybody's personal data but the caller's own booking.

use super::error::HubError;
use super::{check_hall_id, Data};
use crate::bookings::{self, BookingRequest};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use utoipa::ToSchema;

/// Refuses a client that asks too often (bookings, cancellations, codes).
fn limit(request: &HttpRequest, state: &Data) -> Result<(), HubError> {
    let address = request
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    state
        .citizen_limit
        .allow(&address, Instant::now())
        .map_err(|retry_after_s| {
            HubError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!("too many requests from this address; try again in {retry_after_s} s"),
            )
        })
}

#[derive(Serialize, ToSchema)]
pub struct PublicService {
    pub id: String,
    pub name: String,
    pub name_en: Option<String>,
    pub department: String,
    /// With the hall's `sms_number`, the code for SMS bookings (`YY 1A …`).
    pub prefix: String,
    pub materials: Vec<String>,
    /// Whether any of its slots has places for online and SMS bookings.
    pub online: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PublicHall {
    pub id: String,
    pub name: String,
    pub address: Option<String>,
    pub sms_number: i32,
    pub book_ahead_days: u32,
    pub services: Vec<PublicService>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicHalls {
    pub halls: Vec<PublicHall>,
}

/// Every hall that has told the hub its services, with what can be booked online.
#[utoipa::path(get, path = "/v1/public/halls", tag = "citizens",
    responses((status = 200, body = PublicHalls)))]
pub async fn halls(state: Data) -> Result<web::Json<PublicHalls>, HubError> {
    let client = state.pool.get().await?;
    let rows = client
        .query(
            "SELECT h.id, h.sms_number, p.profile::text FROM halls h
             JOIN hall_profiles p ON p.hall = h.id ORDER BY h.sms_number",
            &[],
        )
        .await?;
    let halls = rows
        .iter()
        .filter_map(|row| {
            let profile: hallq_protocol::HallProfile =
                serde_json::from_str(&row.get::<_, String>(2)).ok()?;
            let services = profile
                .services
                .iter()
                .map(|s| PublicService {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    name_en: s.name_en.clone(),
                    department: s.department.clone(),
                    prefix: s.prefix.clone(),
                    materials: s.materials.clone(),
                    online: profile
                        .plans
                        .iter()
                        .any(|p| p.service.as_str() == s.id && p.hub_share > 0),
                })
                .collect();
            Some(PublicHall {
                id: row.get(0),
                name: profile.name.clone(),
                address: profile.address.clone(),
                sms_number: row.get(1),
                book_ahead_days: profile.rules.book_ahead_days,
                services,
            })
        })
        .collect();
    Ok(web::Json(PublicHalls { halls }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaysQuery {
    service: String,
}

#[derive(Serialize, ToSchema)]
pub struct BookableDay {
    pub date: String,
    /// workday, weekend, holiday or makeup_workday
    pub day_type: String,
    /// The holiday's name (国庆节) on holidays and make-up days.
    pub name: Option<String>,
    /// Online places left that day.
    pub available: u32,
    /// Slots with an online share that day.
    pub slots: u32,
}

#[derive(Serialize, ToSchema)]
pub struct BookableDays {
    pub days: Vec<BookableDay>,
}

/// The days from today to the hall's horizon, with what is left of the online share.
#[utoipa::path(get, path = "/v1/halls/{id}/days", tag = "citizens",
    params(("id" = String, Path), ("service" = String, Query)),
    responses((status = 200, body = BookableDays), (status = 404, body = super::error::ErrorBody)))]
pub async fn days(
    state: Data,
    path: web::Path<String>,
    query: web::Query<DaysQuery>,
) -> Result<web::Json<BookableDays>, HubError> {
    let hall = check_hall_id(path.into_inner())?;
    let (profile, tz) = bookings::profile(&state, &hall).await?;
    if !profile.services.iter().any(|s| s.id == query.service) {
        return Err(HubError::not_found(format!(
            "the hall '{hall}' has no service '{}'",
            query.service
        )));
    }
    let now = hallq_core::jiff::Timestamp::now();
    let today = now.to_zoned(tz.clone()).date();
    let calendar = state.calendar();
    let mut days = Vec::new();
    for offset in 0..=i64::from(profile.rules.book_ahead_days.min(60)) {
        let Ok(date) = today.checked_add(hallq_core::jiff::Span::new().days(offset)) else {
            break;
        };
        let shares =
            bookings::share_of_slots(&state, &hall, &profile, &tz, &query.service, date).await?;
        let open: Vec<_> = shares
            .iter()
            .filter(|(slot, _)| slot.hub_share > 0 && slot.start > now)
            .collect();
        let day = calendar.day(date);
        days.push(BookableDay {
            date: date.to_string(),
            day_type: day.day_type.as_str().into(),
            name: day.name,
            available: open
                .iter()
                .map(|(slot, booked)| slot.hub_share.saturating_sub(*booked))
                .sum(),
            slots: open.len() as u32,
        });
    }
    Ok(web::Json(BookableDays { days }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneCheckRequest {
    pub phone: String,
}

/// Sends a six-digit code to a phone, to be quoted when booking.
#[utoipa::path(post, path = "/v1/phone-checks", tag = "citizens", request_body = PhoneCheckRequest,
    responses((status = 202), (status = 400, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 429, body = super::error::ErrorBody)))]
pub async fn phone_check(
    request: HttpRequest,
    state: Data,
    body: web::Json<PhoneCheckRequest>,
) -> Result<HttpResponse, HubError> {
    limit(&request, &state)?;
    if !hallq_privacy::is_mobile_number(&body.phone) {
        return Err(HubError::bad_request(
            "invalid_phone",
            "phone must be an 11-digit mainland mobile number",
        ));
    }
    crate::phone_checks::send_code(&state, &body.phone).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({"expires_in_s": 300})))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CitizenBooking {
    pub hall: String,
    pub service: String,
    /// A slot's `start` from `/v1/halls/{id}/slots`.
    pub start: String,
    pub phone: String,
    /// The code sent to `phone` by `POST /v1/phone-checks`.
    pub phone_code: String,
    pub name: Option<String>,
    /// The resident ID number (optional): with it, the card checks the booking in at the hall.
    pub id_number: Option<String>,
}

/// A citizen books a place of the online share; the code comes back here and by SMS.
#[utoipa::path(post, path = "/v1/book", tag = "citizens", request_body = CitizenBooking,
    responses((status = 201), (status = 400, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody),
        (status = 429, body = super::error::ErrorBody)))]
pub async fn book(
    request: HttpRequest,
    state: Data,
    body: web::Json<CitizenBooking>,
) -> Result<HttpResponse, HubError> {
    limit(&request, &state)?;
    let body = body.into_inner();
    let hall = check_hall_id(body.hall)?;
    if !hallq_privacy::is_mobile_number(&body.phone) {
        return Err(HubError::bad_request(
            "invalid_phone",
            "phone must be an 11-digit mainland mobile number",
        ));
    }
    crate::phone_checks::confirm(&state, &body.phone, &body.phone_code).await?;
    let booking = bookings::book(
        &state,
        &hall,
        &BookingRequest {
            service: body.service,
            start: body.start,
            channel: "online".into(),
            phone: body.phone.clone(),
            name: body.name,
            id_number: body.id_number,
        },
        hallq_core::jiff::Timestamp::now(),
    )
    .await?;
    if let Some(gateway) = &state.sms {
        gateway
            .send(&body.phone, &booking.confirmation(), "booking")
            .await;
    }
    Ok(HttpResponse::Created().json(booking))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CitizenCancel {
    pub code: String,
    pub phone: String,
}

/// A citizen cancels their booking with its code and the phone it was made with.
#[utoipa::path(post, path = "/v1/book/cancel", tag = "citizens", request_body = CitizenCancel,
    responses((status = 200), (status = 404, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody), (status = 429, body = super::error::ErrorBody)))]
pub async fn cancel(
    request: HttpRequest,
    state: Data,
    body: web::Json<CitizenCancel>,
) -> Result<HttpResponse, HubError> {
    limit(&request, &state)?;
    let code = body.code.trim().to_uppercase();
    if !hallq_protocol::is_hub_code(&code) || !hallq_privacy::is_mobile_number(&body.phone) {
        return Err(HubError::not_found(
            "there is no booking with this code for this phone",
        ));
    }
    let booking = bookings::cancel_by_citizen(&state, &code, &body.phone).await?;
    Ok(HttpResponse::Ok().json(booking))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundSms {
    /// The sender's mobile number.
    pub from: String,
    pub text: String,
}

/// The SMS gateway posts a citizen's message; the answer (also sent by SMS) is in `reply`.
#[utoipa::path(post, path = "/v1/sms/inbound", tag = "citizens", request_body = InboundSms,
    security(("bearer" = [])),
    responses((status = 200), (status = 401, body = super::error::ErrorBody), (status = 409, body = super::error::ErrorBody)))]
pub async fn inbound_sms(
    request: HttpRequest,
    state: Data,
    body: web::Json<InboundSms>,
) -> Result<HttpResponse, HubError> {
    let Some(expected) = &state.sms_inbound_token else {
        return Err(HubError::conflict(
            "sms_booking_off",
            "this hub takes no SMS bookings: start it with --sms-inbound-token",
        ));
    };
    let presented = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let same = hallq_privacy::secrets::hash_token(presented)
        == hallq_privacy::secrets::hash_token(expected);
    if !same {
        return Err(HubError::unauthorized(
            "the gateway's inbound token is wrong",
        ));
    }
    if !hallq_privacy::is_mobile_number(&body.from) {
        return Err(HubError::bad_request(
            "invalid_phone",
            "from must be an 11-digit mainland mobile number",
        ));
    }
    let reply = crate::sms::inbound::handle(&state, &body.from, &body.text).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "reply": reply })))
}
