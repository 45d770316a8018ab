//! What a hall's manager changes while it runs, from the dashboard: the notice on the TV
//! boards and each service's wait alarm. Both are commands like any other — in the log,
//! audited, kept across restarts — not edits of the hall file.

use super::error::{ApiError, ErrorBody};
use super::{actor, authorize, json_body, Data, MANAGER_ROLES};
use actix_web::{web, HttpRequest};
use hallq_core::{Command, ServiceId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeRequest {
    /// The notice (at most 200 characters; empty for none at all), or `null` to give the
    /// boards back the hall file's `[calling] board_notice`.
    pub text: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NoticeView {
    /// The notice the boards show now.
    pub notice: String,
    /// Whether a manager's notice stands (else the hall file's).
    pub set_by_manager: bool,
}

/// Puts a notice on every TV board at once (managers), or gives it back to the hall file.
#[utoipa::path(put, path = "/api/v1/board/notice", tag = "calling",
    security(("bearer" = [])), request_body = NoticeRequest,
    responses((status = 200, body = NoticeView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_notice(
    request: HttpRequest,
    state: Data,
    body: web::Bytes,
) -> Result<web::Json<NoticeView>, ApiError> {
    let principal = authorize(&request, &state, MANAGER_ROLES)?;
    let body: NoticeRequest = json_body(&body)?;
    // Line breaks typed into the dashboard's box are spaces on a one-line ticker.
    let text = body
        .text
        .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "));
    state
        .engine
        .execute_as(
            Command::SetBoardNotice { text },
            actor(&principal, &request, &state),
        )
        .await?;
    Ok(web::Json(notice_view(&state)))
}

/// The notice the boards show now and where it comes from (managers).
#[utoipa::path(get, path = "/api/v1/board/notice", tag = "calling",
    security(("bearer" = [])),
    responses((status = 200, body = NoticeView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn notice(request: HttpRequest, state: Data) -> Result<web::Json<NoticeView>, ApiError> {
    authorize(&request, &state, MANAGER_ROLES)?;
    Ok(web::Json(notice_view(&state)))
}

fn notice_view(state: &crate::app::state::AppState) -> NoticeView {
    let config = state.config();
    state.engine.view(|hall| notice_in_force(hall, &config))
}

/// The notice in force: the manager's, else the hall file's.
pub fn notice_in_force(hall: &hallq_core::Hall, config: &crate::config::HallConfig) -> NoticeView {
    match hall.board_notice() {
        Some(text) => NoticeView {
            notice: text.to_owned(),
            set_by_manager: true,
        },
        None => NoticeView {
            notice: config.calling.board_notice.clone(),
            set_by_manager: false,
        },
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitAlarmRequest {
    /// Alarm when someone has waited this many minutes (1–480), or `null` for no alarm.
    pub max_wait_minutes: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct WaitAlarmView {
    pub service: String,
    pub max_wait_minutes: Option<u32>,
}

/// Sets or clears a service's wait alarm (managers): an alert on the dashboard, and in
/// `/api/v1/alerts`, while its longest wait is past it.
#[utoipa::path(put, path = "/api/v1/services/{id}/wait-alarm", tag = "hall",
    security(("bearer" = [])), request_body = WaitAlarmRequest,
    params(("id" = String, Path, description = "service id")),
    responses((status = 200, body = WaitAlarmView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn set_wait_alarm(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<web::Json<WaitAlarmView>, ApiError> {
    let principal = authorize(&request, &state, MANAGER_ROLES)?;
    let service = ServiceId::new(path.into_inner());
    let body: WaitAlarmRequest = json_body(&body)?;
    let max_wait_s = body
        .max_wait_minutes
        .map(|minutes| minutes.saturating_mul(60));
    state
        .engine
        .execute_as(
            Command::SetWaitAlarm {
                service: service.clone(),
                max_wait_s,
            },
            actor(&principal, &request, &state),
        )
        .await?;
    let max_wait_minutes = state
        .engine
        .view(|hall| hall.wait_alarms().get(&service).map(|limit| limit / 60));
    Ok(web::Json(WaitAlarmView {
        service: service.to_string(),
        max_wait_minutes,
    }))
}
