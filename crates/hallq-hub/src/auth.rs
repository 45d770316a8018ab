//! Who is calling: a hall with its token (`Authorization: Bearer <token>`, only for its own
//! paths), or a hub manager with a session from `POST /v1/sessions`. Tokens are kept as SHA-256
//! only; a manager's PIN as argon2, with a lockout after repeated failures.

use crate::http::error::HubError;
use crate::state::HubState;
use actix_web::HttpRequest;
use hallq_privacy::secrets::{hash_token, random_token};

/// The caller of a request about one hall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Hall(String),
    Manager(String),
}

/// Tokens a hall is given start with this, a manager's sessions with `mgr-`: a glance at a log
/// line or a config file tells which is which.
pub const HALL_TOKEN_PREFIX: &str = "hall-";
const SESSION_PREFIX: &str = "mgr-";

/// A new hall token (printed once by `add-hall`).
pub fn new_hall_token() -> String {
    format!("{HALL_TOKEN_PREFIX}{}{}", random_token(), random_token())
}

fn bearer(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty() && token.len() <= 200)
}

fn refused(state: &HubState) -> HubError {
    crate::state::Metrics::add(&state.metrics.unauthorized, 1);
    HubError::unauthorized(
        "give the hall's token (from `hallq-hub add-hall`) or a manager's session as \
         Authorization: Bearer",
    )
}

/// The hall `hall` itself, or a manager.
pub async fn hall_or_manager(
    request: &HttpRequest,
    state: &HubState,
    hall: &str,
) -> Result<Caller, HubError> {
    let token = bearer(request).ok_or_else(|| refused(state))?;
    if token.starts_with(SESSION_PREFIX) {
        return manager_session(state, token).await.map(Caller::Manager);
    }
    hall_token(state, hall, token).await?;
    Ok(Caller::Hall(hall.to_owned()))
}

/// Only the hall `hall` itself.
pub async fn hall_only(
    request: &HttpRequest,
    state: &HubState,
    hall: &str,
) -> Result<(), HubError> {
    let token = bearer(request).ok_or_else(|| refused(state))?;
    hall_token(state, hall, token).await
}

/// Only a manager; returns the manager's id.
pub async fn manager(request: &HttpRequest, state: &HubState) -> Result<String, HubError> {
    let token = bearer(request).ok_or_else(|| refused(state))?;
    manager_session(state, token).await
}

async fn hall_token(state: &HubState, hall: &str, token: &str) -> Result<(), HubError> {
    let presented = hash_token(token);
    let cached = state
        .hall_tokens
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(hall)
        .cloned();
    if cached.as_deref() == Some(presented.as_str()) {
        return Ok(());
    }
    // Not seen yet, or the token was replaced: the database decides.
    let client = state.pool.get().await?;
    let stored: Option<String> = client
        .query_opt("SELECT token_sha256 FROM halls WHERE id = $1", &[&hall])
        .await?
        .map(|row| row.get(0));
    match stored {
        Some(stored) if constant_time_eq(stored.as_bytes(), presented.as_bytes()) => {
            state
                .hall_tokens
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(hall.to_owned(), stored);
            Ok(())
        }
        _ => Err(refused(state)),
    }
}

async fn manager_session(state: &HubState, token: &str) -> Result<String, HubError> {
    let client = state.pool.get().await?;
    client
        .query_opt(
            "SELECT manager FROM manager_sessions WHERE token_sha256 = $1 AND expires_at > now()",
            &[&hash_token(token)],
        )
        .await?
        .map(|row| row.get(0))
        .ok_or_else(|| refused(state))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Failures before a manager's sign-in is locked, and for how long (doubling, at most an hour).
const FAILURES_BEFORE_LOCKOUT: i32 = 5;

/// Signs a manager in: a session token for 12 hours, or why not.
pub async fn sign_in(state: &HubState, manager: &str, pin: &str) -> Result<String, HubError> {
    let client = state.pool.get().await?;
    let row = client
        .query_opt(
            "SELECT pin_argon2, failures, locked_until > now() FROM managers WHERE id = $1",
            &[&manager],
        )
        .await?;
    let wrong = || HubError::unauthorized("wrong manager or PIN");
    let Some(row) = row else {
        // The same work as a real check, so that timing does not tell which managers exist.
        let _ = verify_pin(dummy_phc(), pin.to_owned()).await;
        return Err(wrong());
    };
    let phc: String = row.get(0);
    let failures: i32 = row.get(1);
    let locked: Option<bool> = row.get(2);
    if locked == Some(true) {
        return Err(HubError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "locked_out",
            "too many wrong PINs: sign-in is locked for a while; try again later",
        ));
    }
    if !verify_pin(phc, pin.to_owned()).await {
        let failures = failures + 1;
        let lock_s = if failures >= FAILURES_BEFORE_LOCKOUT {
            (30i64 << (failures - FAILURES_BEFORE_LOCKOUT).min(7)).min(3600)
        } else {
            0
        };
        client
            .execute(
                "UPDATE managers SET failures = $2,
                     locked_until = CASE WHEN $3::float8 > 0
                         THEN now() + make_interval(secs => $3::float8) END
                 WHERE id = $1",
                &[&manager, &failures, &(lock_s as f64)],
            )
            .await?;
        return Err(wrong());
    }
    let token = format!("{SESSION_PREFIX}{}{}", random_token(), random_token());
    client
        .execute(
            "UPDATE managers SET failures = 0, locked_until = NULL WHERE id = $1",
            &[&manager],
        )
        .await?;
    client
        .execute(
            "INSERT INTO manager_sessions (token_sha256, manager, expires_at)
             VALUES ($1, $2, now() + interval '12 hours')",
            &[&hash_token(&token), &manager],
        )
        .await?;
    client
        .execute("DELETE FROM manager_sessions WHERE expires_at < now()", &[])
        .await?;
    Ok(token)
}

/// An argon2 hash of nothing in particular, checked when the manager does not exist.
fn dummy_phc() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| hallq_privacy::secrets::hash_pin(&random_token()).unwrap_or_default())
        .clone()
}

/// argon2 costs tens of milliseconds of CPU: off the request threads.
async fn verify_pin(phc: String, pin: String) -> bool {
    tokio::task::spawn_blocking(move || {
        hallq_privacy::secrets::SecretHash::argon2_from_phc(&phc)
            .is_some_and(|hash| hash.verify(&pin))
    })
    .await
    .unwrap_or(false)
}
