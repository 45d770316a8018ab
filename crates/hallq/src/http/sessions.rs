//! Staff and managers sign in with their PIN and get a bearer token; sign out ends it.

use super::error::{ApiError, ErrorBody};
use super::{bearer_token, caller, Data};
use crate::auth::{SessionInfo, SignInError};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

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
    let slot = state
        .sign_in_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| {
            ApiError::too_many(
                "sign_in_busy",
                "too many sign-ins at this moment: try again in a second",
                1,
            )
        })?;
    // argon2 is slow on purpose: keep it off the request threads.
    let result = web::block(move || {
        let _slot = slot;
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
    let token = bearer_token(&request).unwrap_or("");
    if state.auth.sign_out(token) {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::bad_request(
            "not_a_session",
            "device tokens cannot be signed out",
        ))
    }
}
