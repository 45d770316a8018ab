//! The hall as data: services (事项), windows (窗口), tickets (号票) and the rules between them.
//!
//! This crate is deliberately pure: it does no IO, spawns nothing, and never reads a clock or a
//! random number generator. Every change is a [`Command`] applied to a [`Hall`] together with the
//! current instant; [`Hall::decide`] either refuses it with a typed [`DomainError`] or returns the
//! [`Event`]s it causes, and [`Hall::evolve`] folds an event into the state. The engine in
//! `hallq-engine` persists those events before anyone hears of them.
//!
//! What is not here: SQL, HTTP, JSON shapes of the API, device bytes.

mod appointment;
mod calendar;
mod command;
mod contact;
mod error;
mod estimate;
mod event;
pub mod feedback;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
mod hall;
mod ids;
mod ordering;
mod ranked;
mod spec;
mod ticket;

pub use appointment::{
    mask_code, planned_slots, Appointment, AppointmentPlan, AppointmentRules, AppointmentStatus,
    BookingChannel, PlannedSlot, Slot,
};
pub use calendar::{
    Availability, Calendar, CalendarDay, CalendarEntry, DayType, Period, Schedule, ServiceMode,
};
pub use command::{CheckInBy, Command, IssueTicket};
pub use contact::Contact;
pub use error::DomainError;
pub use estimate::{wait_estimate_s, ArrivalRate, ServiceTimeAverage};
pub use event::Event;
pub use feedback::{
    Case, CaseAction, CaseSource, CaseStatus, LevelNumbering, Rating, RatingChannel, RatingLevel,
    RatingPolicy, Visit,
};
pub use hall::{
    ForecastPlan, Hall, Outcome, PastService, PastTicket, QueueStats, RestoredState, WaitForecast,
    WindowState, WindowStatus, BOARD_NOTICE_MAX_CHARS, CALIBRATION, CALIBRATION_OFFSET_S,
    DRAWN_CALIBRATION, PAST_TICKET_DAYS, RECENT_CALLS_MAX, WAIT_ALARM_RANGE_S,
};
pub use ids::{ServiceId, TicketId, WindowId};
pub use ordering::call_order_key;
pub use ranked::RankedSet;
pub use spec::{
    is_valid_id, DailyBreak, HallSpec, ItemType, Policy, ServiceSpec, SpecError, TargetGroup,
    WindowSpec,
};
pub use ticket::{format_ticket_number, Channel, PriorityClass, Ticket, TicketStatus};

/// Re-exported so that callers name the same time types the core uses.
pub use jiff;

#[cfg(test)]
mod tests;
