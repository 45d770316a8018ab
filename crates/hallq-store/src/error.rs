//! Store errors, sorted into what a hall's IT person can act on.

use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// The disk (or the configured size limit) is full.
    Full,
    /// The file or its directory cannot be written.
    ReadOnly,
    /// Another process holds the database.
    Busy,
    /// The file is damaged or not a database.
    Corrupt,
    /// Anything else: IO errors, bugs.
    Other,
}

#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    pub kind: StoreErrorKind,
    pub message: String,
}

impl StoreError {
    pub fn other(message: impl Into<String>) -> Self {
        Self {
            kind: StoreErrorKind::Other,
            message: message.into(),
        }
    }

    pub(crate) fn opening(path: &Path, error: rusqlite::Error) -> Self {
        let mut error = StoreError::from(error);
        error.message = format!("cannot open {}: {}", path.display(), error.message);
        error
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let kind = match error.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreErrorKind::Full,
            Some(ErrorCode::ReadOnly) | Some(ErrorCode::CannotOpen) => StoreErrorKind::ReadOnly,
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreErrorKind::Busy,
            Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => {
                StoreErrorKind::Corrupt
            }
            _ => StoreErrorKind::Other,
        };
        let advice = match kind {
            StoreErrorKind::Full => {
                "the disk or the configured storage limit is full: free space or raise \
                 storage.max_size_mb"
            }
            StoreErrorKind::ReadOnly => {
                "the database cannot be written: check the data directory's permissions and \
                 that its file system is mounted read-write"
            }
            StoreErrorKind::Busy => {
                "another process holds the database: run one hallq per data directory"
            }
            StoreErrorKind::Corrupt => "the database file is damaged: restore it from a backup",
            StoreErrorKind::Other => "",
        };
        let message = if advice.is_empty() {
            error.to_string()
        } else {
            format!("{error}; {advice}")
        };
        Self { kind, message }
    }
}
