//! Test fixtures shared by every crate's tests, benchmarks and the simulator: a hall builder,
//! sample tickets and instants in the hall's time zone. Compiled for this crate's tests and,
//! elsewhere, with the `fixtures` feature (a dev-dependency feature: never in a release).

use crate::ids::{ServiceId, TicketId, WindowId};
use crate::spec::{HallSpec, ItemType, Policy, ServiceSpec, TargetGroup, WindowSpec};
use crate::ticket::{Channel, PriorityClass, Ticket, TicketStatus};
use crate::{Command, IssueTicket};
use jiff::civil::{date, Date};
use jiff::tz::{self, TimeZone};
use jiff::{Timestamp, ToSpan};

/// The hall's zone for tests: UTC+8 without a tz database.
pub fn shanghai() -> TimeZone {
    TimeZone::fixed(tz::offset(8))
}

/// `day` at `hour`:`minute` in the hall, plus `seconds`.
pub fn local(day: Date, hour: i8, minute: i8, seconds: i64) -> Timestamp {
    day.at(hour, minute, 0, 0)
        .to_zoned(shanghai())
        .expect("a valid local time")
        .timestamp()
        + seconds.seconds()
}

/// 2026-11-27 (a Friday) 09:00 in the hall, plus `seconds`.
pub fn friday_at(seconds: i64) -> Timestamp {
    local(date(2026, 11, 27), 9, 0, seconds)
}

pub fn service(id: &str, prefix: &str) -> ServiceSpec {
    ServiceSpec {
        id: ServiceId::new(id),
        name: format!("事项{id}"),
        name_en: None,
        prefix: prefix.into(),
        target_group: TargetGroup::Both,
        item_type: ItemType::Immediate,
        department: "综合".into(),
        prior_service_s: 300,
        materials: Vec::new(),
    }
}

pub fn window(id: &str, services: &[&str]) -> WindowSpec {
    WindowSpec {
        id: WindowId::new(id),
        name: format!("{id}号窗口"),
        services: services.iter().map(|s| ServiceId::new(*s)).collect(),
        call_name: None,
        green_channel: false,
        duty: false,
        department: None,
        breaks: Vec::new(),
    }
}

/// Builds a `HallSpec` one part at a time; always open, no calendar, default policy.
#[derive(Clone, Debug)]
pub struct HallBuilder {
    spec: HallSpec,
}

impl Default for HallBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl HallBuilder {
    pub fn new() -> Self {
        Self {
            spec: HallSpec {
                name: "测试大厅".into(),
                level: "市本级".into(),
                services: Vec::new(),
                windows: Vec::new(),
                policy: Policy::default(),
                schedule: Default::default(),
                calendar: Default::default(),
                appointment_plans: Default::default(),
                appointment_rules: Default::default(),
                ratings: Default::default(),
            },
        }
    }

    pub fn service(mut self, id: &str, prefix: &str) -> Self {
        self.spec.services.push(service(id, prefix));
        self
    }

    pub fn service_spec(mut self, spec: ServiceSpec) -> Self {
        self.spec.services.push(spec);
        self
    }

    pub fn window(mut self, id: &str, services: &[&str]) -> Self {
        self.spec.windows.push(window(id, services));
        self
    }

    pub fn policy(mut self, policy: Policy) -> Self {
        self.spec.policy = policy;
        self
    }

    pub fn edit(mut self, change: impl FnOnce(&mut HallSpec)) -> Self {
        change(&mut self.spec);
        self
    }

    pub fn build(self) -> HallSpec {
        self.spec
    }
}

/// One service `a` served by one window `w1`: the smallest working hall.
pub fn one_window_hall() -> HallSpec {
    HallBuilder::new()
        .service("a", "A")
        .window("w1", &["a"])
        .build()
}

/// Two services, a window for each, and a comprehensive window serving both (b first).
pub fn two_service_hall() -> HallSpec {
    HallBuilder::new()
        .service("a", "A")
        .service("b", "B")
        .window("w1", &["a"])
        .window("w2", &["b"])
        .window("w3", &["b", "a"])
        .policy(Policy {
            ageing_max_wait_s: 1800,
            requeue_within_s: 600,
            requeue_limit: 1,
            service_time_weight_percent: 20,
            tickets_per_person_per_service_per_day: 3,
        })
        .build()
}

/// A kiosk walk-in for `service` with the status-page token `token`.
pub fn issue(service: &str, priority: PriorityClass, token: &str) -> Command {
    Command::IssueTicket(IssueTicket {
        service: ServiceId::new(service),
        priority,
        channel: Channel::Kiosk,
        contact: None,
        id_card: None,
        kiosk: None,
        token: token.into(),
        idempotency_key: None,
    })
}

/// A ticket as the store keeps it, for store and restart tests.
pub fn ticket(id: u64, number: &str, day: Date, status: TicketStatus) -> Ticket {
    let at = local(day, 9, 0, id as i64);
    Ticket {
        id: TicketId(id),
        number: number.into(),
        number_service: ServiceId::new("a"),
        service: ServiceId::new("a"),
        service_day: day,
        priority: PriorityClass::WalkIn,
        channel: Channel::Kiosk,
        status,
        issued_at: at,
        queued_at: at,
        called_at: (status != TicketStatus::Waiting).then_some(at),
        finished_at: status.is_final().then_some(at),
        window: (status == TicketStatus::Called).then(|| WindowId::new("w1")),
        recalls: 0,
        requeues: 0,
        transfers: 0,
        token: format!("token-{id}"),
        contact: None,
        id_card: None,
        kiosk: None,
        idempotency_key: None,
    }
}

/// An ID card as the daemon keeps it: a stand-in for the keyed hash, the mask, nothing sealed.
pub fn id_card(number: &str) -> crate::Contact {
    crate::Contact {
        key: format!("id-key-of-{number}"),
        sealed: None,
        masked: format!("{}**********{}", &number[..4], &number[number.len() - 4..]),
    }
}

/// A contact as the daemon would make it, with a readable stand-in for the keyed hash.
pub fn contact(phone: &str) -> crate::Contact {
    crate::Contact {
        key: format!("key-of-{phone}"),
        sealed: Some(format!("sealed-{phone}")),
        masked: format!(
            "{}****{}",
            &phone[..3.min(phone.len())],
            &phone[phone.len().saturating_sub(4)..]
        ),
    }
}
