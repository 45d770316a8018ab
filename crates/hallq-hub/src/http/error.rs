//! The hub's error form, the same as a hall's: `{"error": {"code", "message"}}` with the right
//! status. A database that cannot be reached is a 503 with `Retry-After`: the hall retries.

use crate::db::DbError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;
use std::fmt;

/// The error form, as the API description shows it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case: scripts branch on it.
    pub code: String,
    /// For people: what went wrong and what to do.
    pub message: String,
}

#[derive(Debug)]
pub struct HubError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// More fields beside `error` (a push's gap carries `last_seq`).
    pub extra: Option<(&'static str, serde_json::Value)>,
}

impl HubError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            extra: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn with(mut self, key: &'static str, value: serde_json::Value) -> Self {
        self.extra = Some((key, value));
        self
    }
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for HubError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = json!({"error": {"code": self.code, "message": self.message}});
        if let Some((key, value)) = &self.extra {
            body[*key] = value.clone();
        }
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header(("Retry-After", "5"));
        }
        response.json(body)
    }
}

impl From<DbError> for HubError {
    fn from(error: DbError) -> Self {
        tracing::warn!(%error, "database trouble");
        HubError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the hub's database cannot be reached or failed; the request changed nothing — retry \
             (operators: check that PostgreSQL runs and the hub's --database-url)",
        )
    }
}

impl From<tokio_postgres::Error> for HubError {
    fn from(error: tokio_postgres::Error) -> Self {
        DbError::Query(error).into()
    }
}

impl From<deadpool_postgres::PoolError> for HubError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        DbError::Pool(error).into()
    }
}
