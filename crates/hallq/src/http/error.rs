//! The API's error form: `{"error": {"code", "message"}}` with the right status. Bad input is
//! always a 4xx naming what was wrong; storage trouble is a 503/507 telling what to do.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use hallq_core::DomainError;
use hallq_engine::EngineError;
use hallq_store::StoreErrorKind;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds after which a retry may succeed (`Retry-After`), for 429 and 503.
    pub retry_after_s: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case: scripts branch on it.
    pub code: String,
    /// For people: what went wrong and what to do.
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    /// Tells the client when to try again.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_s = Some(seconds.max(1));
        self
    }

    pub fn too_many(code: &'static str, message: impl Into<String>, retry_after_s: u64) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, code, message).retry_after(retry_after_s)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this call needs `Authorization: Bearer TOKEN`: a device token or a session from \
             POST /api/v1/sessions",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let Some(seconds) = self.retry_after_s {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
            },
        })
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        let status = match &error {
            e if e.is_not_found() => StatusCode::NOT_FOUND,
            DomainError::IdempotencyKeyReused
            | DomainError::TransferToSameService(..)
            | DomainError::UnknownReason(_)
            | DomainError::UnknownComplaintCategory(_) => StatusCode::UNPROCESSABLE_ENTITY,
            DomainError::TokenInUse | DomainError::DayNotStarted => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::CONFLICT,
        };
        ApiError::new(status, error.code(), error.to_string())
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::Domain(domain) => domain.into(),
            EngineError::Storage(store) => match store.kind {
                StoreErrorKind::Full => ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "storage_full",
                    format!("nothing was changed: {}", store.message),
                ),
                StoreErrorKind::ReadOnly => ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_read_only",
                    format!("nothing was changed: {}", store.message),
                ),
                _ => ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    format!("nothing was changed: {}", store.message),
                ),
            },
            EngineError::Stopped => ApiError::unavailable("hallq is shutting down; retry shortly"),
            EngineError::Timeout(after) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "engine_busy",
                format!(
                    "hallq did not confirm within {} s (the disk may be slow); the change may \
                     still be made: retry with the same Idempotency-Key, or check before \
                     retrying",
                    after.as_secs()
                ),
            ),
        }
    }
}
