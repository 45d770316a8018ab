//! 好差评 over HTTP: citizens rate a visit (at the window's pad, the kiosk or their own page)
//! and complain; managers follow cases to a close and read the figures.
//!
//! Who may rate: the window's rating pad (its own window's visits), a kiosk (by ticket number)
//! and the citizen holding the ticket's token. Staff and managers may not: a rating is the
//! citizen's, and nobody can change or delete one once given.

use super::error::{ApiError, ErrorBody};
use super::public::is_token;
use super::{actor, authorize, bearer_token, caller, is_mobile_number, parse_date, Data};
use crate::auth::{Principal, Role};
use crate::views::cases::{case_detail, case_summary, levels, visit_view};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use hallq_core::jiff::civil::Date;
use hallq_core::{
    CaseAction, CaseSource, Command, DomainError, Event, RatingChannel, RatingLevel, TicketId,
    WindowId,
};
use hallq_engine::EngineError;
use hallq_store::FigureKey;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

/// Longest comment or complaint text, in characters.
const TEXT_MAX_CHARS: usize = hallq_core::feedback::COMMENT_MAX_CHARS;
const MANAGERS: &[Role] = super::MANAGER_ROLES;

/// How a request names the visit: a ticket id (pads), a ticket number like `A001` (kiosks), or
/// the ticket's status-page token (the citizen's own page).
#[derive(Deserialize, ToSchema, Clone)]
#[serde(untagged)]
pub enum TicketRef {
    Id(u64),
    Text(String),
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    #[schema(value_type = Object)]
    pub ticket: TicketRef,
    /// very_satisfied, satisfied, basically_satisfied, dissatisfied or very_dissatisfied
    pub level: String,
    /// Reasons from the list offered for the level (GET /api/v1/ratings/options).
    pub reasons: Option<Vec<String>>,
    /// At most 500 characters.
    pub comment: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRequest {
    /// One of the hall's complaint categories (GET /api/v1/ratings/options).
    pub category: String,
    /// What happened, 1-500 characters.
    pub text: String,
    /// A mobile number to answer on (kept sealed; staff see it masked).
    pub phone: Option<String>,
    /// The ticket it is about: a number (kiosk) or the ticket's token (citizen's page).
    #[schema(value_type = Option<Object>)]
    pub ticket: Option<TicketRef>,
}

/// Who is rating or complaining, and through which channel.
struct Rater {
    channel: RatingChannel,
    principal: Option<Principal>,
}

/// The caller of a rating or complaint: a pad, a kiosk, or nobody signed in (the citizen's own
/// page, which proves itself with the ticket's token). Staff may not.
fn rater(request: &HttpRequest, state: &Data) -> Result<Rater, ApiError> {
    if bearer_token(request).is_none() {
        return Ok(Rater {
            channel: RatingChannel::Citizen,
            principal: None,
        });
    }
    let principal = caller(request, state)?;
    let channel =
        match principal.role {
            Role::RatingPad => RatingChannel::Pad,
            Role::Kiosk => RatingChannel::Kiosk,
            _ => return Err(ApiError::forbidden(
                "ratings and complaints are the citizen's own: staff and managers cannot give, \
                 change or delete one (评价由办事群众本人作出)",
            )),
        };
    Ok(Rater {
        channel,
        principal: Some(principal),
    })
}

/// Finds the ticket a request names, as the caller may name it.
async fn resolve_ticket(
    state: &Data,
    rater: &Rater,
    reference: &TicketRef,
) -> Result<TicketId, ApiError> {
    let not_found = || ApiError::not_found("there is no such ticket to rate: check the number");
    match (reference, &rater.principal) {
        (TicketRef::Text(token), None) => {
            if !is_token(token) {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "rate from the ticket's own page (its QR code), at the window's pad or at a kiosk",
                ));
            }
            if let Some(id) = state
                .engine
                .view(|hall| hall.ticket_by_token(token).map(|t| t.id))
            {
                return Ok(id);
            }
            let token = token.clone();
            state
                .readers
                .with(move |store| store.ticket_by_token(&token))
                .await?
                .map(|ticket| ticket.id)
                .ok_or_else(not_found)
        }
        (TicketRef::Id(_), None) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "rate from the ticket's own page (its QR code), at the window's pad or at a kiosk",
        )),
        (TicketRef::Id(id), Some(_)) => Ok(TicketId(*id)),
        (TicketRef::Text(number), Some(_)) => {
            let number = number.trim();
            if number.is_empty() || number.len() > 12 {
                return Err(not_found());
            }
            state
                .engine
                .view(|hall| hall.visit_by_number(number).map(|v| v.ticket))
                .ok_or_else(|| {
                    ApiError::not_found(format!(
                        "no visit with number {number} can be rated: check the number on the ticket"
                    ))
                })
        }
    }
}

/// A pad rates only its own window's visits.
fn check_pad_window(state: &Data, rater: &Rater, ticket: TicketId) -> Result<(), ApiError> {
    let Some(Principal {
        role: Role::RatingPad,
        window: Some(window),
        ..
    }) = &rater.principal
    else {
        return Ok(());
    };
    let at: Option<WindowId> = state
        .engine
        .view(|hall| hall.visit(ticket).map(|v| v.window.clone()));
    match at {
        Some(at) if &at != window => Err(ApiError::forbidden(format!(
            "this rating pad stands at window '{window}': it rates only that window's visits"
        ))),
        _ => Ok(()),
    }
}

fn parse_level(text: &str) -> Result<RatingLevel, ApiError> {
    RatingLevel::parse(text).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_level",
            "level is one of very_satisfied, satisfied, basically_satisfied, dissatisfied, \
             very_dissatisfied",
        )
    })
}

fn check_text(text: Option<&str>, what: &str, required: bool) -> Result<(), ApiError> {
    let length = text.map(|t| t.trim().chars().count()).unwrap_or(0);
    if length > TEXT_MAX_CHARS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "text_too_long",
            format!("the {what} is at most {TEXT_MAX_CHARS} characters"),
        ));
    }
    if required && length == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "text_required",
            format!("write the {what}"),
        ));
    }
    Ok(())
}

/// When the hall no longer holds the visit, the store tells why it cannot be rated.
async fn explain_unknown(state: &Data, ticket: TicketId) -> ApiError {
    let found = state
        .readers
        .with(move |store| Ok((store.ticket(ticket)?, store.rated_rounds(ticket)?)))
        .await;
    match found {
        Ok((Some(_), rounds)) if rounds > 0 => DomainError::AlreadyRated(ticket).into(),
        Ok((Some(stored), _)) if stored.status == hallq_core::TicketStatus::Completed => {
            DomainError::RatingPeriodOver(ticket).into()
        }
        Ok((Some(_), _)) => DomainError::NotRateable(ticket).into(),
        Ok((None, _)) => DomainError::UnknownTicket(ticket).into(),
        Err(error) => error,
    }
}

fn opened_case(events: &[std::sync::Arc<hallq_engine::Published>]) -> Option<Value> {
    events.iter().find_map(|published| match &published.event {
        Event::CaseOpened { case } => Some(json!({
            "id": case.id,
            "department": case.department,
            "callback_due": case.callback_due.to_string(),
            "due": case.due.to_string(),
        })),
        _ => None,
    })
}

/// Rates a completed visit (一次一评), or gives the one follow-up after a bad rating was
/// rectified. A bad rating (不满意, 非常不满意) opens a case at once.
#[utoipa::path(post, path = "/api/v1/ratings", tag = "ratings",
    request_body = RatingRequest,
    responses((status = 201, description = "{ticket, number, round, level, level_label, case?}"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "already_rated, follow_up_not_open, rating_period_over, not_rateable", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn rate(
    request: HttpRequest,
    state: Data,
    body: web::Json<RatingRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let rater = rater(&request, &state)?;
    let level = parse_level(&body.level)?;
    check_text(body.comment.as_deref(), "comment", false)?;
    let ticket = resolve_ticket(&state, &rater, &body.ticket).await?;
    check_pad_window(&state, &rater, ticket)?;
    let command = Command::Rate {
        ticket,
        level,
        reasons: body.reasons.unwrap_or_default(),
        comment: body.comment,
        channel: rater.channel,
    };
    let executed = match state.engine.execute(command).await {
        Ok(executed) => executed,
        Err(EngineError::Domain(DomainError::UnknownTicket(_))) => {
            return Err(explain_unknown(&state, ticket).await)
        }
        Err(error) => return Err(error.into()),
    };
    let (number, round) = executed
        .events
        .iter()
        .find_map(|p| match &p.event {
            Event::ServiceRated { number, round, .. } => Some((number.clone(), *round)),
            _ => None,
        })
        .unwrap_or_default();
    let case = opened_case(&executed.events);
    tracing::info!(
        ticket = ticket.0,
        round,
        level = level.as_str(),
        channel = rater.channel.as_str(),
        "visit rated"
    );
    Ok(HttpResponse::Created().json(json!({
        "ticket": ticket.0,
        "number": number,
        "round": round,
        "level": level.as_str(),
        "level_label": level.label(),
        "case": case,
    })))
}

/// Files a complaint (投诉): it opens a case like a bad rating, with the same deadlines.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "ratings",
    request_body = ComplaintRequest,
    responses((status = 201, description = "{case: {id, department, callback_due, due}}"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn complain(
    request: HttpRequest,
    state: Data,
    body: web::Json<ComplaintRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let rater = rater(&request, &state)?;
    check_text(Some(&body.text), "complaint", true)?;
    if body.category.chars().count() > 40 {
        return Err(DomainError::UnknownComplaintCategory(
            body.category.chars().take(40).collect(),
        )
        .into());
    }
    let ticket = match (&body.ticket, &rater.principal) {
        (Some(reference), _) => Some(resolve_ticket(&state, &rater, reference).await?),
        // Without credentials the citizen's page proves itself with its token.
        (None, None) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "complain from the ticket's own page (its QR code) or at a kiosk",
            ))
        }
        (None, Some(_)) => None,
    };
    let contact = match body
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(phone) if is_mobile_number(phone) => Some(state.privacy.phone(phone)),
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_phone",
                "give an 11-digit mobile number starting with 1, or leave it empty",
            ))
        }
        None => None,
    };
    let executed = state
        .engine
        .execute(Command::FileComplaint {
            category: body.category,
            text: body.text,
            contact,
            ticket,
            channel: rater.channel,
        })
        .await?;
    Ok(HttpResponse::Created().json(json!({ "case": opened_case(&executed.events) })))
}

/// What the pages offer: the levels with their reasons, the complaint categories, how long a
/// visit may be rated.
#[utoipa::path(get, path = "/api/v1/ratings/options", tag = "ratings",
    responses((status = 200, description = "{levels, complaint_categories, rate_within_days}")))]
pub async fn options(state: Data) -> HttpResponse {
    let policy = &state.config().spec.ratings;
    HttpResponse::Ok().json(json!({
        "levels": levels(policy),
        "complaint_categories": policy.complaint_categories,
        "rate_within_days": policy.rate_within_days,
    }))
}

/// A visit as the rating pad (its own window), a kiosk (by number) or a manager sees it.
#[utoipa::path(get, path = "/api/v1/visits/{ticket}", tag = "ratings", security(("bearer" = [])),
    params(("ticket" = String, Path, description = "ticket id, or its number (A001) for the newest visit with it")),
    responses((status = 200, description = "the visit: number, service, window, staff number, whether a rating is open"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn visit(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let principal = authorize(
        &request,
        &state,
        &[Role::RatingPad, Role::Kiosk, Role::Manager, Role::Admin],
    )?;
    let reference = path.into_inner();
    let now = state.clock.now();
    let found = state.engine.view(|hall| {
        let visit = match reference.parse::<u64>() {
            Ok(id) => hall.visit(TicketId(id)),
            Err(_) => hall.visit_by_number(&reference),
        }?;
        Some((visit.window.clone(), visit_view(hall, visit, now)))
    });
    let Some((window, view)) = found else {
        return Err(ApiError::not_found(
            "no visit with this ticket can be rated now: check the number",
        ));
    };
    if principal.role == Role::RatingPad && principal.window.as_ref() != Some(&window) {
        return Err(ApiError::forbidden(
            "this rating pad rates only its own window's visits",
        ));
    }
    Ok(HttpResponse::Ok().json(view))
}

/// What the pad shows while idle: its window, and the staff number signed in there.
#[utoipa::path(get, path = "/api/v1/rating-pad", tag = "ratings", security(("bearer" = [])),
    responses((status = 200, description = "{window, window_name, staff, levels, idle_after_s}"),
        (status = 403, body = ErrorBody)))]
pub async fn pad(request: HttpRequest, state: Data) -> Result<HttpResponse, ApiError> {
    let principal = authorize(&request, &state, &[Role::RatingPad])?;
    let window = principal
        .window
        .clone()
        .ok_or_else(|| ApiError::forbidden("this device stands at no window"))?;
    let spec = &state.config().spec;
    let window_name = spec
        .windows
        .iter()
        .find(|w| w.id == window)
        .map(|w| w.call_name().to_owned());
    let staff = state
        .auth
        .staff_ids_at_windows(state.clock.now())
        .remove(&window);
    Ok(HttpResponse::Ok().json(json!({
        "window": window,
        "window_name": window_name,
        "staff": staff,
        "hall": spec.name,
        "levels": levels(&spec.ratings),
        "idle_after_s": 60,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasesQuery {
    /// open (not closed), overdue, closed, all, or one status.
    status: Option<String>,
    limit: Option<usize>,
}

fn hall_today(state: &Data) -> Date {
    state
        .clock
        .now()
        .to_zoned(state.config().time_zone.clone())
        .date()
}

/// Cases for managers: `status=open` (every case not closed), `overdue`, `closed`, `all`, or one
/// status; due dates are YYYY-MM-DD in hall time.
#[utoipa::path(get, path = "/api/v1/cases", tag = "ratings", security(("bearer" = [])),
    params(("status" = Option<String>, Query, description = "open (default), overdue, closed, all, or one of called_back, rectified, fed_back, appealed"),
        ("limit" = Option<usize>, Query, description = "at most this many, newest first (default 200, at most 1000)")),
    responses((status = 200, description = "{cases: [{id, ticket, level, status, callback_due, due, overdue, …}]}"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn cases(
    request: HttpRequest,
    state: Data,
    query: web::Query<CasesQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &state, MANAGERS)?;
    let query = query.into_inner();
    let limit = query.limit.unwrap_or(200).clamp(1, 1000);
    let status = query.status.unwrap_or_else(|| "open".into());
    const NOT_CLOSED: &[&str] = &["open", "called_back", "rectified", "fed_back", "appealed"];
    let (statuses, overdue_only): (Option<Vec<&'static str>>, bool) = match status.as_str() {
        "open" => (Some(NOT_CLOSED.to_vec()), false),
        "overdue" => (Some(NOT_CLOSED.to_vec()), true),
        "all" => (None, false),
        other => match hallq_core::CaseStatus::parse(other) {
            Some(one) => (Some(vec![one.as_str()]), false),
            None => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    "status is open, overdue, closed, all, called_back, rectified, fed_back or appealed",
                ))
            }
        },
    };
    let found = state
        .readers
        .with(move |store| store.cases(statuses.as_deref(), limit))
        .await?;
    let today = hall_today(&state);
    let cases: Vec<Value> = found
        .iter()
        .filter(|case| !overdue_only || case.overdue(today).is_some())
        .map(|case| case_summary(case, Some(today)))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "today": today.to_string(), "cases": cases })))
}

/// One case with its history, a complaint's text and masked phone, a bad rating's comment.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "ratings", security(("bearer" = [])),
    params(("id" = u64, Path, description = "case id")),
    responses((status = 200, description = "the case"), (status = 404, body = ErrorBody)))]
pub async fn case(
    request: HttpRequest,
    state: Data,
    path: web::Path<u64>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &state, MANAGERS)?;
    let id = path.into_inner();
    Ok(HttpResponse::Ok().json(case_json(&state, id).await?))
}

async fn case_json(state: &Data, id: u64) -> Result<Value, ApiError> {
    let found = state
        .readers
        .with(move |store| {
            let Some(case) = store.case(id)? else {
                return Ok(None);
            };
            // A bad rating's comment, from the rating itself.
            let comment = match &case.source {
                CaseSource::BadRating { ticket, .. } => {
                    let day_window = store.ticket(*ticket)?.map(|t| t.service_day);
                    match day_window {
                        Some(day) => store
                            .ratings(day, day, 100_000)?
                            .into_iter()
                            .find(|r| r.ticket == *ticket && r.round == 1)
                            .and_then(|r| r.comment),
                        None => None,
                    }
                }
                CaseSource::Complaint { .. } => None,
            };
            Ok(Some((case, comment)))
        })
        .await?;
    let (case, comment) =
        found.ok_or_else(|| ApiError::not_found(format!("there is no case {id}")))?;
    Ok(case_detail(
        &case,
        Some(hall_today(state)),
        comment.as_deref(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseActionRequest {
    /// call_back, rectify, feed_back, close, appeal, uphold_appeal or reject_appeal
    pub action: String,
    /// What was done, at most 500 characters.
    pub note: Option<String>,
}

/// Moves a case on: call_back → rectify → feed_back → close; appeal, then uphold_appeal (the
/// rating no longer counts) or reject_appeal. Managers only; recorded in the audit log.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "ratings", security(("bearer" = [])),
    params(("id" = u64, Path, description = "case id")),
    request_body = CaseActionRequest,
    responses((status = 200, description = "the case after the action"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn case_action(
    request: HttpRequest,
    state: Data,
    path: web::Path<u64>,
    body: web::Json<CaseActionRequest>,
) -> Result<HttpResponse, ApiError> {
    let principal = authorize(&request, &state, MANAGERS)?;
    let id = path.into_inner();
    let body = body.into_inner();
    let action = CaseAction::parse(&body.action).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_action",
            "action is one of call_back, rectify, feed_back, close, appeal, uphold_appeal, reject_appeal",
        )
    })?;
    check_text(body.note.as_deref(), "note", false)?;
    state
        .engine
        .execute_as(
            Command::ProgressCase {
                case: id,
                action,
                note: body.note,
                by: principal.id.clone(),
            },
            actor(&principal, &request, &state),
        )
        .await?;
    Ok(HttpResponse::Ok().json(case_json(&state, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiguresQuery {
    /// window (default), service, staff or department
    by: Option<String>,
    /// day (default) or month
    period: Option<String>,
    /// First and last service day, YYYY-MM-DD; default: today, or this month by month.
    from: Option<String>,
    to: Option<String>,
}

struct FiguresAsked {
    key: FigureKey,
    key_name: &'static str,
    by_month: bool,
    from: Date,
    to: Date,
}

fn figures_asked(state: &Data, query: FiguresQuery) -> Result<FiguresAsked, ApiError> {
    let key_name = match query.by.as_deref().unwrap_or("window") {
        "window" => "window",
        "service" => "service",
        "staff" => "staff",
        "department" => "department",
        _ => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "by is window, service, staff or department",
            ))
        }
    };
    let by_month = match query.period.as_deref().unwrap_or("day") {
        "day" => false,
        "month" => true,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "period is day or month",
            ))
        }
    };
    let today = hall_today(state);
    let default_from = if by_month {
        today.first_of_month()
    } else {
        today
    };
    let from = query
        .from
        .as_deref()
        .map(parse_date)
        .transpose()?
        .unwrap_or(default_from);
    let to = query
        .to
        .as_deref()
        .map(parse_date)
        .transpose()?
        .unwrap_or(today);
    if from > to || (to - from).get_days() > 400 {
        return Err(ApiError::bad_request(
            "invalid_query",
            "from must not be after to, and at most 400 days apart",
        ));
    }
    Ok(FiguresAsked {
        key: FigureKey::parse(key_name).unwrap_or(FigureKey::Window),
        key_name,
        by_month,
        from,
        to,
    })
}

async fn figures_of(
    state: &Data,
    asked: &FiguresAsked,
) -> Result<Vec<hallq_store::Figures>, ApiError> {
    let (from, to, key, by_month) = (asked.from, asked.to, asked.key, asked.by_month);
    let today = hall_today(state);
    let zone = state.config().time_zone.clone();
    state
        .readers
        .with(move |store| store.rating_figures(from, to, key, by_month, today, &zone))
        .await
}

/// A figure's key as people read it: the window's or service's name, the staff number.
fn key_label(state: &Data, key: FigureKey, value: &str) -> String {
    let spec = &state.config().spec;
    match key {
        FigureKey::Window => spec
            .windows
            .iter()
            .find(|w| w.id.as_str() == value)
            .map(|w| w.name.clone()),
        FigureKey::Service => spec
            .services
            .iter()
            .find(|s| s.id.as_str() == value)
            .map(|s| s.name.clone()),
        FigureKey::Staff | FigureKey::Department => None,
    }
    .unwrap_or_else(|| {
        if value.is_empty() {
            "（未指明）".into()
        } else {
            value.to_owned()
        }
    })
}

fn percent(share: Option<f64>) -> Value {
    share.map_or(Value::Null, |s| json!((s * 1000.0).round() / 10.0))
}

/// 好差评 figures: satisfaction (share of 非常满意 + 满意), 差评, callback rate, rectified on
/// time — per window, service, staff member or department, per day or month.
#[utoipa::path(get, path = "/api/v1/ratings/figures", tag = "ratings", security(("bearer" = [])),
    params(("by" = Option<String>, Query, description = "window (default), service, staff or department"),
        ("period" = Option<String>, Query, description = "day (default) or month"),
        ("from" = Option<String>, Query, description = "first service day, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "last service day, YYYY-MM-DD")),
    responses((status = 200, description = "{by, period, from, to, figures: [...], totals}"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn figures(
    request: HttpRequest,
    state: Data,
    query: web::Query<FiguresQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &state, MANAGERS)?;
    let asked = figures_asked(&state, query.into_inner())?;
    let rows = figures_of(&state, &asked).await?;
    let mut totals = hallq_store::Figures::default();
    let figures: Vec<Value> = rows
        .iter()
        .map(|row| {
            totals.ratings += row.ratings;
            totals.defaults += row.defaults;
            totals.cases += row.cases;
            totals.called_back += row.called_back;
            totals.due += row.due;
            totals.rectified_on_time += row.rectified_on_time;
            for (sum, count) in totals.by_level.iter_mut().zip(row.by_level) {
                *sum += count;
            }
            figure_json(&state, asked.key, row)
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "by": asked.key_name,
        "period": if asked.by_month { "month" } else { "day" },
        "from": asked.from.to_string(),
        "to": asked.to.to_string(),
        "figures": figures,
        "totals": figure_json(&state, asked.key, &totals),
    })))
}

fn figure_json(state: &Data, key: FigureKey, row: &hallq_store::Figures) -> Value {
    json!({
        "period": row.period,
        "key": row.key,
        "label": key_label(state, key, &row.key),
        "ratings": row.ratings,
        "by_level": row.by_level,
        "defaults": row.defaults,
        "satisfaction_percent": percent(row.satisfaction()),
        "bad": row.bad(),
        "cases": row.cases,
        "called_back": row.called_back,
        "callback_percent": percent(row.callback_rate()),
        "due": row.due,
        "rectified_on_time": row.rectified_on_time,
        "on_time_percent": percent(row.on_time_rate()),
    })
}

/// The same figures as CSV, for Excel.
#[utoipa::path(get, path = "/api/v1/ratings/figures.csv", tag = "ratings", security(("bearer" = [])),
    responses((status = 200, description = "text/csv"), (status = 403, body = ErrorBody)))]
pub async fn figures_csv(
    request: HttpRequest,
    state: Data,
    query: web::Query<FiguresQuery>,
) -> Result<HttpResponse, ApiError> {
    authorize(&request, &state, MANAGERS)?;
    let asked = figures_asked(&state, query.into_inner())?;
    let rows = figures_of(&state, &asked).await?;
    let key_header = match asked.key {
        FigureKey::Window => "窗口",
        FigureKey::Service => "事项",
        FigureKey::Staff => "工号",
        FigureKey::Department => "部门",
    };
    let mut csv = hallq_protocol::csv::CsvWriter::new();
    csv.row([
        if asked.by_month { "月份" } else { "日期" },
        key_header,
        "评价数",
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
        "默认评价",
        "满意率(%)",
        "差评数",
        "工单数",
        "已回访",
        "回访率(%)",
        "应整改",
        "按期整改",
        "按期整改率(%)",
    ]);
    let text = |share: Option<f64>| {
        share
            .map(|s| format!("{:.1}", s * 100.0))
            .unwrap_or_default()
    };
    for row in &rows {
        let mut fields = vec![
            row.period.clone(),
            key_label(&state, asked.key, &row.key),
            row.ratings.to_string(),
        ];
        fields.extend(row.by_level.iter().map(u64::to_string));
        fields.extend([
            row.defaults.to_string(),
            text(row.satisfaction()),
            row.bad().to_string(),
            row.cases.to_string(),
            row.called_back.to_string(),
            text(row.callback_rate()),
            row.due.to_string(),
            row.rectified_on_time.to_string(),
            text(row.on_time_rate()),
        ]);
        csv.row(fields);
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"hallq-ratings-{}-{}-{}.csv\"",
                asked.key_name, asked.from, asked.to
            ),
        ))
        .body(csv.into_bytes()))
}
