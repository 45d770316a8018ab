//! PostgreSQL: the pool every request borrows from, and the schema's migrations.
//!
//! The pool hands out connections checked on the way out (`RecyclingMethod::Fast` drops a
//! connection the server closed), so a database restart costs the requests that were in flight
//! and nothing after: the next ones get fresh connections.

mod migrations;

pub use migrations::migrate;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::time::Duration;
use tokio_postgres::NoTls;

/// How long a request waits for a free connection, or for a new one, before it answers 503.
const POOL_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database URL is not valid: {0} (postgresql://USER@HOST:PORT/DATABASE, or host=… dbname=… user=…)")]
    Url(tokio_postgres::Error),
    #[error("cannot reach the database: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error("database error: {0}")]
    Query(#[from] tokio_postgres::Error),
    #[error("cannot set up the database pool: {0}")]
    Build(String),
}

/// A pool of connections to `url`, at most `size` at once.
pub fn pool(url: &str, size: usize) -> Result<Pool, DbError> {
    let config: tokio_postgres::Config = url.parse().map_err(DbError::Url)?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(POOL_WAIT))
        .recycle_timeout(Some(POOL_WAIT))
        .build()
        .map_err(|e| DbError::Build(e.to_string()))
}

/// One connection outside a pool, for the command line's one-off jobs.
pub async fn connect(url: &str) -> Result<tokio_postgres::Client, DbError> {
    let config: tokio_postgres::Config = url.parse().map_err(DbError::Url)?;
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "database connection ended");
        }
    });
    Ok(client)
}
