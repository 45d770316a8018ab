//! A hall's push, stored: the events after the hub's copy, once each, in one transaction.
//!
//! The hall sends the events after what it believes the hub holds (`after`). Under a row lock
//! on the hall's `hall_sync` row (one push per hall at a time), the hub:
//!
//! - refuses a push that starts beyond its copy (`after > last_seq`): that would leave a hole,
//!   so it answers 409 `sequence_gap` with its `last_seq` and the hall sends from there;
//! - drops the events it has already (`seq <= last_seq`: a retry after a lost answer, or two
//!   hall processes racing after a restart), counting them as duplicates;
//! - stores the rest with `INSERT … ON CONFLICT DO NOTHING` (the primary key (hall, seq) is the
//!   last word on "once"), and moves `last_seq` to the end of the batch.
//!
//! A crash at any point leaves either the whole batch or none of it: the hall resends.
//! Events about the hub's own bookings (a check-in, a cancellation at the hall) update those
//! bookings in the same transaction.

use crate::http::error::HubError;
use crate::state::{HubState, Metrics};
use hallq_protocol::{EventsAccepted, MAX_EVENTS_PER_PUSH, SEQUENCE_GAP};
use serde::Deserialize;
use serde_json::value::RawValue;

/// An event as it arrives: its data kept as the hall sent it (no re-encoding on the way in).
#[derive(Deserialize)]
pub struct IncomingEvent {
    pub seq: u64,
    pub kind: String,
    pub at_ms: i64,
    pub data: Box<RawValue>,
}

#[derive(Deserialize)]
pub struct IncomingPush {
    pub after: u64,
    pub events: Vec<IncomingEvent>,
    pub log_seq: u64,
}

/// Checks a push's shape before any database work: bounded, consecutive from `after + 1`.
pub fn check_shape(push: &IncomingPush) -> Result<(), HubError> {
    if push.events.len() > MAX_EVENTS_PER_PUSH {
        return Err(HubError::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_events",
            format!("send at most {MAX_EVENTS_PER_PUSH} events per push"),
        ));
    }
    for (index, event) in push.events.iter().enumerate() {
        if event.seq != push.after + 1 + index as u64 {
            return Err(HubError::bad_request(
                "events_out_of_order",
                format!(
                    "events must follow `after` ({}) without a gap: event {index} has seq {}, expected {}",
                    push.after,
                    event.seq,
                    push.after + 1 + index as u64
                ),
            ));
        }
        if event.kind.is_empty()
            || event.kind.len() > 64
            || !event
                .kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_')
        {
            return Err(HubError::bad_request(
                "invalid_kind",
                format!("event {index}: kind is a snake_case name"),
            ));
        }
    }
    if push.log_seq < push.after + push.events.len() as u64 {
        return Err(HubError::bad_request(
            "invalid_log_seq",
            "log_seq is the hall's newest sequence number: not below the events sent",
        ));
    }
    Ok(())
}

/// Stores a push (see the module's description).
pub async fn store(
    state: &HubState,
    hall: &str,
    push: &IncomingPush,
) -> Result<EventsAccepted, HubError> {
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let last_seq: i64 = transaction
        .query_opt(
            "SELECT last_seq FROM hall_sync WHERE hall = $1 FOR UPDATE",
            &[&hall],
        )
        .await?
        .ok_or_else(|| HubError::not_found(format!("there is no hall '{hall}' at this hub")))?
        .get(0);
    let last_seq = last_seq as u64;
    if push.after > last_seq {
        Metrics::add(&state.metrics.gaps, 1);
        return Err(HubError::conflict(
            SEQUENCE_GAP,
            format!(
                "the hub holds this hall's events up to {last_seq}; send from {} on",
                last_seq + 1
            ),
        )
        .with("last_seq", serde_json::json!(last_seq)));
    }
    let fresh: Vec<&IncomingEvent> = push
        .events
        .iter()
        .filter(|event| event.seq > last_seq)
        .collect();
    let mut duplicates = (push.events.len() - fresh.len()) as u64;
    let mut stored = 0u64;
    if !fresh.is_empty() {
        let seqs: Vec<i64> = fresh.iter().map(|e| e.seq as i64).collect();
        let kinds: Vec<&str> = fresh.iter().map(|e| e.kind.as_str()).collect();
        let ats: Vec<i64> = fresh.iter().map(|e| e.at_ms).collect();
        let data: Vec<&str> = fresh.iter().map(|e| e.data.get()).collect();
        stored = transaction
            .execute(
                "INSERT INTO hall_events (hall, seq, kind, at, data)
                 SELECT $1, seq, kind, to_timestamp(at_ms / 1000.0), data::jsonb
                 FROM unnest($2::int8[], $3::text[], $4::int8[], $5::text[])
                      AS pushed (seq, kind, at_ms, data)
                 ON CONFLICT (hall, seq) DO NOTHING",
                &[&hall, &seqs, &kinds, &ats, &data],
            )
            .await?;
        duplicates += fresh.len() as u64 - stored;
        follow_hub_bookings(&transaction, hall, &fresh).await?;
    }
    let new_last = last_seq.max(push.after + push.events.len() as u64);
    transaction
        .execute(
            "UPDATE hall_sync SET last_seq = $2, events_received = events_received + $3,
                 duplicates_dropped = duplicates_dropped + $4, log_seq = $5, last_push_at = now()
             WHERE hall = $1",
            &[
                &hall,
                &(new_last as i64),
                &(stored as i64),
                &(duplicates as i64),
                &(push.log_seq as i64),
            ],
        )
        .await?;
    transaction.commit().await?;
    Metrics::add(&state.metrics.events_stored, stored);
    Metrics::add(&state.metrics.duplicates_dropped, duplicates);
    Ok(EventsAccepted {
        last_seq: new_last,
        stored,
        duplicates,
    })
}

/// What the hall did with the hub's bookings: checked in, cancelled at a window, no-show.
async fn follow_hub_bookings(
    transaction: &tokio_postgres::Transaction<'_>,
    hall: &str,
    events: &[&IncomingEvent],
) -> Result<(), HubError> {
    #[derive(Deserialize)]
    struct AboutBooking {
        code: String,
    }
    for event in events {
        let status = match event.kind.as_str() {
            "appointment_checked_in" => "checked_in",
            "appointment_cancelled" => "cancelled",
            "appointment_no_show" => "no_show",
            _ => continue,
        };
        let Ok(about) = serde_json::from_str::<AboutBooking>(event.data.get()) else {
            continue;
        };
        if !hallq_protocol::is_hub_code(&about.code) {
            continue;
        }
        transaction
            .execute(
                "UPDATE hub_bookings SET status = $3, changed_at = now()
                 WHERE code = $1 AND hall = $2 AND status <> $3",
                &[&about.code, &hall, &status],
            )
            .await?;
    }
    Ok(())
}
