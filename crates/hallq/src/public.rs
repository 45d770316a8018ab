//! What anyone in the hall may see, without credentials: the TV board's data and a citizen's
//! own ticket by its unguessable token. Numbers, services and windows only — never phones.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::web;
use hallq_core::{Hall, Ticket};
use serde::Serialize;
use utoipa::ToSchema;

/// How many calls the board lists.
const BOARD_CALLS: usize = 10;

#[derive(Serialize, ToSchema)]
pub struct BoardCall {
    pub number: String,
    pub window: String,
    /// The window's short name ("3号窗口").
    pub window_name: String,
    pub service_name: String,
    pub called_at: Option<String>,
    pub status: String,
    pub recalls: u32,
}

#[derive(Serialize, ToSchema)]
pub struct BoardQueue {
    pub service: String,
    pub name: String,
    pub name_en: Option<String>,
    pub waiting: usize,
    pub wait_s_estimate: u64,
}

#[derive(Serialize, ToSchema)]
pub struct BoardView {
    pub hall: String,
    pub notice: String,
    pub service_day: Option<String>,
    /// Newest first.
    pub calls: Vec<BoardCall>,
    pub queues: Vec<BoardQueue>,
}

#[derive(Serialize, ToSchema)]
pub struct CitizenTicketView {
    pub hall: String,
    pub number: String,
    pub service_name: String,
    /// waiting, called, completed, no_show, cancelled or expired
    pub status: String,
    pub priority: String,
    pub ahead: Option<usize>,
    pub wait_s_estimate: Option<u64>,
    pub window_name: Option<String>,
    pub issued_at: String,
    pub called_at: Option<String>,
    pub recalls: u32,
}

fn window_name(hall_spec: &hallq_core::HallSpec, window: &hallq_core::WindowId) -> String {
    hall_spec
        .windows
        .iter()
        .find(|w| &w.id == window)
        .map(|w| w.call_name().to_owned())
        .unwrap_or_else(|| window.0.clone())
}

fn service_name(hall_spec: &hallq_core::HallSpec, ticket: &Ticket) -> String {
    hall_spec
        .services
        .iter()
        .find(|s| s.id == ticket.service)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| ticket.service.0.clone())
}

fn board_view(hall: &Hall, now: hallq_core::jiff::Timestamp, notice: &str) -> BoardView {
    let spec = hall.spec();
    BoardView {
        hall: spec.name.clone(),
        notice: notice.to_owned(),
        service_day: hall.day().map(|d| d.to_string()),
        calls: hall
            .recent_calls(BOARD_CALLS)
            .into_iter()
            .map(|t| BoardCall {
                number: t.number.clone(),
                window: t.window.as_ref().map(|w| w.0.clone()).unwrap_or_default(),
                window_name: t
                    .window
                    .as_ref()
                    .map(|w| window_name(spec, w))
                    .unwrap_or_default(),
                service_name: service_name(spec, t),
                called_at: t.called_at.map(|at| at.to_string()),
                status: t.status.as_str().into(),
                recalls: t.recalls,
            })
            .collect(),
        queues: spec
            .services
            .iter()
            .zip(hall.queue_stats(now))
            .map(|(service, stats)| BoardQueue {
                service: service.id.0.clone(),
                name: service.name.clone(),
                name_en: service.name_en.clone(),
                waiting: stats.waiting,
                wait_s_estimate: stats.wait_s_estimate,
            })
            .collect(),
    }
}

/// The TV board's state: recent calls and waiting counts.
#[utoipa::path(get, path = "/api/v1/board", tag = "calling", responses((status = 200, body = BoardView)))]
pub async fn board(state: web::Data<AppState>) -> Result<web::Json<BoardView>, ApiError> {
    let notice = state.config.calling.board_notice.clone();
    Ok(web::Json(
        state
            .engine
            .read(move |hall, now| board_view(hall, now, &notice))
            .await?,
    ))
}

/// Tokens are 32 lowercase hex digits; anything else is not looked up at all.
pub fn is_token(token: &str) -> bool {
    token.len() == 32
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A citizen's ticket by its token, or `None`.
pub async fn citizen_ticket(
    state: &AppState,
    token: String,
) -> Result<Option<CitizenTicketView>, ApiError> {
    if !is_token(&token) {
        return Ok(None);
    }
    let lookup = token.clone();
    let live = state
        .engine
        .read(move |hall, now| {
            hall.ticket_by_token(&lookup)
                .cloned()
                .map(|t| (hall.position(t.id, now), t))
        })
        .await?;
    let (position, ticket) = match live {
        Some(found) => found,
        None => match state
            .readers
            .with(move |store| store.ticket_by_token(&token))
            .await?
        {
            Some(ticket) => (None, ticket),
            None => return Ok(None),
        },
    };
    let spec = &state.config.spec;
    Ok(Some(CitizenTicketView {
        hall: spec.name.clone(),
        number: ticket.number.clone(),
        service_name: service_name(spec, &ticket),
        status: ticket.status.as_str().into(),
        priority: ticket.priority.as_str().into(),
        ahead: position.map(|(ahead, _)| ahead),
        wait_s_estimate: position.map(|(_, wait)| wait),
        window_name: ticket.window.as_ref().map(|w| window_name(spec, w)),
        issued_at: ticket.issued_at.to_string(),
        called_at: ticket.called_at.map(|at| at.to_string()),
        recalls: ticket.recalls,
    }))
}

/// A citizen's own ticket, by the token in its QR code.
#[utoipa::path(get, path = "/api/v1/t/{token}", tag = "calling",
    params(("token" = String, Path, description = "the token from the ticket's QR code")),
    responses((status = 200, body = CitizenTicketView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn ticket_by_token(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<CitizenTicketView>, ApiError> {
    citizen_ticket(&state, path.into_inner())
        .await?
        .map(web::Json)
        .ok_or_else(|| ApiError::not_found("there is no ticket with this code"))
}
