//! The JSON API under `/api/v1`. Handlers authenticate, validate, send one command or query to
//! the engine and shape the answer; they decide nothing about queues themselves.

use crate::auth::{random_token, Principal, Role, SessionInfo, SignInError};
use crate::error::{ApiError, ErrorBody};
use crate::printing::{PrintReport, PrinterView};
use crate::state::AppState;
use crate::views::{self, HallView, QueuesView, StatsView, TicketView, WindowView};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use hallq_core::{Channel, Command, IssueTicket, PriorityClass, ServiceId, TicketId, WindowId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type Data = web::Data<AppState>;

/// The caller, or 401.
pub fn caller(request: &HttpRequest, state: &AppState) -> Result<Principal, ApiError> {
    let header = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(ApiError::unauthorized)?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or_else(ApiError::unauthorized)?;
    state
        .auth
        .authenticate(token.trim(), state.clock.now())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the token is unknown or the session has expired: sign in again",
            )
        })
}

/// Roles that may issue, look up and cancel tickets.
pub const TICKET_ROLES: &[Role] = &[Role::Kiosk, Role::Staff, Role::Manager, Role::Admin];
/// Roles that may operate windows (staff only their own) and read the day's figures.
const WINDOW_ROLES: &[Role] = &[Role::Staff, Role::Manager, Role::Admin];

/// The caller, if it holds one of `roles`; 401 or 403 otherwise.
pub fn authorize(
    request: &HttpRequest,
    state: &AppState,
    roles: &[Role],
) -> Result<Principal, ApiError> {
    let principal = caller(request, state)?;
    require(&principal, roles)?;
    Ok(principal)
}

fn require(principal: &Principal, roles: &[Role]) -> Result<(), ApiError> {
    if principal.is_any(roles) {
        Ok(())
    } else {
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ApiError::forbidden(format!(
            "a {} may not do this; allowed: {}",
            principal.role.as_str(),
            allowed.join(", ")
        )))
    }
}

fn require_window(principal: &Principal, window: &WindowId) -> Result<(), ApiError> {
    if principal.may_operate(window) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{} is signed in to {} and may not operate window '{window}'",
            principal.id,
            principal
                .window
                .as_ref()
                .map(|w| format!("window '{w}'"))
                .unwrap_or_else(|| "no window".into())
        )))
    }
}

// ---- hall and queues ----------------------------------------------------------------------

/// The hall: services with their open state and queue, windows with their current ticket.
#[utoipa::path(get, path = "/api/v1/hall", tag = "hall",
    responses((status = 200, body = HallView)))]
pub async fn hall(state: Data) -> Result<web::Json<HallView>, ApiError> {
    let zone = state.config.time_zone_name.clone();
    let view = state
        .engine
        .read(move |hall, now| views::hall_view(hall, &hall.queue_stats(now), &zone, now))
        .await?;
    Ok(web::Json(view))
}

/// Waiting count, oldest wait and estimate per service.
#[utoipa::path(get, path = "/api/v1/queues", tag = "hall",
    responses((status = 200, body = QueuesView)))]
pub async fn queues(state: Data) -> Result<web::Json<QueuesView>, ApiError> {
    let view = state
        .engine
        .read(|hall, now| QueuesView {
            services: hall
                .queue_stats(now)
                .iter()
                .map(|stats| views::queue_view(hall.spec(), stats))
                .collect(),
        })
        .await?;
    Ok(web::Json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    format: Option<String>,
}

/// Today's figures per service, per window and per hour (staff, managers); `?format=csv` for
/// the day's report.
#[utoipa::path(get, path = "/api/v1/stats/today", tag = "hall",
    security(("bearer" = [])),
    params(("format" = Option<String>, Query, description = "json (default) or csv")),
    responses((status = 200, body = StatsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn stats_today(
    request: HttpRequest,
    state: Data,
    query: web::Query<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &state, WINDOW_ROLES)?;
    let staff = state.auth.staff_at_windows(state.clock.now());
    let view = state
        .engine
        .read(move |hall, now| views::stats_view(hall, &hall.queue_stats(now), &staff))
        .await?;
    match query.into_inner().format.as_deref().unwrap_or("json") {
        "json" => Ok(HttpResponse::Ok().json(view)),
        "csv" => {
            let mut text = String::from(
                "\u{feff}事项,取号,叫号,办结,过号,等候中,最长等候(秒),平均办理(秒)\r\n",
            );
            for s in &view.services {
                text.push_str(&format!(
                    "{},{},{},{},{},{},{},{}\r\n",
                    s.name,
                    s.issued,
                    s.called,
                    s.completed,
                    s.no_show,
                    s.waiting,
                    s.oldest_wait_s,
                    s.average_service_s
                ));
            }
            let t = &view.totals;
            text.push_str(&format!(
                "合计,{},{},{},{},{},,\r\n",
                t.issued, t.called, t.completed, t.no_show, t.waiting
            ));
            Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    "Content-Disposition",
                    format!(
                        "attachment; filename=\"hallq-{}.csv\"",
                        view.service_day.unwrap_or_default()
                    ),
                ))
                .body(text))
        }
        _ => Err(ApiError::bad_request(
            "invalid_format",
            "format is json or csv",
        )),
    }
}

// ---- tickets ------------------------------------------------------------------------------

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

/// A mainland China mobile number: 11 digits starting 13–19.
pub fn is_mobile_number(phone: &str) -> bool {
    phone.len() == 11
        && phone.bytes().all(|b| b.is_ascii_digit())
        && phone.starts_with('1')
        && matches!(phone.as_bytes()[1], b'3'..=b'9')
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
            token: random_token(),
            idempotency_key,
        }))
        .await?;
    let retry = executed.events.is_empty();
    let ticket = executed
        .ticket
        .ok_or_else(|| ApiError::unavailable("the ticket was not found after issuing"))?;
    let mut view = views::ticket_view(&state.config.spec, &ticket, executed.position);
    view.warning = closing_warning(&state, &ticket, executed.position).await;
    // A retry does not print again (the first answer may have been lost after printing);
    // the kiosk asks for a reprint when it needs one.
    if !retry {
        if let Some(printer) = ticket
            .kiosk
            .as_deref()
            .and_then(|k| state.printers.for_kiosk(k))
        {
            view.print = Some(print_and_record(&state, printer, &ticket, executed.position).await);
        }
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
    let id = TicketId(path.into_inner());
    let live = state
        .engine
        .read(move |hall, now| {
            hall.ticket(id)
                .cloned()
                .map(|t| (t, hall.position(id, now)))
        })
        .await?;
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
            ticket: TicketId(path.into_inner()),
        })
        .await?;
    ticket_answer(&state, executed)
}

/// Warns a citizen whose estimated wait runs past the service's closing for walk-ins.
async fn closing_warning(
    state: &AppState,
    ticket: &hallq_core::Ticket,
    position: Option<(usize, u64)>,
) -> Option<String> {
    let (_, wait_s) = position?;
    let service = ticket.service.clone();
    let closes_at = state
        .engine
        .read(move |hall, now| hall.availability(&service, now).closes_at)
        .await
        .ok()??;
    let expected = ticket
        .issued_at
        .checked_add(hallq_core::jiff::SignedDuration::from_secs(wait_s as i64))
        .ok()?;
    (expected > closes_at).then(|| {
        let local = closes_at.to_zoned(state.config.time_zone.clone()).strftime("%H:%M").to_string();
        format!("该事项今日 {local} 停止取号办理，您的预计等候时间可能超过；请留意叫号或改日/预约办理。This service stops at {local}; your wait may run past it.")
    })
}

/// Prints a ticket; a failure is recorded as an event so managers see it.
async fn print_and_record(
    state: &AppState,
    printer: &str,
    ticket: &hallq_core::Ticket,
    position: Option<(usize, u64)>,
) -> PrintReport {
    let report = state.printers.print(printer, ticket, position).await;
    if report.status == "failed" {
        let command = Command::RecordPrintFailure {
            ticket: ticket.id,
            printer: printer.to_owned(),
            condition: report.condition.clone().unwrap_or_default(),
            reason: report.message.clone().unwrap_or_default(),
        };
        if let Err(error) = state.engine.execute(command).await {
            tracing::warn!(%error, "cannot record a print failure");
        }
    }
    report
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
    let id = TicketId(path.into_inner());
    let (ticket, position) = state
        .engine
        .read(move |hall, now| {
            hall.ticket(id)
                .cloned()
                .map(|t| (t, hall.position(id, now)))
        })
        .await?
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
            .printers
            .for_kiosk(&principal.id)
            .ok_or_else(|| {
                ApiError::bad_request("no_printer", "this kiosk has no printer configured")
            })?
            .to_owned(),
        (None, _) => ticket
            .kiosk
            .as_deref()
            .and_then(|kiosk| state.printers.for_kiosk(kiosk))
            .ok_or_else(|| {
                ApiError::bad_request("no_printer", "name the printer: {\"printer\": ID}")
            })?
            .to_owned(),
    };
    if !state.printers.exists(&printer) {
        return Err(ApiError::not_found(format!(
            "there is no printer '{printer}' in this hall"
        )));
    }
    let mut view = views::ticket_view(&state.config.spec, &ticket, position);
    view.print = Some(print_and_record(&state, &printer, &ticket, position).await);
    Ok(web::Json(view))
}

#[derive(Serialize, ToSchema)]
pub struct DeviceView {
    pub id: String,
    /// kiosk or display
    pub kind: String,
    pub name: String,
    pub printer: Option<String>,
    /// Seconds since it last called the API; null when not since the daemon started.
    pub last_seen_s: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DevicesView {
    pub printers: Vec<PrinterView>,
    pub displays: Vec<crate::calling::DisplayView>,
    pub devices: Vec<DeviceView>,
}

/// Printers with their condition, kiosks and displays with when they were last heard from.
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices",
    security(("bearer" = [])),
    responses((status = 200, body = DevicesView), (status = 401, body = ErrorBody)))]
pub async fn devices(
    request: HttpRequest,
    state: Data,
) -> Result<web::Json<DevicesView>, ApiError> {
    authorize(
        &request,
        &state,
        &[
            Role::Kiosk,
            Role::Display,
            Role::Staff,
            Role::Manager,
            Role::Admin,
        ],
    )?;
    let now = state.clock.now();
    let seen: std::collections::HashMap<String, Option<hallq_core::jiff::Timestamp>> = state
        .auth
        .device_health()
        .into_iter()
        .map(|(id, _, seen)| (id, seen))
        .collect();
    Ok(web::Json(DevicesView {
        printers: state.printers.views(),
        displays: state.displays.views(),
        devices: state
            .config
            .devices
            .iter()
            .map(|device| DeviceView {
                id: device.id.clone(),
                kind: if device.kind == crate::config::DeviceKind::Kiosk {
                    "kiosk"
                } else {
                    "display"
                }
                .into(),
                name: device.name.clone(),
                printer: device.printer.clone(),
                last_seen_s: seen
                    .get(&device.id)
                    .copied()
                    .flatten()
                    .map(|t| (now.as_second() - t.as_second()).max(0)),
            })
            .collect(),
    }))
}

fn ticket_answer(
    state: &AppState,
    executed: hallq_engine::Executed,
) -> Result<web::Json<TicketView>, ApiError> {
    let ticket = executed
        .ticket
        .ok_or_else(|| ApiError::unavailable("the ticket was not found after the change"))?;
    Ok(web::Json(views::ticket_view(
        &state.config.spec,
        &ticket,
        executed.position,
    )))
}

// ---- windows ------------------------------------------------------------------------------

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
    let view = window_answer(&state, WindowId::new(path.into_inner())).await?;
    Ok(web::Json(view))
}

/// A window as it stands now, committed state.
async fn window_answer(state: &AppState, id: WindowId) -> Result<WindowEnvelope, ApiError> {
    state
        .engine
        .read(move |hall, _| {
            let spec = hall.spec().windows.iter().find(|w| w.id == id)?;
            Some(views::window_view(hall, spec, hall.window(&id)?))
        })
        .await?
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
    if !state.config.spec.windows.iter().any(|w| w.id == window) {
        return Err(ApiError::not_found(format!(
            "there is no window '{window}' in this hall"
        )));
    }
    require_window(&principal, &window)?;
    let command = match action.as_str() {
        "call-next" => Command::CallNext { window },
        "recall" => Command::Recall { window },
        "no-show" => Command::NoShow { window },
        "complete" => Command::Complete { window },
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
                ticket: TicketId(body.ticket),
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
    let executed = state.engine.execute(command).await?;
    if let Some(window) = target {
        return Ok(HttpResponse::Ok().json(window_answer(&state, window).await?));
    }
    let completed = if is_call {
        completed_view(&state, &executed).await?
    } else {
        None
    };
    match executed.ticket {
        Some(ticket) => Ok(HttpResponse::Ok().json(TicketEnvelope {
            ticket: views::ticket_view(&state.config.spec, &ticket, executed.position),
            completed,
        })),
        None if is_call => Ok(HttpResponse::NoContent().finish()),
        None => Err(ApiError::unavailable(
            "the ticket was not found after the change",
        )),
    }
}

/// The ticket a call-next completed first, if it did.
async fn completed_view(
    state: &AppState,
    executed: &hallq_engine::Executed,
) -> Result<Option<TicketView>, ApiError> {
    let Some(id) = executed
        .events
        .iter()
        .find_map(|published| match &published.event {
            hallq_core::Event::TicketCompleted { ticket, .. } => Some(*ticket),
            _ => None,
        })
    else {
        return Ok(None);
    };
    let ticket = state
        .engine
        .read(move |hall, _| hall.ticket(id).cloned())
        .await?;
    Ok(ticket.map(|t| views::ticket_view(&state.config.spec, &t, None)))
}

/// Parses an action's JSON body with the same errors as the extractor gives.
fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("the request body is not valid: {e}"),
        )
    })
}

// ---- sessions -----------------------------------------------------------------------------

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The staff id from the hall configuration.
    pub staff: String,
    pub pin: String,
    /// The window to work at (required for window staff).
    pub window: Option<String>,
}

/// Staff and managers sign in with their PIN and get a bearer token.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions",
    request_body = SignInRequest,
    responses((status = 201, body = SessionInfo), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn sign_in(
    state: Data,
    body: web::Json<SignInRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.staff.len() > 64 || body.pin.len() > 64 {
        return Err(ApiError::bad_request(
            "invalid_credentials",
            "staff id and PIN are at most 64 characters",
        ));
    }
    let now = state.clock.now();
    let app = state.clone();
    // argon2 is slow on purpose: keep it off the request threads.
    let result = web::block(move || {
        app.auth
            .sign_in(&body.staff, &body.pin, body.window.as_deref(), now)
    })
    .await
    .map_err(|_| ApiError::unavailable("sign-in could not be checked; retry"))?;
    match result {
        Ok(session) => {
            tracing::info!(staff = %session.staff, window = ?session.window, "signed in");
            Ok(HttpResponse::Created().json(session))
        }
        Err(error) => {
            let status = match error {
                SignInError::InvalidCredentials => StatusCode::UNAUTHORIZED,
                SignInError::WindowRequired => StatusCode::BAD_REQUEST,
                SignInError::UnknownWindow(_) => StatusCode::NOT_FOUND,
                SignInError::WindowNotAllowed(_) => StatusCode::FORBIDDEN,
            };
            let code = match error {
                SignInError::InvalidCredentials => "invalid_credentials",
                SignInError::WindowRequired => "window_required",
                SignInError::UnknownWindow(_) => "unknown_window",
                SignInError::WindowNotAllowed(_) => "window_not_allowed",
            };
            tracing::warn!(code, "sign-in refused");
            Err(ApiError::new(status, code, error.to_string()))
        }
    }
}

/// Signs the current session out.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "sessions",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn sign_out(request: HttpRequest, state: Data) -> Result<HttpResponse, ApiError> {
    caller(&request, &state)?;
    let token = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if state.auth.sign_out(token.trim()) {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::bad_request(
            "not_a_session",
            "device tokens cannot be signed out",
        ))
    }
}

// ---- OpenAPI ------------------------------------------------------------------------------

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "hallq", description = "Queue and appointment daemon of a government service hall"),
    paths(hall, queues, stats_today, issue_ticket, get_ticket, cancel_ticket, reprint_ticket, devices, get_window, window_action, sign_in, sign_out,
        crate::sse::events, crate::public::board, crate::public::ticket_by_token, crate::public::calendar_day, crate::public::alerts_view, crate::public::list,
        crate::appointments::slots, crate::appointments::book, crate::appointments::get, crate::appointments::cancel,
        crate::appointments::check_in_by_code, crate::appointments::check_in_by_phone, crate::health::healthz, crate::health::readyz, crate::health::metrics),
    components(schemas(ErrorBody, crate::error::ErrorDetail, IssueRequest, TransferRequest, RequeueRequest, SignInRequest)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn openapi() -> HttpResponse {
    use utoipa::OpenApi;
    HttpResponse::Ok().json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    #[test]
    fn mobile_numbers() {
        for (phone, ok) in [
            ("13800138000", true),
            ("19912345678", true),
            ("12800138000", false),
            ("1380013800", false),
            ("138001380001", false),
            ("1380013800a", false),
            ("+8613800138000", false),
        ] {
            assert_eq!(super::is_mobile_number(phone), ok, "{phone}");
        }
    }
}
