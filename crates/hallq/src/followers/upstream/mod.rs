//! The upstream follower: this hall's log to the city's hub, and the hub's bookings and
//! calendars back. The hall never waits for the hub — its log is the outbox:
//!
//! - **Cursor.** Where the hub's copy of the log ends (`last_seq`) is the durable cursor: the
//!   hub commits it with the events it stores. The follower asks for it when the link starts
//!   (and whenever a push says it is wrong: 409 `sequence_gap`), then sends the events after it
//!   from the store in ordered, bounded batches. A push lost on the way is sent again; the hub
//!   drops what it has. So every event arrives once and in order, whatever fails when.
//! - **Snapshots** of waits and devices every `snapshot_interval` (a minute).
//! - **Pulls** every `pull_interval`: the hub's bookings (applied through the engine like any
//!   command, then acknowledged) and the calendar years this hall lacks.
//! - **Failures** back off exponentially with jitter (half a second, doubling, at most
//!   `retry_max`, a minute by default); every call has a timeout; HTTP runs on the blocking pool, so neither the
//!   engine nor a request ever waits for the hub.
//!
//! `SyncStatus` is what `/api/v1/sync`, `/metrics` and the dashboard's alert show.

mod bookings;
pub mod calendar;
mod client;
mod snapshot;

use crate::app::state::ReaderPool;
use crate::config::{HallConfig, UpstreamSettings};
use crate::followers::calling::Displays;
use crate::followers::printing::Printing;
use client::{CallError, HubClient};
use hallq_core::jiff::Timestamp;
use hallq_engine::{Clock, EngineHandle};
use hallq_protocol::{EventsAccepted, EventsPush, HallProfile, HallSummary, ProfileService};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// After a commit, wait this long for more before pushing (a burst goes as one batch).
const COALESCE: Duration = Duration::from_millis(200);
/// The last acknowledged position, kept for display across restarts (the hub's is the truth).
const CURSOR_FILE: &str = "upstream-cursor";

/// What the link looks like now.
#[derive(Clone, Debug, Default)]
pub struct SyncState {
    /// The hub's `last_seq` as last heard (from the cursor file until the hub answers).
    pub pushed_seq: Option<u64>,
    /// The hub confirmed `pushed_seq` since this start.
    pub confirmed: bool,
    pub last_success_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    /// When the oldest event the hub does not have yet happened (`None`: nothing waiting).
    pub oldest_unpushed_at: Option<Timestamp>,
    pub events_pushed: u64,
    pub pushes: u64,
    pub failures: u64,
    pub snapshots_sent: u64,
    pub bookings_applied: u64,
    pub bookings_refused: u64,
    pub calendar_years_fetched: Vec<i16>,
}

#[derive(Default)]
pub struct SyncStatus {
    state: Mutex<SyncState>,
}

impl SyncStatus {
    pub fn get(&self) -> SyncState {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Shows the kept cursor until the hub answers.
    pub fn start_from(&self, kept: Option<u64>) {
        self.update(|s| s.pushed_seq = kept);
    }

    fn update(&self, change: impl FnOnce(&mut SyncState)) {
        change(
            &mut self
                .state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
    }
}

/// Everything the follower works with.
pub struct Upstream {
    pub settings: UpstreamSettings,
    pub config: Arc<HallConfig>,
    pub engine: EngineHandle,
    pub readers: ReaderPool,
    pub privacy: Arc<crate::privacy::Privacy>,
    pub printing: Arc<Printing>,
    pub displays: Arc<Displays>,
    pub clock: Arc<dyn Clock>,
    pub data_dir: PathBuf,
    pub status: Arc<SyncStatus>,
}

/// Reads the kept cursor (for display until the hub answers).
pub fn kept_cursor(data_dir: &std::path::Path) -> Option<u64> {
    std::fs::read_to_string(data_dir.join(CURSOR_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn keep_cursor(data_dir: &std::path::Path, seq: u64) {
    let temporary = data_dir.join(format!(".{CURSOR_FILE}.tmp"));
    let written = std::fs::write(&temporary, seq.to_string())
        .and_then(|()| std::fs::rename(&temporary, data_dir.join(CURSOR_FILE)));
    if let Err(error) = written {
        tracing::debug!(%error, "could not keep the upstream cursor");
    }
}

/// Where the follower stands between rounds.
struct Link {
    client: HubClient,
    /// The hub's `last_seq`; `None` until it answered since this start (or after a refusal).
    cursor: Option<u64>,
    profile_sent: bool,
    next_snapshot: Instant,
    next_pull: Instant,
}

/// Runs until the daemon stops.
pub async fn run(upstream: Upstream, mut shutdown: watch::Receiver<bool>) {
    if upstream.settings.token.is_empty() {
        let message = "no upstream token: set HALLQ_UPSTREAM_TOKEN (or [upstream] token) to the \
                       token `hallq-hub add-hall` printed"
            .to_owned();
        tracing::error!("{message}");
        upstream.status.update(|s| s.last_error = Some(message));
        return;
    }
    let mut live = upstream.engine.subscribe();
    let now = Instant::now();
    let mut link = Link {
        client: HubClient::new(&upstream.settings, &upstream.config.id),
        cursor: None,
        profile_sent: false,
        next_snapshot: now,
        next_pull: now,
    };
    let mut failures: u32 = 0;
    tracing::info!(hub = %upstream.settings.url, hall = %upstream.config.id, "upstream link starting");
    while !*shutdown.borrow() {
        let round = tokio::select! {
            round = upstream.round(&mut link) => round,
            _ = shutdown.changed() => break,
        };
        upstream.note_lag(link.cursor).await;
        let wait = match round {
            Ok(true) => continue,
            Ok(false) => {
                failures = 0;
                None
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                upstream.note_failure(&error);
                if matches!(error, CallError::Refused(_)) {
                    // A refusal may mean the cursor or the profile was wrong: ask again.
                    link.cursor = None;
                    link.profile_sent = false;
                }
                Some(backoff(failures, upstream.settings.retry_max))
            }
        };
        let timer = wait
            .map(|wait| Instant::now() + wait)
            .unwrap_or_else(|| link.next_snapshot.min(link.next_pull));
        tokio::select! {
            _ = tokio::time::sleep_until(timer) => {}
            received = live.recv(), if wait.is_none() => {
                if matches!(received, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                    break;
                }
                tokio::time::sleep(COALESCE).await;
            }
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!("upstream link stopped");
}

/// Exponential from half a second, at most `most`, with jitter (50–100 %) so that a city's
/// halls do not all knock at once when the hub comes back.
fn backoff(failures: u32, most: Duration) -> Duration {
    let exponential = FIRST_BACKOFF.saturating_mul(1 << failures.saturating_sub(1).min(10));
    let capped = exponential.min(most);
    let mut byte = [0u8; 1];
    let _ = getrandom::getrandom(&mut byte);
    capped.mul_f64(0.5 + f64::from(byte[0]) / 510.0)
}

impl Upstream {
    /// One round: cursor, profile, a push, and a snapshot and a pull when due. `Ok(true)` when
    /// more events wait to be pushed at once.
    async fn round(&self, link: &mut Link) -> Result<bool, CallError> {
        let cursor = match link.cursor {
            Some(cursor) => cursor,
            None => {
                let cursor = self.ask_cursor(&link.client).await?;
                link.cursor = Some(cursor);
                cursor
            }
        };
        if !link.profile_sent {
            let profile = serde_json::to_string(&self.profile()).unwrap_or_default();
            link.client
                .call("PUT", link.client.hall_path("/profile"), Some(profile))
                .await?;
            link.profile_sent = true;
        }
        let more = self.push(link, cursor).await?;
        let now = Instant::now();
        if now >= link.next_snapshot {
            link.next_snapshot = now + self.settings.snapshot_interval;
            let snapshot = snapshot::take(self, self.clock.now());
            let body = serde_json::to_string(&snapshot).unwrap_or_default();
            link.client
                .call("POST", link.client.hall_path("/snapshots"), Some(body))
                .await?;
            self.status.update(|s| s.snapshots_sent += 1);
        }
        if now >= link.next_pull {
            link.next_pull = now + self.settings.pull_interval;
            let pulled = bookings::pull(self, &link.client).await?;
            let years = calendar::fetch_missing(self, &link.client).await?;
            self.status.update(|s| {
                s.bookings_applied += pulled.applied;
                s.bookings_refused += pulled.refused;
                s.calendar_years_fetched.extend(years);
            });
        }
        self.status.update(|s| {
            s.last_success_at = Some(self.clock.now());
            s.last_error = None;
        });
        Ok(more)
    }

    /// Where the hub's copy ends. A hub ahead of this hall's log means the wrong hall id or a
    /// database restored from an old backup: pushing would mix two histories, so it stops.
    async fn ask_cursor(&self, client: &HubClient) -> Result<u64, CallError> {
        let text = client
            .call("GET", client.hall_path("/summary"), None)
            .await?;
        let summary: HallSummary = serde_json::from_str(&text)
            .map_err(|e| CallError::Refused(format!("the hub's summary is not understood: {e}")))?;
        let log_seq = self.engine.committed_seq();
        if summary.last_seq > log_seq {
            return Err(CallError::Refused(format!(
                "the hub holds {} events of hall '{}' but this hall's log ends at {log_seq}: is \
                 [hall] id right, or was this hall's database restored from an older backup? \
                 Nothing is sent until this is resolved (docs/upstream-protocol.md)",
                summary.last_seq, self.config.id
            )));
        }
        self.status.update(|s| {
            s.pushed_seq = Some(summary.last_seq);
            s.confirmed = true;
        });
        Ok(summary.last_seq)
    }

    /// Sends the next batch after `cursor`; `Ok(true)` when more wait.
    async fn push(&self, link: &mut Link, cursor: u64) -> Result<bool, CallError> {
        let page = self
            .readers
            .events_after(cursor, self.settings.batch_events)
            .await
            .map_err(|e| {
                CallError::Unavailable(format!("the log cannot be read: {}", e.message))
            })?;
        if page.is_empty() {
            return Ok(false);
        }
        let record_context = hallq_protocol::RecordContext {
            hall: self.config.id.clone(),
            region_code: self.settings.region_code.clone(),
            numbering: self.settings.level_numbering,
            time_zone: self.config.time_zone.clone(),
        };
        let push = EventsPush {
            after: cursor,
            events: page
                .iter()
                .map(|stored| {
                    let mut pushed = hallq_protocol::upstream_event(stored.seq, &stored.event);
                    // A rating carries its 好差评 record (GB/T 39046 table 9) for the province.
                    if let Some(record) =
                        hallq_protocol::evaluation_record(&stored.event, &record_context)
                    {
                        pushed.data["record"] = serde_json::to_value(record).unwrap_or_default();
                    }
                    pushed
                })
                .collect(),
            log_seq: self.engine.committed_seq(),
        };
        let body = serde_json::to_string(&push).unwrap_or_default();
        match link
            .client
            .call("POST", link.client.hall_path("/events"), Some(body))
            .await
        {
            Ok(text) => {
                let accepted: EventsAccepted = serde_json::from_str(&text).map_err(|e| {
                    CallError::Unavailable(format!("the hub's answer is not understood: {e}"))
                })?;
                link.cursor = Some(accepted.last_seq);
                keep_cursor(&self.data_dir, accepted.last_seq);
                self.status.update(|s| {
                    s.pushed_seq = Some(accepted.last_seq);
                    s.confirmed = true;
                    s.events_pushed += accepted.stored;
                    s.pushes += 1;
                });
                Ok(accepted.last_seq < self.engine.committed_seq())
            }
            Err(CallError::Gap(last)) => {
                tracing::warn!(
                    hub_has = last,
                    sent_after = cursor,
                    "the hub's copy ends earlier than thought; sending from there"
                );
                link.cursor = Some(last);
                Ok(true)
            }
            Err(error) => Err(error),
        }
    }

    /// The hall as the hub books for it.
    fn profile(&self) -> HallProfile {
        let spec = &self.config.spec;
        HallProfile {
            name: spec.name.clone(),
            level: spec.level.clone(),
            address: self.config.address.clone(),
            time_zone: self.config.time_zone_name.clone(),
            services: spec
                .services
                .iter()
                .map(|s| ProfileService {
                    id: s.id.0.clone(),
                    name: s.name.clone(),
                    name_en: s.name_en.clone(),
                    department: s.department.clone(),
                    prefix: s.prefix.clone(),
                    materials: s.materials.clone(),
                })
                .collect(),
            plans: spec.appointment_plans.clone(),
            rules: spec.appointment_rules.clone(),
            calendar_years: self
                .engine
                .view(|hall| hall.spec().calendar.years().collect()),
        }
    }

    fn note_failure(&self, error: &CallError) {
        tracing::warn!(%error, "upstream call failed");
        let now = self.clock.now();
        self.status.update(|s| {
            s.failures += 1;
            s.last_error = Some(error.to_string());
            s.last_error_at = Some(now);
        });
    }

    /// When the oldest event the hub lacks happened: one indexed read per round.
    async fn note_lag(&self, cursor: Option<u64>) {
        // Until the hub has answered once, the kept cursor; without one, the whole log waits.
        let after = cursor.or_else(|| self.status.get().pushed_seq).unwrap_or(0);
        let oldest = if after >= self.engine.committed_seq() {
            None
        } else {
            match self.readers.events_after(after, 1).await {
                Ok(page) => page.first().map(|stored| stored.event.at()),
                Err(_) => return,
            }
        };
        self.status.update(|s| s.oldest_unpushed_at = oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let most = Duration::from_secs(60);
        for failures in 1..=30 {
            let nominal = FIRST_BACKOFF
                .saturating_mul(1 << (failures - 1).min(10))
                .min(most);
            let wait = backoff(failures, most);
            assert!(
                wait >= nominal / 2 && wait <= nominal,
                "{failures}: {wait:?}"
            );
        }
        assert!(backoff(50, Duration::from_secs(1)) <= Duration::from_secs(1));
    }
}
