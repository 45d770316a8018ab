//! `GET /api/v1/events`: the event log as Server-Sent Events.
//!
//! Each event carries `id: <sequence number>`, `event: <kind>` and JSON `data` with public
//! fields only (numbers, services, windows — never phones or tokens). A client that sends
//! `Last-Event-ID` (or `?last_event_id=`) first gets everything after it from the store, then
//! the live stream, with nothing lost or repeated. A client too slow to keep up is dropped —
//! it reconnects and resumes — so no client ever holds up the engine.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use hallq_core::Event;
use hallq_engine::Published;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// More streams than a hall has screens and phones watching at once.
pub const SSE_CLIENTS_MAX: usize = 5000;
/// Messages buffered per client before it counts as too slow.
const CLIENT_BUFFER: usize = 512;
const REPLAY_PAGE: usize = 500;
const KEEP_ALIVE: Duration = Duration::from_secs(15);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    last_event_id: Option<String>,
}

/// The public form of an event: what any screen may show.
pub fn public_data(seq: u64, event: &Event) -> Value {
    let mut data = match event {
        Event::TicketIssued { ticket } => json!({
            "ticket": ticket.id,
            "number": ticket.number,
            "service": ticket.service,
            "priority": ticket.priority,
            "channel": ticket.channel,
            "service_day": ticket.service_day,
            "at": ticket.issued_at,
        }),
        // Device details name addresses and errors: for managers (GET /api/v1/devices), not
        // for every screen.
        Event::DeviceStatusChanged {
            device,
            condition,
            at,
            ..
        } => json!({"device": device, "condition": condition, "at": at}),
        Event::TicketPrintFailed {
            ticket,
            number,
            printer,
            condition,
            at,
            ..
        } => {
            json!({"ticket": ticket, "number": number, "printer": printer, "condition": condition, "at": at})
        }
        Event::SmsNotified {
            ticket,
            number,
            purpose,
            delivered,
            at,
            ..
        } => {
            json!({"ticket": ticket, "number": number, "purpose": purpose, "delivered": delivered, "at": at})
        }
        other => serde_json::to_value(other).unwrap_or(Value::Null),
    };
    if let Value::Object(map) = &mut data {
        map.remove("kind");
        map.insert("seq".into(), json!(seq));
    }
    data
}

fn frame(seq: u64, event: &Event) -> Bytes {
    Bytes::from(format!(
        "id: {seq}\nevent: {}\ndata: {}\n\n",
        event.kind(),
        public_data(seq, event)
    ))
}

/// Live events of the hall as Server-Sent Events.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(("Last-Event-ID" = Option<u64>, Header, description = "resume after this sequence number"),
        ("last_event_id" = Option<u64>, Query, description = "the same, for clients that cannot set headers")),
    responses((status = 200, description = "text/event-stream: `id: <seq>`, `event: <kind>`, JSON `data`"),
        (status = 400, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn events(
    request: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let header = request
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let resume = match header.or_else(|| query.into_inner().last_event_id) {
        None => None,
        Some(text) => Some(text.trim().parse::<u64>().map_err(|_| {
            ApiError::bad_request(
                "invalid_last_event_id",
                "Last-Event-ID must be a sequence number",
            )
        })?),
    };
    if state.sse_clients.fetch_add(1, Ordering::SeqCst) >= SSE_CLIENTS_MAX {
        state.sse_clients.fetch_sub(1, Ordering::SeqCst);
        return Err(ApiError::unavailable(
            "too many event streams are open; retry later",
        ));
    }
    let guard = ClientGuard(state.clone());
    // Subscribe before reading the store: every event is then in one or the other.
    let live = state.engine.subscribe();
    let start = match resume {
        Some(seq) => seq,
        None => state.readers.last_seq().await?,
    };
    let (sender, receiver) = mpsc::channel::<Bytes>(CLIENT_BUFFER);
    // Tell the client its resume point at once, so that a reconnect never starts from zero.
    let hello = format!("retry: 2000\nid: {start}\nevent: hello\ndata: {{\"seq\":{start}}}\n\n");
    let _ = sender.try_send(Bytes::from(hello));
    actix_web::rt::spawn(forward(state.clone(), live, sender, start, guard));
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|bytes| (Ok::<_, std::convert::Infallible>(bytes), receiver))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

/// Counts open streams; decrements when the stream's task ends.
struct ClientGuard(web::Data<AppState>);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.sse_clients.fetch_sub(1, Ordering::SeqCst);
    }
}

enum Step {
    Continue,
    Stop,
}

fn send(sender: &mpsc::Sender<Bytes>, bytes: Bytes) -> Step {
    // A full buffer means the client cannot keep up: drop it, it will resume.
    match sender.try_send(bytes) {
        Ok(()) => Step::Continue,
        Err(_) => Step::Stop,
    }
}

async fn replay(
    state: &AppState,
    sender: &mpsc::Sender<Bytes>,
    sent: &mut u64,
) -> Result<Step, ApiError> {
    loop {
        let page = state.readers.events_after(*sent, REPLAY_PAGE).await?;
        let done = page.len() < REPLAY_PAGE;
        for stored in page {
            if let Step::Stop = send(sender, frame(stored.seq, &stored.event)) {
                return Ok(Step::Stop);
            }
            *sent = stored.seq;
        }
        if done {
            return Ok(Step::Continue);
        }
        // Let the client drain between pages.
        while sender.capacity() < REPLAY_PAGE.min(CLIENT_BUFFER) {
            if sender.is_closed() {
                return Ok(Step::Stop);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn forward(
    state: web::Data<AppState>,
    mut live: broadcast::Receiver<Arc<Published>>,
    sender: mpsc::Sender<Bytes>,
    start: u64,
    _guard: ClientGuard,
) {
    let mut shutdown = state.shutdown.clone();
    let mut sent = start;
    if !matches!(replay(&state, &sender, &mut sent).await, Ok(Step::Continue)) {
        return;
    }
    let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
    keep_alive.tick().await;
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(published) => {
                    if published.seq <= sent {
                        continue;
                    }
                    if published.seq > sent + 1 {
                        // Defensive: fill any hole from the store before going on.
                        if !matches!(replay(&state, &sender, &mut sent).await, Ok(Step::Continue)) {
                            return;
                        }
                        if published.seq <= sent {
                            continue;
                        }
                    }
                    if let Step::Stop = send(&sender, frame(published.seq, &published.event)) {
                        return;
                    }
                    sent = published.seq;
                }
                // Lagged: this client fell too far behind. Closed: the engine stopped.
                Err(_) => return,
            },
            _ = keep_alive.tick() => {
                if let Step::Stop = send(&sender, Bytes::from_static(b": keep-alive\n\n")) {
                    return;
                }
            }
            _ = shutdown.changed() => return,
            _ = sender.closed() => return,
        }
    }
}
