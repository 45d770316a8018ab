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
        ("action" = String, Path, description = "call-next, recall, no-show, requeue, transfer, complete, pause or resume")),
    request_body(content = Option<TransferRequest>, description = "transfer: {\"service\"}; requeue: {\"ticket\"}; others: no body"),
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
        "requeue" => {
            let body: RequeueRequest = json_body(&body)?;
            Command::Requeue {
                window,
                ticket: super::tickets::ticket_id(body.ticket)?,
            }
        }
        other => {
            return Err(ApiError::not_found(format!(
                "there is no window action '{other}': use call-next, recall, no-show, requeue, \
                 transfer, complete, pause or resume"
            )))
        }
    };
    let is_call = matches!(command, Command::CallNext { .. });
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
