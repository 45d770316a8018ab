//! The projection: every committed event becomes one *frame* — its public and staff stream
//! text, serialised once — broadcast to every open event stream as shared bytes, and kept in a
//! ring of recent frames so that a reconnecting client resumes without asking the store. A
//! resume point the ring no longer reaches (or one from the future, after a restore) is
//! answered with `resync`: the client reloads its state. Never silence, never the whole log.
//!
//! Screens need far less than every event, and there can be a thousand of them: their traffic
//! must not grow with the rate of issuing. So the projection also publishes
//!
//! - for TV boards, calls and recalls at once, the day's start, and the waiting counts at most
//!   every `QUEUES_EVERY` (coalesced: a burst of 10,000 tickets is one update);
//! - for citizens' pages, a version per service that moves only when a ticket's position or
//!   estimate in that queue may have changed — a call, a cancellation, a transfer, a priority
//!   arrival — but not when a walk-in joins behind everyone. Each page wakes on its own
//!   queue's version (coalesced by the watch channel) and sends its status only if it changed.

use super::{FollowError, LogFollower};
use crate::app::state::ReaderPool;
use crate::config::HallConfig;
use crate::views::events::event_data;
use actix_web::web::Bytes;
use hallq_core::{ServiceId, TicketId};
use hallq_engine::{EngineHandle, Published};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Frames kept for resuming streams: minutes of a busy hall's events.
pub const RING_FRAMES: usize = 4096;
/// Frames a stream may fall behind before it is dropped (it reconnects and resumes).
const CHANNEL_FRAMES: usize = 1024;
/// Events folded into frames under one read of the read model.
const BURST_MAX: usize = 256;
/// Proxies and browsers drop a stream that stays silent much longer; and a client that went
/// away cleanly is noticed only when a write to it fails, so this also bounds how long a
/// closed stream holds its place.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);
/// The boards' waiting counts are sent at most this often.
pub const QUEUES_EVERY: Duration = Duration::from_millis(500);
/// Board texts a board may fall behind before it is dropped (it reconnects and reloads).
const BOARD_FRAMES: usize = 256;

/// One event as the streams send it, or a keep-alive.
#[derive(Debug)]
pub struct Frame {
    /// The event's sequence number; 0 for a keep-alive.
    pub seq: u64,
    pub kind: &'static str,
    /// The public stream's text (`id:`, `event:`, `data:`), or `None` when it is left out.
    pub public: Option<Bytes>,
    /// The staff stream's text.
    pub staff: Bytes,
    pub ticket: Option<TicketId>,
    pub services: Vec<ServiceId>,
    pub windows_changed: bool,
}

impl Frame {
    pub fn is_keep_alive(&self) -> bool {
        self.seq == 0
    }

    fn keep_alive() -> Self {
        Self {
            seq: 0,
            kind: "keep_alive",
            public: Some(Bytes::from_static(b": keep-alive\n\n")),
            staff: Bytes::from_static(b": keep-alive\n\n"),
            ticket: None,
            services: Vec::new(),
            windows_changed: false,
        }
    }
}

/// What a stream sends before going live.
pub enum Backlog {
    /// These frames, oldest first (possibly none).
    Frames(Vec<Arc<Frame>>),
    /// The resume point is out of reach: the client must reload its state.
    Resync,
}

pub struct Projection {
    frames: broadcast::Sender<Arc<Frame>>,
    ring: Mutex<VecDeque<Arc<Frame>>>,
    /// The last event projected.
    head: AtomicU64,
    projected: AtomicU64,
    /// What boards are sent: SSE texts of calls, recalls, the day's start, waiting counts and
    /// keep-alives.
    boards: broadcast::Sender<Bytes>,
    /// Per service (in the hall's order): bumped when positions in its queue may have moved.
    moved: Vec<watch::Sender<u64>>,
    service_index: std::collections::HashMap<ServiceId, usize>,
    /// Bumped when every queue may have moved (a window opened or closed, a new day).
    moved_all: watch::Sender<u64>,
    /// Bumped every `KEEP_ALIVE`, for streams that send nothing else for long.
    keep_alive: watch::Sender<u64>,
}

/// What a citizen's page waits on: its queue's version, everyone's, and the keep-alive tick.
pub struct QueueWatch {
    pub own: watch::Receiver<u64>,
    pub all: watch::Receiver<u64>,
    pub keep_alive: watch::Receiver<u64>,
}

/// SSE text of one event.
pub fn sse_text(seq: u64, kind: &str, data: &str) -> Bytes {
    Bytes::from(format!("id: {seq}\nevent: {kind}\ndata: {data}\n\n"))
}

impl Projection {
    /// A projection whose first frame will follow the event `start_seq`, for a hall with
    /// these services.
    pub fn new(start_seq: u64, services: &[ServiceId]) -> Self {
        let (frames, _) = broadcast::channel(CHANNEL_FRAMES);
        let (boards, _) = broadcast::channel(BOARD_FRAMES);
        Self {
            frames,
            ring: Mutex::new(VecDeque::with_capacity(RING_FRAMES)),
            head: AtomicU64::new(start_seq),
            projected: AtomicU64::new(0),
            boards,
            moved: services.iter().map(|_| watch::channel(0).0).collect(),
            service_index: services
                .iter()
                .enumerate()
                .map(|(index, service)| (service.clone(), index))
                .collect(),
            moved_all: watch::channel(0).0,
            keep_alive: watch::channel(0).0,
        }
    }

    /// The boards' stream.
    pub fn subscribe_boards(&self) -> broadcast::Receiver<Bytes> {
        self.boards.subscribe()
    }

    /// What a page for a ticket in `service` waits on.
    pub fn watch_queue(&self, service: &ServiceId) -> Option<QueueWatch> {
        let own = self
            .moved
            .get(*self.service_index.get(service)?)?
            .subscribe();
        Some(QueueWatch {
            own,
            all: self.moved_all.subscribe(),
            keep_alive: self.keep_alive.subscribe(),
        })
    }

    fn bump(sender: &watch::Sender<u64>) {
        sender.send_modify(|version| *version = version.wrapping_add(1));
    }

    fn queue_moved(&self, service: &ServiceId) {
        if let Some(&index) = self.service_index.get(service) {
            Self::bump(&self.moved[index]);
        }
    }

    /// The sequence number of the newest frame.
    pub fn head(&self) -> u64 {
        self.head.load(Ordering::Acquire)
    }

    /// Frames made since start (a metric).
    pub fn projected(&self) -> u64 {
        self.projected.load(Ordering::Relaxed)
    }

    /// Subscribes, and says what must be sent first to resume after `after` (`None`: from
    /// now). Every frame is then either in the backlog or on the receiver (or both: skip
    /// what was sent by sequence number). Returns the head at that moment too.
    pub fn subscribe_after(
        &self,
        after: Option<u64>,
    ) -> (broadcast::Receiver<Arc<Frame>>, Backlog, u64) {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        let receiver = self.frames.subscribe();
        let head = self.head();
        let backlog = match after {
            None => Backlog::Frames(Vec::new()),
            Some(after) if after == head => Backlog::Frames(Vec::new()),
            Some(after) if after > head => Backlog::Resync,
            Some(after) => match ring.front() {
                Some(first) if after + 1 >= first.seq => Backlog::Frames(
                    ring.iter()
                        .filter(|frame| frame.seq > after)
                        .cloned()
                        .collect(),
                ),
                _ => Backlog::Resync,
            },
        };
        (receiver, backlog, head)
    }

    fn tick(&self) {
        self.publish(Arc::new(Frame::keep_alive()));
        let _ = self.boards.send(Bytes::from_static(b": keep-alive\n\n"));
        Self::bump(&self.keep_alive);
    }

    fn publish(&self, frame: Arc<Frame>) {
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        if !frame.is_keep_alive() {
            if ring.len() == RING_FRAMES {
                ring.pop_front();
            }
            ring.push_back(frame.clone());
            self.head.store(frame.seq, Ordering::Release);
            self.projected.fetch_add(1, Ordering::Relaxed);
        }
        // No stream open is fine; a stream that lags is dropped and resumes.
        let _ = self.frames.send(frame);
    }
}

fn frame(published: &Published, hall: &hallq_core::Hall, config: &HallConfig) -> Arc<Frame> {
    let kind = published.event.kind();
    let data = event_data(published.seq, &published.event, hall, config);
    Arc::new(Frame {
        seq: published.seq,
        kind,
        public: data
            .public
            .map(|value| sse_text(published.seq, kind, &value.to_string())),
        staff: sse_text(published.seq, kind, &data.staff.to_string()),
        ticket: data.ticket,
        services: data.services,
        windows_changed: data.windows_changed,
    })
}

/// Tells the screens what an event changed: boards get calls and recalls at once (and the
/// waiting counts later, coalesced), citizens' pages a new version of the queues it moved.
/// Returns whether waiting counts changed.
fn notify_screens(
    projection: &Projection,
    published: &Published,
    frame: &Frame,
    hall: &hallq_core::Hall,
) -> bool {
    use hallq_core::{Event, PriorityClass};
    match &published.event {
        Event::TicketCalled { .. }
        | Event::TicketRecalled { .. }
        | Event::ServiceDayStarted { .. }
        | Event::BoardNoticeSet { .. } => {
            if let Some(text) = &frame.public {
                let _ = projection.boards.send(text.clone());
            }
        }
        _ => {}
    }
    match &published.event {
        Event::ServiceDayStarted { .. }
        | Event::WindowPaused { .. }
        | Event::WindowResumed { .. } => {
            Projection::bump(&projection.moved_all);
        }
        // A walk-in joining at the back moves nobody's position.
        Event::TicketIssued { ticket } if ticket.priority == PriorityClass::WalkIn => {}
        Event::TicketRecalled { ticket, .. }
        | Event::TicketNoShow { ticket, .. }
        | Event::TicketExpired { ticket, .. }
        | Event::TicketCancelled { ticket, .. } => {
            if let Some(found) = hall.ticket(*ticket) {
                projection.queue_moved(&found.service);
            }
        }
        _ => {
            for service in &frame.services {
                projection.queue_moved(service);
            }
        }
    }
    !frame.services.is_empty()
}

/// The boards' waiting counts now, as one SSE text.
fn queues_text(seq: u64, hall: &hallq_core::Hall) -> Bytes {
    let queues: Vec<serde_json::Value> = hall
        .spec()
        .services
        .iter()
        .map(|service| {
            let (waiting, wait_s_estimate) = hall.queue_estimate(&service.id);
            serde_json::json!({"service": service.id, "waiting": waiting, "wait_s_estimate": wait_s_estimate})
        })
        .collect();
    sse_text(
        seq,
        "queues",
        &serde_json::json!({"seq": seq, "queues": queues}).to_string(),
    )
}

/// Follows the log and publishes its frames until the daemon shuts down.
pub async fn run(
    engine: EngineHandle,
    readers: ReaderPool,
    config: Arc<HallConfig>,
    projection: Arc<Projection>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut follower = LogFollower::after(&engine, readers, projection.head());
    let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
    keep_alive.tick().await;
    let mut queues_every = tokio::time::interval(QUEUES_EVERY);
    queues_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut queues_changed = false;
    loop {
        tokio::select! {
            next = follower.next() => match next {
                Ok(first) => {
                    let mut burst = vec![first];
                    while burst.len() < BURST_MAX {
                        match follower.try_next() {
                            Some(event) => burst.push(event),
                            None => break,
                        }
                    }
                    // One read of the read model for the whole burst.
                    engine.view(|hall| {
                        for published in &burst {
                            let frame = frame(published, hall, &config);
                            queues_changed |= notify_screens(&projection, published, &frame, hall);
                            projection.publish(frame);
                        }
                    });
                }
                Err(FollowError::Stopped) => return,
                Err(FollowError::Store(error)) => {
                    tracing::error!(%error, "the projection cannot read the log; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
            _ = keep_alive.tick() => projection.tick(),
            _ = queues_every.tick(), if queues_changed => {
                queues_changed = false;
                let seq = projection.head();
                let text = engine.view(|hall| queues_text(seq, hall));
                let _ = projection.boards.send(text);
            }
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u64) -> Arc<Frame> {
        Arc::new(Frame {
            seq,
            kind: "ticket_issued",
            public: Some(sse_text(seq, "ticket_issued", "{}")),
            staff: sse_text(seq, "ticket_issued", "{}"),
            ticket: None,
            services: Vec::new(),
            windows_changed: false,
        })
    }

    fn seqs(backlog: Backlog) -> Option<Vec<u64>> {
        match backlog {
            Backlog::Frames(frames) => Some(frames.iter().map(|f| f.seq).collect()),
            Backlog::Resync => None,
        }
    }

    #[test]
    fn resume_points_inside_the_ring_replay_and_others_resync() {
        let projection = Projection::new(10, &[]);
        // Nothing projected yet: only the present is in reach.
        assert_eq!(seqs(projection.subscribe_after(Some(10)).1), Some(vec![]));
        assert_eq!(seqs(projection.subscribe_after(Some(3)).1), None);
        assert_eq!(seqs(projection.subscribe_after(Some(11)).1), None);
        for seq in 11..=(10 + RING_FRAMES as u64 + 5) {
            projection.publish(frame(seq));
        }
        let head = projection.head();
        assert_eq!(head, 10 + RING_FRAMES as u64 + 5);
        assert_eq!(
            seqs(projection.subscribe_after(Some(head - 2)).1),
            Some(vec![head - 1, head])
        );
        assert_eq!(seqs(projection.subscribe_after(Some(head)).1), Some(vec![]));
        // The oldest frames left the ring.
        assert_eq!(seqs(projection.subscribe_after(Some(12)).1), None);
        let first_kept = head - RING_FRAMES as u64 + 1;
        assert_eq!(
            seqs(projection.subscribe_after(Some(first_kept - 1)).1).map(|s| s.len()),
            Some(RING_FRAMES)
        );
        // From the future (a restored database): resync.
        assert_eq!(seqs(projection.subscribe_after(Some(head + 1)).1), None);
        // Keep-alives reach subscribers but never the ring.
        let (mut receiver, _, _) = projection.subscribe_after(None);
        projection.publish(Arc::new(Frame::keep_alive()));
        assert!(receiver.try_recv().unwrap().is_keep_alive());
        assert_eq!(projection.head(), head);
    }
}
