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

/// One message for the gateway.
pub struct Message {
    /// The ticket it is about; `None` for a phone check's code.
    pub ticket: Option<TicketId>,
    /// The ticket number, or a label for the log.
    pub number: String,
    pub purpose: &'static str,
    pub phone: String,
    pub text: String,
}

/// What the gateway thread reports back, for the record.
pub struct Delivery {
    ticket: Option<TicketId>,
    purpose: &'static str,
    delivered: bool,
    detail: Option<String>,
}

/// The hall's SMS gateway: a thread that sends with retries, and a bounded queue to it.
pub struct Gateway {
    queue: SyncSender<Message>,
}

impl Gateway {
    /// Starts the gateway thread; outcomes come back on the receiver.
    pub fn start(settings: SmsSettings) -> std::io::Result<(Self, mpsc::Receiver<Delivery>)> {
        let (deliveries, delivered) = mpsc::channel(QUEUE_CAPACITY);
        let queue = start_gateway(settings, deliveries)?;
        Ok((Self { queue }, delivered))
    }

    /// Queues a message without waiting; gives it back when the queue is full.
    pub fn send(&self, message: Message) -> Result<(), Message> {
        self.queue
            .try_send(message)
            .map_err(|(TrySendError::Full(message) | TrySendError::Disconnected(message))| message)
    }
}

fn send(settings: &SmsSettings, agent: &ureq::Agent, message: &Message) -> Result<(), String> {
    let mut request = agent.post(&settings.gateway_url);
    if let Some(token) = &settings.gateway_token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    let body = serde_json::json!({
        "phone": message.phone,
        "text": message.text,
        "ticket": message.ticket.map(|_| &message.number),
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

/// A ticket whose holder left a phone number (sealed: opened only to send).
struct Watched {
    number: String,
    service: ServiceId,
    sealed: String,
}

struct Sms {
    settings: SmsSettings,
    config: Arc<HallConfig>,
    engine: EngineHandle,
    clock: Arc<dyn Clock>,
    watched: HashMap<TicketId, Watched>,
    privacy: Arc<crate::privacy::Privacy>,
    /// (ticket, purpose) already told, or being told.
    told: HashSet<(TicketId, &'static str)>,
    gateway: Arc<Gateway>,
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
                            sealed: t.contact.as_ref()?.sealed.clone()?,
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
        let Some(phone) = self.privacy.open(&watched.sealed) else {
            tracing::warn!(%ticket, "a ticket's phone cannot be opened with this hall's key: no SMS");
            return;
        };
        let message = Message {
            ticket: Some(ticket),
            number: watched.number.clone(),
            purpose,
            phone,
            text,
        };
        if self.gateway.send(message).is_err() {
            let command = Command::RecordSms {
                ticket,
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
                let Some(sealed) = ticket.contact.as_ref().and_then(|c| c.sealed.clone()) else {
                    return;
                };
                self.watched.insert(
                    ticket.id,
                    Watched {
                        number: ticket.number.clone(),
                        service: ticket.service.clone(),
                        sealed,
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
    privacy: Arc<crate::privacy::Privacy>,
    gateway: Option<(Arc<Gateway>, mpsc::Receiver<Delivery>)>,
    clock: Arc<dyn Clock>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (Some(settings), Some((gateway, mut delivered))) = (config.sms.clone(), gateway) else {
        return;
    };
    let mut follower = LogFollower::from_now(&engine, readers.clone());
    let mut sms = Sms {
        settings,
        config,
        engine: engine.clone(),
        clock,
        watched: HashMap::new(),
        privacy,
        told: told_today(&readers, &engine).await,
        gateway,
    };
    sms.watch_open_tickets();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            delivery = delivered.recv() => {
                let Some(delivery) = delivery else { return };
                // A phone check's code: logged by the gateway thread, nothing to record.
                let Some(ticket) = delivery.ticket else { continue };
                if !delivery.delivered {
                    // Let a later event try again.
                    sms.told.remove(&(ticket, delivery.purpose));
                }
                let command = Command::RecordSms {
                    ticket,
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
