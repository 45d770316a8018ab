//! Tickets: issue (the kiosk's one big button), look up, cancel, reprint.

use super::error::{ApiError, ErrorBody};
use super::{authorize, is_mobile_number, json_body, Data, TICKET_ROLES};
use crate::app::state::AppState;
use crate::auth::Role;
use crate::followers::printing::PrintReport;
use crate::views::{self, TicketView};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use hallq_core::{Channel, Command, IssueTicket, PriorityClass, ServiceId, TicketId};
use serde::Deserialize;
use utoipa::ToSchema;

/// A ticket id from a path: ids beyond any ticket's are simply not found.
pub(crate) fn ticket_id(raw: u64) -> Result<TicketId, ApiError> {
    if raw > i64::MAX as u64 {
        return Err(ApiError::not_found(format!("there is no ticket {raw}")));
    }
    Ok(TicketId(raw))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// A service id from GET /api/v1/hall.
    pub service: String,
    /// kiosk, staff (guided service at a desk) or online.
    #[serde(default = "default_channel")]
    pub channel: String,
    /// normal, or green for the green channel (elderly, disabled, pregnant).
    #[serde(default = "default_priority")]
    pub priority: String,
    /// A mainland mobile number for SMS calling.
    pub phone: Option<String>,
    /// The issuing kiosk; defaults to the calling kiosk device.
    pub kiosk: Option<String>,
}

fn default_channel() -> String {
    "kiosk".into()
}

fn default_priority() -> String {
    "normal".into()
}

const IDEMPOTENCY_KEY_MAX: usize = 100;

/// Takes a number. With an `Idempotency-Key` header a retry on the same day returns the same
/// ticket instead of a second one.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe key, at most 100 printable ASCII characters")),
    request_body = IssueRequest,
    responses((status = 201, body = TicketView), (status = 200, description = "an idempotent retry: the ticket issued first", body = TicketView),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 507, body = ErrorBody)))]
pub async fn issue_ticket(
    request: HttpRequest,
    state: Data,
    body: web::Json<IssueRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = authorize(&request, &state, TICKET_ROLES)?;
    let body = body.into_inner();
    let channel = match body.channel.as_str() {
        "kiosk" | "staff" | "online" => Channel::parse(&body.channel).unwrap_or(Channel::Kiosk),
        other => {
            return Err(ApiError::bad_request(
                "invalid_channel",
                format!("channel '{other}' is not one of kiosk, staff, online"),
            ))
        }
    };
    let priority = match body.priority.as_str() {
        "normal" => PriorityClass::WalkIn,
        "green" => PriorityClass::Green,
        other => {
            return Err(ApiError::bad_request(
                "invalid_priority",
                format!(
                    "priority '{other}' is not one of normal, green (appointments get theirs at check-in)"
                ),
            ))
        }
    };
    if let Some(phone) = &body.phone {
        if !is_mobile_number(phone) {
            return Err(ApiError::bad_request(
                "invalid_phone",
                "phone must be an 11-digit mainland mobile number such as 13800138000",
            ));
        }
    }
    let kiosk = match (&body.kiosk, principal.role) {
        (Some(kiosk), _) if !hallq_core::is_valid_id(kiosk) => {
            return Err(ApiError::bad_request(
                "invalid_kiosk",
                "kiosk must be a device id",
            ))
        }
        (Some(kiosk), _) => Some(kiosk.clone()),
        (None, Role::Kiosk) => Some(principal.id.clone()),
        (None, _) => None,
    };
    let idempotency_key = match request.headers().get("Idempotency-Key") {
        None => None,
        Some(value) => {
            let key = value.to_str().ok().map(str::trim).unwrap_or("");
            if key.is_empty()
                || key.len() > IDEMPOTENCY_KEY_MAX
                || !key.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1-100 printable ASCII characters without spaces",
                ));
            }
            Some(key.to_owned())
        }
    };
    let executed = state
        .engine
        .execute(Command::IssueTicket(IssueTicket {
            service: ServiceId::new(body.service),
            priority,
            channel,
            phone: body.phone,
            kiosk,
            token: crate::credentials::ticket_token(state.clock.now()),
            idempotency_key,
        }))
        .await?;
    let retry = executed.events.is_empty();
    let ticket = executed
        .ticket
        .clone()
        .ok_or_else(|| ApiError::unavailable("the ticket was not found after issuing"))?;
    let mut view = views::ticket_view(&state.config.spec, &ticket, executed.position);
    view.warning = closing_warning(&state, &ticket, executed.position);
    // A retry does not print again (the first answer may have been lost after printing);
    // the kiosk asks for a reprint when it needs one.
    if !retry {
        view.print = print_outcome(&state, &executed, &ticket).await;
    }
    let status = if retry {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(HttpResponse::build(status)
        .insert_header(("Location", format!("/api/v1/tickets/{}", ticket.id)))
        .json(view))
}

/// One ticket, today's or from history.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "ticket id")),
    responses((status = 200, body = TicketView), (status = 404, body = ErrorBody)))]
pub async fn get_ticket(
    request: HttpRequest,
    state: Data,
    path: web::Path<u64>,
) -> Result<web::Json<TicketView>, ApiError> {
    authorize(&request, &state, TICKET_ROLES)?;
    let id = ticket_id(path.into_inner())?;
    let now = state.clock.now();
    let live = state.engine.view(|hall| {
        hall.ticket(id)
            .cloned()
            .map(|t| (t, hall.position(id, now)))
    });
    let (ticket, position) = match live {
        Some(found) => found,
        None => {
            let stored = state.readers.ticket(id).await?;
            (
                stored.ok_or_else(|| ApiError::not_found(format!("there is no ticket {id}")))?,
                None,
            )
        }
    };
    Ok(web::Json(views::ticket_view(
        &state.config.spec,
        &ticket,
        position,
    )))
}

/// Gives up a waiting ticket (the citizen left, or the kiosk was mistaken).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/cancel", tag = "tickets",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "ticket id")),
    responses((status = 200, body = TicketView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_ticket(
    request: HttpRequest,
    state: Data,
    path: web::Path<u64>,
) -> Result<web::Json<TicketView>, ApiError> {
    authorize(&request, &state, TICKET_ROLES)?;
    let executed = state
        .engine
        .execute(Command::Cancel {
            ticket: ticket_id(path.into_inner())?,
        })
        .await?;
    ticket_answer(&state, executed)
}

/// Warns a citizen whose estimated wait runs past the service's closing for walk-ins. The
/// schedule is configuration: no read of the hall's state is needed.
fn closing_warning(
    state: &AppState,
    ticket: &hallq_core::Ticket,
    position: Option<(usize, u64)>,
) -> Option<String> {
    let (_, wait_s) = position?;
    let spec = &state.config.spec;
    let closes_at = spec
        .schedule
        .availability(
            &spec.calendar,
            &state.config.time_zone,
            &ticket.service,
            ticket.issued_at,
        )
        .closes_at?;
    let expected = ticket
        .issued_at
        .checked_add(hallq_core::jiff::SignedDuration::from_secs(wait_s as i64))
        .ok()?;
    (expected > closes_at).then(|| {
        let local = closes_at.to_zoned(state.config.time_zone.clone()).strftime("%H:%M").to_string();
        format!("该事项今日 {local} 停止取号办理，您的预计等候时间可能超过；请留意叫号或改日/预约办理。This service stops at {local}; your wait may run past it.")
    })
}

/// How the print job of a just-issued ticket went, if its kiosk has a printer: waits for the
/// printing follower at most the configured time, then says `pending`.
pub(crate) async fn print_outcome(
    state: &AppState,
    executed: &hallq_engine::Executed,
    ticket: &hallq_core::Ticket,
) -> Option<PrintReport> {
    let printer = ticket
        .kiosk
        .as_deref()
        .and_then(|kiosk| state.printing.for_kiosk(kiosk))?;
    let job = executed.events.iter().find_map(|published| {
        matches!(&published.event, hallq_core::Event::TicketIssued { .. }).then_some(published.seq)
    })?;
    Some(
        state
            .printing
            .wait(job, printer, state.config.ticket.print_wait)
            .await,
    )
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReprintRequest {
    /// Which printer; a kiosk's own printer by default.
    pub printer: Option<String>,
}

/// Prints a waiting or called ticket again (the first copy jammed, or never came out).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/reprint", tag = "tickets",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "ticket id")),
    request_body(content = Option<ReprintRequest>),
    responses((status = 200, body = TicketView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reprint_ticket(
    request: HttpRequest,
    state: Data,
    path: web::Path<u64>,
    body: web::Bytes,
) -> Result<web::Json<TicketView>, ApiError> {
    let principal = authorize(&request, &state, TICKET_ROLES)?;
    let body: ReprintRequest = if body.is_empty() {
        ReprintRequest::default()
    } else {
        json_body(&body)?
    };
    let id = ticket_id(path.into_inner())?;
    let ticket = state
        .engine
        .view(|hall| hall.ticket(id).cloned())
        .ok_or_else(|| ApiError::not_found(format!("there is no ticket {id} open today")))?;
    if ticket.status.is_final() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_state",
            format!(
                "ticket {} is {} and needs no paper",
                ticket.number,
                ticket.status.as_str()
            ),
        ));
    }
    let printer = match (&body.printer, principal.role) {
        (Some(printer), _) => printer.clone(),
        (None, Role::Kiosk) => state
            .printing
            .for_kiosk(&principal.id)
            .ok_or_else(|| {
                ApiError::bad_request("no_printer", "this kiosk has no printer configured")
            })?
            .to_owned(),
        (None, _) => ticket
            .kiosk
            .as_deref()
            .and_then(|kiosk| state.printing.for_kiosk(kiosk))
            .ok_or_else(|| {
                ApiError::bad_request("no_printer", "name the printer: {\"printer\": ID}")
            })?
            .to_owned(),
    };
    if !state.printing.exists(&printer) {
        return Err(ApiError::not_found(format!(
            "there is no printer '{printer}' in this hall"
        )));
    }
    let executed = state
        .engine
        .execute(Command::RequestReprint {
            ticket: id,
            printer: printer.clone(),
        })
        .await?;
    let mut view = views::ticket_view(&state.config.spec, &ticket, executed.position);
    if let Some(job) = executed.events.first().map(|published| published.seq) {
        view.print = Some(
            state
                .printing
                .wait(job, &printer, state.config.ticket.print_wait)
                .await,
        );
    }
    Ok(web::Json(view))
}

fn ticket_answer(
    state: &AppState,
    executed: hallq_engine::Executed,
) -> Result<web::Json<TicketView>, ApiError> {
    let ticket = executed
        .ticket
        .clone()
        .ok_or_else(|| ApiError::unavailable("the ticket was not found after the change"))?;
    Ok(web::Json(views::ticket_view(
        &state.config.spec,
        &ticket,
        executed.position,
    )))
}
