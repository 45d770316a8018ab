//! The events as the daemon's streams carry them: the daemon's own shapes, written field by
//! field (never the core's serde form, which is the store's encoding and carries personal
//! data). Each kind has a public shape — what any screen may see — or none, and a staff shape
//! for signed-in staff and managers. The public shapes are an allow-list: numbers, services,
//! windows, times and queue counts. Never a phone, an ID number, a name, a booking code or a
//! status-page token.
//!
//! Events carry what a screen needs to update without asking again: the called number and
//! window, recalls, and the waiting count of every queue the event changed.

use super::mask_phone;
use crate::config::HallConfig;
use hallq_core::jiff::Timestamp;
use hallq_core::{Event, Hall, ServiceId, TicketId, WindowId};
use serde_json::{json, Map, Value};

/// An event's data for each audience.
pub struct EventData {
    /// `None`: the public stream leaves this kind out.
    pub public: Option<Value>,
    pub staff: Value,
    /// The ticket it changes (a citizen's page listens for its own).
    pub ticket: Option<TicketId>,
    /// The queues it changes (a citizen's page listens for its own queue).
    pub services: Vec<ServiceId>,
    /// Whether a window opened or closed (estimates change with capacity).
    pub windows_changed: bool,
}

/// `7K****PX`: enough for staff to match a slip of paper, useless for checking in.
pub fn mask_code(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 4))
}

fn time(at: &Timestamp) -> String {
    at.to_string()
}

struct Context<'a> {
    hall: &'a Hall,
    config: &'a HallConfig,
}

impl Context<'_> {
    fn window_name(&self, window: &WindowId) -> String {
        self.config
            .spec
            .windows
            .iter()
            .find(|w| &w.id == window)
            .map(|w| w.call_name().to_owned())
            .unwrap_or_else(|| window.0.clone())
    }

    fn service_name(&self, service: &ServiceId) -> String {
        self.config
            .spec
            .services
            .iter()
            .find(|s| &s.id == service)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| service.0.clone())
    }

    /// The waiting counts of `services` as the read model has them now.
    fn queues(&self, services: &[&ServiceId]) -> Value {
        Value::Array(
            services
                .iter()
                .map(|service| {
                    let (waiting, wait_s_estimate) = self.hall.queue_estimate(service);
                    json!({
                        "service": service,
                        "waiting": waiting,
                        "wait_s_estimate": wait_s_estimate,
                    })
                })
                .collect(),
        )
    }
}

/// Adds `seq` to an object.
fn with_seq(seq: u64, mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.insert("seq".into(), json!(seq));
    }
    value
}

/// Merges `extra`'s fields into `base` (a staff shape is the public one and more).
fn extend(base: &Value, extra: Value) -> Value {
    let mut merged: Map<String, Value> = base.as_object().cloned().unwrap_or_default();
    if let Value::Object(extra) = extra {
        merged.extend(extra);
    }
    Value::Object(merged)
}

/// The stream data of one committed event. `hall` is the read model (at or after the event).
pub fn event_data(seq: u64, event: &Event, hall: &Hall, config: &HallConfig) -> EventData {
    let context = Context { hall, config };
    let mut services: Vec<ServiceId> = Vec::new();
    let mut windows_changed = false;
    let (public, staff): (Option<Value>, Value) = match event {
        Event::ServiceDayStarted { day, at } => {
            let public = json!({"day": day.to_string(), "at": time(at)});
            (Some(public.clone()), public)
        }
        Event::TicketIssued { ticket } => {
            services.push(ticket.service.clone());
            let public = json!({
                "ticket": ticket.id,
                "number": ticket.number,
                "service": ticket.service,
                "service_name": context.service_name(&ticket.service),
                "priority": ticket.priority.as_str(),
                "at": time(&ticket.issued_at),
                "queues": context.queues(&[&ticket.service]),
            });
            let staff = extend(
                &public,
                json!({
                    "channel": ticket.channel.as_str(),
                    "kiosk": ticket.kiosk,
                    "phone_masked": ticket.phone.as_deref().map(mask_phone),
                }),
            );
            (Some(public), staff)
        }
        Event::TicketCalled {
            ticket,
            number,
            service,
            window,
            at,
            wait_s,
        } => {
            services.push(service.clone());
            let public = json!({
                "ticket": ticket,
                "number": number,
                "service": service,
                "service_name": context.service_name(service),
                "window": window,
                "window_name": context.window_name(window),
                "at": time(at),
                "wait_s": wait_s,
                "queues": context.queues(&[service]),
            });
            (Some(public.clone()), public)
        }
        Event::TicketRecalled {
            ticket,
            number,
            window,
            at,
            recalls,
        } => {
            let public = json!({
                "ticket": ticket,
                "number": number,
                "window": window,
                "window_name": context.window_name(window),
                "at": time(at),
                "recalls": recalls,
            });
            (Some(public.clone()), public)
        }
        Event::TicketNoShow {
            ticket,
            number,
            window,
            at,
        } => {
            let public = json!({
                "ticket": ticket,
                "number": number,
                "window": window,
                "window_name": context.window_name(window),
                "at": time(at),
            });
            (Some(public.clone()), public)
        }
        Event::TicketRequeued {
            ticket,
            number,
            service,
            window,
            at,
        } => {
            services.push(service.clone());
            let public = json!({
                "ticket": ticket,
                "number": number,
                "service": service,
                "window": window,
                "at": time(at),
                "queues": context.queues(&[service]),
            });
            (Some(public.clone()), public)
        }
        Event::TicketTransferred {
            ticket,
            number,
            from_service,
            to_service,
            window,
            at,
        } => {
            services.extend([from_service.clone(), to_service.clone()]);
            let public = json!({
                "ticket": ticket,
                "number": number,
                "from_service": from_service,
                "to_service": to_service,
                "window": window,
                "window_name": context.window_name(window),
                "at": time(at),
                "queues": context.queues(&[from_service, to_service]),
            });
            (Some(public.clone()), public)
        }
        Event::TicketCompleted {
            ticket,
            number,
            service,
            window,
            at,
            service_s,
        } => {
            services.push(service.clone());
            let public = json!({
                "ticket": ticket,
                "number": number,
                "service": service,
                "window": window,
                "window_name": context.window_name(window),
                "at": time(at),
                "service_s": service_s,
                "queues": context.queues(&[service]),
            });
            (Some(public.clone()), public)
        }
        Event::TicketCancelled { ticket, number, at } => {
            let service = hall.ticket(*ticket).map(|t| t.service.clone());
            services.extend(service.clone());
            let public = json!({
                "ticket": ticket,
                "number": number,
                "service": service,
                "at": time(at),
                "queues": service.as_ref().map(|s| context.queues(&[s])).unwrap_or(json!([])),
            });
            (Some(public.clone()), public)
        }
        Event::TicketExpired {
            ticket,
            number,
            previous,
            at,
        } => {
            let public = json!({
                "ticket": ticket,
                "number": number,
                "previous": previous.as_str(),
                "at": time(at),
            });
            (Some(public.clone()), public)
        }
        Event::WindowPaused { window, at } | Event::WindowResumed { window, at } => {
            windows_changed = true;
            let public = json!({
                "window": window,
                "window_name": context.window_name(window),
                "at": time(at),
            });
            (Some(public.clone()), public)
        }
        Event::DeviceStatusChanged {
            device,
            condition,
            detail,
            at,
        } => (
            None,
            json!({"device": device, "condition": condition, "detail": detail, "at": time(at)}),
        ),
        Event::TicketPrintFailed {
            ticket,
            number,
            printer,
            condition,
            reason,
            at,
        } => (
            None,
            json!({"ticket": ticket, "number": number, "printer": printer,
                   "condition": condition, "reason": reason, "at": time(at)}),
        ),
        Event::TicketPrinted {
            ticket,
            number,
            printer,
            at,
        }
        | Event::TicketReprintRequested {
            ticket,
            number,
            printer,
            at,
        } => (
            None,
            json!({"ticket": ticket, "number": number, "printer": printer, "at": time(at)}),
        ),
        Event::SmsNotified {
            ticket,
            number,
            purpose,
            delivered,
            detail,
            at,
        } => (
            None,
            json!({"ticket": ticket, "number": number, "purpose": purpose,
                   "delivered": delivered, "detail": detail, "at": time(at)}),
        ),
        Event::AppointmentBooked { appointment } => {
            // Public: only that a slot has one place fewer.
            let public = json!({
                "service": appointment.service,
                "date": appointment.date.to_string(),
                "start": time(&appointment.start),
                "end": time(&appointment.end),
                "at": time(&appointment.booked_at),
            });
            let staff = extend(
                &public,
                json!({
                    "code_masked": mask_code(&appointment.code),
                    "channel": appointment.channel.as_str(),
                    "phone_masked": mask_phone(&appointment.phone),
                }),
            );
            (Some(public), staff)
        }
        Event::AppointmentCancelled { code, at } => {
            let slot = hall.appointment(code);
            let public = json!({
                "service": slot.map(|a| &a.service),
                "start": slot.map(|a| time(&a.start)),
                "at": time(at),
            });
            let staff = extend(&public, json!({"code_masked": mask_code(code)}));
            (Some(public), staff)
        }
        Event::AppointmentCheckedIn {
            code,
            ticket,
            number,
            at,
        } => {
            let public = json!({"ticket": ticket, "number": number, "at": time(at)});
            let staff = extend(&public, json!({"code_masked": mask_code(code)}));
            (Some(public), staff)
        }
        Event::AppointmentNoShow { code, at } => (
            None,
            json!({"code_masked": mask_code(code), "at": time(at)}),
        ),
    };
    EventData {
        public: public.map(|value| with_seq(seq, value)),
        staff: with_seq(seq, staff),
        ticket: event.ticket(),
        services,
        windows_changed,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_masked() {
        assert_eq!(super::mask_code("7K4M9QPX"), "7K****PX");
        assert_eq!(super::mask_code("ABC"), "***");
    }
}
