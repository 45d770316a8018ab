//! Why the hall refused a command. Each has a stable snake_case code for the API and logs.

use crate::ids::{ServiceId, TicketId, WindowId};
use crate::ticket::TicketStatus;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("there is no service '{0}' in this hall")]
    UnknownService(ServiceId),
    #[error("there is no window '{0}' in this hall")]
    UnknownWindow(WindowId),
    #[error("there is no ticket {0} open today")]
    UnknownTicket(TicketId),
    #[error("window '{0}' is paused: resume it first")]
    WindowPaused(WindowId),
    #[error("window '{0}' is not paused")]
    WindowNotPaused(WindowId),
    #[error("window '{0}' has no current ticket: call one first")]
    NoCurrentTicket(WindowId),
    #[error("ticket {ticket} is {} and cannot be {action}", status.as_str())]
    InvalidState {
        ticket: TicketId,
        status: TicketStatus,
        action: &'static str,
    },
    #[error("window '{window}' does not serve '{service}'")]
    ServiceNotServed {
        window: WindowId,
        service: ServiceId,
    },
    #[error("ticket {0} is already in the queue of '{1}'")]
    TransferToSameService(TicketId, ServiceId),
    #[error("ticket {0} was marked no-show too long ago to be requeued")]
    RequeueTooLate(TicketId),
    #[error("ticket {0} has already been requeued as often as the hall allows")]
    RequeueLimitReached(TicketId),
    #[error("the idempotency key was already used today for a different request")]
    IdempotencyKeyReused,
    #[error("this person already holds {0} tickets for this service today")]
    PersonLimitReached(u32),
    #[error(
        "ticket {ticket} was marked no-show at window '{window}': only that window can requeue it"
    )]
    MarkedAtAnotherWindow { ticket: TicketId, window: WindowId },
    #[error("the status-page token is already in use")]
    TokenInUse,
    #[error("the service day has not been started for this instant (engine bug)")]
    DayNotStarted,
    #[error("'{service}' is closed now{}", next_open.map(|t| format!("; it opens again at {t}")).unwrap_or_default())]
    ServiceClosed {
        service: ServiceId,
        next_open: Option<jiff::Timestamp>,
    },
    #[error("a board notice is at most {0} characters of text, without control characters")]
    InvalidNotice(usize),
    #[error("a wait alarm is set between {} and {} minutes", .0.start() / 60, .0.end() / 60)]
    InvalidWaitAlarm(std::ops::RangeInclusive<u32>),
    #[error("'{0}' serves booked citizens only now: check in with the appointment code")]
    AppointmentOnly(ServiceId),
    #[error("there is no appointment with this code")]
    UnknownAppointment,
    #[error("'{0}' cannot be booked")]
    NotBookable(ServiceId),
    #[error("no slot of '{0}' starts at that time on that day")]
    SlotNotOffered(ServiceId),
    #[error("that slot has already started")]
    SlotInPast,
    #[error("slots can be booked at most {0} days ahead")]
    TooFarAhead(u32),
    #[error("that slot is full: choose another")]
    SlotFull,
    #[error("this phone number already holds {0} bookings on that day")]
    BookingLimitReached(u32),
    #[error("the appointment code is already in use")]
    AppointmentCodeInUse,
    #[error("the appointment is {} and cannot be {action}", status.as_str())]
    AppointmentInvalidState {
        status: crate::appointment::AppointmentStatus,
        action: &'static str,
    },
    #[error("check-in opens at {0}: please come back then")]
    TooEarly(jiff::Timestamp),
    #[error("check-in closed {0} minutes after the slot started: please take a walk-in ticket")]
    TooLate(u32),
    #[error("ticket {0} has not been served yet: it can be rated once it is completed")]
    NotRateable(TicketId),
    #[error("ticket {0} has already been rated: each visit is rated once (一次一评)")]
    AlreadyRated(TicketId),
    #[error("the time for rating ticket {0} is over")]
    RatingPeriodOver(TicketId),
    #[error("a follow-up rating of ticket {0} opens once its bad rating has been rectified")]
    FollowUpNotOpen(TicketId),
    #[error("'{0}' is not a reason offered for this level")]
    UnknownReason(String),
    #[error("'{0}' is not a complaint category of this hall")]
    UnknownComplaintCategory(String),
    #[error("there is no open case {0}")]
    UnknownCase(u64),
    #[error("case {case} is {} and cannot be moved on by '{action}'", status.as_str())]
    CaseActionNotAllowed {
        case: u64,
        status: crate::feedback::CaseStatus,
        action: &'static str,
    },
}

impl DomainError {
    /// Stable code for API errors and logs.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::UnknownService(_) => "unknown_service",
            DomainError::UnknownWindow(_) => "unknown_window",
            DomainError::UnknownTicket(_) => "unknown_ticket",
            DomainError::WindowPaused(_) => "window_paused",
            DomainError::WindowNotPaused(_) => "window_not_paused",
            DomainError::NoCurrentTicket(_) => "no_current_ticket",
            DomainError::InvalidState { .. } => "invalid_state",
            DomainError::ServiceNotServed { .. } => "service_not_served",
            DomainError::TransferToSameService(..) => "transfer_to_same_service",
            DomainError::RequeueTooLate(_) => "requeue_too_late",
            DomainError::RequeueLimitReached(_) => "requeue_limit_reached",
            DomainError::IdempotencyKeyReused => "idempotency_key_reused",
            DomainError::PersonLimitReached(_) => "person_limit_reached",
            DomainError::MarkedAtAnotherWindow { .. } => "marked_at_another_window",
            DomainError::TokenInUse => "token_in_use",
            DomainError::DayNotStarted => "day_not_started",
            DomainError::ServiceClosed { .. } => "service_closed",
            DomainError::AppointmentOnly(_) => "appointment_only",
            DomainError::InvalidNotice(_) => "invalid_notice",
            DomainError::InvalidWaitAlarm(_) => "invalid_wait_alarm",
            DomainError::UnknownAppointment => "unknown_appointment",
            DomainError::NotBookable(_) => "not_bookable",
            DomainError::SlotNotOffered(_) => "slot_not_offered",
            DomainError::SlotInPast => "slot_in_past",
            DomainError::TooFarAhead(_) => "too_far_ahead",
            DomainError::SlotFull => "slot_full",
            DomainError::BookingLimitReached(_) => "booking_limit_reached",
            DomainError::AppointmentCodeInUse => "appointment_code_in_use",
            DomainError::AppointmentInvalidState { .. } => "invalid_state",
            DomainError::TooEarly(_) => "too_early",
            DomainError::TooLate(_) => "too_late",
            DomainError::NotRateable(_) => "not_rateable",
            DomainError::AlreadyRated(_) => "already_rated",
            DomainError::RatingPeriodOver(_) => "rating_period_over",
            DomainError::FollowUpNotOpen(_) => "follow_up_not_open",
            DomainError::UnknownReason(_) => "unknown_reason",
            DomainError::UnknownComplaintCategory(_) => "unknown_category",
            DomainError::UnknownCase(_) => "unknown_case",
            DomainError::CaseActionNotAllowed { .. } => "invalid_case_state",
        }
    }

    /// Whether the thing named does not exist (as opposed to existing in the wrong state).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            DomainError::UnknownService(_)
                | DomainError::UnknownWindow(_)
                | DomainError::UnknownTicket(_)
                | DomainError::UnknownAppointment
                | DomainError::UnknownCase(_)
        )
    }
}
