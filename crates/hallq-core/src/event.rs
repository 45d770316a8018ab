//! Events: the facts the hall records. The event log in the store is the single source for
//! everything downstream (displays, upstream sync, metrics); the tables are projections of it.

use crate::feedback::{Case, CaseAction, CaseStatus, Rating};
use crate::ids::{ServiceId, TicketId, WindowId};
use crate::ticket::{Ticket, TicketStatus};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A new local day began: numbering restarts and yesterday's leftovers have expired.
    ServiceDayStarted {
        day: Date,
        at: Timestamp,
    },
    TicketIssued {
        ticket: Ticket,
    },
    TicketCalled {
        ticket: TicketId,
        number: String,
        service: ServiceId,
        window: WindowId,
        at: Timestamp,
        /// How long the citizen waited, from queueing to this call.
        wait_s: u64,
    },
    TicketRecalled {
        ticket: TicketId,
        number: String,
        window: WindowId,
        at: Timestamp,
        recalls: u32,
    },
    TicketNoShow {
        ticket: TicketId,
        number: String,
        window: WindowId,
        at: Timestamp,
    },
    TicketRequeued {
        ticket: TicketId,
        number: String,
        service: ServiceId,
        window: WindowId,
        at: Timestamp,
    },
    TicketTransferred {
        ticket: TicketId,
        number: String,
        from_service: ServiceId,
        to_service: ServiceId,
        window: WindowId,
        at: Timestamp,
    },
    TicketCompleted {
        ticket: TicketId,
        number: String,
        service: ServiceId,
        window: WindowId,
        at: Timestamp,
        /// From the call to completion.
        service_s: u64,
        /// The staff number of who completed it, when a signed-in person did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        staff: Option<String>,
    },
    TicketCancelled {
        ticket: TicketId,
        number: String,
        at: Timestamp,
    },
    /// A ticket still open when its service day ended.
    TicketExpired {
        ticket: TicketId,
        number: String,
        previous: TicketStatus,
        at: Timestamp,
    },
    WindowPaused {
        window: WindowId,
        at: Timestamp,
    },
    WindowResumed {
        window: WindowId,
        at: Timestamp,
    },
    DeviceStatusChanged {
        device: String,
        /// ready, paper_near_end, paper_out, cover_open, offline, unreachable, unknown
        condition: String,
        detail: Option<String>,
        at: Timestamp,
    },
    /// Staff or a kiosk asked for a ticket to be printed again.
    TicketReprintRequested {
        ticket: TicketId,
        number: String,
        printer: String,
        at: Timestamp,
    },
    /// A ticket came out of its printer.
    TicketPrinted {
        ticket: TicketId,
        number: String,
        printer: String,
        at: Timestamp,
    },
    TicketPrintFailed {
        ticket: TicketId,
        number: String,
        printer: String,
        condition: String,
        reason: String,
        at: Timestamp,
    },
    AppointmentBooked {
        appointment: crate::appointment::Appointment,
    },
    AppointmentCancelled {
        code: String,
        at: Timestamp,
    },
    AppointmentCheckedIn {
        code: String,
        ticket: TicketId,
        number: String,
        at: Timestamp,
    },
    /// A booking nobody checked in for by the end of its day.
    AppointmentNoShow {
        code: String,
        at: Timestamp,
    },
    /// An SMS about a ticket was handed to the gateway, or failed. Never carries the phone.
    SmsNotified {
        ticket: TicketId,
        number: String,
        purpose: String,
        delivered: bool,
        detail: Option<String>,
        at: Timestamp,
    },
    /// A visit was rated (round 1), or rated again after rectification (round 2).
    ServiceRated {
        ticket: TicketId,
        number: String,
        service: ServiceId,
        window: WindowId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        staff: Option<String>,
        /// The department answerable for the visit (the window's, or the service's).
        department: String,
        /// The service day of the visit.
        day: Date,
        round: u8,
        rating: Rating,
    },
    /// A bad rating or a complaint opened a case.
    CaseOpened {
        case: Case,
    },
    CaseProgressed {
        case: u64,
        action: CaseAction,
        /// The status after the action.
        status: CaseStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        by: String,
        at: Timestamp,
    },
    /// The boards' notice, set by a manager; `None` gives it back to the hall file.
    BoardNoticeSet {
        text: Option<String>,
        at: Timestamp,
    },
    /// A service's wait alarm, set (or cleared with `None`) by a manager.
    WaitAlarmSet {
        service: ServiceId,
        max_wait_s: Option<u32>,
        at: Timestamp,
    },
}

impl Event {
    /// The snake_case name used in the log, on SSE streams (`event:`) and in metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::ServiceDayStarted { .. } => "service_day_started",
            Event::TicketIssued { .. } => "ticket_issued",
            Event::TicketCalled { .. } => "ticket_called",
            Event::TicketRecalled { .. } => "ticket_recalled",
            Event::TicketNoShow { .. } => "ticket_no_show",
            Event::TicketRequeued { .. } => "ticket_requeued",
            Event::TicketTransferred { .. } => "ticket_transferred",
            Event::TicketCompleted { .. } => "ticket_completed",
            Event::TicketCancelled { .. } => "ticket_cancelled",
            Event::TicketExpired { .. } => "ticket_expired",
            Event::WindowPaused { .. } => "window_paused",
            Event::WindowResumed { .. } => "window_resumed",
            Event::DeviceStatusChanged { .. } => "device_status_changed",
            Event::TicketPrintFailed { .. } => "ticket_print_failed",
            Event::TicketReprintRequested { .. } => "ticket_reprint_requested",
            Event::TicketPrinted { .. } => "ticket_printed",
            Event::SmsNotified { .. } => "sms_notified",
            Event::AppointmentBooked { .. } => "appointment_booked",
            Event::AppointmentCancelled { .. } => "appointment_cancelled",
            Event::AppointmentCheckedIn { .. } => "appointment_checked_in",
            Event::AppointmentNoShow { .. } => "appointment_no_show",
            Event::ServiceRated { .. } => "service_rated",
            Event::CaseOpened { .. } => "case_opened",
            Event::CaseProgressed { .. } => "case_progressed",
            Event::BoardNoticeSet { .. } => "board_notice_set",
            Event::WaitAlarmSet { .. } => "wait_alarm_set",
        }
    }

    pub fn at(&self) -> Timestamp {
        match self {
            Event::ServiceDayStarted { at, .. }
            | Event::TicketCalled { at, .. }
            | Event::TicketRecalled { at, .. }
            | Event::TicketNoShow { at, .. }
            | Event::TicketRequeued { at, .. }
            | Event::TicketTransferred { at, .. }
            | Event::TicketCompleted { at, .. }
            | Event::TicketCancelled { at, .. }
            | Event::TicketExpired { at, .. }
            | Event::WindowPaused { at, .. }
            | Event::WindowResumed { at, .. }
            | Event::DeviceStatusChanged { at, .. }
            | Event::TicketPrintFailed { at, .. }
            | Event::TicketReprintRequested { at, .. }
            | Event::TicketPrinted { at, .. }
            | Event::SmsNotified { at, .. }
            | Event::AppointmentCancelled { at, .. }
            | Event::AppointmentCheckedIn { at, .. }
            | Event::AppointmentNoShow { at, .. }
            | Event::CaseProgressed { at, .. }
            | Event::BoardNoticeSet { at, .. }
            | Event::WaitAlarmSet { at, .. } => *at,
            Event::ServiceRated { rating, .. } => rating.at,
            Event::CaseOpened { case } => case.opened_at,
            Event::AppointmentBooked { appointment } => appointment.booked_at,
            Event::TicketIssued { ticket } => ticket.issued_at,
        }
    }

    /// The ticket this event changes, if any.
    pub fn ticket(&self) -> Option<TicketId> {
        match self {
            Event::TicketIssued { ticket } => Some(ticket.id),
            Event::TicketCalled { ticket, .. }
            | Event::TicketRecalled { ticket, .. }
            | Event::TicketNoShow { ticket, .. }
            | Event::TicketRequeued { ticket, .. }
            | Event::TicketTransferred { ticket, .. }
            | Event::TicketCompleted { ticket, .. }
            | Event::TicketCancelled { ticket, .. }
            | Event::TicketExpired { ticket, .. } => Some(*ticket),
            // A print failure changes nothing about the ticket itself.
            Event::ServiceDayStarted { .. }
            | Event::WindowPaused { .. }
            | Event::WindowResumed { .. }
            | Event::DeviceStatusChanged { .. }
            | Event::TicketPrintFailed { .. }
            | Event::TicketReprintRequested { .. }
            | Event::TicketPrinted { .. }
            | Event::SmsNotified { .. }
            | Event::AppointmentBooked { .. }
            | Event::AppointmentCancelled { .. }
            | Event::AppointmentCheckedIn { .. }
            | Event::AppointmentNoShow { .. }
            | Event::ServiceRated { .. }
            | Event::CaseOpened { .. }
            | Event::CaseProgressed { .. }
            | Event::BoardNoticeSet { .. }
            | Event::WaitAlarmSet { .. } => None,
        }
    }

    /// The rated visit this event changes (by its ticket), if any.
    pub fn visit(&self) -> Option<TicketId> {
        match self {
            Event::TicketCompleted { ticket, .. } | Event::ServiceRated { ticket, .. } => {
                Some(*ticket)
            }
            _ => None,
        }
    }

    /// The case this event changes, if any.
    pub fn case(&self) -> Option<u64> {
        match self {
            Event::CaseOpened { case } => Some(case.id),
            Event::CaseProgressed { case, .. } => Some(*case),
            _ => None,
        }
    }

    /// The appointment this event changes, if any.
    pub fn appointment(&self) -> Option<&str> {
        match self {
            Event::AppointmentBooked { appointment } => Some(&appointment.code),
            Event::AppointmentCancelled { code, .. }
            | Event::AppointmentCheckedIn { code, .. }
            | Event::AppointmentNoShow { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The window this event changes, if any.
    pub fn window(&self) -> Option<&WindowId> {
        match self {
            Event::TicketCalled { window, .. }
            | Event::TicketRecalled { window, .. }
            | Event::TicketNoShow { window, .. }
            | Event::TicketRequeued { window, .. }
            | Event::TicketTransferred { window, .. }
            | Event::TicketCompleted { window, .. }
            | Event::WindowPaused { window, .. }
            | Event::WindowResumed { window, .. } => Some(window),
            _ => None,
        }
    }
}
