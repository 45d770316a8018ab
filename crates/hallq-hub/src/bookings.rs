//! The hub's bookings (online, SMS): taken from each slot's hub share as the hall's profile
//! states it, never more; handed to the hall through its feed (`booking_changes`).
//!
//! Every change of a hall's bookings is made under that hall's advisory lock, so the feed's ids
//! are committed in the order they were given and a hall reading the feed never skips one that
//! committed late.

use crate::http::error::HubError;
use crate::state::HubState;
use hallq_core::jiff::{tz::TimeZone, Timestamp};
use hallq_core::{planned_slots, ServiceId};
use hallq_protocol::HallProfile;
use serde::{Deserialize, Serialize};

/// What a booking asks for.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingRequest {
    pub service: String,
    /// A slot's `start` (RFC 3339) from `GET /v1/halls/{id}/slots`.
    pub start: String,
    /// online or sms
    pub channel: String,
    pub phone: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The citizen's resident ID number, so that the card checks the booking in at the hall.
    #[serde(default)]
    pub id_number: Option<String>,
}

/// A booking as the hub shows it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct BookingView {
    pub code: String,
    pub hall: String,
    pub service: String,
    pub service_name: String,
    pub start: String,
    pub end: String,
    pub channel: String,
    /// booked, cancelled, checked_in, no_show or refused
    pub status: String,
    pub phone_masked: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_reason: Option<String>,
    pub hall_name: String,
    /// Where to go.
    pub address: Option<String>,
    /// Check-in at the hall's kiosk opens and closes (local time, RFC 3339).
    pub check_in_opens: String,
    pub check_in_closes: String,
}

impl BookingView {
    /// What the citizen is told by SMS when the booking is made.
    pub fn confirmation(&self) -> String {
        let clock = |text: &str| text.get(11..16).unwrap_or(text).to_owned();
        format!(
            "【政务服务预约】预约成功：{hall} {service}，{date} {from}-{to}，预约码 {code}。请于 {opens}-{closes} \
             到{place}自助机凭预约码签到取号。取消请回复 QX {code}。",
            hall = self.hall_name,
            service = self.service_name,
            date = self.start.get(..10).unwrap_or(""),
            from = clock(&self.start),
            to = clock(&self.end),
            code = self.code,
            opens = clock(&self.check_in_opens),
            closes = clock(&self.check_in_closes),
            place = self.address.as_deref().unwrap_or("大厅"),
        )
    }
}

/// One slot of the hub's share.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct HubSlot {
    pub start: String,
    pub end: String,
    pub hub_capacity: u32,
    pub hub_booked: u32,
    pub available: u32,
}

const CODE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Eight characters without look-alikes, the first a letter (a hall's start with a digit).
fn new_code() -> String {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).expect("the operating system's random generator failed");
    bytes
        .iter()
        .enumerate()
        .map(|(index, b)| {
            let alphabet = if index == 0 {
                CODE_LETTERS
            } else {
                CODE_ALPHABET
            };
            alphabet[usize::from(*b) % alphabet.len()] as char
        })
        .collect()
}

/// The hall's profile, or a 409 saying the hall has not sent it yet.
pub async fn profile(state: &HubState, hall: &str) -> Result<(HallProfile, TimeZone), HubError> {
    let client = state.pool.get().await?;
    let row = client
        .query_opt(
            "SELECT profile::text FROM hall_profiles WHERE hall = $1",
            &[&hall],
        )
        .await?
        .ok_or_else(|| {
            HubError::conflict(
                "hall_profile_missing",
                format!(
                    "the hall '{hall}' has not sent its services and appointment plans yet: its \
                     upstream link sends them when it starts"
                ),
            )
        })?;
    let text: String = row.get(0);
    let profile: HallProfile = serde_json::from_str(&text).map_err(|_| {
        HubError::conflict(
            "hall_profile_missing",
            "the hall's profile is unreadable; the hall resends it when it starts",
        )
    })?;
    let tz = TimeZone::get(&profile.time_zone).map_err(|_| {
        HubError::conflict(
            "hall_profile_missing",
            "the hall's time zone is unknown to the hub",
        )
    })?;
    Ok((profile, tz))
}

/// A booking's view from its parts.
#[allow(clippy::too_many_arguments)]
fn view(
    profile: &HallProfile,
    tz: &TimeZone,
    hall: &str,
    code: &str,
    service: &str,
    start: Timestamp,
    end: Timestamp,
    channel: String,
    status: String,
    phone_masked: String,
    refused_reason: Option<String>,
) -> BookingView {
    let rules = &profile.rules;
    let opens =
        start - hallq_core::jiff::SignedDuration::from_mins(i64::from(rules.check_in_before_min));
    let closes =
        start + hallq_core::jiff::SignedDuration::from_mins(i64::from(rules.check_in_after_min));
    BookingView {
        code: code.to_owned(),
        hall: hall.to_owned(),
        service: service.to_owned(),
        service_name: profile
            .services
            .iter()
            .find(|s| s.id == service)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        start: local(tz, start),
        end: local(tz, end),
        channel,
        status,
        phone_masked,
        refused_reason,
        hall_name: profile.name.clone(),
        address: profile.address.clone(),
        check_in_opens: local(tz, opens),
        check_in_closes: local(tz, closes),
    }
}

fn local(tz: &TimeZone, at: Timestamp) -> String {
    at.to_zoned(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// The hub's share of each of a service's slots on a date, with how much of it is booked.
pub async fn share_of_slots(
    state: &HubState,
    hall: &str,
    profile: &HallProfile,
    tz: &TimeZone,
    service: &str,
    date: hallq_core::jiff::civil::Date,
) -> Result<Vec<(hallq_core::PlannedSlot, u32)>, HubError> {
    let planned = planned_slots(
        &profile.plans,
        &state.calendar(),
        tz,
        &ServiceId::new(service),
        date,
    );
    if planned.is_empty() {
        return Ok(Vec::new());
    }
    let client = state.pool.get().await?;
    let rows = client
        .query(
            "SELECT (extract(epoch FROM start_at) * 1000)::int8, count(*) FROM hub_bookings
             WHERE hall = $1 AND service = $2 AND local_date = $3::text::date
               AND status IN ('booked', 'checked_in')
             GROUP BY start_at",
            &[&hall, &service, &date.to_string()],
        )
        .await?;
    let booked: std::collections::HashMap<i64, i64> =
        rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    Ok(planned
        .into_iter()
        .map(|slot| {
            let taken = booked
                .get(&slot.start.as_millisecond())
                .copied()
                .unwrap_or(0) as u32;
            (slot, taken)
        })
        .collect())
}

/// The hub's share of a service's slots on a date, with what is booked.
pub async fn slots(
    state: &HubState,
    hall: &str,
    service: &str,
    date: hallq_core::jiff::civil::Date,
) -> Result<Vec<HubSlot>, HubError> {
    let (profile, tz) = profile(state, hall).await?;
    if !profile.services.iter().any(|s| s.id == service) {
        return Err(HubError::not_found(format!(
            "the hall '{hall}' has no service '{service}'"
        )));
    }
    let now = Timestamp::now();
    Ok(share_of_slots(state, hall, &profile, &tz, service, date)
        .await?
        .into_iter()
        .filter(|(slot, _)| slot.start > now)
        .map(|(slot, booked)| HubSlot {
            start: local(&tz, slot.start),
            end: local(&tz, slot.end),
            hub_capacity: slot.hub_share,
            hub_booked: booked,
            available: slot.hub_share.saturating_sub(booked),
        })
        .collect())
}

/// Books a place of the hub's share.
pub async fn book(
    state: &HubState,
    hall: &str,
    request: &BookingRequest,
    now: Timestamp,
) -> Result<BookingView, HubError> {
    let channel = match request.channel.as_str() {
        "online" | "sms" => request.channel.clone(),
        _ => {
            return Err(HubError::bad_request(
                "invalid_channel",
                "the hub books online or by sms; on-site and phone bookings are the hall's",
            ))
        }
    };
    if !hallq_privacy::is_mobile_number(&request.phone) {
        return Err(HubError::bad_request(
            "invalid_phone",
            "phone must be an 11-digit mainland mobile number",
        ));
    }
    if request
        .name
        .as_deref()
        .is_some_and(|n| n.chars().count() > 30 || n.chars().any(char::is_control))
    {
        return Err(HubError::bad_request(
            "invalid_name",
            "the name is at most 30 characters",
        ));
    }
    let start: Timestamp = request.start.parse().map_err(|_| {
        HubError::bad_request(
            "invalid_start",
            "start is a slot's start as given by /v1/halls/{id}/slots (RFC 3339)",
        )
    })?;
    let (profile, tz) = profile(state, hall).await?;
    let service = profile
        .services
        .iter()
        .find(|s| s.id == request.service)
        .ok_or_else(|| {
            HubError::not_found(format!(
                "the hall '{hall}' has no service '{}'",
                request.service
            ))
        })?;
    let date = start.to_zoned(tz.clone()).date();
    let slot = planned_slots(
        &profile.plans,
        &state.calendar(),
        &tz,
        &ServiceId::new(service.id.clone()),
        date,
    )
    .into_iter()
    .find(|slot| slot.start == start)
    .ok_or_else(|| {
        HubError::unprocessable(
            "slot_not_offered",
            "there is no such slot for this service on that day",
        )
    })?;
    if slot.hub_share == 0 {
        return Err(HubError::unprocessable(
            "not_bookable_online",
            "this slot is booked at the hall only (on site or by phone)",
        ));
    }
    if start <= now {
        return Err(HubError::unprocessable(
            "slot_in_past",
            "the slot has started already",
        ));
    }
    let today = now.to_zoned(tz.clone()).date();
    let ahead = profile.rules.book_ahead_days;
    let horizon = today
        .checked_add(hallq_core::jiff::Span::new().days(i64::from(ahead)))
        .unwrap_or(today);
    if date > horizon {
        return Err(HubError::unprocessable(
            "too_far_ahead",
            format!("slots can be booked at most {ahead} days ahead"),
        ));
    }
    let phone_key = state
        .privacy
        .match_key(hallq_privacy::Kind::Phone, &request.phone);
    let phone_sealed = state.privacy.seal(&request.phone);
    let id_sealed = match request.id_number.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(typed) => {
            let number = hallq_privacy::id_number(typed).ok_or_else(|| {
                HubError::bad_request(
                    "invalid_id_number",
                    "the ID number is 18 characters, the last a digit or X, as on the card",
                )
            })?;
            Some(state.privacy.seal(&number))
        }
    };
    let name_sealed = request.name.as_deref().map(|n| state.privacy.seal(n));
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    lock_hall_bookings(&transaction, hall).await?;
    let booked: i64 = transaction
        .query_one(
            "SELECT count(*) FROM hub_bookings WHERE hall = $1 AND service = $2
               AND start_at = to_timestamp($3::int8 / 1000.0) AND status IN ('booked', 'checked_in')",
            &[&hall, &service.id, &start.as_millisecond()],
        )
        .await?
        .get(0);
    if booked as u64 >= u64::from(slot.hub_share) {
        return Err(HubError::conflict(
            "slot_full",
            "every online place of this slot is taken; choose another slot",
        ));
    }
    let held: i64 = transaction
        .query_one(
            "SELECT count(*) FROM hub_bookings WHERE phone_key = $1 AND local_date = $2::text::date
               AND status IN ('booked', 'checked_in')",
            &[&phone_key, &date.to_string()],
        )
        .await?
        .get(0);
    let limit = profile.rules.per_person_per_day;
    if held as u64 >= u64::from(limit) {
        return Err(HubError::conflict(
            "booking_limit_reached",
            format!("one phone number may hold {limit} bookings a day"),
        ));
    }
    let masked = hallq_privacy::mask_phone(&request.phone);
    let mut code = new_code();
    for _ in 0..5 {
        let inserted = transaction
            .execute(
                "INSERT INTO hub_bookings (code, hall, service, start_at, end_at, local_date,
                     channel, phone_key, phone_sealed, phone_masked, name_sealed, status, id_sealed)
                 VALUES ($1, $2, $3, to_timestamp($4::int8 / 1000.0), to_timestamp($5::int8 / 1000.0),
                     $6::text::date, $7, $8, $9, $10, $11, 'booked', $12)
                 ON CONFLICT (code) DO NOTHING",
                &[
                    &code,
                    &hall,
                    &service.id,
                    &start.as_millisecond(),
                    &slot.end.as_millisecond(),
                    &date.to_string(),
                    &channel,
                    &phone_key,
                    &phone_sealed,
                    &masked,
                    &name_sealed,
                    &id_sealed,
                ],
            )
            .await?;
        if inserted == 1 {
            break;
        }
        code = new_code();
    }
    transaction
        .execute(
            "INSERT INTO booking_changes (hall, code, change) VALUES ($1, $2, 'booked')",
            &[&hall, &code],
        )
        .await?;
    transaction.commit().await?;
    tracing::info!(hall, code = %hallq_core::mask_code(&code), phone = %masked, "hub booking taken");
    Ok(view(
        &profile,
        &tz,
        hall,
        &code,
        &service.id,
        start,
        slot.end,
        channel,
        "booked".into(),
        masked,
        None,
    ))
}

async fn lock_hall_bookings(
    transaction: &tokio_postgres::Transaction<'_>,
    hall: &str,
) -> Result<(), HubError> {
    transaction
        .execute(
            "SELECT pg_advisory_xact_lock(hashtext('bookings:' || $1))",
            &[&hall],
        )
        .await?;
    Ok(())
}

/// Cancels a hub booking that is still booked; the hall hears of it through its feed.
pub async fn cancel(state: &HubState, hall: &str, code: &str) -> Result<BookingView, HubError> {
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    lock_hall_bookings(&transaction, hall).await?;
    let status: String = transaction
        .query_opt(
            "SELECT status FROM hub_bookings WHERE code = $1 AND hall = $2",
            &[&code, &hall],
        )
        .await?
        .ok_or_else(|| HubError::not_found("there is no booking with this code at this hall"))?
        .get(0);
    if status != "booked" {
        return Err(HubError::conflict(
            "invalid_state",
            format!("the booking is {status}: only a booked one can be cancelled"),
        ));
    }
    transaction
        .execute(
            "UPDATE hub_bookings SET status = 'cancelled', changed_at = now() WHERE code = $1",
            &[&code],
        )
        .await?;
    transaction
        .execute(
            "INSERT INTO booking_changes (hall, code, change) VALUES ($1, $2, 'cancelled')",
            &[&hall, &code],
        )
        .await?;
    transaction.commit().await?;
    find(state, hall, code).await
}

/// One booking by its code.
pub async fn find(state: &HubState, hall: &str, code: &str) -> Result<BookingView, HubError> {
    let (profile, tz) = profile(state, hall).await?;
    let client = state.pool.get().await?;
    let row = client
        .query_opt(
            "SELECT service, (extract(epoch FROM start_at) * 1000)::int8,
                    (extract(epoch FROM end_at) * 1000)::int8, channel, status, phone_masked,
                    refused_reason
             FROM hub_bookings WHERE code = $1 AND hall = $2",
            &[&code, &hall],
        )
        .await?
        .ok_or_else(|| HubError::not_found("there is no booking with this code at this hall"))?;
    let service: String = row.get(0);
    let at = |ms: i64| Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
    Ok(view(
        &profile,
        &tz,
        hall,
        code,
        &service,
        at(row.get(1)),
        at(row.get(2)),
        row.get(3),
        row.get(4),
        row.get(5),
        row.get(6),
    ))
}

/// A citizen cancels their own booking: the code and the phone it was made with. A wrong phone
/// gets the same answer as an unknown code, so codes cannot be tried against numbers.
pub async fn cancel_by_citizen(
    state: &HubState,
    code: &str,
    phone: &str,
) -> Result<BookingView, HubError> {
    let unknown = || HubError::not_found("there is no booking with this code for this phone");
    let key = state.privacy.match_key(hallq_privacy::Kind::Phone, phone);
    let hall: String = {
        let client = state.pool.get().await?;
        client
            .query_opt(
                "SELECT hall FROM hub_bookings WHERE code = $1 AND phone_key = $2",
                &[&code, &key],
            )
            .await?
            .ok_or_else(unknown)?
            .get(0)
    };
    cancel(state, &hall, code).await
}

/// The feed of a hall's bookings after `after`, at most `limit`.
pub async fn feed(
    state: &HubState,
    hall: &str,
    after: Option<u64>,
    limit: usize,
) -> Result<hallq_protocol::BookingFeed, HubError> {
    let client = state.pool.get().await?;
    let after = match after {
        Some(after) => after as i64,
        None => client
            .query_opt(
                "SELECT bookings_acked FROM hall_sync WHERE hall = $1",
                &[&hall],
            )
            .await?
            .map(|row| row.get(0))
            .unwrap_or(0),
    };
    let rows = client
        .query(
            "SELECT c.id, c.change, b.code, b.service,
                    (extract(epoch FROM b.start_at) * 1000)::int8, b.channel,
                    b.phone_sealed, b.name_sealed, b.id_sealed
             FROM booking_changes c JOIN hub_bookings b ON b.code = c.code
             WHERE c.hall = $1 AND c.id > $2 ORDER BY c.id LIMIT $3",
            &[&hall, &after, &(limit as i64)],
        )
        .await?;
    let mut next = after as u64;
    let mut bookings = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.get(0);
        let change: String = row.get(1);
        next = id as u64;
        let booked = change == "booked";
        let open = |sealed: Option<String>| sealed.and_then(|s| state.privacy.open(&s));
        bookings.push(hallq_protocol::HubBooking {
            id: id as u64,
            change: if booked {
                hallq_protocol::BookingChange::Booked
            } else {
                hallq_protocol::BookingChange::Cancelled
            },
            code: row.get(2),
            service: row.get(3),
            start: Timestamp::from_millisecond(row.get(4))
                .unwrap_or(Timestamp::UNIX_EPOCH)
                .to_string(),
            channel: row.get(5),
            phone: if booked { open(row.get(6)) } else { None },
            name: if booked { open(row.get(7)) } else { None },
            id_number: if booked { open(row.get(8)) } else { None },
        });
    }
    Ok(hallq_protocol::BookingFeed { bookings, next })
}

/// The hall applied the feed up to `through`, except the refused bookings.
pub async fn acknowledge(
    state: &HubState,
    hall: &str,
    ack: &hallq_protocol::BookingAck,
) -> Result<(), HubError> {
    if ack.refused.len() > hallq_protocol::MAX_BOOKINGS_PER_PULL {
        return Err(HubError::bad_request(
            "too_many_refusals",
            "acknowledge at most one pull's bookings at a time",
        ));
    }
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let newest: Option<i64> = transaction
        .query_one(
            "SELECT max(id) FROM booking_changes WHERE hall = $1",
            &[&hall],
        )
        .await?
        .get(0);
    if ack.through as i64 > newest.unwrap_or(0) {
        return Err(HubError::unprocessable(
            "ack_beyond_feed",
            "`through` is past the newest change of this hall's feed",
        ));
    }
    for refused in &ack.refused {
        let updated = transaction
            .execute(
                "UPDATE hub_bookings SET status = 'refused', refused_reason = $3, changed_at = now()
                 WHERE code = $1 AND hall = $2 AND status = 'booked'",
                &[&refused.code, &hall, &refused.reason.chars().take(64).collect::<String>()],
            )
            .await?;
        if updated == 1 {
            tracing::warn!(hall, code = %hallq_core::mask_code(&refused.code), reason = %refused.reason,
                "the hall refused a hub booking");
        }
    }
    transaction
        .execute(
            "UPDATE hall_sync SET bookings_acked = GREATEST(bookings_acked, $2) WHERE hall = $1",
            &[&hall, &(ack.through as i64)],
        )
        .await?;
    // The hall has the bookings (or refused them): the hub needs their ID numbers no longer.
    transaction
        .execute(
            "UPDATE hub_bookings b SET id_sealed = NULL FROM booking_changes c
             WHERE c.hall = $1 AND c.id <= $2 AND c.code = b.code AND b.id_sealed IS NOT NULL",
            &[&hall, &(ack.through as i64)],
        )
        .await?;
    transaction.commit().await?;
    Ok(())
}
