//! The appointment API: slots, booking, cancelling, and check-in at the kiosk by code or by
//! phone number. Online and SMS bookings arrive the same way from the upstream platform.

use super::error::{ApiError, ErrorBody};
use super::{authorize, is_mobile_number, parse_date, TICKET_ROLES};
use crate::app::state::AppState;
use crate::auth::{Principal, Role};
use crate::views::{self, mask_phone, TicketView};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use hallq_core::jiff::Timestamp;
use hallq_core::{Appointment, BookingChannel, Command, DomainError, ServiceId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type Data = web::Data<AppState>;

#[derive(Serialize, ToSchema)]
pub struct SlotView {
    /// Local time with offset, e.g. 2026-11-30T09:00:00+08:00: pass it back as `start`.
    pub start: String,
    pub end: String,
    pub capacity: u32,
    pub booked: u32,
}

#[derive(Serialize, ToSchema)]
pub struct SlotsView {
    pub service: String,
    pub date: String,
    pub day_type: String,
    pub slots: Vec<SlotView>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotsQuery {
    service: String,
    date: String,
}

#[derive(Serialize, ToSchema)]
pub struct AppointmentView {
    /// Quote it at the kiosk to check in.
    pub code: String,
    pub service: String,
    pub service_name: String,
    pub start: String,
    pub end: String,
    /// onsite, phone, sms or online
    pub channel: String,
    /// booked, cancelled, checked_in or no_show
    pub status: String,
    pub phone_masked: String,
    pub name: Option<String>,
    pub ticket: Option<u64>,
}

fn local(state: &AppState, at: Timestamp) -> String {
    at.to_zoned(state.config.time_zone.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn appointment_view(state: &AppState, appointment: &Appointment) -> AppointmentView {
    AppointmentView {
        code: appointment.code.clone(),
        service: appointment.service.0.clone(),
        service_name: state
            .config
            .spec
            .services
            .iter()
            .find(|s| s.id == appointment.service)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        start: local(state, appointment.start),
        end: local(state, appointment.end),
        channel: appointment.channel.as_str().into(),
        status: appointment.status.as_str().into(),
        phone_masked: mask_phone(&appointment.phone),
        name: appointment.name.clone(),
        ticket: appointment.ticket.map(|t| t.0),
    }
}

/// A slot that does not exist or cannot be booked is a request that cannot be processed (422);
/// a full slot, a limit or a window is a conflict with the current state (409).
fn booking_error(error: hallq_engine::EngineError) -> ApiError {
    match error {
        hallq_engine::EngineError::Domain(
            domain @ (DomainError::SlotNotOffered(_)
            | DomainError::TooFarAhead(_)
            | DomainError::NotBookable(_)),
        ) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            domain.code(),
            domain.to_string(),
        ),
        other => other.into(),
    }
}

/// The slots of a service on a day, with their capacity and bookings.
#[utoipa::path(get, path = "/api/v1/appointments/slots", tag = "appointments",
    params(("service" = String, Query, description = "service id"), ("date" = String, Query, description = "YYYY-MM-DD")),
    responses((status = 200, body = SlotsView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn slots(
    state: Data,
    query: web::Query<SlotsQuery>,
) -> Result<web::Json<SlotsView>, ApiError> {
    let query = query.into_inner();
    let date = parse_date(&query.date)?;
    let service = ServiceId::new(query.service.clone());
    if !state.config.spec.services.iter().any(|s| s.id == service) {
        return Err(ApiError::not_found(format!(
            "there is no service '{}'",
            query.service
        )));
    }
    let horizon = i64::from(state.config.spec.appointment_rules.book_ahead_days);
    let now = state.clock.now();
    let (slots, today) = state
        .engine
        .view(|hall| (hall.slots(&service, date), hall.service_day_of(now)));
    let last = today
        .checked_add(hallq_core::jiff::Span::new().days(horizon))
        .unwrap_or(today);
    if date < today || date > last {
        return Err(ApiError::bad_request(
            "date_out_of_range",
            format!("slots can be looked up from {today} to {last}"),
        ));
    }
    Ok(web::Json(SlotsView {
        service: query.service,
        date: date.to_string(),
        day_type: state
            .config
            .spec
            .calendar
            .day(date)
            .day_type
            .as_str()
            .into(),
        slots: slots
            .into_iter()
            .map(|slot| SlotView {
                start: local(&state, slot.start),
                end: local(&state, slot.end),
                capacity: slot.capacity,
                booked: slot.booked,
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingRequest {
    pub service: String,
    /// A slot's `start` from /api/v1/appointments/slots (RFC 3339 with offset).
    pub start: String,
    /// onsite, phone, sms or online
    pub channel: String,
    pub phone: String,
    pub name: Option<String>,
}

const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Eight characters without look-alikes (0/O, 1/I): easy to read out on the phone.
fn new_code() -> String {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).expect("the operating system's random generator failed");
    bytes
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect()
}

/// Books a slot.
#[utoipa::path(post, path = "/api/v1/appointments", tag = "appointments", security(("bearer" = [])),
    request_body = BookingRequest,
    responses((status = 201, body = AppointmentView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn book(
    request: HttpRequest,
    state: Data,
    body: web::Json<BookingRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal: Principal = authorize(&request, &state, TICKET_ROLES)?;
    let body = body.into_inner();
    let channel = BookingChannel::parse(&body.channel).ok_or_else(|| {
        ApiError::bad_request("invalid_channel", "channel is onsite, phone, sms or online")
    })?;
    if principal.role == Role::Kiosk && channel != BookingChannel::Onsite {
        return Err(ApiError::forbidden("a kiosk books on site only"));
    }
    if !is_mobile_number(&body.phone) {
        return Err(ApiError::bad_request(
            "invalid_phone",
            "phone must be an 11-digit mainland mobile number",
        ));
    }
    if body
        .name
        .as_deref()
        .is_some_and(|n| n.chars().count() > 30 || n.chars().any(char::is_control))
    {
        return Err(ApiError::bad_request(
            "invalid_name",
            "the name is at most 30 characters",
        ));
    }
    let start: Timestamp = body.start.parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_start",
            "start is a slot's start as given by /api/v1/appointments/slots",
        )
    })?;
    let service = ServiceId::new(body.service);
    for _attempt in 0..3 {
        let command = Command::BookAppointment {
            code: new_code(),
            service: service.clone(),
            start,
            channel,
            phone: body.phone.clone(),
            name: body.name.clone(),
        };
        match state.engine.execute(command).await {
            Ok(executed) => {
                let Some(hallq_core::Event::AppointmentBooked { appointment }) =
                    executed.events.first().map(|p| &p.event)
                else {
                    return Err(ApiError::unavailable("the booking was not recorded"));
                };
                tracing::info!(code = %appointment.code, phone = %mask_phone(&appointment.phone), "appointment booked");
                return Ok(HttpResponse::Created().json(appointment_view(&state, appointment)));
            }
            Err(hallq_engine::EngineError::Domain(DomainError::AppointmentCodeInUse)) => continue,
            Err(error) => return Err(booking_error(error)),
        }
    }
    Err(ApiError::unavailable(
        "could not find a free appointment code; retry",
    ))
}

fn find(state: &AppState, code: &str) -> Result<Appointment, ApiError> {
    state
        .engine
        .view(|hall| hall.appointment(code).cloned())
        .ok_or_else(|| ApiError::not_found("there is no appointment with this code today or later"))
}

/// One appointment.
#[utoipa::path(get, path = "/api/v1/appointments/{code}", tag = "appointments", security(("bearer" = [])),
    responses((status = 200, body = AppointmentView), (status = 404, body = ErrorBody)))]
pub async fn get(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
) -> Result<web::Json<AppointmentView>, ApiError> {
    authorize(&request, &state, TICKET_ROLES)?;
    let appointment = find(&state, &path.into_inner())?;
    Ok(web::Json(appointment_view(&state, &appointment)))
}

/// Cancels a booking; its place is free again.
#[utoipa::path(delete, path = "/api/v1/appointments/{code}", tag = "appointments", security(("bearer" = [])),
    responses((status = 200, body = AppointmentView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
) -> Result<web::Json<AppointmentView>, ApiError> {
    authorize(&request, &state, TICKET_ROLES)?;
    let code = path.into_inner();
    state
        .engine
        .execute(Command::CancelAppointment { code: code.clone() })
        .await?;
    let appointment = find(&state, &code)?;
    Ok(web::Json(appointment_view(&state, &appointment)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneCheckIn {
    pub phone: String,
}

async fn check_in(
    request: &HttpRequest,
    state: &AppState,
    code: Option<String>,
    phone: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let principal = authorize(request, state, TICKET_ROLES)?;
    let kiosk = (principal.role == Role::Kiosk).then(|| principal.id.clone());
    let executed = state
        .engine
        .execute(Command::CheckIn {
            code,
            phone,
            token: crate::credentials::ticket_token(state.clock.now()),
            kiosk,
        })
        .await?;
    let ticket = executed
        .ticket
        .clone()
        .ok_or_else(|| ApiError::unavailable("the ticket was not found after check-in"))?;
    let mut view: TicketView = views::ticket_view(&state.config.spec, &ticket, executed.position);
    view.print = super::tickets::print_outcome(state, &executed, &ticket).await;
    Ok(HttpResponse::Created().json(view))
}

/// Checks in with the appointment code: an appointment-priority ticket.
#[utoipa::path(post, path = "/api/v1/appointments/{code}/check-in", tag = "appointments", security(("bearer" = [])),
    responses((status = 201, body = TicketView), (status = 404, body = ErrorBody), (status = 409, description = "too_early, too_late (take a walk-in ticket) or invalid_state", body = ErrorBody)))]
pub async fn check_in_by_code(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    check_in(&request, &state, Some(path.into_inner()), None).await
}

/// Checks in with the phone number the booking was made with.
#[utoipa::path(post, path = "/api/v1/appointments/check-in", tag = "appointments", security(("bearer" = [])),
    request_body = PhoneCheckIn,
    responses((status = 201, body = TicketView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn check_in_by_phone(
    request: HttpRequest,
    state: Data,
    body: web::Json<PhoneCheckIn>,
) -> Result<HttpResponse, ApiError> {
    let phone = body.into_inner().phone;
    if !is_mobile_number(&phone) {
        return Err(ApiError::bad_request(
            "invalid_phone",
            "phone must be an 11-digit mainland mobile number",
        ));
    }
    check_in(&request, &state, None, Some(phone)).await
}
