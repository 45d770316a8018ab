//! The event streams, as Server-Sent Events. They send the projection's frames — serialised
//! once, shared by every stream — and run no task of their own: each stream is the shared
//! broadcast read at the pace of its client. A client too slow to keep up is dropped; it
//! reconnects with `Last-Event-ID` and resumes from the projection's ring, or is told to
//! `resync` (reload its state) when the ring no longer reaches back that far.
//!
//! - `GET /api/v1/events` — the hall's events: the public allow-list for anyone, the staff
//!   shapes for a signed-in staff member or manager (`Authorization: Bearer`);
//! - `GET /api/v1/board/events` — what a TV board needs: calls and recalls at once, the
//!   waiting counts at most twice a second (coalesced), the day's start;
//! - `GET /api/v1/t/{token}/events` — one ticket's status (`event: status`), sent at once and
//!   again whenever it changes, so that the citizen's page never asks.
//!
//! Screens' traffic does not grow with the rate of issuing: boards get calls and coalesced
//! counts, and a citizen's page wakes only when its own queue moved (see the projection).

use super::error::{ApiError, ErrorBody};
use super::public::{citizen_ticket_live, is_token, CitizenTicketView};
use super::{bearer_token, caller, Data, WINDOW_ROLES};
use crate::app::state::AppState;
use crate::followers::projection::{Backlog, Frame, QueueWatch};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use hallq_core::ServiceId;
use serde::Deserialize;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// More streams than a hall has screens and phones watching at once.
pub const SSE_CLIENTS_MAX: usize = 5000;
/// Browsers reconnect after this many milliseconds.
const RETRY_MS: u32 = 2000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    last_event_id: Option<String>,
}

/// Counts open streams, in all and per address; gives the places back when the stream is
/// dropped. One client cannot take every stream: the boards would be cut off.
struct ClientGuard(web::Data<AppState>, String);

impl ClientGuard {
    /// A place for one more stream, unless the daemon is shutting down or the limits are met.
    fn take(request: &HttpRequest, state: &web::Data<AppState>) -> Result<Self, ApiError> {
        if *state.shutdown.borrow() {
            return Err(ApiError::unavailable(
                "hallq is shutting down; retry shortly",
            ));
        }
        let address = super::client_address(request, state);
        if !state.streams_per_address.take(&address) {
            return Err(ApiError::too_many(
                "too_many_streams",
                format!(
                    "this address holds {} event streams already: close some, or retry later",
                    state.config().security.streams_per_address
                ),
                30,
            ));
        }
        if state.sse_clients.fetch_add(1, Ordering::SeqCst) >= SSE_CLIENTS_MAX {
            state.sse_clients.fetch_sub(1, Ordering::SeqCst);
            state.streams_per_address.give_back(&address);
            return Err(ApiError::unavailable(
                "too many event streams are open; retry later",
            ));
        }
        Ok(Self(state.clone(), address))
    }
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.sse_clients.fetch_sub(1, Ordering::SeqCst);
        self.0.streams_per_address.give_back(&self.1);
    }
}

fn control(kind: &str, seq: u64) -> Bytes {
    Bytes::from(format!(
        "retry: {RETRY_MS}\nid: {seq}\nevent: {kind}\ndata: {{\"seq\":{seq}}}\n\n"
    ))
}

/// What each of the streams below is: the next bytes for its client, or `None` when it ends.
trait Frames: 'static {
    async fn next(&mut self) -> Option<Bytes>;
}

/// A stream's frames as the answer's body.
fn stream_of(frames: impl Frames) -> HttpResponse {
    event_stream(futures_util::stream::unfold(
        frames,
        |mut frames| async move { frames.next().await.map(|bytes| (bytes, frames)) },
    ))
}

fn event_stream(body: impl futures_util::Stream<Item = Bytes> + 'static) -> HttpResponse {
    use futures_util::StreamExt;
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body.map(Ok::<_, std::convert::Infallible>))
}

/// The resume point of a request: `Last-Event-ID`, or `?last_event_id=` for clients that
/// cannot set headers.
fn resume_point(request: &HttpRequest, query: EventsQuery) -> Result<Option<u64>, ApiError> {
    let header = request
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match header.or(query.last_event_id) {
        None => Ok(None),
        Some(text) => text.trim().parse::<u64>().map(Some).map_err(|_| {
            ApiError::bad_request(
                "invalid_last_event_id",
                "Last-Event-ID must be a sequence number",
            )
        }),
    }
}

struct Streaming {
    pending: VecDeque<Bytes>,
    frames: broadcast::Receiver<Arc<Frame>>,
    last: u64,
    staff: bool,
    shutdown: watch::Receiver<bool>,
    _guard: ClientGuard,
}

impl Streaming {
    /// What this client gets of a frame, if anything (and notes that it was sent).
    fn take(&mut self, frame: &Frame) -> Option<Bytes> {
        if frame.is_keep_alive() {
            return frame.public.clone();
        }
        if frame.seq <= self.last {
            return None;
        }
        self.last = frame.seq;
        if self.staff {
            Some(frame.staff.clone())
        } else {
            frame.public.clone()
        }
    }
}

impl Frames for Streaming {
    /// The next bytes for this client, or `None` when the stream ends.
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(bytes) = self.pending.pop_front() {
                return Some(bytes);
            }
            let frame = tokio::select! {
                biased;
                _ = self.shutdown.changed() => return None,
                // Lagged: too slow, it will resume. Closed: shutting down.
                frame = self.frames.recv() => frame.ok()?,
            };
            let Some(first) = self.take(&frame) else {
                continue;
            };
            // A burst goes out in one write.
            let mut more = Vec::new();
            while more.len() < COALESCE_MAX {
                match self.frames.try_recv() {
                    Ok(frame) => more.extend(self.take(&frame)),
                    Err(broadcast::error::TryRecvError::Empty) => break,
                    Err(_) => return None,
                }
            }
            return Some(join(first, more));
        }
    }
}

/// Live events of the hall as Server-Sent Events.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(("Last-Event-ID" = Option<u64>, Header, description = "resume after this sequence number"),
        ("last_event_id" = Option<u64>, Query, description = "the same, for clients that cannot set headers")),
    responses((status = 200, description = "text/event-stream: `id: <seq>`, `event: <kind>`, JSON `data`; first `hello` (or `resync`: reload your state) with the current sequence number. With a staff or manager session the staff shapes, otherwise the public allow-list."),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn events(
    request: HttpRequest,
    state: Data,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let staff = match bearer_token(&request) {
        None => false,
        Some(_) => caller(&request, &state)?.is_any(WINDOW_ROLES),
    };
    let resume = resume_point(&request, query.into_inner())?;
    let guard = ClientGuard::take(&request, &state)?;
    let (frames, backlog, head) = state.projection.subscribe_after(resume);
    let mut pending = VecDeque::new();
    let last = match backlog {
        Backlog::Frames(frames) => {
            let after = resume.unwrap_or(head);
            pending.push_back(control("hello", after));
            let mut last = after;
            for frame in frames {
                last = frame.seq;
                let bytes = if staff {
                    Some(frame.staff.clone())
                } else {
                    frame.public.clone()
                };
                pending.extend(bytes);
            }
            last.max(after)
        }
        Backlog::Resync => {
            pending.push_back(control("resync", head));
            head
        }
    };
    let streaming = Streaming {
        pending,
        frames,
        last,
        staff,
        shutdown: state.shutdown.clone(),
        _guard: guard,
    };
    Ok(stream_of(streaming))
}

struct BoardStreaming {
    pending: Option<Bytes>,
    texts: broadcast::Receiver<Bytes>,
    shutdown: watch::Receiver<bool>,
    _guard: ClientGuard,
}

impl Frames for BoardStreaming {
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(first) = self.pending.take() {
            return Some(first);
        }
        let first = tokio::select! {
            biased;
            _ = self.shutdown.changed() => return None,
            // Lagged (a board too slow) or closed: end; the board reconnects and reloads.
            text = self.texts.recv() => text.ok()?,
        };
        // Everything else already waiting goes out in the same write: a burst of calls costs
        // each board one write, not one per call.
        let mut more = Vec::new();
        while more.len() < COALESCE_MAX {
            match self.texts.try_recv() {
                Ok(text) => more.push(text),
                Err(broadcast::error::TryRecvError::Empty) => break,
                Err(_) => return None,
            }
        }
        Some(join(first, more))
    }
}

/// Texts joined into one write at most.
const COALESCE_MAX: usize = 64;

fn join(first: Bytes, more: Vec<Bytes>) -> Bytes {
    if more.is_empty() {
        return first;
    }
    let mut joined = Vec::with_capacity(first.len() + more.iter().map(Bytes::len).sum::<usize>());
    joined.extend_from_slice(&first);
    for text in more {
        joined.extend_from_slice(&text);
    }
    Bytes::from(joined)
}

/// What a TV board shows, live: `ticket_called` and `ticket_recalled` as they happen, `queues`
/// (every service's waiting count) at most twice a second, `service_day_started`. It starts with
/// `hello` carrying the current sequence number: a board whose state is older reloads
/// `/api/v1/board`.
#[utoipa::path(get, path = "/api/v1/board/events", tag = "calling",
    responses((status = 200, description = "text/event-stream: hello, ticket_called, ticket_recalled, queues, service_day_started, board_notice_set"),
        (status = 503, body = ErrorBody)))]
pub async fn board_events(request: HttpRequest, state: Data) -> Result<HttpResponse, ApiError> {
    let guard = ClientGuard::take(&request, &state)?;
    let texts = state.projection.subscribe_boards();
    let streaming = BoardStreaming {
        pending: Some(control("hello", state.projection.head())),
        texts,
        shutdown: state.shutdown.clone(),
        _guard: guard,
    };
    Ok(stream_of(streaming))
}

struct TicketStreaming {
    state: web::Data<AppState>,
    token: String,
    service: ServiceId,
    watch: QueueWatch,
    sent: Option<String>,
    first: Option<Bytes>,
    shutdown: watch::Receiver<bool>,
    _guard: ClientGuard,
}

impl TicketStreaming {
    fn status(&mut self, view: &CitizenTicketView) -> Option<Bytes> {
        let data = serde_json::to_string(view).ok()?;
        if self.sent.as_deref() == Some(data.as_str()) {
            return None;
        }
        let seq = self.state.projection.head();
        let bytes = Bytes::from(format!("id: {seq}\nevent: status\ndata: {data}\n\n"));
        self.sent = Some(data);
        Some(bytes)
    }
}

impl Frames for TicketStreaming {
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        loop {
            tokio::select! {
                biased;
                _ = self.shutdown.changed() => return None,
                moved = self.watch.own.changed() => moved.ok()?,
                moved = self.watch.all.changed() => moved.ok()?,
                tick = self.watch.keep_alive.changed() => {
                    tick.ok()?;
                    return Some(Bytes::from_static(b": keep-alive\n\n"));
                }
            }
            // A ticket that left the live state (a new day) ends its stream with its last word.
            let (view, _, service) = citizen_ticket_live(&self.state, &self.token)?;
            if service != self.service {
                // Transferred: follow the new queue.
                self.watch = self.state.projection.watch_queue(&service)?;
                self.service = service;
            }
            if let Some(bytes) = self.status(&view) {
                return Some(bytes);
            }
        }
    }
}

/// One ticket's status, live: sent at once, then whenever it changes (people ahead, the
/// estimate, called to a window, recalled, done).
#[utoipa::path(get, path = "/api/v1/t/{token}/events", tag = "calling",
    params(("token" = String, Path, description = "the token from the ticket's QR code")),
    responses((status = 200, description = "text/event-stream of `event: status` with the same data as GET /api/v1/t/{token}"),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn ticket_events(
    request: HttpRequest,
    state: Data,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = path.into_inner();
    let not_found = || ApiError::not_found("there is no ticket with this code");
    if !is_token(&token) {
        return Err(not_found());
    }
    let guard = ClientGuard::take(&request, &state)?;
    let live = citizen_ticket_live(&state, &token);
    // Watch the queue before reading the status, so that no change falls between.
    let watched = live
        .as_ref()
        .and_then(|(_, _, service)| state.projection.watch_queue(service));
    let (Some((_, _, service)), Some(watch)) = (live, watched) else {
        // An old ticket: its status is final and comes from history, once.
        let view = super::public::citizen_ticket(&state, token)
            .await?
            .ok_or_else(not_found)?;
        let data = serde_json::to_string(&view).unwrap_or_default();
        let once = Bytes::from(format!("retry: 3600000\nevent: status\ndata: {data}\n\n"));
        return Ok(event_stream(futures_util::stream::once(
            async move { once },
        )));
    };
    // The status read after the watch began: anything later wakes the stream.
    let Some((view, _, _)) = citizen_ticket_live(&state, &token) else {
        return Err(not_found());
    };
    let mut streaming = TicketStreaming {
        state: state.clone(),
        token,
        service,
        watch,
        sent: None,
        first: None,
        shutdown: state.shutdown.clone(),
        _guard: guard,
    };
    let first = streaming
        .status(&view)
        .map(|bytes| Bytes::from([format!("retry: {RETRY_MS}\n").as_bytes(), &bytes].concat()));
    streaming.first = first;
    Ok(stream_of(streaming))
}

/// A kiosk's own stream (its device token, read with `fetch`): `hello`, then `card` when a
/// citizen lays an ID card on the kiosk's reader — a reference to quote when issuing or
/// checking in, whether the citizen is of green-channel age, whether the card is past its
/// validity, and today's booking made with it — and `card_removed`. Never the number, the
/// name or the photo; never on any other stream.
#[utoipa::path(get, path = "/api/v1/kiosk/events", tag = "kiosk",
    security(("bearer" = [])),
    responses((status = 200, description = "text/event-stream: hello, card, card_removed"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn kiosk_events(request: HttpRequest, state: Data) -> Result<HttpResponse, ApiError> {
    let principal = super::authorize(&request, &state, &[crate::auth::Role::Kiosk])?;
    let guard = ClientGuard::take(&request, &state)?;
    let streaming = KioskStreaming {
        pending: Some(control("hello", state.projection.head())),
        kiosk: principal.id,
        frames: state.id_cards.subscribe(),
        keep_alive: tokio::time::interval_at(
            tokio::time::Instant::now() + KIOSK_KEEP_ALIVE,
            KIOSK_KEEP_ALIVE,
        ),
        shutdown: state.shutdown.clone(),
        _guard: guard,
    };
    Ok(stream_of(streaming))
}

/// A kiosk's stream says something this often even when no card is laid on (proxies and
/// browsers drop silent connections).
const KIOSK_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

struct KioskStreaming {
    pending: Option<Bytes>,
    kiosk: String,
    frames: broadcast::Receiver<crate::followers::id_readers::KioskFrame>,
    keep_alive: tokio::time::Interval,
    shutdown: watch::Receiver<bool>,
    _guard: ClientGuard,
}

impl Frames for KioskStreaming {
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(first) = self.pending.take() {
            return Some(first);
        }
        loop {
            tokio::select! {
                biased;
                _ = self.shutdown.changed() => return None,
                frame = self.frames.recv() => {
                    match frame {
                        // Only this kiosk's cards reach this kiosk.
                        Ok((kiosk, text)) if kiosk == self.kiosk => return Some(text),
                        Ok(_) => continue,
                        // A kiosk far behind reconnects; a card read is worth nothing late.
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
                _ = self.keep_alive.tick() => return Some(Bytes::from_static(b": keep-alive\n\n")),
            }
        }
    }
}
