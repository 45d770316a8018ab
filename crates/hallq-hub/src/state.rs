//! What every request handler shares: the database pool, the hub's key for citizens' numbers,
//! the holiday calendar (cached from the database) and the counters for /metrics.

use crate::db::DbError;
use deadpool_postgres::Pool;
use hallq_privacy::Privacy;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

pub struct HubState {
    pub pool: Pool,
    pub privacy: Privacy,
    /// Every calendar year the hub has, loaded at start and after each upload.
    pub calendar: RwLock<hallq_core::Calendar>,
    /// Halls' token hashes seen valid (id → SHA-256 hex): spares a query per push.
    pub hall_tokens: RwLock<HashMap<String, String>>,
    pub metrics: Metrics,
    /// The SMS gateway, when the hub has one (codes, confirmations, replies).
    pub sms: Option<crate::sms::Gateway>,
    /// What the gateway presents when it posts an inbound message (`Bearer …`).
    pub sms_inbound_token: Option<String>,
    /// Bookings, cancellations and phone codes per client address per minute.
    pub citizen_limit: hallq_privacy::limits::RateLimit,
    /// The city's time zone: what "today" means in reports.
    pub time_zone: hallq_core::jiff::tz::TimeZone,
    pub time_zone_name: String,
    /// A hall's row of the city's view changed (a snapshot or a push arrived): its id.
    pub city_updates: tokio::sync::broadcast::Sender<String>,
}

#[derive(Default)]
pub struct Metrics {
    pub pushes: AtomicU64,
    pub events_stored: AtomicU64,
    pub duplicates_dropped: AtomicU64,
    pub gaps: AtomicU64,
    pub snapshots: AtomicU64,
    pub unauthorized: AtomicU64,
    pub database_errors: AtomicU64,
    /// Push latency histogram: counts at or below 5, 10, 25, 50, 100, 250, 500, 1000, 2500 ms,
    /// and above.
    pub push_ms_buckets: [AtomicU64; 10],
}

pub const PUSH_MS_BOUNDS: [u64; 9] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500];

impl Metrics {
    pub fn add(counter: &AtomicU64, value: u64) {
        counter.fetch_add(value, Ordering::Relaxed);
    }

    pub fn observe_push(&self, millis: u64) {
        let index = PUSH_MS_BOUNDS
            .iter()
            .position(|bound| millis <= *bound)
            .unwrap_or(PUSH_MS_BOUNDS.len());
        self.push_ms_buckets[index].fetch_add(1, Ordering::Relaxed);
    }
}

pub type Shared = Arc<HubState>;

impl HubState {
    /// Reads every calendar year from the database into the cache.
    pub async fn reload_calendar(&self) -> Result<Vec<i16>, DbError> {
        let client = self.pool.get().await?;
        let rows = client
            .query("SELECT year, file FROM calendars ORDER BY year", &[])
            .await?;
        let mut calendar = hallq_core::Calendar::default();
        let mut years = Vec::new();
        for row in rows {
            let year: i16 = row.get(0);
            let file: String = row.get(1);
            match hallq_protocol::parse_calendar_file(&file) {
                Ok((parsed, entries)) if parsed == year => {
                    if calendar.add_year(year, &entries).is_ok() {
                        years.push(year);
                    }
                }
                _ => tracing::error!(year, "a stored calendar year does not parse; skipped"),
            }
        }
        *self
            .calendar
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = calendar;
        Ok(years)
    }

    pub fn calendar(&self) -> hallq_core::Calendar {
        self.calendar
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}
