//! Commands: what users and devices ask of the hall. Everything random (the status-page token)
//! or read from the world (the instant) is decided by the caller and passed in.

use crate::ids::{ServiceId, TicketId, WindowId};
use crate::ticket::{Channel, PriorityClass};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueTicket {
    pub service: ServiceId,
    pub priority: PriorityClass,
    pub channel: Channel,
    pub phone: Option<String>,
    pub kiosk: Option<String>,
    /// The unguessable token of the ticket's status page, made by the caller.
    pub token: String,
    /// A retry with the same key on the same day returns the first ticket.
    pub idempotency_key: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    IssueTicket(IssueTicket),
    /// Complete the window's current ticket, if any, and call the next one.
    CallNext {
        window: WindowId,
    },
    Recall {
        window: WindowId,
    },
    NoShow {
        window: WindowId,
    },
    /// Put a recent no-show back in its queue.
    Requeue {
        window: WindowId,
        ticket: TicketId,
    },
    /// Send the window's current ticket to another service's queue, keeping its number.
    Transfer {
        window: WindowId,
        service: ServiceId,
    },
    Complete {
        window: WindowId,
    },
    Pause {
        window: WindowId,
    },
    Resume {
        window: WindowId,
    },
    /// A waiting ticket given up by the citizen or the kiosk.
    Cancel {
        ticket: TicketId,
    },
    /// A device (printer, display) reported a new condition, for managers and the record.
    RecordDeviceStatus {
        device: String,
        condition: String,
        detail: Option<String>,
    },
    /// Books a slot; `code` is made by the caller.
    BookAppointment {
        code: String,
        service: ServiceId,
        start: jiff::Timestamp,
        channel: crate::appointment::BookingChannel,
        phone: String,
        name: Option<String>,
    },
    CancelAppointment {
        code: String,
    },
    /// Turns a booking into an appointment-priority ticket, by code or by phone number.
    CheckIn {
        code: Option<String>,
        phone: Option<String>,
        token: String,
        /// The kiosk where the citizen checked in: its printer prints the ticket.
        kiosk: Option<String>,
    },
    /// An SMS about a ticket went to the gateway (or could not).
    RecordSms {
        ticket: TicketId,
        /// approaching or called
        purpose: String,
        delivered: bool,
        detail: Option<String>,
    },
    /// Print a ticket again on `printer` (the citizen lost it, or the first print failed).
    RequestReprint {
        ticket: TicketId,
        printer: String,
    },
    /// What became of a print job: printed, or not (the ticket stays valid either way and is
    /// shown on the kiosk's screen).
    RecordPrintOutcome {
        ticket: TicketId,
        printer: String,
        /// `None` when it printed; otherwise the printer's condition and the reason.
        failure: Option<(String, String)>,
    },
}
