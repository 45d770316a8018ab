//! The upstream protocol between a hall (`hallq`) and its city's hub (`hallq-hub`), as the JSON
//! both sides send. docs/upstream-protocol.md describes each exchange with its JSON schema;
//! these types are the one definition both binaries compile against, so the two cannot drift.
//!
//! Every call is made by the hall (the hub never reaches into a hall's LAN), with the hall's
//! token as `Authorization: Bearer`:
//!
//! | call | what |
//! |---|---|
//! | `GET  /v1/halls/{id}/summary` | where the hub's copy of the log ends ([`HallSummary`]) |
//! | `POST /v1/halls/{id}/events` | the next events of the log ([`EventsPush`] → [`EventsAccepted`]) |
//! | `POST /v1/halls/{id}/snapshots` | waits per service and device health ([`WaitSnapshot`]) |
//! | `PUT  /v1/halls/{id}/profile` | services, appointment plans and shares ([`HallProfile`]) |
//! | `GET  /v1/halls/{id}/appointments?after=N` | the hub's bookings since a cursor ([`BookingFeed`]) |
//! | `POST /v1/halls/{id}/appointments/ack` | what the hall applied or refused ([`BookingAck`]) |
//! | `GET  /v1/calendars` and `/v1/calendars/{year}` | the holiday files ([`CalendarYears`]) |

mod calendar_file;
pub mod csv;
mod evaluation;
mod strip;

pub use calendar_file::{parse_calendar_file, CalendarFileError};
pub use evaluation::{channel_code, evaluation_record, EvaluationRecord, RecordContext};
pub use strip::{personal_fields_removed, upstream_event};

use hallq_core::{AppointmentPlan, AppointmentRules};
use serde::{Deserialize, Serialize};

/// The most events one push may carry.
pub const MAX_EVENTS_PER_PUSH: usize = 1000;

/// The most booking changes one pull returns.
pub const MAX_BOOKINGS_PER_PULL: usize = 500;

/// One event of a hall's log as it travels upstream: personal fields removed
/// ([`personal_fields_removed`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushedEvent {
    /// The hall's sequence number: gap-free, from 1.
    pub seq: u64,
    /// `ticket_issued`, `ticket_called` … (the log's kinds).
    pub kind: String,
    /// When it happened, in milliseconds since 1970 (UTC).
    pub at_ms: i64,
    /// The event as the hall's log keeps it, minus personal fields.
    pub data: serde_json::Value,
}

/// `POST /v1/halls/{id}/events`: the events after `after`, in order, without a gap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventsPush {
    /// The sequence number just before the first event (the hall's cursor).
    pub after: u64,
    pub events: Vec<PushedEvent>,
    /// The newest sequence number in the hall's log when it sent this (for the hub's lag view).
    pub log_seq: u64,
}

/// The hub's answer to a push: its copy of the log now ends at `last_seq`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventsAccepted {
    pub last_seq: u64,
    /// Events of this push stored now.
    pub stored: u64,
    /// Events of this push the hub had already (a retry after a lost answer).
    pub duplicates: u64,
}

/// The error code of a push that does not continue the hub's copy; the error body carries the
/// hub's `last_seq`, from which the hall sends again.
pub const SEQUENCE_GAP: &str = "sequence_gap";

/// A push refused because it would leave a hole: `{"error": {…}, "last_seq": N}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GapAnswer {
    pub last_seq: u64,
}

/// `GET /v1/halls/{id}/summary`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HallSummary {
    pub hall: String,
    pub events_received: u64,
    /// The newest event the hub holds: the hall's durable cursor.
    pub last_seq: u64,
    pub duplicates_dropped: u64,
    pub snapshots_received: u64,
    /// The hall's log position at its last push.
    #[serde(default)]
    pub log_seq: u64,
    /// When the hall last pushed, RFC 3339.
    #[serde(default)]
    pub last_push_at: Option<String>,
}

/// One service's waits at a moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceWait {
    pub service: String,
    pub waiting: u32,
    /// Over today's calls: average and 90th percentile of the wait, in seconds.
    pub average_wait_s: u64,
    pub p90_wait_s: u64,
    pub served_today: u32,
    pub open_windows: u32,
    /// What a citizen taking a ticket now would be told.
    pub estimate_s: u64,
}

/// One device's condition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceHealth {
    pub device: String,
    /// printer or display
    pub kind: String,
    /// ready, paper_near_end, paper_out, cover_open, offline, unreachable, unknown, connected …
    pub condition: String,
    #[serde(default)]
    pub detail: Option<String>,
}

/// The whole hall at a moment (windows serve several services, so these are not the sums of
/// the services' lines).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HallWaits {
    pub waiting: u32,
    /// Over all of today's calls.
    pub average_wait_s: u64,
    pub p90_wait_s: u64,
    pub served_today: u32,
    pub issued_today: u32,
    pub open_windows: u32,
    pub windows: u32,
}

/// `POST /v1/halls/{id}/snapshots`: the hall's waits and devices, every minute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitSnapshot {
    /// Milliseconds since 1970 (UTC).
    pub at_ms: i64,
    #[serde(default)]
    pub hall: HallWaits,
    pub services: Vec<ServiceWait>,
    pub devices: Vec<DeviceHealth>,
}

/// A service as the hub shows it to citizens booking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileService {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// The agency behind it (税务, 社保 …): the booking page groups by it.
    #[serde(default)]
    pub department: String,
    /// The ticket prefix (A, B …): with the hall's SMS number it is the service's code in SMS
    /// bookings (`YY 1A …`).
    #[serde(default)]
    pub prefix: String,
    /// What to bring.
    #[serde(default)]
    pub materials: Vec<String>,
}

/// `PUT /v1/halls/{id}/profile`: what the hub needs to book for the hall: its services, its
/// appointment plans with the hub's share of each slot, its rules and time zone. Sent at start
/// and whenever it changes; the hall's file is the source of truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HallProfile {
    pub name: String,
    pub level: String,
    /// Where the hall is, for the citizen who booked.
    #[serde(default)]
    pub address: Option<String>,
    pub time_zone: String,
    pub services: Vec<ProfileService>,
    pub plans: Vec<AppointmentPlan>,
    pub rules: AppointmentRules,
    /// The calendar years the hall has.
    pub calendar_years: Vec<i16>,
}

/// What became of a hub booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingChange {
    Booked,
    Cancelled,
}

/// One change of a hub booking for the hall to apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HubBooking {
    /// The feed's position of this change: ack it to move the cursor.
    pub id: u64,
    pub change: BookingChange,
    /// Starts with a letter (the hall's own codes start with a digit).
    pub code: String,
    pub service: String,
    /// The slot's start, RFC 3339.
    pub start: String,
    /// online or sms
    pub channel: String,
    /// The citizen's mobile number, so that the hall can check them in by phone (kept there as a
    /// keyed hash and sealed, like its own bookings). Absent on cancellations.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// The citizen's resident ID number, when given, so that the card checks them in (kept at
    /// the hall as a keyed hash and a mask; the hub drops its sealed copy once acknowledged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}

/// `GET /v1/halls/{id}/appointments?after=N`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookingFeed {
    pub bookings: Vec<HubBooking>,
    /// The feed position of the last change here (`after` when none): pass it as the next
    /// `after`, and ack it once applied.
    pub next: u64,
}

/// A hub booking the hall could not take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefusedBooking {
    pub code: String,
    /// The hall's error code: `slot_full`, `slot_not_offered`, `unknown_service` …
    pub reason: String,
}

/// `POST /v1/halls/{id}/appointments/ack`: every change up to `through` is applied in the hall,
/// except the refused ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookingAck {
    pub through: u64,
    #[serde(default)]
    pub refused: Vec<RefusedBooking>,
}

/// `GET /v1/calendars`: the years the hub has; each is `GET /v1/calendars/{year}` in the
/// holiday-cn layout of `kiosk-config/calendar/`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalendarYears {
    pub years: Vec<i16>,
}

/// A hub booking code: a letter, then seven of the look-alike-free alphabet.
pub fn is_hub_code(code: &str) -> bool {
    code.len() == 8
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}
