//! The HTTP resources, one file per group of endpoints. Handlers authenticate, validate, send
//! one command to the engine or read its read model, and shape the answer; they decide nothing
//! about queues, and none of them reads on the writer thread.
//!
//! - `hall` — the hall, queues, the day's figures;
//! - `tickets` — issue, look up, cancel, reprint;
//! - `windows` — the window console's actions;
//! - `sessions` — staff sign-in and sign-out;
//! - `appointments` — slots, booking, cancelling, check-in;
//! - `devices` — printers, displays, devices;
//! - `public` — what anyone may see: the board, a citizen's ticket, the calendar, the lists;
//! - `streams` — the event streams (public, staff, one ticket's);
//! - `health` — liveness, readiness, metrics;
//! - `pages` — the HTML pages; `openapi` — the API's description; `error` — the error form.

pub mod appointments;
pub mod devices;
pub mod error;
pub mod hall;
pub mod health;
pub mod openapi;
pub mod pages;
pub mod public;
pub mod ratings;
pub mod sessions;
pub mod settings;
pub mod streams;
pub mod tickets;
pub mod windows;

use crate::app::state::AppState;
use crate::auth::{Principal, Role};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use error::ApiError;
use hallq_core::WindowId;

pub(crate) type Data = web::Data<AppState>;

/// The bearer token of a request, if it has one (`Bearer` in any letter case).
pub fn bearer_token(request: &HttpRequest) -> Option<&str> {
    let header = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The caller, or 401.
pub fn caller(request: &HttpRequest, state: &AppState) -> Result<Principal, ApiError> {
    let token = bearer_token(request).ok_or_else(ApiError::unauthorized)?;
    state
        .auth
        .authenticate(token, state.clock.now())
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
pub const WINDOW_ROLES: &[Role] = &[Role::Staff, Role::Manager, Role::Admin];
/// Who may change how the hall runs: its managers.
pub const MANAGER_ROLES: &[Role] = &[Role::Manager, Role::Admin];

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

pub fn require(principal: &Principal, roles: &[Role]) -> Result<(), ApiError> {
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

pub fn require_window(principal: &Principal, window: &WindowId) -> Result<(), ApiError> {
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

/// The client's address: the peer's, or — when the peer is a configured reverse proxy — the
/// last address that proxy saw in `X-Forwarded-For`. Never a header from anyone else.
pub fn client_address(request: &HttpRequest, state: &AppState) -> String {
    let peer = request.peer_addr().map(|address| address.ip());
    let trusted = peer.is_some_and(|ip| state.config().security.trusted_proxies.contains(&ip));
    if trusted {
        let forwarded = request
            .headers()
            .get("X-Forwarded-For")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| last.trim().parse::<std::net::IpAddr>().ok());
        if let Some(ip) = forwarded {
            return ip.to_string();
        }
    }
    peer.map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The audit log's actor for staff, managers and admins; devices' work is in the log already.
pub fn actor(
    principal: &Principal,
    request: &HttpRequest,
    state: &AppState,
) -> Option<hallq_engine::Actor> {
    principal
        .is_any(&[Role::Staff, Role::Manager, Role::Admin])
        .then(|| hallq_engine::Actor {
            id: principal.id.clone(),
            role: principal.role.as_str().to_owned(),
            address: Some(client_address(request, state)),
        })
}

/// Parses a JSON body read as bytes, with the same errors as the extractor gives.
pub fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("the request body is not valid: {e}"),
        )
    })
}

pub use hallq_privacy::is_mobile_number;

/// A strict YYYY-MM-DD date between 2000 and 2100.
pub fn parse_date(text: &str) -> Result<hallq_core::jiff::civil::Date, ApiError> {
    let extended_form =
        text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    extended_form
        .then(|| text.parse().ok())
        .flatten()
        .filter(|d: &hallq_core::jiff::civil::Date| (2000..=2100).contains(&d.year()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_date",
                "give a date between 2000-01-01 and 2100-12-31 as YYYY-MM-DD",
            )
        })
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

    #[test]
    fn bearer_tokens_in_any_case() {
        use actix_web::test::TestRequest;
        for (header, token) in [
            ("Bearer abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("BEARER  abc ", Some("abc")),
            ("Basic abc", None),
            ("Bearerabc", None),
        ] {
            let request = TestRequest::default()
                .insert_header(("Authorization", header))
                .to_http_request();
            assert_eq!(super::bearer_token(&request), token, "{header}");
        }
    }
}
