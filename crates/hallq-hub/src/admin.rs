//! The command line's jobs on the hub's database: register a hall (its token printed once),
//! give a hall a new token, add a manager, load a calendar year.

use crate::auth::new_hall_token;
use crate::db::{self, DbError};
use hallq_privacy::secrets::{hash_pin, hash_token};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Refused(String),
}

impl From<tokio_postgres::Error> for AdminError {
    fn from(error: tokio_postgres::Error) -> Self {
        AdminError::Db(DbError::Query(error))
    }
}

async fn migrated(url: &str) -> Result<tokio_postgres::Client, AdminError> {
    let mut client = db::connect(url).await?;
    db::migrate(&mut client).await?;
    Ok(client)
}

fn check_id(id: &str, what: &str) -> Result<(), AdminError> {
    if hallq_core::is_valid_id(id) {
        Ok(())
    } else {
        Err(AdminError::Refused(format!(
            "'{id}' is not a valid {what} id: use 1-40 characters a-z, 0-9, '-' or '_' (the \
             hall's [hall] id)"
        )))
    }
}

/// Registers a hall; returns its token (shown once: the hub keeps only its hash).
pub async fn add_hall(url: &str, id: &str, name: &str) -> Result<String, AdminError> {
    check_id(id, "hall")?;
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(AdminError::Refused(
            "give the hall's name (--name), at most 100 characters".into(),
        ));
    }
    let mut client = migrated(url).await?;
    let token = new_hall_token();
    let transaction = client.transaction().await?;
    let inserted = transaction
        .execute(
            "INSERT INTO halls (id, name, token_sha256) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO NOTHING",
            &[&id, &name.trim(), &hash_token(&token)],
        )
        .await?;
    if inserted == 0 {
        return Err(AdminError::Refused(format!(
            "the hall '{id}' is registered already; `hallq-hub new-token {id}` gives it a new token"
        )));
    }
    transaction
        .execute("INSERT INTO hall_sync (hall) VALUES ($1)", &[&id])
        .await?;
    transaction.commit().await?;
    Ok(token)
}

/// Replaces a hall's token (a lost or leaked one); the old one stops working at once.
pub async fn new_token(url: &str, id: &str) -> Result<String, AdminError> {
    check_id(id, "hall")?;
    let client = migrated(url).await?;
    let token = new_hall_token();
    let updated = client
        .execute(
            "UPDATE halls SET token_sha256 = $2 WHERE id = $1",
            &[&id, &hash_token(&token)],
        )
        .await?;
    if updated == 0 {
        return Err(AdminError::Refused(format!(
            "there is no hall '{id}'; register it with `hallq-hub add-hall {id} --name …`"
        )));
    }
    Ok(token)
}

/// Adds a manager (or sets a new PIN for one).
pub async fn add_manager(url: &str, id: &str, name: &str, pin: &str) -> Result<(), AdminError> {
    check_id(id, "manager")?;
    if pin.chars().count() < 6 || pin.len() > 64 {
        return Err(AdminError::Refused(
            "a manager's PIN has at least 6 characters".into(),
        ));
    }
    let hash = hash_pin(pin).map_err(AdminError::Refused)?;
    let client = migrated(url).await?;
    client
        .execute(
            "INSERT INTO managers (id, name, pin_argon2) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, pin_argon2 = EXCLUDED.pin_argon2,
                 failures = 0, locked_until = NULL",
            &[&id, &name, &hash],
        )
        .await?;
    Ok(())
}

/// Loads a year's holiday file; returns its year.
pub async fn add_calendar(url: &str, text: &str) -> Result<i16, AdminError> {
    let (year, _) = hallq_protocol::parse_calendar_file(text).map_err(|e| {
        AdminError::Refused(format!(
            "not a calendar file: {} (line {}): {}",
            e.key,
            e.line.map_or("?".into(), |l| l.to_string()),
            e.message
        ))
    })?;
    let client = migrated(url).await?;
    client
        .execute(
            "INSERT INTO calendars (year, file) VALUES ($1, $2)
             ON CONFLICT (year) DO UPDATE SET file = EXCLUDED.file, added_at = now()",
            &[&year, &text],
        )
        .await?;
    Ok(year)
}

/// Runs the migrations only.
pub async fn migrate(url: &str) -> Result<(), AdminError> {
    migrated(url).await.map(|_| ())
}
