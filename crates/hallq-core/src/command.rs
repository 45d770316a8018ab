//! Commands: what users and devices ask of the hall. Everything random (the status-page token)
//! or read from the world (the instant) is decided by the caller and passed in.

use crate::contact::Contact;
use crate::feedback::{CaseAction, RatingChannel, RatingLevel};
use crate::ids::{ServiceId, TicketId, WindowId};
use crate::ticket::{Channel, PriorityClass};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueTicket {
    pub service: ServiceId,
    pub priority: PriorityClass,
    pub channel: Channel,
    /// The citizen's phone for SMS calling, as a `Contact`.
    pub contact: Option<Contact>,
    /// The citizen's ID card, read at the kiosk (实名取号): counts against the per-person limit.
    pub id_card: Option<Contact>,
    pub kiosk: Option<String>,
    /// The unguessable token of the ticket's status page, made by the caller.
    pub token: String,
    /// A retry with the same key on the same day returns the first ticket.
    pub idempotency_key: Option<String>,
}

/// How a citizen names their booking at check-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckInBy {
    Code(String),
    /// The phone's keyed hash, and — where the caller is not staff — the last characters of
    /// the booking code, so that a phone number alone tells nobody whether it has a booking.
    Contact {
        key: String,
        code_suffix: Option<String>,
    },
    /// The keyed hash of the ID card laid on the kiosk's reader: the card is the proof.
    IdCard {
        key: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    IssueTicket(IssueTicket),
    /// Complete the window's current ticket, if any, and call the next one.
    CallNext {
        window: WindowId,
        /// The staff number of who works the window, for the rating of the visit completed.
        staff: Option<String>,
    },
    /// 特呼: complete the window's current ticket, if any, and call this waiting ticket out of
    /// turn (a citizen who stepped away, an assisted visit). The window must serve its service.
    CallTicket {
        window: WindowId,
        ticket: TicketId,
        staff: Option<String>,
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
        staff: Option<String>,
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
        contact: Contact,
        /// The booker's name, sealed (encrypted) by the daemon.
        name_sealed: Option<String>,
        /// The booker's resident ID (keyed hash and mask), so that the card checks it in.
        id_card: Option<Contact>,
    },
    CancelAppointment {
        code: String,
    },
    /// Turns a booking into an appointment-priority ticket, by its code or by the phone
    /// number it was made with.
    CheckIn {
        by: CheckInBy,
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
    /// 一次一评: rates a completed visit, or gives the one follow-up after a bad rating's
    /// rectification. A bad rating opens a case.
    Rate {
        ticket: TicketId,
        level: RatingLevel,
        reasons: Vec<String>,
        comment: Option<String>,
        channel: RatingChannel,
    },
    /// 投诉: opens a case like a bad rating does.
    FileComplaint {
        category: String,
        text: String,
        contact: Option<Contact>,
        ticket: Option<TicketId>,
        channel: RatingChannel,
    },
    /// A manager puts a notice on the hall's TV boards (`Some`, possibly empty for none at all),
    /// or gives the notice back to the hall file (`None`).
    SetBoardNotice {
        text: Option<String>,
    },
    /// A manager sets (or, with `None`, clears) the longest wait a service may reach before
    /// the dashboard raises an alarm.
    SetWaitAlarm {
        service: ServiceId,
        max_wait_s: Option<u32>,
    },
    /// A manager moves a case on.
    ProgressCase {
        case: u64,
        action: CaseAction,
        note: Option<String>,
        /// The manager's staff id.
        by: String,
    },
}

impl Command {
    /// The command's name in the audit log: `issue_ticket`, `call_next` …
    pub fn name(&self) -> &'static str {
        match self {
            Command::IssueTicket(_) => "issue_ticket",
            Command::CallNext { .. } => "call_next",
            Command::CallTicket { .. } => "call_ticket",
            Command::Recall { .. } => "recall",
            Command::NoShow { .. } => "no_show",
            Command::Requeue { .. } => "requeue",
            Command::Transfer { .. } => "transfer",
            Command::Complete { .. } => "complete",
            Command::Pause { .. } => "pause",
            Command::Resume { .. } => "resume",
            Command::Cancel { .. } => "cancel_ticket",
            Command::RecordDeviceStatus { .. } => "record_device_status",
            Command::BookAppointment { .. } => "book_appointment",
            Command::CancelAppointment { .. } => "cancel_appointment",
            Command::CheckIn { .. } => "check_in",
            Command::RecordSms { .. } => "record_sms",
            Command::RequestReprint { .. } => "reprint",
            Command::RecordPrintOutcome { .. } => "record_print_outcome",
            Command::Rate { .. } => "rate",
            Command::FileComplaint { .. } => "file_complaint",
            Command::ProgressCase { .. } => "progress_case",
            Command::SetBoardNotice { .. } => "set_board_notice",
            Command::SetWaitAlarm { .. } => "set_wait_alarm",
        }
    }

    /// What the command is about, for the audit log: a window, a ticket, a service, or an
    /// appointment by its masked code. Never a phone number or a whole booking code.
    pub fn target(&self) -> Option<String> {
        match self {
            Command::IssueTicket(issue) => Some(format!("service {}", issue.service)),
            Command::CallNext { window, .. }
            | Command::Recall { window }
            | Command::NoShow { window }
            | Command::Complete { window, .. }
            | Command::Pause { window }
            | Command::Resume { window } => Some(format!("window {window}")),
            Command::Requeue { window, ticket } | Command::CallTicket { window, ticket, .. } => {
                Some(format!("window {window}, ticket {ticket}"))
            }
            Command::Transfer { window, service } => {
                Some(format!("window {window} → service {service}"))
            }
            Command::Cancel { ticket }
            | Command::RecordSms { ticket, .. }
            | Command::RecordPrintOutcome { ticket, .. }
            | Command::RequestReprint { ticket, .. }
            | Command::Rate { ticket, .. } => Some(format!("ticket {ticket}")),
            Command::FileComplaint { category, .. } => Some(format!("complaint {category}")),
            Command::ProgressCase { case, action, .. } => {
                Some(format!("case {case}: {}", action.as_str()))
            }
            Command::RecordDeviceStatus { device, .. } => Some(format!("device {device}")),
            Command::SetBoardNotice { .. } => Some("board notice".into()),
            Command::SetWaitAlarm { service, .. } => Some(format!("service {service}")),
            Command::BookAppointment { service, .. } => Some(format!("service {service}")),
            Command::CancelAppointment { code } => Some(format!(
                "appointment {}",
                crate::appointment::mask_code(code)
            )),
            Command::CheckIn { by, .. } => match by {
                CheckInBy::Code(code) => Some(format!(
                    "appointment {}",
                    crate::appointment::mask_code(code)
                )),
                CheckInBy::Contact { .. } => Some("appointment by phone".into()),
                CheckInBy::IdCard { .. } => Some("appointment by ID card".into()),
            },
        }
    }
}
