//! Resident ID card readers (one per kiosk), supervised like the other devices: each on a
//! thread of its own (serial IO blocks), asking its reader whether a card lies on it, reading
//! a card once per placement, reconnecting with backoff after an unplug.
//!
//! What a read leaves in the daemon is a **card read**: the card's number as a `Contact`
//! (keyed hash and mask, made at once — the number itself is dropped with the reader's
//! answer), whether the citizen is of green-channel age, whether the card is past its
//! validity, held under a random reference for `[id_cards] hold_s`, at most one per kiosk.
//! The kiosk's own authenticated stream is told the reference and what the kiosk may say
//! ("green channel", "card expired", "you have a booking today"); the kiosk quotes the
//! reference when it issues a ticket or checks in. Nothing from a card is logged, put on a
//! public stream, or kept after its hold.

use crate::config::{HallConfig, IdReaderSettings};
use actix_web::web::Bytes;
use hallq_core::jiff::civil::Date;
use hallq_core::Contact;
use hallq_devices::id_card::{CardDate, IdCard, IdReader, ReadError};
use hallq_devices::transport::open_stream;
use hallq_engine::{Clock, EngineHandle};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// A card laid on a kiosk's reader, as the daemon holds it for a moment.
#[derive(Clone)]
pub struct CardRead {
    pub kiosk: String,
    /// Keyed hash and mask of the number: never the number.
    pub id_card: Contact,
    /// At or above `[id_cards] green_channel_age`.
    pub green_by_age: bool,
    pub expired: bool,
    read_at: Instant,
}

impl std::fmt::Debug for CardRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardRead(..)")
    }
}

/// A reader's health, for `/api/v1/devices`, `/metrics` and the dashboard's alerts.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct IdReaderView {
    pub id: String,
    pub kiosk: String,
    pub url: String,
    pub connected: bool,
    /// Whether a card lies on it now.
    pub card_present: bool,
    pub reads: u64,
    pub errors: u64,
    /// The last problem, in the system's words (for IT staff); never anything from a card.
    pub detail: Option<String>,
}

#[derive(Default)]
struct Health {
    connected: AtomicBool,
    card_present: AtomicBool,
    reads: AtomicU64,
    errors: AtomicU64,
    detail: Mutex<Option<String>>,
}

/// Frames for kiosks' streams: (kiosk id, SSE text).
pub type KioskFrame = (String, Bytes);

/// Kiosks' frames a lagging stream may fall behind before it is dropped.
const KIOSK_FRAMES: usize = 256;

pub struct IdCards {
    readers: Vec<(IdReaderSettings, Arc<Health>)>,
    reads: Mutex<HashMap<String, (String, CardRead)>>,
    frames: broadcast::Sender<KioskFrame>,
    hold: Duration,
    /// `[id_cards] green_channel_age`, for what the kiosk says.
    green_age: u8,
}

/// A hall date as a card writes its dates, to compare the two.
pub fn card_date(date: Date) -> CardDate {
    CardDate {
        year: u16::try_from(date.year()).unwrap_or(0),
        month: u8::try_from(date.month()).unwrap_or(1),
        day: u8::try_from(date.day()).unwrap_or(1),
    }
}

impl IdCards {
    /// Starts a supervisor thread per configured reader. Each ends soon after the daemon lets
    /// go of this (it holds it weakly), and with it its hold on the engine.
    pub fn start(
        config: Arc<HallConfig>,
        engine: EngineHandle,
        clock: Arc<dyn Clock>,
        privacy: Arc<crate::privacy::Privacy>,
    ) -> Arc<Self> {
        let (frames, _) = broadcast::channel(KIOSK_FRAMES);
        let cards = Arc::new(Self {
            readers: config
                .id_readers
                .iter()
                .map(|settings| (settings.clone(), Arc::new(Health::default())))
                .collect(),
            reads: Mutex::default(),
            frames,
            hold: config.id_cards.hold,
            green_age: config.id_cards.green_channel_age,
        });
        for (settings, health) in &cards.readers {
            let supervisor = Supervisor {
                settings: settings.clone(),
                health: health.clone(),
                cards: Arc::downgrade(&cards),
                config: config.clone(),
                engine: engine.clone(),
                clock: clock.clone(),
                privacy: privacy.clone(),
            };
            std::thread::Builder::new()
                .name(format!("id-reader-{}", settings.id))
                .spawn(move || supervisor.run())
                .expect("start an ID reader thread");
        }
        cards
    }

    pub fn subscribe(&self) -> broadcast::Receiver<KioskFrame> {
        self.frames.subscribe()
    }

    /// The card read `reference` at `kiosk`, if it is still held there.
    pub fn card(&self, kiosk: &str, reference: &str) -> Option<CardRead> {
        let reads = self.reads.lock().unwrap_or_else(|e| e.into_inner());
        let (held, read) = reads.get(kiosk)?;
        (held == reference && read.read_at.elapsed() <= self.hold).then(|| read.clone())
    }

    pub fn views(&self) -> Vec<IdReaderView> {
        self.readers
            .iter()
            .map(|(settings, health)| IdReaderView {
                id: settings.id.clone(),
                kiosk: settings.kiosk.clone(),
                url: settings.url.to_string(),
                connected: health.connected.load(Ordering::Relaxed),
                card_present: health.card_present.load(Ordering::Relaxed),
                reads: health.reads.load(Ordering::Relaxed),
                errors: health.errors.load(Ordering::Relaxed),
                detail: health.detail.lock().ok().and_then(|d| d.clone()),
            })
            .collect()
    }

    /// Holds a new read for its kiosk (replacing the kiosk's last) and tells the kiosk.
    fn hold(&self, read: CardRead, booking: Option<serde_json::Value>) {
        let reference = crate::credentials::random_token();
        let frame = serde_json::json!({
            "card": reference,
            "green_by_age": read.green_by_age,
            "expired": read.expired,
            "booking": booking,
            "green_age": self.green_age,
            "hold_s": self.hold.as_secs(),
        });
        let kiosk = read.kiosk.clone();
        {
            let mut reads = self.reads.lock().unwrap_or_else(|e| e.into_inner());
            reads.insert(kiosk.clone(), (reference, read));
            let hold = self.hold;
            reads.retain(|_, (_, read)| read.read_at.elapsed() <= hold);
        }
        let text = format!("event: card\ndata: {frame}\n\n");
        let _ = self.frames.send((kiosk, Bytes::from(text)));
    }

    /// Tells the kiosk its card left the reader (the read stays held for its time).
    fn removed(&self, kiosk: &str) {
        let text = "event: card_removed\ndata: {}\n\n";
        let _ = self
            .frames
            .send((kiosk.to_owned(), Bytes::from_static(text.as_bytes())));
    }
}

struct Supervisor {
    settings: IdReaderSettings,
    health: Arc<Health>,
    cards: std::sync::Weak<IdCards>,
    config: Arc<HallConfig>,
    engine: EngineHandle,
    clock: Arc<dyn Clock>,
    privacy: Arc<crate::privacy::Privacy>,
}

/// How long one answer may take: the basic information takes a module about a second.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(3);

impl Supervisor {
    fn run(self) {
        let mut backoff = Duration::from_millis(500);
        loop {
            if self.cards.strong_count() == 0 {
                return;
            }
            match open_stream(&self.settings.url, Duration::from_secs(2)) {
                Ok(stream) => {
                    backoff = Duration::from_millis(500);
                    let reader = IdReader::new(stream, ANSWER_TIMEOUT);
                    self.poll(reader);
                }
                Err(error) => self.trouble(format!("cannot open {}: {error}", self.settings.url)),
            }
            self.health.connected.store(false, Ordering::Relaxed);
            if !self.pause(backoff) {
                return;
            }
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }

    /// Polls an open reader until it fails: reads a card once when it is laid on, then waits
    /// for it to be taken away.
    fn poll(&self, mut reader: IdReader) {
        let mut present = false;
        let mut failures = 0;
        loop {
            let Some(cards) = self.cards.upgrade() else {
                return;
            };
            let step = if present {
                reader.card_present().map(|on| (on, None))
            } else {
                reader.read_card().map(|card| (card.is_some(), card))
            };
            match step {
                Ok((on, card)) => {
                    failures = 0;
                    self.health.connected.store(true, Ordering::Relaxed);
                    if let Ok(mut detail) = self.health.detail.lock() {
                        *detail = None;
                    }
                    if let Some(card) = card {
                        self.health.reads.fetch_add(1, Ordering::Relaxed);
                        let (read, booking) = self.card_read(card);
                        cards.hold(read, booking);
                    }
                    if present && !on {
                        cards.removed(&self.settings.kiosk);
                    }
                    present = on;
                    self.health.card_present.store(on, Ordering::Relaxed);
                }
                // The citizen took the card away too soon: they lay it on again.
                Err(ReadError::CardLost) => present = false,
                Err(ReadError::Io(error)) => {
                    self.trouble(format!("the reader's line failed: {error}"));
                    return;
                }
                Err(other) => {
                    self.trouble(other.to_string());
                    failures += 1;
                    // A reader that keeps answering nonsense is reopened.
                    if failures >= 5 {
                        return;
                    }
                }
            }
            drop(cards);
            if !self.pause(self.settings.poll) {
                return;
            }
        }
    }

    /// Sleeps `span` in short steps; false when the daemon is going away meanwhile (so that
    /// this thread lets go of the engine soon after it is asked to stop).
    fn pause(&self, span: Duration) -> bool {
        let until = Instant::now() + span;
        loop {
            if self.cards.strong_count() == 0 {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }

    /// A failed exchange: the reader counts as not connected until it answers again (the
    /// kiosk's citizens take numbers without their card meanwhile, and the manager is told).
    fn trouble(&self, detail: String) {
        self.health.connected.store(false, Ordering::Relaxed);
        self.health.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut slot) = self.health.detail.lock() {
            *slot = Some(detail);
        }
    }

    /// What the daemon keeps of a card, and the kiosk's booking today by it.
    fn card_read(&self, card: IdCard) -> (CardRead, Option<serde_json::Value>) {
        let now = self.clock.now();
        let service_day: Date = now.to_zoned(self.config.time_zone.clone()).date();
        let today = card_date(service_day);
        let age = card.birth.years_until(today);
        let threshold = self.config.id_cards.green_channel_age;
        let id_card = self.privacy.id_card(&card.number);
        // The number goes no further than this function.
        drop(card.number);
        let booking = self.engine.view(|hall| {
            hall.appointments()
                .filter(|a| {
                    a.status == hallq_core::AppointmentStatus::Booked
                        && a.date == service_day
                        && a.id_card.as_ref().is_some_and(|c| c.key == id_card.key)
                })
                .min_by_key(|a| a.start)
                .map(|a| {
                    serde_json::json!({
                        "service": a.service,
                        "service_name": crate::views::service_name(hall.spec(), &a.service),
                        "start": a.start.to_zoned(hall.time_zone().clone()).strftime("%H:%M").to_string(),
                    })
                })
        });
        let read = CardRead {
            kiosk: self.settings.kiosk.clone(),
            id_card,
            green_by_age: threshold > 0 && age >= u16::from(threshold),
            expired: card.valid_until.is_some_and(|until| until < today),
            read_at: Instant::now(),
        };
        (read, booking)
    }
}
