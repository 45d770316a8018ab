//! Mapping tickets to rows and back. Instants are stored as Unix milliseconds.

use crate::StoreError;
use hallq_core::jiff::Timestamp;
use hallq_core::{
    Appointment, AppointmentStatus, BookingChannel, Channel, Contact, PriorityClass, ServiceId,
    Ticket, TicketId, TicketStatus, WindowId,
};
use rusqlite::{params, CachedStatement, Row};

pub(crate) const TICKET_COLUMNS: &str = "id, service_day, number, number_service, service, \
    priority, channel, status, issued_at_ms, queued_at_ms, called_at_ms, finished_at_ms, window, \
    recalls, requeues, transfers, token, contact, kiosk, idempotency_key, id_card";

pub(crate) const UPSERT_TICKET: &str = "INSERT INTO tickets (id, service_day, number, \
    number_service, service, priority, channel, status, issued_at_ms, queued_at_ms, called_at_ms, \
    finished_at_ms, window, recalls, requeues, transfers, token, contact, kiosk, idempotency_key,
    id_card)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
        ?21)
    ON CONFLICT(id) DO UPDATE SET service = excluded.service, status = excluded.status,
        queued_at_ms = excluded.queued_at_ms, called_at_ms = excluded.called_at_ms,
        finished_at_ms = excluded.finished_at_ms, window = excluded.window,
        recalls = excluded.recalls, requeues = excluded.requeues, transfers = excluded.transfers";

pub(crate) fn upsert_ticket(
    statement: &mut CachedStatement<'_>,
    ticket: &Ticket,
) -> Result<(), StoreError> {
    statement.execute(params![
        ticket.id.0,
        ticket.service_day.to_string(),
        ticket.number,
        ticket.number_service.as_str(),
        ticket.service.as_str(),
        ticket.priority.as_str(),
        ticket.channel.as_str(),
        ticket.status.as_str(),
        ticket.issued_at.as_millisecond(),
        ticket.queued_at.as_millisecond(),
        ticket.called_at.map(|t| t.as_millisecond()),
        ticket.finished_at.map(|t| t.as_millisecond()),
        ticket.window.as_ref().map(|w| w.as_str()),
        ticket.recalls,
        ticket.requeues,
        ticket.transfers,
        ticket.token,
        ticket.contact.as_ref().map(contact_json).transpose()?,
        ticket.kiosk,
        ticket.idempotency_key,
        ticket.id_card.as_ref().map(contact_json).transpose()?,
    ])?;
    Ok(())
}

fn contact_json(contact: &Contact) -> Result<String, StoreError> {
    serde_json::to_string(contact)
        .map_err(|e| StoreError::other(format!("encoding a contact: {e}")))
}

fn contact_from_json(text: &str) -> Result<Contact, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::other(format!("stored contact cannot be read: {e}")))
}

fn instant(milliseconds: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(milliseconds)
        .map_err(|e| StoreError::other(format!("stored instant {milliseconds}: {e}")))
}

fn bad(column: &str, value: &str) -> StoreError {
    StoreError::other(format!("stored ticket has an unknown {column} '{value}'"))
}

/// Reads a row; the outer error is SQLite's, the inner one a value this version cannot read.
pub(crate) fn ticket_from_row(row: &Row<'_>) -> rusqlite::Result<Result<Ticket, StoreError>> {
    let service_day: String = row.get(1)?;
    let priority: String = row.get(5)?;
    let channel: String = row.get(6)?;
    let status: String = row.get(7)?;
    let issued_at: i64 = row.get(8)?;
    let queued_at: i64 = row.get(9)?;
    let called_at: Option<i64> = row.get(10)?;
    let finished_at: Option<i64> = row.get(11)?;
    let id: u64 = row.get(0)?;
    let number: String = row.get(2)?;
    let number_service: String = row.get(3)?;
    let service: String = row.get(4)?;
    let window: Option<String> = row.get(12)?;
    let recalls: u32 = row.get(13)?;
    let requeues: u32 = row.get(14)?;
    let transfers: u32 = row.get(15)?;
    let token: String = row.get(16)?;
    let contact: Option<String> = row.get(17)?;
    let kiosk: Option<String> = row.get(18)?;
    let idempotency_key: Option<String> = row.get(19)?;
    let id_card: Option<String> = row.get(20)?;
    Ok((|| {
        Ok(Ticket {
            id: TicketId(id),
            number,
            number_service: ServiceId(number_service),
            service: ServiceId(service),
            service_day: service_day
                .parse()
                .map_err(|_| bad("service_day", &service_day))?,
            priority: PriorityClass::parse(&priority).ok_or_else(|| bad("priority", &priority))?,
            channel: Channel::parse(&channel).ok_or_else(|| bad("channel", &channel))?,
            status: TicketStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
            issued_at: instant(issued_at)?,
            queued_at: instant(queued_at)?,
            called_at: called_at.map(instant).transpose()?,
            finished_at: finished_at.map(instant).transpose()?,
            window: window.map(WindowId),
            recalls,
            requeues,
            transfers,
            token,
            contact: contact.as_deref().map(contact_from_json).transpose()?,
            id_card: id_card.as_deref().map(contact_from_json).transpose()?,
            kiosk,
            idempotency_key,
        })
    })())
}

pub(crate) const APPOINTMENT_COLUMNS: &str =
    "code, service, date, start_ms, end_ms, channel, contact, name_sealed, status, ticket, booked_at_ms, \
    id_card";

pub(crate) const UPSERT_APPOINTMENT: &str = "INSERT INTO appointments (code, service, date, \
    start_ms, end_ms, channel, contact, name_sealed, status, ticket, booked_at_ms, id_card)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
    ON CONFLICT(code) DO UPDATE SET status = excluded.status, ticket = excluded.ticket";

pub(crate) fn upsert_appointment(
    statement: &mut CachedStatement<'_>,
    appointment: &Appointment,
) -> Result<(), StoreError> {
    statement.execute(params![
        appointment.code,
        appointment.service.as_str(),
        appointment.date.to_string(),
        appointment.start.as_millisecond(),
        appointment.end.as_millisecond(),
        appointment.channel.as_str(),
        contact_json(&appointment.contact)?,
        appointment.name_sealed,
        appointment.status.as_str(),
        appointment.ticket.map(|t| t.0),
        appointment.booked_at.as_millisecond(),
        appointment.id_card.as_ref().map(contact_json).transpose()?,
    ])?;
    Ok(())
}

pub(crate) fn appointment_from_row(
    row: &Row<'_>,
) -> rusqlite::Result<Result<Appointment, StoreError>> {
    let code: String = row.get(0)?;
    let service: String = row.get(1)?;
    let date: String = row.get(2)?;
    let start: i64 = row.get(3)?;
    let end: i64 = row.get(4)?;
    let channel: String = row.get(5)?;
    let contact: String = row.get(6)?;
    let name_sealed: Option<String> = row.get(7)?;
    let status: String = row.get(8)?;
    let ticket: Option<u64> = row.get(9)?;
    let booked_at: i64 = row.get(10)?;
    let id_card: Option<String> = row.get(11)?;
    Ok((|| {
        Ok(Appointment {
            code,
            service: ServiceId(service),
            date: date.parse().map_err(|_| bad("appointment date", &date))?,
            start: instant(start)?,
            end: instant(end)?,
            channel: BookingChannel::parse(&channel)
                .ok_or_else(|| bad("booking channel", &channel))?,
            contact: contact_from_json(&contact)?,
            id_card: id_card.as_deref().map(contact_from_json).transpose()?,
            name_sealed,
            status: AppointmentStatus::parse(&status)
                .ok_or_else(|| bad("appointment status", &status))?,
            ticket: ticket.map(TicketId),
            booked_at: instant(booked_at)?,
        })
    })())
}
