//! Everything downstream of the log. The way out is one way:
//!
//! ```text
//! request → engine (decide, group commit) → read model + broadcast → followers
//! ```
//!
//! A follower reads the committed events in sequence order with [`LogFollower`] (the engine's
//! broadcast, and the store when it fell behind), and the committed state through the engine's
//! read model (`EngineHandle::view`). None asks the writer thread to read for it, none sits
//! inside a request, and each keeps what it must remember in the log itself (as events it
//! records through the engine), not in files of its own.
//!
//! - `projection` — turns events into public and staff frames, serialised once, for every
//!   event stream and page;
//! - `printing` — prints issued and reprint-requested tickets, records the outcome;
//! - `calling` — keeps each window's LED display showing what the read model says;
//! - `sms` — tells citizens near the front, and when called;
//! - `device_reports` — records printers' and displays' condition changes (latest per device);
//! - `upstream` — the log to the city's hub from the hub's durable cursor, in batches read from
//!   the store; the hub's bookings and calendars back through the engine.

pub mod calling;
pub mod device_reports;
pub mod id_readers;
pub mod printing;
pub mod projection;
pub mod sms;
pub mod upstream;

use crate::app::state::ReaderPool;
use hallq_engine::{EngineHandle, Published};
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Events read from the store at a time when a follower catches up.
const CATCH_UP_PAGE: usize = 500;

/// Why a follower stopped getting events.
#[derive(Debug)]
pub enum FollowError {
    /// The engine stopped: the daemon is shutting down.
    Stopped,
    /// The store could not be read to catch up; retry later.
    Store(String),
}

/// Reads the committed event log in order, without a gap or a repeat: live from the engine's
/// broadcast, and from the store whenever the broadcast ran ahead of this follower.
pub struct LogFollower {
    live: broadcast::Receiver<Arc<Published>>,
    readers: ReaderPool,
    last: u64,
    backlog: VecDeque<Arc<Published>>,
}

impl LogFollower {
    /// Follows from the present: the first event returned is the next one committed.
    pub fn from_now(engine: &EngineHandle, readers: ReaderPool) -> Self {
        // Subscribe first, then read the position: every later event is on the broadcast.
        let live = engine.subscribe();
        let last = engine.committed_seq();
        Self::starting(live, readers, last)
    }

    /// Follows from just after `seq` (a durable cursor), catching up from the store first.
    pub fn after(engine: &EngineHandle, readers: ReaderPool, seq: u64) -> Self {
        Self::starting(engine.subscribe(), readers, seq)
    }

    fn starting(live: broadcast::Receiver<Arc<Published>>, readers: ReaderPool, last: u64) -> Self {
        Self {
            live,
            readers,
            last,
            backlog: VecDeque::new(),
        }
    }

    /// The sequence number of the last event returned.
    pub fn position(&self) -> u64 {
        self.last
    }

    /// The next event of the log.
    pub async fn next(&mut self) -> Result<Arc<Published>, FollowError> {
        loop {
            if let Some(event) = self.ready() {
                return Ok(event);
            }
            if !self.backlog.is_empty() {
                // A hole before the backlog: this follower started behind the broadcast, or
                // fell behind it. The store has every committed event.
                self.fill_hole().await?;
                continue;
            }
            match self.live.recv().await {
                Ok(event) => self.backlog.push_back(event),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        after = self.last,
                        "a follower fell behind; catching up from the store"
                    );
                    self.fill_hole().await?;
                }
                Err(broadcast::error::RecvError::Closed) => return Err(FollowError::Stopped),
            }
        }
    }

    /// The next event if it is at hand without waiting (to work through a burst at once).
    pub fn try_next(&mut self) -> Option<Arc<Published>> {
        loop {
            if let Some(event) = self.ready() {
                return Some(event);
            }
            if !self.backlog.is_empty() {
                return None;
            }
            match self.live.try_recv() {
                Ok(event) => self.backlog.push_back(event),
                Err(_) => return None,
            }
        }
    }

    /// Pops the backlog's front if it is the next event, dropping what was seen already.
    fn ready(&mut self) -> Option<Arc<Published>> {
        while self
            .backlog
            .front()
            .is_some_and(|event| event.seq <= self.last)
        {
            self.backlog.pop_front();
        }
        if self.backlog.front()?.seq != self.last + 1 {
            return None;
        }
        let event = self.backlog.pop_front()?;
        self.last = event.seq;
        Some(event)
    }

    /// Reads the events after `last` from the store and puts them before the backlog.
    async fn fill_hole(&mut self) -> Result<(), FollowError> {
        let page = self
            .readers
            .events_after(self.last, CATCH_UP_PAGE)
            .await
            .map_err(|e| FollowError::Store(e.message))?;
        let before = self.backlog.front().map(|e| e.seq).unwrap_or(u64::MAX);
        let mut filled: VecDeque<Arc<Published>> = page
            .into_iter()
            .filter(|stored| stored.seq < before)
            .map(|stored| {
                Arc::new(Published {
                    seq: stored.seq,
                    event: stored.event,
                })
            })
            .collect();
        if filled.is_empty() && before != u64::MAX {
            return Err(FollowError::Store(format!(
                "the log has no event {} although {before} was published",
                self.last + 1
            )));
        }
        filled.append(&mut self.backlog);
        self.backlog = filled;
        Ok(())
    }
}
