//! Appointments: the slots a service offers, booking, cancelling and check-in decisions.
//! Capacity races are settled by the single writer: two kiosks racing for the last place get
//! one booking and one `slot_full`.

use super::{Hall, Outcome};
use crate::appointment::{Appointment, AppointmentStatus, Slot};
use crate::command::{CheckInBy, IssueTicket};
use crate::contact::Contact;
use crate::error::DomainError;
use crate::event::Event;
use crate::ids::ServiceId;
use crate::ticket::PriorityClass;
use jiff::Timestamp;

impl Hall {
    pub(super) fn decide_cancel_booking(
        &self,
        code: &str,
        now: Timestamp,
    ) -> Result<Outcome, DomainError> {
        let appointment = self
            .appointments
            .get(code)
            .ok_or(DomainError::UnknownAppointment)?;
        if appointment.status != AppointmentStatus::Booked {
            return Err(DomainError::AppointmentInvalidState {
                status: appointment.status,
                action: "cancelled",
            });
        }
        Ok(Outcome {
            events: vec![Event::AppointmentCancelled {
                code: code.to_owned(),
                at: now,
            }],
            ticket: None,
        })
    }

    /// The slots a service offers on a date, with how many of each share are booked.
    pub fn slots(&self, service: &ServiceId, date: jiff::civil::Date) -> Vec<Slot> {
        crate::appointment::planned_slots(
            &self.spec.appointment_plans,
            &self.spec.calendar,
            &self.tz,
            service,
            date,
        )
        .into_iter()
        .map(|planned| {
            let (mut booked, mut hub_booked) = (0, 0);
            for appointment in self.appointments.values().filter(|a| {
                &a.service == service && a.start == planned.start && a.status.holds_place()
            }) {
                if appointment.channel.books_at_hub() {
                    hub_booked += 1;
                } else {
                    booked += 1;
                }
            }
            Slot {
                start: planned.start,
                end: planned.end,
                capacity: planned.capacity - planned.hub_share,
                booked,
                hub_capacity: planned.hub_share,
                hub_booked,
            }
        })
        .collect()
    }

    pub(super) fn decide_booking(
        &self,
        asked: BookingAsked<'_>,
        now: Timestamp,
    ) -> Result<Appointment, DomainError> {
        let BookingAsked {
            code,
            service,
            start,
            channel,
            contact,
            name_sealed,
            id_card,
        } = asked;
        self.service_position(service)?;
        if !self
            .spec
            .appointment_plans
            .iter()
            .any(|plan| &plan.service == service)
        {
            return Err(DomainError::NotBookable(service.clone()));
        }
        if self.appointments.contains_key(code) {
            return Err(DomainError::AppointmentCodeInUse);
        }
        let date = self.service_day_of(start);
        let slot = self
            .slots(service, date)
            .into_iter()
            .find(|slot| slot.start == start)
            .ok_or_else(|| DomainError::SlotNotOffered(service.clone()))?;
        if channel.books_at_hub() {
            // The hub decided this booking from its own share, with its own clock and limits;
            // the hall records it unless the share it knows is already taken (a changed plan).
            if slot.hub_booked >= slot.hub_capacity {
                return Err(DomainError::SlotFull);
            }
        } else {
            self.check_hall_booking(&slot, contact, date, start, now)?;
        }
        Ok(Appointment {
            code: code.to_owned(),
            service: service.clone(),
            date,
            start,
            end: slot.end,
            channel,
            contact: contact.clone(),
            name_sealed: name_sealed.clone(),
            id_card: id_card.clone(),
            status: AppointmentStatus::Booked,
            ticket: None,
            booked_at: now,
        })
    }

    /// The hall's own rules for its share: not in the past, not too far ahead, a free place,
    /// and the per-person limit.
    fn check_hall_booking(
        &self,
        slot: &Slot,
        contact: &Contact,
        date: jiff::civil::Date,
        start: Timestamp,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        if start <= now {
            return Err(DomainError::SlotInPast);
        }
        let rules = &self.spec.appointment_rules;
        let today = self.service_day_of(now);
        let horizon = today
            .checked_add(jiff::Span::new().days(i64::from(rules.book_ahead_days)))
            .unwrap_or(today);
        if date > horizon {
            return Err(DomainError::TooFarAhead(rules.book_ahead_days));
        }
        if slot.booked >= slot.capacity {
            return Err(DomainError::SlotFull);
        }
        let held = self
            .appointments
            .values()
            .filter(|a| a.contact.key == contact.key && a.date == date && a.status.holds_place())
            .count() as u32;
        if held >= rules.per_person_per_day {
            return Err(DomainError::BookingLimitReached(rules.per_person_per_day));
        }
        Ok(())
    }

    /// Today's booking of the person `matches` picks out, to check in: the one whose window is
    /// open now; otherwise the next one (too early), or the last one (too late).
    fn todays_booking(
        &self,
        now: Timestamp,
        matches: impl Fn(&Appointment) -> bool,
    ) -> Result<&Appointment, DomainError> {
        let today = self.service_day_of(now);
        let mut candidates: Vec<&Appointment> = self
            .appointments
            .values()
            .filter(|a| a.date == today && a.status == AppointmentStatus::Booked && matches(a))
            .collect();
        candidates.sort_by_key(|a| a.start);
        candidates
            .iter()
            .find(|a| {
                let (opens, closes) = self.check_in_window(a);
                opens <= now && now <= closes
            })
            .or_else(|| candidates.iter().find(|a| self.check_in_window(a).0 > now))
            .or(candidates.last())
            .copied()
            .ok_or(DomainError::UnknownAppointment)
    }

    /// When check-in for an appointment opens and closes.
    fn check_in_window(&self, appointment: &Appointment) -> (Timestamp, Timestamp) {
        let rules = &self.spec.appointment_rules;
        let before = jiff::SignedDuration::from_mins(i64::from(rules.check_in_before_min));
        let after = jiff::SignedDuration::from_mins(i64::from(rules.check_in_after_min));
        (appointment.start - before, appointment.start + after)
    }

    pub(super) fn decide_check_in(
        &self,
        by: &CheckInBy,
        token: &str,
        kiosk: &Option<String>,
        now: Timestamp,
    ) -> Result<Outcome, DomainError> {
        let appointment = match by {
            CheckInBy::Code(code) => self
                .appointments
                .get(code)
                .ok_or(DomainError::UnknownAppointment)?,
            CheckInBy::Contact { key, code_suffix } => self.todays_booking(now, |a| {
                &a.contact.key == key
                    // Without staff, the phone must come with the code's end: a number alone
                    // tells nobody whether it has a booking.
                    && code_suffix.as_ref().is_none_or(|suffix| {
                        !suffix.is_empty() && a.code.ends_with(suffix.as_str())
                    })
            })?,
            // The card on the reader is the proof: no code is asked for.
            CheckInBy::IdCard { key } => self.todays_booking(now, |a| {
                a.id_card.as_ref().is_some_and(|card| &card.key == key)
            })?,
        };
        if appointment.status != AppointmentStatus::Booked {
            return Err(DomainError::AppointmentInvalidState {
                status: appointment.status,
                action: "checked in",
            });
        }
        let (opens, closes) = self.check_in_window(appointment);
        if now < opens {
            return Err(DomainError::TooEarly(opens));
        }
        if now > closes {
            return Err(DomainError::TooLate(
                self.spec.appointment_rules.check_in_after_min,
            ));
        }
        // Check-in may open before the service does (the first slot of the morning).
        let issue = IssueTicket {
            service: appointment.service.clone(),
            priority: PriorityClass::Appointment,
            channel: crate::ticket::Channel::Appointment,
            contact: Some(appointment.contact.clone()),
            // Booked with a card (and so, by card, checked in with it): the ticket is in that
            // person's name.
            id_card: appointment.id_card.clone(),
            kiosk: kiosk.clone(),
            token: token.to_owned(),
            idempotency_key: None,
        };
        let ticket = self
            .new_ticket(&issue, now)?
            .map_err(|_| DomainError::TokenInUse)?;
        let (id, number) = (ticket.id, ticket.number.clone());
        Ok(Outcome {
            events: vec![
                Event::TicketIssued { ticket },
                Event::AppointmentCheckedIn {
                    code: appointment.code.clone(),
                    ticket: id,
                    number,
                    at: now,
                },
            ],
            ticket: Some(id),
        })
    }
}

/// What a booking asks for (the fields of `Command::BookAppointment`).
pub(super) struct BookingAsked<'a> {
    pub code: &'a str,
    pub service: &'a ServiceId,
    pub start: Timestamp,
    pub channel: crate::appointment::BookingChannel,
    pub contact: &'a Contact,
    pub name_sealed: &'a Option<String>,
    pub id_card: &'a Option<Contact>,
}
