//! What the API returns, as JSON. Only this crate knows these shapes; the core's types stay
//! free of them. Instants are RFC 3339 in UTC. `events` has the event streams' shapes.

pub mod cases;
pub mod events;

use hallq_core::{Hall, HallSpec, QueueStats, ServiceSpec, Ticket, WindowSpec, WindowState};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ServiceView {
    pub id: String,
    pub name: String,
    pub name_en: Option<String>,
    pub prefix: String,
    pub department: String,
    pub department_en: Option<String>,
    /// Where its citizens wait, when the hall says (二楼 B 区).
    pub waiting_area: Option<String>,
    pub waiting_area_en: Option<String>,
    /// enterprise, individual or both
    pub target_group: String,
    /// immediate (即办件) or commitment (承诺件)
    pub item_type: String,
    /// Whether the kiosk offers it to walk-ins now.
    pub open: bool,
    /// regular, duty, appointment_only or closed
    pub mode: String,
    /// When walk-ins are taken again, if not now.
    pub next_open: Option<String>,
    /// When walk-ins stop being taken today, if they are now.
    pub closes_at: Option<String>,
    pub waiting: usize,
    pub wait_s_estimate: u64,
    /// Whether the hall itself books it (a plan with places beyond the hub's online share):
    /// what the window's phone-booking form offers.
    pub bookable: bool,
}

#[derive(Serialize, ToSchema)]
pub struct WindowView {
    pub id: String,
    pub name: String,
    /// Primary service first.
    pub services: Vec<String>,
    /// open or paused
    pub status: String,
    pub green_channel: bool,
    pub duty: bool,
    pub current: Option<CalledTicket>,
}

/// A called ticket as boards and consoles show it: no personal data.
#[derive(Serialize, ToSchema)]
pub struct CalledTicket {
    pub id: u64,
    pub number: String,
    pub service: String,
    pub called_at: Option<String>,
    pub recalls: u32,
}

#[derive(Serialize, ToSchema)]
pub struct HallView {
    /// The hall's id in the city.
    pub id: String,
    pub name: String,
    /// The hall's name in English, when the hall file gives one.
    pub name_en: Option<String>,
    /// Seconds a kiosk waits without a touch before it asks and starts over (twice in elder
    /// mode).
    pub kiosk_idle_s: u32,
    pub level: String,
    pub time_zone: String,
    /// The current service day (local date).
    pub service_day: Option<String>,
    pub services: Vec<ServiceView>,
    pub windows: Vec<WindowView>,
}

#[derive(Serialize, ToSchema)]
pub struct TicketView {
    pub id: u64,
    /// The printed number (A001).
    pub number: String,
    /// The service whose queue it is in now.
    pub service: String,
    pub service_name: String,
    pub service_day: String,
    /// waiting, called, completed, no_show, cancelled or expired
    pub status: String,
    /// green, appointment or walk_in
    pub priority: String,
    pub channel: String,
    /// People ahead, while waiting.
    pub ahead: Option<usize>,
    /// The promised wait in seconds (the forecast's median), while waiting.
    pub wait_s_estimate: Option<u64>,
    /// The 80 % band of the wait in whole minutes as people read it ("约 15–25 分钟"); `[0, 0]`
    /// when the call is due any moment.
    pub wait_minutes: Option<[u64; 2]>,
    /// The citizen's status page token (QR code: /t/{token}).
    pub token: String,
    pub status_url: String,
    pub issued_at: String,
    pub called_at: Option<String>,
    pub finished_at: Option<String>,
    pub window: Option<String>,
    pub window_name: Option<String>,
    pub recalls: u32,
    pub requeues: u32,
    pub transfers: u32,
    /// For SMS calling; only ever shown masked (138****8000).
    pub phone_masked: Option<String>,
    pub kiosk: Option<String>,
    /// Said to the citizen at issue, e.g. that the service closes before the estimated wait.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// When the ticket was just printed (issue, reprint): how that went.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub print: Option<crate::followers::printing::PrintReport>,
}

#[derive(Serialize, ToSchema)]
pub struct QueueView {
    pub service: String,
    pub name: String,
    pub waiting: usize,
    pub oldest_wait_s: u64,
    pub wait_s_estimate: u64,
}

#[derive(Serialize, ToSchema)]
pub struct QueuesView {
    pub services: Vec<QueueView>,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceDayStats {
    pub service: String,
    pub name: String,
    pub issued: u32,
    pub called: u32,
    pub completed: u32,
    pub no_show: u32,
    pub waiting: usize,
    pub oldest_wait_s: u64,
    pub average_service_s: u64,
    /// The manager's wait alarm, in seconds: an alert when the oldest wait passes it.
    pub wait_alarm_s: Option<u32>,
}

#[derive(Serialize, ToSchema, Default)]
pub struct DayTotals {
    pub issued: u32,
    pub called: u32,
    pub completed: u32,
    pub no_show: u32,
    pub waiting: usize,
}

#[derive(Serialize, ToSchema)]
pub struct WindowDayStats {
    pub window: String,
    pub name: String,
    /// open or paused
    pub status: String,
    /// Who is signed in at the window now.
    pub staff: Option<String>,
    pub current: Option<String>,
    pub called: u32,
    pub completed: u32,
    pub no_show: u32,
    pub average_service_s: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct HourStats {
    /// Local hour, 0-23.
    pub hour: u8,
    /// Tickets taken in that hour.
    pub issued: u32,
    /// Average wait of the tickets called in that hour.
    pub average_wait_s: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct StatsView {
    pub service_day: Option<String>,
    pub totals: DayTotals,
    pub services: Vec<ServiceDayStats>,
    pub windows: Vec<WindowDayStats>,
    pub hours: Vec<HourStats>,
}

fn average(values: &[u64]) -> Option<u64> {
    (!values.is_empty()).then(|| values.iter().sum::<u64>() / values.len() as u64)
}

fn seconds(from: hallq_core::jiff::Timestamp, to: hallq_core::jiff::Timestamp) -> u64 {
    u64::try_from(to.as_second() - from.as_second()).unwrap_or(0)
}

pub use hallq_privacy::mask_phone;

fn service_spec<'a>(spec: &'a HallSpec, id: &str) -> Option<&'a ServiceSpec> {
    spec.services.iter().find(|s| s.id.as_str() == id)
}

/// A service's name as people read it; empty for an id the hall no longer has.
pub fn service_name(spec: &HallSpec, id: &hallq_core::ServiceId) -> String {
    service_spec(spec, id.as_str())
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

fn window_spec<'a>(spec: &'a HallSpec, id: &str) -> Option<&'a WindowSpec> {
    spec.windows.iter().find(|w| w.id.as_str() == id)
}

pub fn ticket_view(spec: &HallSpec, ticket: &Ticket, position: Option<(usize, u64)>) -> TicketView {
    TicketView {
        id: ticket.id.0,
        number: ticket.number.clone(),
        service: ticket.service.0.clone(),
        service_name: service_spec(spec, ticket.service.as_str())
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        service_day: ticket.service_day.to_string(),
        status: ticket.status.as_str().to_owned(),
        priority: ticket.priority.as_str().to_owned(),
        channel: ticket.channel.as_str().to_owned(),
        ahead: position.map(|(ahead, _)| ahead),
        wait_s_estimate: position.map(|(_, wait)| wait),
        wait_minutes: None,
        token: ticket.token.clone(),
        status_url: format!("/t/{}", ticket.token),
        issued_at: ticket.issued_at.to_string(),
        called_at: ticket.called_at.map(|t| t.to_string()),
        finished_at: ticket.finished_at.map(|t| t.to_string()),
        window: ticket.window.as_ref().map(|w| w.0.clone()),
        window_name: ticket
            .window
            .as_ref()
            .and_then(|w| window_spec(spec, w.as_str()))
            .map(|w| w.name.clone()),
        recalls: ticket.recalls,
        requeues: ticket.requeues,
        transfers: ticket.transfers,
        phone_masked: ticket.contact.as_ref().map(|c| c.masked.clone()),
        kiosk: ticket.kiosk.clone(),
        print: None,
        warning: None,
    }
}

impl TicketView {
    /// The forecast's point and band in place of the plain estimate, while waiting.
    pub fn with_forecast(mut self, forecast: Option<hallq_core::WaitForecast>) -> Self {
        if let Some(forecast) = forecast {
            self.wait_s_estimate = Some(forecast.point_s);
            let (low, high) = forecast.minutes();
            self.wait_minutes = Some([low, high]);
        }
        self
    }
}

pub fn window_view(hall: &Hall, spec: &WindowSpec, state: &WindowState) -> WindowView {
    WindowView {
        id: spec.id.0.clone(),
        name: spec.name.clone(),
        services: spec.services.iter().map(|s| s.0.clone()).collect(),
        status: state.status.as_str().to_owned(),
        green_channel: spec.green_channel,
        duty: spec.duty,
        current: state
            .current
            .and_then(|id| hall.ticket(id))
            .map(|t| CalledTicket {
                id: t.id.0,
                number: t.number.clone(),
                service: t.service.0.clone(),
                called_at: t.called_at.map(|at| at.to_string()),
                recalls: t.recalls,
            }),
    }
}

fn stats_availability(
    hall: &Hall,
    service: &hallq_core::ServiceId,
    now: hallq_core::jiff::Timestamp,
) -> hallq_core::Availability {
    hall.availability(service, now)
}

pub fn hall_view(
    hall: &Hall,
    stats: &[QueueStats],
    config: &crate::config::HallConfig,
    now: hallq_core::jiff::Timestamp,
) -> HallView {
    let spec = hall.spec();
    let department = |service: &ServiceSpec| config.departments.get(&service.department);
    HallView {
        id: config.id.clone(),
        name: spec.name.clone(),
        name_en: config.name_en.clone(),
        kiosk_idle_s: config.ticket.kiosk_idle_s,
        level: spec.level.clone(),
        time_zone: config.time_zone_name.clone(),
        service_day: hall.day().map(|d| d.to_string()),
        services: spec
            .services
            .iter()
            .zip(stats)
            .map(|(service, stats)| (service, stats, stats_availability(hall, &service.id, now)))
            .map(|(service, stats, availability)| ServiceView {
                id: service.id.0.clone(),
                name: service.name.clone(),
                name_en: service.name_en.clone(),
                prefix: service.prefix.clone(),
                department: service.department.clone(),
                department_en: department(service).and_then(|d| d.name_en.clone()),
                waiting_area: department(service).and_then(|d| d.waiting_area.clone()),
                waiting_area_en: department(service).and_then(|d| d.waiting_area_en.clone()),
                target_group: serde_plain(&service.target_group),
                item_type: serde_plain(&service.item_type),
                open: availability.mode.takes_walk_ins(),
                mode: availability.mode.as_str().to_owned(),
                next_open: availability.next_open.map(|t| t.to_string()),
                closes_at: availability.closes_at.map(|t| t.to_string()),
                waiting: stats.waiting,
                wait_s_estimate: stats.wait_s_estimate,
                bookable: spec
                    .appointment_plans
                    .iter()
                    .any(|plan| plan.service == service.id && plan.capacity > plan.hub_share),
            })
            .collect(),
        windows: spec
            .windows
            .iter()
            .zip(hall.windows())
            .map(|(spec, state)| window_view(hall, spec, state))
            .collect(),
    }
}

/// The snake_case name serde gives a unit enum variant.
fn serde_plain<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub fn queue_view(spec: &HallSpec, stats: &QueueStats) -> QueueView {
    QueueView {
        service: stats.service.0.clone(),
        name: service_spec(spec, stats.service.as_str())
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        waiting: stats.waiting,
        oldest_wait_s: stats.oldest_wait_s,
        wait_s_estimate: stats.wait_s_estimate,
    }
}

pub fn stats_view(
    hall: &Hall,
    stats: &[QueueStats],
    staff: &std::collections::HashMap<hallq_core::WindowId, String>,
) -> StatsView {
    let today: Vec<&hallq_core::Ticket> = hall
        .tickets()
        .filter(|t| Some(t.service_day) == hall.day())
        .collect();
    let tz = hall.time_zone().clone();
    let hour_of = |at: hallq_core::jiff::Timestamp| at.to_zoned(tz.clone()).hour() as usize;
    let mut issued = [0u32; 24];
    let mut waits: Vec<Vec<u64>> = vec![Vec::new(); 24];
    for ticket in &today {
        issued[hour_of(ticket.issued_at)] += 1;
        if let Some(called_at) = ticket.called_at {
            waits[hour_of(called_at)].push(seconds(ticket.issued_at, called_at));
        }
    }
    let hours = (0..24)
        .map(|hour| HourStats {
            hour: hour as u8,
            issued: issued[hour],
            average_wait_s: average(&waits[hour]),
        })
        .collect();
    let windows = hall
        .spec()
        .windows
        .iter()
        .zip(hall.windows())
        .map(|(spec, state)| {
            let served: Vec<&&hallq_core::Ticket> = today
                .iter()
                .filter(|t| t.window.as_ref() == Some(&spec.id))
                .collect();
            let count = |status: hallq_core::TicketStatus| {
                served.iter().filter(|t| t.status == status).count() as u32
            };
            let service_times: Vec<u64> = served
                .iter()
                .filter(|t| t.status == hallq_core::TicketStatus::Completed)
                .filter_map(|t| Some(seconds(t.called_at?, t.finished_at?)))
                .collect();
            WindowDayStats {
                window: spec.id.0.clone(),
                name: spec.name.clone(),
                status: state.status.as_str().into(),
                staff: staff.get(&spec.id).cloned(),
                current: state
                    .current
                    .and_then(|id| hall.ticket(id))
                    .map(|t| t.number.clone()),
                called: served.len() as u32,
                completed: count(hallq_core::TicketStatus::Completed),
                no_show: count(hallq_core::TicketStatus::NoShow),
                average_service_s: average(&service_times),
            }
        })
        .collect();
    let mut totals = DayTotals::default();
    let services = stats
        .iter()
        .map(|s| {
            totals.issued += s.issued_today;
            totals.called += s.called_today;
            totals.completed += s.completed_today;
            totals.no_show += s.no_show_today;
            totals.waiting += s.waiting;
            ServiceDayStats {
                service: s.service.0.clone(),
                name: service_spec(hall.spec(), s.service.as_str())
                    .map(|x| x.name.clone())
                    .unwrap_or_default(),
                issued: s.issued_today,
                called: s.called_today,
                completed: s.completed_today,
                no_show: s.no_show_today,
                waiting: s.waiting,
                oldest_wait_s: s.oldest_wait_s,
                average_service_s: s.average_service_s.round() as u64,
                wait_alarm_s: hall.wait_alarms().get(&s.service).copied(),
            }
        })
        .collect();
    StatsView {
        service_day: hall.day().map(|d| d.to_string()),
        totals,
        services,
        windows,
        hours,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn phones_are_masked() {
        assert_eq!(super::mask_phone("13800138000"), "138****8000");
        assert_eq!(super::mask_phone("123"), "***");
    }
}
