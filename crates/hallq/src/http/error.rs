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
            | DomainError::UnknownComplaintCategory(_)
            | DomainError::InvalidNotice(_)
            | DomainError::InvalidWaitAlarm(_) => StatusCode::UNPROCESSABLE_ENTITY,
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

#[cfg(test)]
mod page_texts {
    /// Every error code the API can answer, gathered from the sources the way a reviewer would
    /// (the domain's `code()` and each literal code given to `ApiError`).
    fn codes_in_sources() -> std::collections::BTreeSet<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = vec![root.join("../hallq-core/src/error.rs")];
        let mut stack = vec![root.join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    sources.push(path);
                }
            }
        }
        let mut codes = std::collections::BTreeSet::new();
        for path in sources {
            let text = std::fs::read_to_string(&path).unwrap();
            let domain = path.ends_with("hallq-core/src/error.rs");
            for (index, _) in text.match_indices('"') {
                let rest = &text[index + 1..];
                let Some(end) = rest.find('"') else { continue };
                let word = &rest[..end];
                if word.is_empty() || !word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                    continue;
                }
                let before = &text[..index];
                let given_to_api_error = ["ApiError::new(", "bad_request(", "too_many("]
                    .iter()
                    .any(|call| {
                        before.rfind(call).is_some_and(|at| {
                            !before[at..].contains(';') && before.len() - at < 120
                        })
                    });
                let domain_code = domain && text[index..].starts_with(&format!("\"{word}\",\n"));
                if given_to_api_error || domain_code {
                    codes.insert(word.to_owned());
                }
            }
        }
        for fixed in ["not_found", "forbidden", "unauthorized", "unavailable"] {
            codes.insert(fixed.into());
        }
        codes
    }

    #[test]
    fn every_error_code_has_chinese_and_english_words_on_the_pages() {
        let table = include_str!("../../assets/messages.js");
        let codes = codes_in_sources();
        assert!(codes.len() > 60, "{codes:?}");
        for code in &codes {
            let line = table
                .lines()
                .find(|line| line.trim_start().starts_with(&format!("{code}: [")))
                .unwrap_or_else(|| panic!("assets/messages.js has no words for '{code}'"));
            let zh = line.split('"').nth(1).unwrap();
            let en = line.split('"').nth(3).unwrap();
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "'{code}' in Chinese mode is not Chinese: {zh}"
            );
            assert!(!en.is_empty(), "'{code}' has no English");
        }
    }
}
