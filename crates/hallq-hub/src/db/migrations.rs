//! The schema, versioned: each migration runs once, in order, in its own transaction, under an
//! advisory lock so that two hubs starting together do not both run it.

use super::DbError;

/// (version, SQL), in order. Add new ones at the end; never edit one that has shipped.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../../migrations/001-hub.sql")),
    (
        2,
        include_str!("../../migrations/002-citizens-and-city.sql"),
    ),
    (3, include_str!("../../migrations/003-id-cards.sql")),
];

/// Any number: the lock's name among the database's advisory locks.
const MIGRATION_LOCK: i64 = 0x6861_6c6c_715f_6875; // "hallq_hu"

/// Brings the schema up to date; returns how many migrations ran.
pub async fn migrate(client: &mut tokio_postgres::Client) -> Result<usize, DbError> {
    client
        .batch_execute(
            "SET client_min_messages TO warning;
             CREATE TABLE IF NOT EXISTS schema_migrations (
                 version integer PRIMARY KEY,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await?;
    let mut ran = 0;
    for (version, sql) in MIGRATIONS {
        let transaction = client.transaction().await?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        let applied = transaction
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[version],
            )
            .await?
            .is_some();
        if applied {
            continue;
        }
        transaction.batch_execute(sql).await?;
        transaction
            .execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[version],
            )
            .await?;
        transaction.commit().await?;
        tracing::info!(version, "database migration applied");
        ran += 1;
    }
    Ok(ran)
}
