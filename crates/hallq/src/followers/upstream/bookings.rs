//! The hub's bookings, applied in the hall: each change of the hall's feed becomes a command
//! for the engine (a booking from the hub's share, or a cancellation), then the hall
//! acknowledges the feed up to the last change it applied and names the ones it refused.
//!
//! Applying is idempotent, so a feed read twice (the hall restarted before its ack) changes
//! nothing: a booking already there is `appointment_code_in_use`, a cancellation of one already
//! cancelled (or never taken) is no news.

use super::client::{CallError, HubClient};
use super::Upstream;
use hallq_core::jiff::Timestamp;
use hallq_core::{BookingChannel, Command, DomainError, ServiceId};
use hallq_engine::{Actor, EngineError};
use hallq_protocol::{BookingAck, BookingChange, BookingFeed, HubBooking, RefusedBooking};

/// What became of a pull.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pulled {
    pub applied: u64,
    pub refused: u64,
}

/// Pulls the feed until it is empty (each page acknowledged before the next).
pub async fn pull(upstream: &Upstream, client: &HubClient) -> Result<Pulled, CallError> {
    let mut pulled = Pulled::default();
    loop {
        let text = client
            .call("GET", client.hall_path("/appointments"), None)
            .await?;
        let feed: BookingFeed = serde_json::from_str(&text).map_err(|e| {
            CallError::Refused(format!("the hub's booking feed is not understood: {e}"))
        })?;
        if feed.bookings.is_empty() {
            return Ok(pulled);
        }
        let mut through = None;
        let mut refused = Vec::new();
        for booking in &feed.bookings {
            match apply(upstream, booking).await {
                Applied::Yes => pulled.applied += 1,
                Applied::Refused(reason) => {
                    tracing::warn!(
                        code = %hallq_core::mask_code(&booking.code),
                        %reason,
                        "a booking from the hub was refused"
                    );
                    pulled.refused += 1;
                    refused.push(RefusedBooking {
                        code: booking.code.clone(),
                        reason,
                    });
                }
                // The engine could not take it now (storage, shutdown): acknowledge what was
                // applied and stop; the rest comes again at the next pull.
                Applied::Later(why) => {
                    tracing::warn!(%why, "hub bookings not applied now; retrying at the next pull");
                    break;
                }
            }
            through = Some(booking.id);
        }
        let Some(through) = through else {
            return Ok(pulled);
        };
        let ack = serde_json::to_string(&BookingAck { through, refused }).unwrap_or_default();
        client
            .call("POST", client.hall_path("/appointments/ack"), Some(ack))
            .await?;
        if through < feed.next {
            return Ok(pulled);
        }
    }
}

enum Applied {
    Yes,
    Refused(String),
    Later(String),
}

fn hub_actor() -> Option<Actor> {
    Some(Actor {
        id: "hub".into(),
        role: "upstream".into(),
        address: None,
    })
}

async fn apply(upstream: &Upstream, booking: &HubBooking) -> Applied {
    if !hallq_protocol::is_hub_code(&booking.code) {
        return Applied::Refused("invalid_code".into());
    }
    let command = match booking.change {
        BookingChange::Cancelled => Command::CancelAppointment {
            code: booking.code.clone(),
        },
        BookingChange::Booked => match booked(upstream, booking) {
            Ok(command) => command,
            Err(reason) => return Applied::Refused(reason),
        },
    };
    match upstream.engine.execute_as(command, hub_actor()).await {
        Ok(_) => Applied::Yes,
        Err(EngineError::Domain(error)) => match (booking.change, error) {
            // Seen before: the feed was read again.
            (BookingChange::Booked, DomainError::AppointmentCodeInUse) => Applied::Yes,
            // Nothing to cancel (refused before), or no longer booked (checked in, cancelled
            // at the window): the log tells the hub what became of it.
            (
                BookingChange::Cancelled,
                DomainError::UnknownAppointment | DomainError::AppointmentInvalidState { .. },
            ) => Applied::Yes,
            (_, error) => Applied::Refused(error.code().into()),
        },
        Err(error) => Applied::Later(error.to_string()),
    }
}

fn booked(upstream: &Upstream, booking: &HubBooking) -> Result<Command, String> {
    let start: Timestamp = booking.start.parse().map_err(|_| "invalid_start")?;
    let channel = BookingChannel::parse(&booking.channel)
        .filter(|c| c.books_at_hub())
        .ok_or("invalid_channel")?;
    let phone = booking
        .phone
        .as_deref()
        .filter(|p| crate::privacy::is_mobile_number(p))
        .ok_or("invalid_phone")?;
    let name_sealed = booking
        .name
        .as_deref()
        .filter(|n| !n.is_empty() && n.chars().count() <= 30)
        .map(|n| upstream.privacy.seal(n));
    Ok(Command::BookAppointment {
        code: booking.code.clone(),
        service: ServiceId::new(booking.service.clone()),
        start,
        channel,
        contact: upstream.privacy.phone(phone),
        name_sealed,
        // An ID number that is not one is left out rather than refusing the booking: the
        // citizen still checks in with the code or the phone.
        id_card: booking
            .id_number
            .as_deref()
            .and_then(crate::privacy::id_number)
            .map(|number| upstream.privacy.id_card(&number)),
    })
}
