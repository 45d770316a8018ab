//! Appointments (预约): slots per service and day type with a capacity, booked on site, by
//! phone, by SMS or online, checked in at the kiosk within a window around the slot's start.

use crate::calendar::DayType;
use crate::contact::Contact;
use crate::ids::{ServiceId, TicketId};
use jiff::civil::{Date, Time};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// `7K****PX`: enough for staff to match a slip of paper, useless for checking in. Logs and
/// staff screens show booking codes only this way.
pub fn mask_code(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 4))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingChannel {
    Onsite,
    Phone,
    Sms,
    Online,
}

impl BookingChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingChannel::Onsite => "onsite",
            BookingChannel::Phone => "phone",
            BookingChannel::Sms => "sms",
            BookingChannel::Online => "online",
        }
    }

    /// Online and SMS bookings are taken by the city's hub from its share of each slot; on-site
    /// and phone bookings by the hall from the rest (docs/upstream-protocol.md).
    pub fn books_at_hub(self) -> bool {
        matches!(self, BookingChannel::Sms | BookingChannel::Online)
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "onsite" => Some(BookingChannel::Onsite),
            "phone" => Some(BookingChannel::Phone),
            "sms" => Some(BookingChannel::Sms),
            "online" => Some(BookingChannel::Online),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Booked,
    Cancelled,
    CheckedIn,
    NoShow,
}

impl AppointmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::CheckedIn => "checked_in",
            AppointmentStatus::NoShow => "no_show",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "booked" => Some(AppointmentStatus::Booked),
            "cancelled" => Some(AppointmentStatus::Cancelled),
            "checked_in" => Some(AppointmentStatus::CheckedIn),
            "no_show" => Some(AppointmentStatus::NoShow),
            _ => None,
        }
    }

    /// Whether it holds a place in its slot.
    pub fn holds_place(self) -> bool {
        matches!(
            self,
            AppointmentStatus::Booked | AppointmentStatus::CheckedIn
        )
    }
}

/// Which slots a service offers on which day types.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppointmentPlan {
    pub service: ServiceId,
    pub days: Vec<DayType>,
    /// (start, end) local times.
    pub slots: Vec<(Time, Time)>,
    /// Places per slot, both channels together.
    pub capacity: u32,
    /// Of `capacity`, the places the city's hub books (online, SMS); the hall books the rest.
    /// Each side books only its own share, so a slot is never oversold while the link is down.
    #[serde(default)]
    pub hub_share: u32,
}

/// One slot of a plan on a date, before bookings are counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedSlot {
    pub start: Timestamp,
    pub end: Timestamp,
    pub capacity: u32,
    pub hub_share: u32,
}

/// The slots a service offers on a date: every plan whose day types include the date's, in the
/// hall's time zone. The hall and the hub both count from this, so they agree on what exists.
pub fn planned_slots(
    plans: &[AppointmentPlan],
    calendar: &crate::calendar::Calendar,
    tz: &jiff::tz::TimeZone,
    service: &ServiceId,
    date: Date,
) -> Vec<PlannedSlot> {
    let day = calendar.day(date).day_type;
    let mut slots: Vec<PlannedSlot> = plans
        .iter()
        .filter(|plan| &plan.service == service && plan.days.contains(&day))
        .flat_map(|plan| plan.slots.iter().map(move |slot| (plan, *slot)))
        .filter_map(|(plan, (from, to))| {
            Some(PlannedSlot {
                start: local_instant(tz, date, from)?,
                end: local_instant(tz, date, to)?,
                capacity: plan.capacity,
                hub_share: plan.hub_share.min(plan.capacity),
            })
        })
        .collect();
    slots.sort_by_key(|slot| slot.start);
    slots
}

fn local_instant(tz: &jiff::tz::TimeZone, date: Date, time: Time) -> Option<Timestamp> {
    let instant = date
        .to_datetime(time)
        .to_zoned(tz.clone())
        .ok()?
        .timestamp();
    // A slot ending at 24:00 ends at midnight.
    Some(if time == Time::MAX {
        instant + jiff::SignedDuration::from_nanos(1)
    } else {
        instant
    })
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppointmentRules {
    /// Check-in opens this long before the slot's start …
    pub check_in_before_min: u32,
    /// … and closes this long after it; later arrivals take a walk-in ticket.
    pub check_in_after_min: u32,
    /// Bookings one phone number may hold on one day.
    pub per_person_per_day: u32,
    /// How far ahead slots can be booked.
    pub book_ahead_days: u32,
}

impl Default for AppointmentRules {
    fn default() -> Self {
        Self {
            check_in_before_min: 30,
            check_in_after_min: 15,
            per_person_per_day: 2,
            book_ahead_days: 14,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    /// What the citizen quotes at the kiosk (made by the caller, unguessable enough).
    pub code: String,
    pub service: ServiceId,
    pub date: Date,
    pub start: Timestamp,
    pub end: Timestamp,
    pub channel: BookingChannel,
    /// Empty in bookings written before contacts were kept this way.
    #[serde(default)]
    pub contact: Contact,
    /// The booker's name, sealed (encrypted) by the daemon; `None` when not given or purged.
    #[serde(default)]
    pub name_sealed: Option<String>,
    /// The booker's resident ID, when given (keyed hash and mask): the card checks it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_card: Option<Contact>,
    pub status: AppointmentStatus,
    pub ticket: Option<TicketId>,
    pub booked_at: Timestamp,
}

/// One slot as the booking page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub start: Timestamp,
    pub end: Timestamp,
    /// The hall's share: places for on-site and phone bookings …
    pub capacity: u32,
    /// … and how many of them are taken.
    pub booked: u32,
    /// The hub's share (online, SMS) and how many of it the hall has heard of.
    pub hub_capacity: u32,
    pub hub_booked: u32,
}
