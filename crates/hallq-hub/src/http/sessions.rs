//! Managers sign in with their id and PIN (made with `hallq-hub add-manager`).

use super::error::HubError;
use super::Data;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    manager: String,
    pin: String,
}

/// `POST /v1/sessions` → `{"token", "expires_in_s"}`.
#[utoipa::path(post, path = "/v1/sessions", tag = "managers", request_body(content = Object, description = "{manager, pin}"),
    responses((status = 201, description = "{token, expires_in_s}"), (status = 401, body = super::error::ErrorBody), (status = 429, body = super::error::ErrorBody)))]
pub async fn sign_in(state: Data, body: web::Json<SignIn>) -> Result<HttpResponse, HubError> {
    if body.manager.len() > 64 || body.pin.len() > 64 {
        return Err(HubError::bad_request(
            "invalid_body",
            "manager and pin are at most 64 characters",
        ));
    }
    let token = crate::auth::sign_in(&state, &body.manager, &body.pin).await?;
    Ok(
        HttpResponse::Created()
            .json(serde_json::json!({"token": token, "expires_in_s": 12 * 3600})),
    )
}
