//! Staff and managers sign in with their PIN and get a bearer token; sign out ends it.

use super::error::{ApiError, ErrorBody};
use super::{bearer_token, caller, client_address, Data};
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

/// Writes an audit entry of the sessions (the engine writes it with the next commit).
async fn audit(state: &Data, actor: &str, role: &str, address: &str, action: &str, outcome: &str) {
    let entry = hallq_engine::AuditEntry {
        at: state.clock.now(),
        actor: actor.to_owned(),
        role: role.to_owned(),
        address: Some(address.to_owned()),
        action: action.to_owned(),
        target: None,
        outcome: outcome.to_owned(),
    };
    if let Err(error) = state.engine.audit(entry).await {
        tracing::warn!(%error, "cannot write an audit entry");
    }
}

/// Staff and managers sign in with their PIN and get a bearer token. Wrong PINs lock the
/// account and the address out for a while (429 with `Retry-After`); at most a few PIN checks
/// run at once (429 `sign_in_busy` beyond).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions",
    request_body = SignInRequest,
    responses((status = 201, body = SessionInfo), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, description = "sign_in_locked (too many wrong PINs) or sign_in_busy; see Retry-After", body = ErrorBody)))]
pub async fn sign_in(
    request: HttpRequest,
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
    let address = client_address(&request, &state);
    let account_key = format!("account:{}", body.staff);
    let address_key = format!("address:{address}");
    let instant = std::time::Instant::now();
    let lockout = &state.auth.lockout;
    if let Some(wait) = lockout
        .locked(&account_key, instant)
        .max(lockout.locked(&address_key, instant))
    {
        tracing::warn!(staff = %body.staff, %address, wait_s = wait, "sign-in refused: locked out after wrong PINs");
        return Err(ApiError::too_many(
            "sign_in_locked",
            format!(
                "too many wrong PINs: sign-in is locked for this account or this device; try \
                 again in {wait} s, or ask the hall manager"
            ),
            wait,
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
    let (staff, pin, window) = (body.staff.clone(), body.pin, body.window);
    // argon2 is slow on purpose: keep it off the request threads.
    let result = web::block(move || {
        let _slot = slot;
        app.auth.sign_in(&staff, &pin, window.as_deref(), now)
    })
    .await
    .map_err(|_| ApiError::unavailable("sign-in could not be checked; retry"))?;
    match result {
        Ok(session) => {
            lockout.succeeded(&account_key);
            lockout.succeeded(&address_key);
            tracing::info!(staff = %session.staff, window = ?session.window, %address, "signed in");
            audit(
                &state,
                &session.staff,
                session.role.as_str(),
                &address,
                "sign_in",
                "ok",
            )
            .await;
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
            tracing::warn!(code, staff = %body.staff, %address, "sign-in refused");
            if error == SignInError::InvalidCredentials {
                let locked = [&account_key, &address_key]
                    .into_iter()
                    .filter_map(|key| lockout.failed(key, instant).map(|wait| (key, wait)))
                    .collect::<Vec<_>>();
                for (key, wait) in locked {
                    tracing::warn!(%key, wait_s = wait, "sign-in locked after repeated wrong PINs");
                    audit(
                        &state,
                        &body.staff,
                        "unknown",
                        &address,
                        "sign_in",
                        &format!("locked {wait} s ({key})"),
                    )
                    .await;
                }
            }
            Err(ApiError::new(status, code, error.to_string()))
        }
    }
}

/// Signs the current session out.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "sessions",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn sign_out(request: HttpRequest, state: Data) -> Result<HttpResponse, ApiError> {
    let principal = caller(&request, &state)?;
    let token = bearer_token(&request).unwrap_or("");
    if state.auth.sign_out(token) {
        let address = client_address(&request, &state);
        audit(
            &state,
            &principal.id,
            principal.role.as_str(),
            &address,
            "sign_out",
            "ok",
        )
        .await;
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::bad_request(
            "not_a_session",
            "device tokens cannot be signed out",
        ))
    }
}
