//! SMS calling: a citizen who left a mobile number gets a message when only a few people are
//! ahead, and another when called. Messages go to the hall's SMS gateway over HTTP:
//!
//! `POST {gateway_url}` with `{"phone", "text", "ticket", "purpose"}` and, when configured,
//! `Authorization: Bearer {gateway_token}`; any 2xx means accepted.
//!
//! Every outcome is recorded as an `sms_notified` event (without the phone), which is also how
//! a restarted daemon knows whom it has already told. Phones are never logged whole.

use crate::config::{fill, HallConfig, SmsSettings};
use crate::state::ReaderPool;
use crate::views::mask_phone;
use hallq_core::{Command, Event, TicketId, TicketStatus};
use hallq_engine::EngineHandle;
use std::collections::HashSet;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};

/// Messages waiting for the gateway; beyond this they are dropped and recorded as failed.
const QUEUE_CAPACITY: usize = 256;
const ATTEMPTS: u32 = 3;
const GATEWAY_TIMEOUT: Duration = Duration::from_secs(5);

struct Message {
    ticket: TicketId,
    number: String,
    purpose: &'static str,
    phone: String,
    text: String,
}

/// What the gateway thread reports back, for the record.
struct Delivery {
    ticket: TicketId,
    purpose: &'static str,
    delivered: bool,
    detail: Option<String>,
}

fn send(settings: &SmsSettings, agent: &ureq::Agent, message: &Message) -> Result<(), String> {
    let mut request = agent.post(&settings.gateway_url);
    if let Some(token) = &settings.gateway_token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    let body = serde_json::json!({
        "phone": message.phone,
        "text": message.text,
        "ticket": message.number,
        "purpose": message.purpose,
    });
    match request.send_json(body) {
        Ok(_) => Ok(()),
        Err(ureq::Error::Status(status, _)) => Err(format!("the SMS gateway answered {status}")),
        Err(error) => Err(format!("the SMS gateway cannot be reached: {error}")),
    }
}

/// The gateway thread: blocking HTTP with retries, so the event loop never waits on it.
fn start_gateway(
    settings: SmsSettings,
    deliveries: mpsc::UnboundedSender<Delivery>,
) -> SyncSender<Message> {
    let (sender, receiver) = sync_channel::<Message>(QUEUE_CAPACITY);
    std::thread::Builder::new()
        .name("sms-gateway".into())
        .spawn(move || {
            let agent = ureq::AgentBuilder::new().timeout(GATEWAY_TIMEOUT).build();
            for message in receiver {
                let mut result = Err(String::new());
                for attempt in 0..ATTEMPTS {
                    result = send(&settings, &agent, &message);
                    if result.is_ok() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(500 * 2u64.pow(attempt)));
                }
                let phone = mask_phone(&message.phone);
                match &result {
                    Ok(()) => tracing::info!(number = %message.number, %phone, purpose = message.purpose, "SMS sent"),
                    Err(error) => tracing::warn!(number = %message.number, %phone, %error, "SMS failed"),
                }
                let _ = deliveries.send(Delivery {
                    ticket: message.ticket,
                    purpose: message.purpose,
                    delivered: result.is_ok(),
                    detail: result.err(),
                });
            }
        })
        .expect("spawn the SMS thread");
    sender
}

/// A ticket whose holder should hear from us now.
struct Due {
    ticket: TicketId,
    number: String,
    phone: String,
    purpose: &'static str,
    ahead: usize,
    window: Option<hallq_core::WindowId>,
}

/// Tickets with a phone that should hear from us now: those called, and those waiting within
/// `notify_ahead` places of the front.
fn due(hall: &hallq_core::Hall, now: hallq_core::jiff::Timestamp, notify_ahead: usize) -> Vec<Due> {
    hall.tickets()
        .filter_map(|ticket| {
            let phone = ticket.phone.clone()?;
            let (purpose, ahead) = match ticket.status {
                TicketStatus::Called => ("called", 0),
                TicketStatus::Waiting => {
                    let (ahead, _) = hall.position(ticket.id, now)?;
                    if ahead >= notify_ahead {
                        return None;
                    }
                    ("approaching", ahead)
                }
                _ => return None,
            };
            Some(Due {
                ticket: ticket.id,
                number: ticket.number.clone(),
                phone,
                purpose,
                ahead,
                window: ticket.window.clone(),
            })
        })
        .collect()
}

pub async fn run_sms(
    engine: EngineHandle,
    config: Arc<HallConfig>,
    readers: ReaderPool,
    mut shutdown: watch::Receiver<bool>,
) {
    let Some(settings) = config.sms.clone() else {
        return;
    };
    let mut events = engine.subscribe();
    // Whom we already told today, from the record.
    let mut notified: HashSet<(TicketId, String)> = HashSet::new();
    let today_start = engine
        .read(|hall, now| {
            hall.day()
                .and_then(|day| day.to_zoned(hall.time_zone().clone()).ok())
                .map(|start| start.timestamp())
                .unwrap_or(now)
        })
        .await;
    if let Ok(since) = today_start {
        if let Ok(past) = readers
            .with(move |store| store.events_of_kind_since("sms_notified", since, 100_000))
            .await
        {
            for stored in past {
                if let Event::SmsNotified {
                    ticket,
                    purpose,
                    delivered: true,
                    ..
                } = stored.event
                {
                    notified.insert((ticket, purpose));
                }
            }
        }
    }
    let (deliveries, mut delivered) = mpsc::unbounded_channel();
    let gateway = start_gateway(settings.clone(), deliveries);
    let hall_name = config.spec.name.clone();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            delivery = delivered.recv() => {
                let Some(delivery) = delivery else { return };
                if !delivery.delivered {
                    // Let a later call try again.
                    notified.remove(&(delivery.ticket, delivery.purpose.to_owned()));
                }
                let command = Command::RecordSms {
                    ticket: delivery.ticket,
                    purpose: delivery.purpose.into(),
                    delivered: delivery.delivered,
                    detail: delivery.detail,
                };
                if let Err(error) = engine.execute(command).await {
                    tracing::warn!(%error, "cannot record an SMS");
                }
            }
            received = events.recv() => {
                // Only calls, cancellations and transfers move people forward; an issue is
                // looked at so that a ticket already near the front is not told what its
                // holder saw on the kiosk a moment ago.
                let issued = match received {
                    Ok(published) => match &published.event {
                        Event::TicketIssued { ticket } => Some(ticket.id),
                        Event::TicketCalled { .. } | Event::TicketCancelled { .. } | Event::TicketTransferred { .. } => None,
                        _ => continue,
                    },
                    Err(broadcast::error::RecvError::Lagged(_)) => None,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if let Some(ticket) = issued {
                    let notify_ahead = settings.notify_ahead;
                    let near = engine
                        .read(move |hall, now| hall.position(ticket, now).is_some_and(|(ahead, _)| ahead < notify_ahead))
                        .await
                        .unwrap_or(false);
                    if near {
                        notified.insert((ticket, "approaching".to_owned()));
                    }
                    continue;
                }
                let notify_ahead = settings.notify_ahead;
                let Ok(candidates) = engine.read(move |hall, now| due(hall, now, notify_ahead)).await else { return };
                for Due { ticket, number, phone, purpose, ahead, window } in candidates {
                    if !notified.insert((ticket, purpose.to_owned())) {
                        continue;
                    }
                    let text = match purpose {
                        "called" => {
                            let window = window.map(|w| {
                                config.spec.windows.iter().find(|s| s.id == w).map(|s| s.call_name().to_owned()).unwrap_or(w.0)
                            }).unwrap_or_default();
                            fill(&settings.called_template, &[("hall", &hall_name), ("number", &number), ("window", &window)])
                        }
                        _ => fill(&settings.approaching_template, &[("hall", &hall_name), ("number", &number), ("ahead", &ahead.to_string())]),
                    };
                    let message = Message { ticket, number, purpose, phone, text };
                    if let Err(TrySendError::Full(message) | TrySendError::Disconnected(message)) = gateway.try_send(message) {
                        let command = Command::RecordSms {
                            ticket: message.ticket,
                            purpose: purpose.into(),
                            delivered: false,
                            detail: Some("too many messages waiting for the SMS gateway".into()),
                        };
                        let _ = engine.execute(command).await;
                    }
                }
            }
        }
    }
}
