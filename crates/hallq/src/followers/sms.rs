//! SMS calling: a citizen who left a mobile number gets a message when only a few people are
//! ahead, and another when called. Messages go to the hall's SMS gateway over HTTP:
//!
//! `POST {gateway_url}` with `{"phone", "text", "ticket", "purpose"}` and, when configured,
//! `Authorization: Bearer {gateway_token}`; any 2xx means accepted.
//!
//! The follower watches only the tickets that carry a phone (bounded by them, pruned as they
//! finish and at each new day) and asks the read model for their positions when their queue
//! moves: O(watched in that queue × log n) per event, never a scan of the day. Every outcome
//! is recorded as an `sms_notified` event (without the phone), which is also how a restarted
//! daemon knows whom it has already told. Phones are never logged whole.

use super::{FollowError, LogFollower};
use crate::app::state::ReaderPool;
use crate::config::{fill, HallConfig, SmsSettings};
use crate::views::mask_phone;
use hallq_core::{Command, Event, ServiceId, TicketId, TicketStatus};
use hallq_engine::{Clock, EngineHandle};
use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

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

/// The gateway thread: blocking HTTP with retries, so the follower never waits on it.
fn start_gateway(
    settings: SmsSettings,
    deliveries: mpsc::Sender<Delivery>,
) -> std::io::Result<SyncSender<Message>> {
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
                let delivery = Delivery {
                    ticket: message.ticket,
                    purpose: message.purpose,
                    delivered: result.is_ok(),
                    detail: result.err(),
                };
                // Bounded: when the recorder is behind, this thread waits, not the follower.
                if deliveries.blocking_send(delivery).is_err() {
                    return;
                }
            }
        })?;
    Ok(sender)
}

/// A ticket whose holder left a phone number.
struct Watched {
    number: String,
    service: ServiceId,
    phone: String,
}

struct Sms {
    settings: SmsSettings,
    config: Arc<HallConfig>,
    engine: EngineHandle,
    clock: Arc<dyn Clock>,
    watched: HashMap<TicketId, Watched>,
    /// (ticket, purpose) already told, or being told.
    told: HashSet<(TicketId, &'static str)>,
    gateway: SyncSender<Message>,
}

impl Sms {
    /// Tickets with a phone, today's and still open, from the read model.
    fn watch_open_tickets(&mut self) {
        self.watched = self.engine.view(|hall| {
            hall.tickets()
                .filter(|t| !t.status.is_final() || t.status == TicketStatus::NoShow)
                .filter_map(|t| {
                    Some((
                        t.id,
                        Watched {
                            number: t.number.clone(),
                            service: t.service.clone(),
                            phone: t.phone.clone()?,
                        },
                    ))
                })
                .collect()
        });
    }

    async fn tell(&mut self, ticket: TicketId, purpose: &'static str, text: String) {
        let Some(watched) = self.watched.get(&ticket) else {
            return;
        };
        if !self.told.insert((ticket, purpose)) {
            return;
        }
        let message = Message {
            ticket,
            number: watched.number.clone(),
            purpose,
            phone: watched.phone.clone(),
            text,
        };
        if let Err(TrySendError::Full(message) | TrySendError::Disconnected(message)) =
            self.gateway.try_send(message)
        {
            let command = Command::RecordSms {
                ticket: message.ticket,
                purpose: purpose.into(),
                delivered: false,
                detail: Some("too many messages waiting for the SMS gateway".into()),
            };
            let _ = self.engine.execute(command).await;
        }
    }

    /// Tells the watched tickets of `service` that are near the front now.
    async fn check_queue(&mut self, service: &ServiceId) {
        let notify_ahead = self.settings.notify_ahead;
        let candidates: Vec<TicketId> = self
            .watched
            .iter()
            .filter(|(id, w)| &w.service == service && !self.told.contains(&(**id, "approaching")))
            .map(|(id, _)| *id)
            .collect();
        if candidates.is_empty() {
            return;
        }
        let now = self.clock.now();
        let near: Vec<(TicketId, usize)> = self.engine.view(|hall| {
            candidates
                .iter()
                .filter_map(|id| {
                    let (ahead, _) = hall.position(*id, now)?;
                    (ahead < notify_ahead).then_some((*id, ahead))
                })
                .collect()
        });
        for (ticket, ahead) in near {
            let Some(number) = self.watched.get(&ticket).map(|w| w.number.clone()) else {
                continue;
            };
            let text = fill(
                &self.settings.approaching_template,
                &[
                    ("hall", &self.config.spec.name),
                    ("number", &number),
                    ("ahead", &ahead.to_string()),
                ],
            );
            self.tell(ticket, "approaching", text).await;
        }
    }

    fn forget(&mut self, ticket: TicketId) {
        self.watched.remove(&ticket);
        self.told.retain(|(id, _)| *id != ticket);
    }

    async fn on_event(&mut self, event: &Event) {
        match event {
            Event::ServiceDayStarted { .. } => {
                self.told.clear();
                self.watch_open_tickets();
            }
            Event::TicketIssued { ticket } => {
                let Some(phone) = ticket.phone.clone() else {
                    return;
                };
                self.watched.insert(
                    ticket.id,
                    Watched {
                        number: ticket.number.clone(),
                        service: ticket.service.clone(),
                        phone,
                    },
                );
                // Near the front already: the citizen just saw that on the kiosk.
                let now = self.clock.now();
                let notify_ahead = self.settings.notify_ahead;
                let near = self.engine.view(|hall| {
                    hall.position(ticket.id, now)
                        .is_some_and(|(ahead, _)| ahead < notify_ahead)
                });
                if near {
                    self.told.insert((ticket.id, "approaching"));
                }
            }
            Event::TicketCalled {
                ticket,
                number,
                service,
                window,
                ..
            } => {
                if self.watched.contains_key(ticket) {
                    let window_name = self
                        .config
                        .spec
                        .windows
                        .iter()
                        .find(|w| &w.id == window)
                        .map(|w| w.call_name().to_owned())
                        .unwrap_or_else(|| window.0.clone());
                    let text = fill(
                        &self.settings.called_template,
                        &[
                            ("hall", &self.config.spec.name),
                            ("number", number),
                            ("window", &window_name),
                        ],
                    );
                    self.tell(*ticket, "called", text).await;
                }
                self.check_queue(service).await;
            }
            Event::TicketTransferred {
                ticket,
                from_service,
                to_service,
                ..
            } => {
                if let Some(watched) = self.watched.get_mut(ticket) {
                    watched.service = to_service.clone();
                }
                // A new queue, a new approach.
                self.told.remove(&(*ticket, "approaching"));
                self.told.remove(&(*ticket, "called"));
                self.check_queue(from_service).await;
                self.check_queue(to_service).await;
            }
            Event::TicketRequeued {
                ticket, service, ..
            } => {
                self.told.remove(&(*ticket, "called"));
                self.check_queue(service).await;
            }
            Event::TicketCancelled { ticket, .. } | Event::TicketExpired { ticket, .. } => {
                let service = self.watched.get(ticket).map(|w| w.service.clone());
                self.forget(*ticket);
                let affected = service.or_else(|| {
                    self.engine
                        .view(|hall| hall.ticket(*ticket).map(|t| t.service.clone()))
                });
                if let Some(service) = affected {
                    self.check_queue(&service).await;
                }
            }
            Event::TicketCompleted { ticket, .. } => self.forget(*ticket),
            _ => {}
        }
    }
}

/// Whom the record says we told today (delivered messages only).
async fn told_today(
    readers: &ReaderPool,
    engine: &EngineHandle,
) -> HashSet<(TicketId, &'static str)> {
    let since = engine.view(|hall| {
        hall.day()
            .and_then(|day| day.to_zoned(hall.time_zone().clone()).ok())
            .map(|start| start.timestamp())
    });
    let Some(since) = since else {
        return HashSet::new();
    };
    let past = readers
        .with(move |store| store.events_of_kind_since("sms_notified", since, 100_000))
        .await
        .unwrap_or_default();
    past.into_iter()
        .filter_map(|stored| match stored.event {
            Event::SmsNotified {
                ticket,
                purpose,
                delivered: true,
                ..
            } => match purpose.as_str() {
                "called" => Some((ticket, "called")),
                "approaching" => Some((ticket, "approaching")),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

pub async fn run(
    engine: EngineHandle,
    readers: ReaderPool,
    config: Arc<HallConfig>,
    clock: Arc<dyn Clock>,
    mut shutdown: watch::Receiver<bool>,
) {
    let Some(settings) = config.sms.clone() else {
        return;
    };
    let mut follower = LogFollower::from_now(&engine, readers.clone());
    let (deliveries, mut delivered) = mpsc::channel(QUEUE_CAPACITY);
    let gateway = match start_gateway(settings.clone(), deliveries) {
        Ok(gateway) => gateway,
        Err(error) => {
            tracing::error!(%error, "cannot start the SMS gateway thread: no SMS will be sent");
            return;
        }
    };
    let mut sms = Sms {
        settings,
        config,
        engine: engine.clone(),
        clock,
        watched: HashMap::new(),
        told: told_today(&readers, &engine).await,
        gateway,
    };
    sms.watch_open_tickets();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            delivery = delivered.recv() => {
                let Some(delivery) = delivery else { return };
                if !delivery.delivered {
                    // Let a later event try again.
                    sms.told.remove(&(delivery.ticket, delivery.purpose));
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
            next = follower.next() => match next {
                Ok(published) => sms.on_event(&published.event).await,
                Err(FollowError::Stopped) => return,
                Err(FollowError::Store(error)) => {
                    tracing::error!(%error, "SMS calling cannot read the log; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
        }
    }
}
