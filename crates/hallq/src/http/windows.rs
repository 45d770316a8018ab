//! The window console's actions: call the next ticket, recall, no-show, requeue, transfer,
//! complete, pause, resume. Staff act on the window they signed in to; managers on any.

use super::error::{ApiError, ErrorBody};
use super::{actor, authorize, json_body, require_window, Data, WINDOW_ROLES};
use crate::app::state::AppState;
use crate::views::{self, TicketView, WindowView};
use actix_web::{web, HttpRequest, HttpResponse};
use hallq_core::{Command, ServiceId, WindowId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct TicketEnvelope {
    pub ticket: TicketView,
    /// The ticket call-next completed before calling, if the window had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed: Option<TicketView>,
}

#[derive(Serialize, ToSchema)]
pub struct WindowEnvelope {
    pub window: WindowView,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The service whose queue the ticket moves to; it keeps its number.
    pub service: String,
}

/// 特呼: which waiting ticket to call out of turn — the number the citizen holds, as staff
/// type it, or the id from the waiting list. Exactly one of the two.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallRequest {
    /// The printed number (A012).
    #[serde(default)]
    pub number: Option<String>,
    /// The ticket's id.
    #[serde(default)]
    pub ticket: Option<u64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequeueRequest {
    /// The no-show ticket to put back in its queue.
    pub ticket: u64,
}

/// One window as the console shows it.
#[utoipa::path(get, path = "/api/v1/windows/{id}", tag = "windows",
    params(("id" = String, Path, description = "window id")),
    responses((status = 200, body = WindowEnvelope), (status = 404, body = ErrorBody)))]
pub async fn get_window(
    state: Data,
    path: web::Path<String>,
) -> Result<web::Json<WindowEnvelope>, ApiError> {
    let view = window_answer(&state, WindowId::new(path.into_inner()))?;
    Ok(web::Json(view))
}

/// A window as it stands now, committed state.
fn window_answer(state: &AppState, id: WindowId) -> Result<WindowEnvelope, ApiError> {
    state
        .engine
        .view(|hall| {
            let spec = hall.spec().windows.iter().find(|w| w.id == id)?;
            Some(views::window_view(hall, spec, hall.window(&id)?))
        })
        .map(|window| WindowEnvelope { window })
        .ok_or_else(|| ApiError::not_found("there is no such window in this hall"))
}

/// The window actions, all `POST /api/v1/windows/{id}/{action}`.
#[utoipa::path(post, path = "/api/v1/windows/{id}/{action}", tag = "windows",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "window id"),
        ("action" = String, Path, description = "call-next, call (特呼: a given number), recall, no-show, requeue, transfer, complete, pause or resume")),
    request_body(content = Option<TransferRequest>, description = "transfer: {\"service\"}; call: {\"number\"} or {\"ticket\"} (CallRequest); requeue: {\"ticket\"}; others: no body"),
    responses((status = 200, description = "{\"ticket\": …} or, for pause/resume, {\"window\": …}", body = TicketEnvelope),
        (status = 204, description = "call-next: nobody is waiting for this window"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn window_action(
    request: HttpRequest,
    state: Data,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (window, action) = path.into_inner();
    let principal = authorize(&request, &state, WINDOW_ROLES)?;
    let window = WindowId::new(window);
    if !state.config().spec.windows.iter().any(|w| w.id == window) {
        return Err(ApiError::not_found(format!(
            "there is no window '{window}' in this hall"
        )));
    }
    require_window(&principal, &window)?;
    // The staff number goes with the completed visit, for its rating (never the name).
    let staff = Some(principal.id.clone());
    let command = match action.as_str() {
        "call-next" => Command::CallNext { window, staff },
        "recall" => Command::Recall { window },
        "no-show" => Command::NoShow { window },
        "complete" => Command::Complete { window, staff },
        "pause" => Command::Pause { window },
        "resume" => Command::Resume { window },
        "transfer" => {
            let body: TransferRequest = json_body(&body)?;
            Command::Transfer {
                window,
                service: ServiceId::new(body.service),
            }
        }
        "call" => {
            let body: CallRequest = json_body(&body)?;
            let ticket = match (body.number, body.ticket) {
                (Some(number), None) => ticket_by_number(&state, &window, &number)?,
                (None, Some(id)) => super::tickets::ticket_id(id)?,
                _ => {
                    return Err(ApiError::bad_request(
                        "invalid_ticket_number",
                        "give the ticket to call as {\"number\": \"A012\"} or {\"ticket\": id}",
                    ))
                }
            };
            Command::CallTicket {
                window,
                ticket,
                staff,
            }
        }
        "requeue" => {
            let body: RequeueRequest = json_body(&body)?;
            Command::Requeue {
                window,
                ticket: super::tickets::ticket_id(body.ticket)?,
            }
        }
        other => {
            return Err(ApiError::not_found(format!(
                "there is no window action '{other}': use call-next, call, recall, no-show, \
                 requeue, transfer, complete, pause or resume"
            )))
        }
    };
    let is_call = matches!(
        command,
        Command::CallNext { .. } | Command::CallTicket { .. }
    );
    // Pause and resume answer with the window, the others with the ticket.
    let target = match &command {
        Command::Pause { window } | Command::Resume { window } => Some(window.clone()),
        _ => None,
    };
    let executed = state
        .engine
        .execute_as(command, actor(&principal, &request, &state))
        .await?;
    if let Some(window) = target {
        return Ok(HttpResponse::Ok().json(window_answer(&state, window)?));
    }
    let completed = if is_call {
        completed_view(&state, &executed)
    } else {
        None
    };
    match executed.ticket {
        Some(ticket) => Ok(HttpResponse::Ok().json(TicketEnvelope {
            ticket: views::ticket_view(&state.config().spec, &ticket, executed.position),
            completed,
        })),
        None if is_call => Ok(HttpResponse::NoContent().finish()),
        None => Err(ApiError::unavailable(
            "the ticket was not found after the change",
        )),
    }
}

/// The ticket a call-next completed first, if it did.
fn completed_view(state: &AppState, executed: &hallq_engine::Executed) -> Option<TicketView> {
    let id = executed
        .events
        .iter()
        .find_map(|published| match &published.event {
            hallq_core::Event::TicketCompleted { ticket, .. } => Some(*ticket),
            _ => None,
        })?;
    let ticket = state.engine.view(|hall| hall.ticket(id).cloned())?;
    Some(views::ticket_view(&state.config().spec, &ticket, None))
}

/// The ticket a window means by a printed number: a waiting one of its own services first,
/// then any waiting one, then the newest of that number (so that the core's refusal says
/// why — already called, or not this window's service). 404 when no ticket has that number.
fn ticket_by_number(
    state: &AppState,
    window: &WindowId,
    number: &str,
) -> Result<hallq_core::TicketId, ApiError> {
    let number = number.trim().to_ascii_uppercase();
    if number.is_empty() || number.len() > 12 || !number.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(ApiError::bad_request(
            "invalid_ticket_number",
            "a ticket number is letters and digits as printed, e.g. A012",
        ));
    }
    let served = state
        .config()
        .spec
        .windows
        .iter()
        .find(|w| &w.id == window)
        .map(|w| w.services.clone())
        .unwrap_or_default();
    state
        .engine
        .view(|hall| {
            hall.tickets()
                .filter(|ticket| ticket.number == number)
                .min_by_key(|ticket| {
                    (
                        ticket.status != hallq_core::TicketStatus::Waiting,
                        !served.contains(&ticket.service),
                        std::cmp::Reverse(ticket.id),
                    )
                })
                .map(|ticket| ticket.id)
        })
        .ok_or_else(|| {
            ApiError::new(
                actix_web::http::StatusCode::NOT_FOUND,
                "unknown_ticket",
                format!("no ticket numbered {number} is open in this hall today"),
            )
        })
}

/// One ticket the window could call, as its console lists it: numbers only.
#[derive(Serialize, ToSchema)]
pub struct WaitingEntry {
    pub id: u64,
    /// The printed number (A012).
    pub number: String,
    pub service: String,
    pub service_name: String,
    /// green, appointment or walk_in
    pub priority: String,
    /// Seconds since it joined the queue.
    pub waited_s: u64,
}

/// The ticket a window is serving, as its own staff see it.
#[derive(Serialize, ToSchema)]
pub struct ServingTicket {
    pub id: u64,
    pub number: String,
    /// The citizen's phone, masked (138****8000), when the ticket has one.
    pub phone_masked: Option<String>,
    /// The ID card the ticket was taken or checked in with, masked (1101**********002X): the
    /// one place a card's number is shown, to the staff serving that citizen.
    pub id_masked: Option<String>,
}

/// Who is waiting for a window, in the order it would call them.
#[derive(Serialize, ToSchema)]
pub struct WaitingList {
    pub window: String,
    /// The ticket being served now, if any.
    pub current: Option<ServingTicket>,
    /// Everyone waiting in the window's services (the list shows the first `limit`).
    pub total: usize,
    pub waiting: Vec<WaitingEntry>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WaitingQuery {
    /// How many to list, 1–200 (30 when not given).
    pub limit: Option<usize>,
}

/// The window's waiting list (staff of the window, managers): the tickets it could call, in
/// call order, with their class and wait. No phone, token or name.
#[utoipa::path(get, path = "/api/v1/windows/{id}/waiting", tag = "windows",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "window id"), WaitingQuery),
    responses((status = 200, body = WaitingList), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn waiting(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
    query: web::Query<WaitingQuery>,
) -> Result<web::Json<WaitingList>, ApiError> {
    let principal = authorize(&request, &state, WINDOW_ROLES)?;
    let window = WindowId::new(path.into_inner());
    let config = state.config();
    let Some(spec) = config.spec.windows.iter().find(|w| w.id == window) else {
        return Err(ApiError::not_found(format!(
            "there is no window '{window}' in this hall"
        )));
    };
    require_window(&principal, &window)?;
    let limit = query.limit.unwrap_or(30);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("invalid_query", "limit is 1 to 200"));
    }
    let now = state.clock.now();
    let (total, waiting, current) = state.engine.view(|hall| {
        let current = hall
            .window(&window)
            .and_then(|w| w.current)
            .and_then(|id| hall.ticket(id))
            .map(|ticket| ServingTicket {
                id: ticket.id.0,
                number: ticket.number.clone(),
                phone_masked: ticket.contact.as_ref().map(|c| c.masked.clone()),
                id_masked: ticket.id_card.as_ref().map(|c| c.masked.clone()),
            });
        let total = spec
            .services
            .iter()
            .map(|service| hall.waiting_count(service))
            .sum();
        let listed = hall
            .waiting_for_window(&window, now, limit)
            .into_iter()
            .filter_map(|id| hall.ticket(id))
            .map(|ticket| WaitingEntry {
                id: ticket.id.0,
                number: ticket.number.clone(),
                service: ticket.service.to_string(),
                service_name: views::service_name(&config.spec, &ticket.service),
                priority: ticket.priority.as_str().into(),
                waited_s: u64::try_from((now - ticket.queued_at).get_seconds()).unwrap_or(0),
            })
            .collect();
        (total, listed, current)
    });
    Ok(web::Json(WaitingList {
        window: window.to_string(),
        current,
        total,
        waiting,
    }))
}
