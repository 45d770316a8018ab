//! The appointment API: slots, booking, cancelling, and check-in at the kiosk by code or by
//! phone number. Online and SMS bookings arrive the same way from the upstream platform.

use super::error::{ApiError, ErrorBody};
use super::{actor, authorize, is_mobile_number, parse_date, TICKET_ROLES};
use crate::app::state::AppState;
use crate::auth::{Principal, Role};
use crate::views::{self, TicketView};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use hallq_core::jiff::Timestamp;
use hallq_core::{Appointment, BookingChannel, CheckInBy, Command, DomainError, ServiceId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type Data = web::Data<AppState>;

#[derive(Serialize, ToSchema)]
pub struct SlotView {
    /// Local time with offset, e.g. 2026-11-30T09:00:00+08:00: pass it back as `start`.
    pub start: String,
    pub end: String,
    /// The hall's share of the slot (on-site and phone bookings) …
    pub capacity: u32,
    /// … and how much of it is booked.
    pub booked: u32,
    /// The city hub's share (online and SMS bookings), and how much of it the hall has heard of.
    pub hub_capacity: u32,
    pub hub_booked: u32,
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
    /// The booker's ID card, masked, for staff (null otherwise, or when none was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_masked: Option<String>,
    pub ticket: Option<u64>,
}

fn local(state: &AppState, at: Timestamp) -> String {
    at.to_zoned(state.config().time_zone.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// An appointment as the API shows it; the booker's name only to staff and managers.
fn appointment_view(
    state: &AppState,
    appointment: &Appointment,
    principal: &Principal,
) -> AppointmentView {
    let staff = principal.is_any(&[Role::Staff, Role::Manager, Role::Admin]);
    AppointmentView {
        code: appointment.code.clone(),
        service: appointment.service.0.clone(),
        service_name: state
            .config()
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
        phone_masked: appointment.contact.masked.clone(),
        name: if staff {
            appointment
                .name_sealed
                .as_deref()
                .and_then(|sealed| state.privacy.open(sealed))
        } else {
            None
        },
        id_masked: appointment
            .id_card
            .as_ref()
            .filter(|_| staff)
            .map(|card| card.masked.clone()),
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
    if !state.config().spec.services.iter().any(|s| s.id == service) {
        return Err(ApiError::not_found(format!(
            "there is no service '{}'",
            query.service
        )));
    }
    let horizon = i64::from(state.config().spec.appointment_rules.book_ahead_days);
    let now = state.clock.now();
    let (slots, today, day_type) = state.engine.view(|hall| {
        (
            hall.slots(&service, date),
            hall.service_day_of(now),
            hall.spec().calendar.day(date).day_type,
        )
    });
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
        day_type: day_type.as_str().into(),
        slots: slots
            .into_iter()
            .map(|slot| SlotView {
                start: local(&state, slot.start),
                end: local(&state, slot.end),
                capacity: slot.capacity,
                booked: slot.booked,
                hub_capacity: slot.hub_capacity,
                hub_booked: slot.hub_booked,
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
    /// onsite or phone (online and SMS bookings are taken by the city's hub)
    pub channel: String,
    pub phone: String,
    pub name: Option<String>,
    /// The code sent to `phone` by `POST /api/v1/phone-checks`: required when a kiosk books,
    /// so that nobody books with a number that is not theirs.
    pub phone_code: Option<String>,
    /// The citizen's resident ID number (staff and managers, booking for a citizen): kept as a
    /// keyed hash and a mask only, so that the card checks the booking in at a kiosk.
    pub id_number: Option<String>,
}

const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const CODE_DIGITS: &[u8] = b"23456789";

/// Eight characters without look-alikes (0/O, 1/I): easy to read out on the phone. A hall's
/// codes start with a digit, the hub's with a letter, so the two never collide.
fn new_code() -> String {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).expect("the operating system's random generator failed");
    bytes
        .iter()
        .enumerate()
        .map(|(index, b)| {
            let alphabet = if index == 0 {
                CODE_DIGITS
            } else {
                CODE_ALPHABET
            };
            alphabet[usize::from(*b) % alphabet.len()] as char
        })
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
    if channel.books_at_hub() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "booked_at_hub",
            "online and SMS bookings are taken by the city's hub from its share of each slot; \
             book here on site or by phone",
        ));
    }
    if principal.role == Role::Kiosk && channel != BookingChannel::Onsite {
        return Err(ApiError::forbidden("a kiosk books on site only"));
    }
    if !is_mobile_number(&body.phone) {
        return Err(ApiError::bad_request(
            "invalid_phone",
            "phone must be an 11-digit mainland mobile number",
        ));
    }
    let id_card = match body.id_number.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(_) if principal.role == Role::Kiosk => {
            return Err(ApiError::forbidden(
                "a kiosk does not take ID numbers typed in: the card on its reader checks in",
            ))
        }
        Some(typed) => match crate::privacy::id_number(typed) {
            Some(number) => Some(state.privacy.id_card(&number)),
            None => {
                return Err(ApiError::bad_request(
                    "invalid_id_number",
                    "the ID number is 18 characters, the last a digit or X, as on the card",
                ))
            }
        },
    };
    let contact = state.privacy.phone(&body.phone);
    if principal.role == Role::Kiosk {
        confirm_phone(&state, &contact.key, body.phone_code.as_deref())?;
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
            contact: contact.clone(),
            name_sealed: body.name.as_deref().map(|name| state.privacy.seal(name)),
            id_card: id_card.clone(),
        };
        match state
            .engine
            .execute_as(command, actor(&principal, &request, &state))
            .await
        {
            Ok(executed) => {
                let Some(hallq_core::Event::AppointmentBooked { appointment }) =
                    executed.events.first().map(|p| &p.event)
                else {
                    return Err(ApiError::unavailable("the booking was not recorded"));
                };
                tracing::info!(
                    code = %hallq_core::mask_code(&appointment.code),
                    phone = %appointment.contact.masked,
                    "appointment booked"
                );
                return Ok(HttpResponse::Created().json(appointment_view(
                    &state,
                    appointment,
                    &principal,
                )));
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
    params(("code" = String, Path, description = "the booking code")),
    responses((status = 200, body = AppointmentView), (status = 404, body = ErrorBody)))]
pub async fn get(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
) -> Result<web::Json<AppointmentView>, ApiError> {
    let principal = authorize(&request, &state, TICKET_ROLES)?;
    let appointment = find(&state, &path.into_inner())?;
    Ok(web::Json(appointment_view(
        &state,
        &appointment,
        &principal,
    )))
}

/// Cancels a booking; its place is free again.
#[utoipa::path(delete, path = "/api/v1/appointments/{code}", tag = "appointments", security(("bearer" = [])),
    params(("code" = String, Path, description = "the booking code")),
    responses((status = 200, body = AppointmentView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
) -> Result<web::Json<AppointmentView>, ApiError> {
    let principal = authorize(&request, &state, TICKET_ROLES)?;
    let code = path.into_inner();
    state
        .engine
        .execute_as(
            Command::CancelAppointment { code: code.clone() },
            actor(&principal, &request, &state),
        )
        .await?;
    let appointment = find(&state, &code)?;
    Ok(web::Json(appointment_view(
        &state,
        &appointment,
        &principal,
    )))
}

/// Checks a phone check's code, answering in the error form when it does not confirm.
fn confirm_phone(state: &AppState, key: &str, code: Option<&str>) -> Result<(), ApiError> {
    use crate::phone_checks::ConfirmError;
    let Some(code) = code else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "phone_code_required",
            "confirm the phone first: POST /api/v1/phone-checks sends a code by SMS, quote it as \
             phone_code",
        ));
    };
    state
        .phone_checks
        .confirm(key, code, std::time::Instant::now())
        .map_err(|error| match error {
            ConfirmError::NoCode => ApiError::new(
                StatusCode::FORBIDDEN,
                "phone_code_expired",
                "no valid code for this phone: ask for a new one",
            ),
            ConfirmError::Wrong(left) => ApiError::new(
                StatusCode::FORBIDDEN,
                "phone_code_wrong",
                format!("the code is not right; {left} tries left"),
            ),
        })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneCheckRequest {
    pub phone: String,
}

#[derive(Serialize, ToSchema)]
pub struct PhoneCheckView {
    /// The code is valid this long.
    pub expires_in_s: u64,
}

/// Sends a six-digit code to a phone by SMS, to confirm the number before booking with it at a
/// kiosk. Needs the hall's SMS gateway.
#[utoipa::path(post, path = "/api/v1/phone-checks", tag = "appointments", security(("bearer" = [])),
    request_body = PhoneCheckRequest,
    responses((status = 202, body = PhoneCheckView), (status = 400, body = ErrorBody),
        (status = 409, description = "phone_check_unavailable: the hall has no SMS gateway", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn phone_check(
    request: HttpRequest,
    state: Data,
    body: web::Json<PhoneCheckRequest>,
) -> Result<HttpResponse, ApiError> {
    use crate::phone_checks::CheckError;
    let principal = authorize(&request, &state, TICKET_ROLES)?;
    let phone = body.into_inner().phone;
    if !is_mobile_number(&phone) {
        return Err(ApiError::bad_request(
            "invalid_phone",
            "phone must be an 11-digit mainland mobile number",
        ));
    }
    let Some(gateway) = &state.sms_gateway else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "phone_check_unavailable",
            "this hall sends no SMS: book at a window or online",
        ));
    };
    // A kiosk's codes count against its check-ins: nobody sends SMS to strangers in bulk.
    if principal.role == Role::Kiosk {
        if let Err(wait) = state
            .check_in_limit
            .allow(&principal.id, std::time::Instant::now())
        {
            return Err(ApiError::too_many(
                "kiosk_busy",
                format!("too many attempts at this kiosk: try again in {wait} s"),
                wait,
            ));
        }
    }
    let key = state.privacy.match_key(crate::privacy::Kind::Phone, &phone);
    let code = state
        .phone_checks
        .new_code(&key, std::time::Instant::now())
        .map_err(|error| match error {
            CheckError::TooSoon(wait) => ApiError::too_many(
                "phone_check_too_soon",
                format!("a code was sent to this phone a moment ago; a new one in {wait} s"),
                wait,
            ),
            CheckError::Busy => ApiError::unavailable("too many codes waiting; retry shortly"),
        })?;
    let text = format!(
        "【{}】您的预约验证码为 {code}，5 分钟内有效。如非本人操作请忽略。",
        state.config().spec.name
    );
    let message = crate::followers::sms::Message {
        ticket: None,
        number: "phone check".into(),
        purpose: "phone_check",
        phone,
        text,
    };
    if gateway.send(message).is_err() {
        return Err(ApiError::unavailable(
            "the SMS gateway is busy; retry shortly",
        ));
    }
    Ok(HttpResponse::Accepted().json(PhoneCheckView { expires_in_s: 300 }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneCheckIn {
    pub phone: String,
    /// The booking code's last four characters: required at a kiosk, so that a phone number
    /// alone tells nobody whether it has a booking.
    pub code_suffix: Option<String>,
}

async fn check_in(
    request: &HttpRequest,
    state: &AppState,
    by: CheckInBy,
) -> Result<HttpResponse, ApiError> {
    let principal = authorize(request, state, TICKET_ROLES)?;
    let kiosk = (principal.role == Role::Kiosk).then(|| principal.id.clone());
    if let Some(kiosk) = &kiosk {
        if let Err(wait) = state.check_in_limit.allow(kiosk, std::time::Instant::now()) {
            return Err(ApiError::too_many(
                "kiosk_busy",
                format!("too many check-in attempts at this kiosk: try again in {wait} s"),
                wait,
            ));
        }
    }
    let executed = state
        .engine
        .execute_as(
            Command::CheckIn {
                by,
                token: crate::credentials::ticket_token(state.clock.now()),
                kiosk,
            },
            actor(&principal, request, state),
        )
        .await?;
    let ticket = executed
        .ticket
        .clone()
        .ok_or_else(|| ApiError::unavailable("the ticket was not found after check-in"))?;
    let now = state.clock.now();
    let forecast = crate::app::state::forecast_of(&state.engine, ticket.id, now);
    let mut view: TicketView = views::ticket_view(&state.config().spec, &ticket, executed.position)
        .with_forecast(forecast);
    view.print = super::tickets::print_outcome(state, &executed, &ticket).await;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardCheckIn {
    /// The reference of the ID card just laid on this kiosk's reader, from its stream.
    pub card: String,
}

/// Checks in today's booking made with the ID card just laid on this kiosk's reader (kiosks
/// only: the card on the reader is the proof, no code is asked for).
#[utoipa::path(post, path = "/api/v1/appointments/check-in-by-card", tag = "appointments", security(("bearer" = [])),
    request_body = CardCheckIn,
    responses((status = 201, body = TicketView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "card_read_gone, too_early, too_late or invalid_state", body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn check_in_by_card(
    request: HttpRequest,
    state: Data,
    body: web::Json<CardCheckIn>,
) -> Result<HttpResponse, ApiError> {
    let principal = authorize(&request, &state, &[Role::Kiosk])?;
    let read = super::tickets::card_read(&state, &principal.id, &body.card)?;
    check_in(
        &request,
        &state,
        CheckInBy::IdCard {
            key: read.id_card.key,
        },
    )
    .await
}

/// Checks in with the appointment code: an appointment-priority ticket.
#[utoipa::path(post, path = "/api/v1/appointments/{code}/check-in", tag = "appointments", security(("bearer" = [])),
    params(("code" = String, Path, description = "the booking code")),
    responses((status = 201, body = TicketView), (status = 404, body = ErrorBody), (status = 409, description = "too_early, too_late (take a walk-in ticket) or invalid_state", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn check_in_by_code(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = path.into_inner();
    if code.is_empty() || code.len() > 32 {
        return Err(ApiError::not_found(
            "there is no appointment with this code",
        ));
    }
    check_in(&request, &state, CheckInBy::Code(code)).await
}

/// Checks in with the phone number the booking was made with (and, at a kiosk, the booking
/// code's last four characters).
#[utoipa::path(post, path = "/api/v1/appointments/check-in", tag = "appointments", security(("bearer" = [])),
    request_body = PhoneCheckIn,
    responses((status = 201, body = TicketView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn check_in_by_phone(
    request: HttpRequest,
    state: Data,
    body: web::Json<PhoneCheckIn>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if !is_mobile_number(&body.phone) {
        return Err(ApiError::bad_request(
            "invalid_phone",
            "phone must be an 11-digit mainland mobile number",
        ));
    }
    let principal = authorize(&request, &state, TICKET_ROLES)?;
    let code_suffix = match (principal.role, body.code_suffix) {
        (Role::Kiosk, None) => {
            return Err(ApiError::bad_request(
                "code_suffix_required",
                "at a kiosk, give the booking code's last four characters with the phone",
            ))
        }
        (_, suffix) => suffix.map(|s| s.trim().to_ascii_uppercase()),
    };
    if code_suffix.as_ref().is_some_and(|s| s.len() != 4) {
        return Err(ApiError::bad_request(
            "invalid_code_suffix",
            "give the booking code's last four characters",
        ));
    }
    let key = state
        .privacy
        .match_key(crate::privacy::Kind::Phone, &body.phone);
    check_in(&request, &state, CheckInBy::Contact { key, code_suffix }).await
}
