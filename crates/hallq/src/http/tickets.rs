//! Tickets: issue (the kiosk's one big button), look up, cancel, reprint.

use super::error::{ApiError, ErrorBody};
use super::{actor, authorize, is_mobile_number, json_body, Data, TICKET_ROLES};
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
    /// 实名取号: the reference of the ID card just laid on this kiosk's reader, from the
    /// kiosk's stream (kiosks only). The ticket is counted against that person's daily limit,
    /// and a citizen of green-channel age gets the green channel.
    pub card: Option<String>,
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
    // A kiosk issues as itself; staff may name a configured kiosk (a ticket taken for a
    // citizen, printed there).
    let kiosk = match (&body.kiosk, principal.role) {
        (Some(kiosk), Role::Kiosk) if *kiosk != principal.id => {
            return Err(ApiError::forbidden("a kiosk issues tickets as itself"))
        }
        (_, Role::Kiosk) => Some(principal.id.clone()),
        (Some(kiosk), _) => {
            let known = state
                .config()
                .devices
                .iter()
                .any(|d| d.id == *kiosk && d.kind == crate::config::DeviceKind::Kiosk);
            if !known {
                return Err(ApiError::bad_request(
                    "invalid_kiosk",
                    format!("there is no kiosk '{kiosk}' in this hall"),
                ));
            }
            Some(kiosk.clone())
        }
        (None, _) => None,
    };
    if principal.role == Role::Kiosk {
        if let Err(wait) = state
            .issue_limit
            .allow(&principal.id, std::time::Instant::now())
        {
            return Err(ApiError::too_many(
                "kiosk_busy",
                format!("this kiosk has issued too many tickets in the last minute: try again in {wait} s"),
                wait,
            ));
        }
    }
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
            // Keys belong to their caller: one device's key never finds another's ticket.
            Some(format!("{}:{key}", principal.id))
        }
    };
    let contact = body
        .phone
        .as_deref()
        .map(|phone| state.privacy.phone(phone));
    let card = match &body.card {
        None => None,
        Some(_) if principal.role != Role::Kiosk => {
            return Err(ApiError::forbidden(
                "an ID card is read by a kiosk's own reader: only that kiosk may use it",
            ))
        }
        Some(reference) => Some(card_read(&state, &principal.id, reference)?),
    };
    // A citizen of the hall's green-channel age gets it without asking.
    let priority = match &card {
        Some(read) if read.green_by_age => PriorityClass::Green,
        _ => priority,
    };
    let executed = state
        .engine
        .execute_as(
            Command::IssueTicket(IssueTicket {
                service: ServiceId::new(body.service),
                priority,
                channel,
                contact,
                id_card: card.map(|read| read.id_card),
                kiosk,
                token: crate::credentials::ticket_token(state.clock.now()),
                idempotency_key,
            }),
            actor(&principal, &request, &state),
        )
        .await?;
    let retry = executed.events.is_empty();
    let ticket = executed
        .ticket
        .clone()
        .ok_or_else(|| ApiError::unavailable("the ticket was not found after issuing"))?;
    let now = state.clock.now();
    let forecast = crate::app::state::forecast_of(&state.engine, ticket.id, now);
    let mut view = views::ticket_view(&state.config().spec, &ticket, executed.position)
        .with_forecast(forecast);
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

/// The card read `reference` held for `kiosk`; a clear refusal when it is gone (taken too
/// long ago, or another card was laid on since).
pub fn card_read(
    state: &crate::app::state::AppState,
    kiosk: &str,
    reference: &str,
) -> Result<crate::followers::id_readers::CardRead, ApiError> {
    state.id_cards.card(kiosk, reference).ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "card_read_gone",
            "the ID card read is no longer held (too long ago, or another card was read since): \
             lay the card on the reader again",
        )
    })
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
    let principal = authorize(&request, &state, TICKET_ROLES)?;
    let id = ticket_id(path.into_inner())?;
    let now = state.clock.now();
    let live = state.engine.view(|hall| {
        hall.ticket(id)
            .cloned()
            .map(|t| (t, hall.position(id, now), hall.forecast_plan_for(id, now)))
    });
    let live = live.map(|(ticket, position, plan)| (ticket, position, plan.forecast(id)));
    let (ticket, position, forecast) = match live {
        Some(found) => found,
        // History is for staff; a kiosk reaches only its own recent tickets.
        None if principal.role == Role::Kiosk => {
            return Err(ApiError::not_found(format!("there is no ticket {id}")))
        }
        None => {
            let stored = state.readers.ticket(id).await?;
            (
                stored.ok_or_else(|| ApiError::not_found(format!("there is no ticket {id}")))?,
                None,
                None,
            )
        }
    };
    within_reach(&state, &principal, &ticket)?;
    Ok(web::Json(
        views::ticket_view(&state.config().spec, &ticket, position).with_forecast(forecast),
    ))
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
    let principal = authorize(&request, &state, TICKET_ROLES)?;
    let id = ticket_id(path.into_inner())?;
    if principal.role == Role::Kiosk {
        let ticket = state
            .engine
            .view(|hall| hall.ticket(id).cloned())
            .ok_or_else(|| ApiError::not_found(format!("there is no ticket {id}")))?;
        within_reach(&state, &principal, &ticket)?;
    }
    let executed = state
        .engine
        .execute_as(
            Command::Cancel { ticket: id },
            actor(&principal, &request, &state),
        )
        .await?;
    ticket_answer(&state, executed)
}

/// A kiosk acts only on tickets it issued itself, for a while after: not on anyone else's
/// (walking ticket ids), nor on its own of yesterday. Others may act on any ticket. Out of
/// reach is "not found": a kiosk learns nothing of other tickets.
fn within_reach(
    state: &AppState,
    principal: &crate::auth::Principal,
    ticket: &hallq_core::Ticket,
) -> Result<(), ApiError> {
    if principal.role != Role::Kiosk {
        return Ok(());
    }
    let reach = hallq_core::jiff::SignedDuration::from_mins(i64::from(
        state.config().security.kiosk_ticket_reach_minutes,
    ));
    let own = ticket.kiosk.as_deref() == Some(principal.id.as_str());
    let recent = ticket.issued_at + reach >= state.clock.now();
    if own && recent {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "there is no ticket {}",
            ticket.id
        )))
    }
}

/// A citizen gives up their own ticket, with its status-page token (from the QR code).
#[utoipa::path(post, path = "/api/v1/t/{token}/cancel", tag = "tickets",
    params(("token" = String, Path, description = "the token from the ticket's QR code")),
    responses((status = 200, body = super::public::CitizenTicketView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_by_token(
    state: Data,
    path: web::Path<String>,
) -> Result<web::Json<super::public::CitizenTicketView>, ApiError> {
    let token = path.into_inner();
    let not_found = || ApiError::not_found("there is no ticket with this code");
    if !super::public::is_token(&token) {
        return Err(not_found());
    }
    let id = state
        .engine
        .view(|hall| hall.ticket_by_token(&token).map(|t| t.id))
        .ok_or_else(not_found)?;
    state.engine.execute(Command::Cancel { ticket: id }).await?;
    super::public::citizen_ticket(&state, token)
        .await?
        .map(web::Json)
        .ok_or_else(not_found)
}

/// Warns a citizen whose estimated wait runs past the service's closing for walk-ins. The
/// schedule is configuration: no read of the hall's state is needed.
fn closing_warning(
    state: &AppState,
    ticket: &hallq_core::Ticket,
    position: Option<(usize, u64)>,
) -> Option<String> {
    let (_, wait_s) = position?;
    // The running hall's calendar (years fetched from the hub included), under the read lock.
    let closes_at = state
        .engine
        .view(|hall| {
            let spec = hall.spec();
            spec.schedule.availability(
                &spec.calendar,
                &state.config().time_zone,
                &ticket.service,
                ticket.issued_at,
            )
        })
        .closes_at?;
    let expected = ticket
        .issued_at
        .checked_add(hallq_core::jiff::SignedDuration::from_secs(wait_s as i64))
        .ok()?;
    (expected > closes_at).then(|| {
        let local = closes_at.to_zoned(state.config().time_zone.clone()).strftime("%H:%M").to_string();
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
            .wait(job, printer, state.config().ticket.print_wait)
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
    within_reach(&state, &principal, &ticket)?;
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
        .execute_as(
            Command::RequestReprint {
                ticket: id,
                printer: printer.clone(),
            },
            actor(&principal, &request, &state),
        )
        .await?;
    let mut view = views::ticket_view(&state.config().spec, &ticket, executed.position);
    if let Some(job) = executed.events.first().map(|published| published.seq) {
        view.print = Some(
            state
                .printing
                .wait(job, &printer, state.config().ticket.print_wait)
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
    let now = state.clock.now();
    let forecast = crate::app::state::forecast_of(&state.engine, ticket.id, now);
    Ok(web::Json(
        views::ticket_view(&state.config().spec, &ticket, executed.position)
            .with_forecast(forecast),
    ))
}
