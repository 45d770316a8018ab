//! Tickets (号票) and their life: waiting → called → (recalled …) → completed, or no-show,
//! transferred, cancelled, expired.

use crate::contact::Contact;
use crate::ids::{ServiceId, TicketId, WindowId};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Priority classes, highest first. The order of the variants is the calling order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorityClass {
    /// 绿色通道: the elderly, the disabled, pregnant women.
    Green,
    /// A checked-in appointment (预约签到).
    Appointment,
    /// Everyone else.
    WalkIn,
}

impl PriorityClass {
    pub fn as_str(self) -> &'static str {
        match self {
            PriorityClass::Green => "green",
            PriorityClass::Appointment => "appointment",
            PriorityClass::WalkIn => "walk_in",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "green" => Some(PriorityClass::Green),
            "appointment" => Some(PriorityClass::Appointment),
            "walk_in" => Some(PriorityClass::WalkIn),
            _ => None,
        }
    }

    /// Rank in the calling order: 0 is served first.
    pub fn rank(self) -> u8 {
        match self {
            PriorityClass::Green => 0,
            PriorityClass::Appointment => 1,
            PriorityClass::WalkIn => 2,
        }
    }
}

/// Where a ticket came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A self-service kiosk.
    Kiosk,
    /// Issued by staff at a window or the reception desk (guided service).
    Staff,
    /// An appointment checked in on site.
    Appointment,
    /// Online queueing from the citizen's phone.
    Online,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Kiosk => "kiosk",
            Channel::Staff => "staff",
            Channel::Appointment => "appointment",
            Channel::Online => "online",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "kiosk" => Some(Channel::Kiosk),
            "staff" => Some(Channel::Staff),
            "appointment" => Some(Channel::Appointment),
            "online" => Some(Channel::Online),
            _ => None,
        }
    }
}

/// Where a ticket is in its life. `Completed`, `NoShow`, `Cancelled` and `Expired` are final,
/// except that staff may requeue a fresh no-show once (see `Policy::requeue_within_s`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    Called,
    Completed,
    NoShow,
    Cancelled,
    Expired,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Called => "called",
            TicketStatus::Completed => "completed",
            TicketStatus::NoShow => "no_show",
            TicketStatus::Cancelled => "cancelled",
            TicketStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "waiting" => Some(TicketStatus::Waiting),
            "called" => Some(TicketStatus::Called),
            "completed" => Some(TicketStatus::Completed),
            "no_show" => Some(TicketStatus::NoShow),
            "cancelled" => Some(TicketStatus::Cancelled),
            "expired" => Some(TicketStatus::Expired),
            _ => None,
        }
    }

    pub fn is_final(self) -> bool {
        !matches!(self, TicketStatus::Waiting | TicketStatus::Called)
    }
}

/// One ticket as the hall knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    /// The printed number, prefix and at least three digits: A001.
    pub number: String,
    /// The service whose counter issued the number; a transfer keeps number and this.
    pub number_service: ServiceId,
    /// The service whose queue the ticket is in now.
    pub service: ServiceId,
    /// The local date the ticket belongs to; it expires at the end of it.
    pub service_day: Date,
    pub priority: PriorityClass,
    pub channel: Channel,
    pub status: TicketStatus,
    pub issued_at: Timestamp,
    /// Position in the queue: the issue time, the requeue time after a no-show, and kept as it
    /// was across a transfer (the citizen has already waited).
    pub queued_at: Timestamp,
    pub called_at: Option<Timestamp>,
    /// When the ticket reached a final state.
    pub finished_at: Option<Timestamp>,
    /// The window that called it last (kept after completion for the record).
    pub window: Option<WindowId>,
    pub recalls: u32,
    pub requeues: u32,
    pub transfers: u32,
    /// The unguessable token of the citizen's status page (/t/{token}); made by the caller.
    pub token: String,
    /// For SMS calling; never published on public streams.
    /// A phone number for SMS calling, kept as a `Contact` (never the number).
    #[serde(default)]
    pub contact: Option<Contact>,
    /// The citizen's resident ID card, when the ticket was taken with it (实名取号): a keyed
    /// hash and a masked form, never the number, never sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_card: Option<Contact>,
    /// The kiosk that issued it, if any.
    pub kiosk: Option<String>,
    pub idempotency_key: Option<String>,
}

/// Formats a ticket number: the prefix and at least three digits (A001 … A999, A1000).
pub fn format_ticket_number(prefix: &str, sequence: u32) -> String {
    format!("{prefix}{sequence:03}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_at_least_three_digits() {
        for (sequence, expected) in [
            (1, "A001"),
            (42, "A042"),
            (999, "A999"),
            (1000, "A1000"),
            (12345, "A12345"),
        ] {
            assert_eq!(format_ticket_number("A", sequence), expected);
        }
        assert_eq!(format_ticket_number("GJ", 7), "GJ007");
    }

    #[test]
    fn names_round_trip() {
        for status in [
            TicketStatus::Waiting,
            TicketStatus::Called,
            TicketStatus::Completed,
            TicketStatus::NoShow,
            TicketStatus::Cancelled,
            TicketStatus::Expired,
        ] {
            assert_eq!(TicketStatus::parse(status.as_str()), Some(status));
        }
        for class in [
            PriorityClass::Green,
            PriorityClass::Appointment,
            PriorityClass::WalkIn,
        ] {
            assert_eq!(PriorityClass::parse(class.as_str()), Some(class));
        }
        for channel in [
            Channel::Kiosk,
            Channel::Staff,
            Channel::Appointment,
            Channel::Online,
        ] {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
    }
}
