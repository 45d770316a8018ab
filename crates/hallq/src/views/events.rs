//! The events as the daemon's streams carry them: the daemon's own shapes, written field by
//! field (never the core's serde form, which is the store's encoding and carries personal
//! data). Each kind has a public shape — what any screen may see — or none, and a staff shape
//! for signed-in staff and managers. The public shapes are an allow-list: numbers, services,
//! windows, times and queue counts. Never a phone, an ID number, a name, a booking code or a
//! status-page token.
//!
//! Events carry what a screen needs to update without asking again: the called number and
//! window, recalls, and the waiting count of every queue the event changed.

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

pub use hallq_core::mask_code;

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
                    "phone_masked": ticket.contact.as_ref().map(|c| &c.masked),
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
            staff,
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
            // The staff number is for staff screens and the window's rating pad (which reads
            // it with its device token from /api/v1/visits/{ticket}).
            let staff = extend(&public, json!({"staff": staff}));
            (Some(public), staff)
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
                    "phone_masked": &appointment.contact.masked,
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
        // Ratings and cases are for staff and managers only; the comment and a complaint's
        // text and phone stay out of every stream (managers read them from /api/v1/cases).
        Event::ServiceRated {
            ticket,
            number,
            service,
            window,
            staff,
            department,
            day,
            round,
            rating,
        } => (
            None,
            json!({
                "ticket": ticket, "number": number, "service": service, "window": window,
                "window_name": context.window_name(window), "staff": staff,
                "department": department, "day": day.to_string(), "round": round,
                "level": rating.level.as_str(), "level_code": rating.level.code(),
                "level_label": rating.level.label(), "bad": rating.level.is_bad(),
                "reasons": rating.reasons, "has_comment": rating.comment.is_some(),
                "channel": rating.channel.as_str(), "at": time(&rating.at),
            }),
        ),
        Event::CaseOpened { case } => (None, crate::views::cases::case_summary(case, None)),
        // The notice is on every board: public by nature. The frame says the notice in force
        // (the hall file's when a manager gave it back).
        Event::BoardNoticeSet { text, at } => {
            let public = json!({
                "notice": text.as_deref().unwrap_or(&context.config.calling.board_notice),
                "set_by_manager": text.is_some(),
                "at": time(at),
            });
            (Some(public.clone()), public)
        }
        Event::WaitAlarmSet {
            service,
            max_wait_s,
            at,
        } => (
            None,
            json!({
                "service": service, "service_name": context.service_name(service),
                "max_wait_s": max_wait_s, "at": time(at),
            }),
        ),
        Event::CaseProgressed {
            case,
            action,
            status,
            by,
            at,
            ..
        } => (
            None,
            json!({
                "case": case, "action": action.as_str(), "action_label": action.label(),
                "status": status.as_str(), "status_label": status.label(), "by": by,
                "at": time(at),
            }),
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
    use super::*;
    use crate::config::{HallConfig, DEMO_HALL_TOML};
    use hallq_core::fixtures::{friday_at, ticket};
    use hallq_core::{
        Appointment, AppointmentStatus, BookingChannel, Hall, PriorityClass, TicketStatus,
    };

    const PHONE: &str = "13812345678";
    const NAME: &str = "张三丰";
    const CODE: &str = "7K4M9QPX";
    const TOKEN: &str = "0123456789abcdef0123456789abcdef";
    const ID_NUMBER: &str = "11010519491231002X";

    fn privacy() -> crate::privacy::Privacy {
        crate::privacy::Privacy::from_bytes(&[9u8; 64]).unwrap()
    }

    /// One event of every kind, each carrying whatever personal data its kind can carry. The
    /// `match` makes a new kind a compile error here until the walk covers it.
    fn every_kind() -> Vec<Event> {
        let at = friday_at(0);
        let issued_day = at.to_zoned(hallq_core::fixtures::shanghai()).date();
        let mut issued = ticket(
            7,
            "A007",
            at.to_zoned(hallq_core::fixtures::shanghai()).date(),
            TicketStatus::Waiting,
        );
        issued.contact = Some(privacy().phone(PHONE));
        issued.id_card = Some(privacy().id_card(ID_NUMBER));
        issued.token = TOKEN.into();
        issued.kiosk = Some("kiosk-lobby".into());
        issued.priority = PriorityClass::Green;
        let appointment = Appointment {
            code: CODE.into(),
            service: ServiceId::new("a"),
            date: issued.service_day,
            start: at,
            end: at,
            channel: BookingChannel::Online,
            contact: privacy().phone(PHONE),
            id_card: Some(privacy().id_card(ID_NUMBER)),
            name_sealed: Some(privacy().seal(NAME)),
            status: AppointmentStatus::Booked,
            ticket: None,
            booked_at: at,
        };
        let window = WindowId::new("w01");
        let service = ServiceId::new("a");
        let id = issued.id;
        let events = vec![
            Event::ServiceDayStarted {
                day: issued.service_day,
                at,
            },
            Event::TicketIssued {
                ticket: issued.clone(),
            },
            Event::TicketCalled {
                ticket: id,
                number: "A007".into(),
                service: service.clone(),
                window: window.clone(),
                at,
                wait_s: 5,
            },
            Event::TicketRecalled {
                ticket: id,
                number: "A007".into(),
                window: window.clone(),
                at,
                recalls: 1,
            },
            Event::TicketNoShow {
                ticket: id,
                number: "A007".into(),
                window: window.clone(),
                at,
            },
            Event::TicketRequeued {
                ticket: id,
                number: "A007".into(),
                service: service.clone(),
                window: window.clone(),
                at,
            },
            Event::TicketTransferred {
                ticket: id,
                number: "A007".into(),
                from_service: service.clone(),
                to_service: ServiceId::new("b"),
                window: window.clone(),
                at,
            },
            Event::TicketCompleted {
                ticket: id,
                number: "A007".into(),
                service: service.clone(),
                window: window.clone(),
                at,
                service_s: 60,
                staff: Some("1001".into()),
            },
            Event::TicketCancelled {
                ticket: id,
                number: "A007".into(),
                at,
            },
            Event::TicketExpired {
                ticket: id,
                number: "A007".into(),
                previous: TicketStatus::Waiting,
                at,
            },
            Event::WindowPaused {
                window: window.clone(),
                at,
            },
            Event::WindowResumed {
                window: window.clone(),
                at,
            },
            Event::DeviceStatusChanged {
                device: "printer-lobby".into(),
                condition: "paper_out".into(),
                detail: Some("tcp://10.0.0.21:9100".into()),
                at,
            },
            Event::TicketPrintFailed {
                ticket: id,
                number: "A007".into(),
                printer: "printer-lobby".into(),
                condition: "paper_out".into(),
                reason: "paper".into(),
                at,
            },
            Event::TicketReprintRequested {
                ticket: id,
                number: "A007".into(),
                printer: "printer-lobby".into(),
                at,
            },
            Event::TicketPrinted {
                ticket: id,
                number: "A007".into(),
                printer: "printer-lobby".into(),
                at,
            },
            Event::AppointmentBooked { appointment },
            Event::AppointmentCancelled {
                code: CODE.into(),
                at,
            },
            Event::AppointmentCheckedIn {
                code: CODE.into(),
                ticket: id,
                number: "A007".into(),
                at,
            },
            Event::AppointmentNoShow {
                code: CODE.into(),
                at,
            },
            Event::SmsNotified {
                ticket: id,
                number: "A007".into(),
                purpose: "called".into(),
                delivered: true,
                detail: None,
                at,
            },
            // A comment and a complaint may carry anything a citizen types.
            Event::ServiceRated {
                ticket: id,
                number: "A007".into(),
                service: service.clone(),
                window: window.clone(),
                staff: Some("1001".into()),
                department: "社保局".into(),
                day: issued_day,
                round: 1,
                rating: hallq_core::Rating {
                    level: hallq_core::RatingLevel::Dissatisfied,
                    reasons: vec!["服务态度差".into()],
                    comment: Some(format!("{NAME} {PHONE}")),
                    channel: hallq_core::RatingChannel::Pad,
                    at,
                },
            },
            Event::CaseOpened {
                case: hallq_core::Case {
                    id: 1,
                    source: hallq_core::CaseSource::Complaint {
                        category: "服务态度".into(),
                        text: format!("{NAME} {PHONE}"),
                        contact: Some(privacy().phone(PHONE)),
                        ticket: Some(id),
                    },
                    channel: hallq_core::RatingChannel::Kiosk,
                    department: "社保局".into(),
                    service: Some(service.clone()),
                    window: Some(window.clone()),
                    staff: Some("1001".into()),
                    opened_at: at,
                    callback_due: issued_day,
                    due: issued_day,
                    status: hallq_core::CaseStatus::Open,
                    called_back_at: None,
                    fed_back_at: None,
                    closed_at: None,
                    appealed_from: None,
                    voided: false,
                    notes: vec![],
                },
            },
            Event::CaseProgressed {
                case: 1,
                action: hallq_core::CaseAction::CallBack,
                status: hallq_core::CaseStatus::CalledBack,
                note: Some(format!("已致电 {PHONE}")),
                by: "m01".into(),
                at,
            },
            Event::BoardNoticeSet {
                text: Some("午间仅开放值班窗口".into()),
                at,
            },
            Event::WaitAlarmSet {
                service: ServiceId::new("tax-general"),
                max_wait_s: Some(1200),
                at,
            },
        ];
        for event in &events {
            match event {
                Event::ServiceDayStarted { .. }
                | Event::TicketIssued { .. }
                | Event::TicketCalled { .. }
                | Event::TicketRecalled { .. }
                | Event::TicketNoShow { .. }
                | Event::TicketRequeued { .. }
                | Event::TicketTransferred { .. }
                | Event::TicketCompleted { .. }
                | Event::TicketCancelled { .. }
                | Event::TicketExpired { .. }
                | Event::WindowPaused { .. }
                | Event::WindowResumed { .. }
                | Event::DeviceStatusChanged { .. }
                | Event::TicketPrintFailed { .. }
                | Event::TicketReprintRequested { .. }
                | Event::TicketPrinted { .. }
                | Event::AppointmentBooked { .. }
                | Event::AppointmentCancelled { .. }
                | Event::AppointmentCheckedIn { .. }
                | Event::AppointmentNoShow { .. }
                | Event::SmsNotified { .. }
                | Event::ServiceRated { .. }
                | Event::CaseOpened { .. }
                | Event::CaseProgressed { .. }
                | Event::BoardNoticeSet { .. }
                | Event::WaitAlarmSet { .. } => {}
            }
        }
        events
    }

    #[test]
    fn no_event_kind_carries_personal_data_to_the_public_and_none_whole_to_staff() {
        let config = HallConfig::parse(DEMO_HALL_TOML, "demo").unwrap();
        let mut hall = Hall::new(config.spec.clone(), hallq_core::fixtures::shanghai());
        let events = every_kind();
        let mut public_kinds = Vec::new();
        // The kept forms are secrets too: the keyed hash and the sealed texts.
        // Nothing of an ID card reaches any stream, staff's included: not its number, not its
        // keyed hash, not even its mask (the console reads the mask for the ticket it serves).
        let card = privacy().id_card(ID_NUMBER);
        let mut kept: Vec<String> = vec![
            privacy().phone(PHONE).key,
            ID_NUMBER.into(),
            card.key,
            card.masked,
            "002X".into(),
        ];
        for event in &events {
            match event {
                Event::TicketIssued { ticket } => {
                    kept.extend(ticket.contact.as_ref().and_then(|c| c.sealed.clone()));
                }
                Event::AppointmentBooked { appointment } => {
                    kept.extend(appointment.contact.sealed.clone());
                    kept.extend(appointment.name_sealed.clone());
                }
                Event::CaseOpened { case } => {
                    if let hallq_core::CaseSource::Complaint {
                        contact: Some(contact),
                        ..
                    } = &case.source
                    {
                        kept.extend(contact.sealed.clone());
                    }
                }
                _ => {}
            }
        }
        assert_eq!(kept.len(), 9);
        for (index, event) in events.iter().enumerate() {
            // The read model holds what the events describe (the appointment, the ticket).
            hall.evolve(event);
            let data = event_data(index as u64 + 1, event, &hall, &config);
            let staff = data.staff.to_string();
            for secret in [PHONE, NAME, CODE, TOKEN]
                .into_iter()
                .chain(kept.iter().map(String::as_str))
            {
                assert!(
                    !staff.contains(secret),
                    "{}: staff data shows {secret}: {staff}",
                    event.kind()
                );
            }
            if let Some(public) = data.public {
                let text = public.to_string();
                for secret in [
                    PHONE,
                    NAME,
                    CODE,
                    TOKEN,
                    ID_NUMBER,
                    "1101**********002X",
                    "id_card",
                    "138****5678",
                    "phone",
                    "code",
                    "token",
                    "kiosk",
                    "detail",
                    "reason",
                ] {
                    assert!(
                        !text.contains(secret),
                        "{}: public data shows {secret}: {text}",
                        event.kind()
                    );
                }
                assert_eq!(public["seq"], index as u64 + 1);
                public_kinds.push(event.kind());
            }
        }
        // Records for staff only stay off the public stream.
        for kind in [
            "device_status_changed",
            "ticket_print_failed",
            "ticket_printed",
            "ticket_reprint_requested",
            "sms_notified",
            "appointment_no_show",
            "service_rated",
            "case_opened",
            "case_progressed",
        ] {
            assert!(!public_kinds.contains(&kind), "{kind} is public");
        }
        // The staff see enough to help: masked phone and code.
        let booked = event_data(1, &events[16], &hall, &config).staff;
        assert_eq!(booked["phone_masked"], "138****5678");
        assert_eq!(booked["code_masked"], "7K****PX");
    }

    #[test]
    fn codes_are_masked() {
        assert_eq!(super::mask_code("7K4M9QPX"), "7K****PX");
        assert_eq!(super::mask_code("ABC"), "***");
    }
}
