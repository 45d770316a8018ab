//! The hall's waits and devices at a moment, for the hub: per service the people waiting, the
//! average and 90th-percentile wait of today's calls, tickets served, open windows and the
//! estimate a citizen would be told now.

use super::Upstream;
use hallq_core::jiff::Timestamp;
use hallq_core::{Hall, TicketStatus, WindowStatus};
use hallq_protocol::{DeviceHealth, HallWaits, ServiceWait, WaitSnapshot};
use std::collections::HashMap;

pub fn take(upstream: &Upstream, now: Timestamp) -> WaitSnapshot {
    let (hall, services) = upstream.engine.view(waits);
    let mut devices: Vec<DeviceHealth> = upstream
        .printing
        .views()
        .into_iter()
        .map(|printer| DeviceHealth {
            device: printer.id,
            kind: "printer".into(),
            condition: printer.condition,
            detail: printer.detail,
        })
        .collect();
    devices.extend(upstream.displays.views().into_iter().map(|display| {
        DeviceHealth {
            device: display.id,
            kind: "display".into(),
            condition: if display.connected {
                "connected"
            } else {
                "disconnected"
            }
            .into(),
            detail: display.detail,
        }
    }));
    WaitSnapshot {
        at_ms: now.as_millisecond(),
        hall,
        services,
        devices,
    }
}

/// One pass over today's tickets (once a minute), then the hall's line and one per service.
fn waits(hall: &Hall) -> (HallWaits, Vec<ServiceWait>) {
    let today = hall.day();
    let mut waits: HashMap<&str, Vec<u64>> = HashMap::new();
    let mut served: HashMap<&str, u32> = HashMap::new();
    let mut all_waits = Vec::new();
    let mut totals = HallWaits::default();
    for ticket in hall.tickets().filter(|t| Some(t.service_day) == today) {
        totals.issued_today += 1;
        if let Some(called_at) = ticket.called_at {
            let wait = (called_at.as_second() - ticket.issued_at.as_second()).max(0) as u64;
            waits.entry(ticket.service.as_str()).or_default().push(wait);
            all_waits.push(wait);
        }
        match ticket.status {
            TicketStatus::Completed => {
                *served.entry(ticket.service.as_str()).or_default() += 1;
                totals.served_today += 1;
            }
            TicketStatus::Waiting => totals.waiting += 1,
            _ => {}
        }
    }
    all_waits.sort_unstable();
    totals.average_wait_s = average(&all_waits);
    totals.p90_wait_s = percentile(&all_waits, 90);
    totals.windows = hall.windows().len() as u32;
    totals.open_windows = hall
        .windows()
        .iter()
        .filter(|w| w.status == WindowStatus::Open)
        .count() as u32;
    (totals, service_waits(hall, waits, &served))
}

fn service_waits(
    hall: &Hall,
    mut waits: HashMap<&str, Vec<u64>>,
    served: &HashMap<&str, u32>,
) -> Vec<ServiceWait> {
    let spec = hall.spec();
    spec.services
        .iter()
        .map(|service| {
            let (waiting, estimate_s) = hall.queue_estimate(&service.id);
            let mut service_waits = waits.remove(service.id.as_str()).unwrap_or_default();
            service_waits.sort_unstable();
            let open_windows = spec
                .windows
                .iter()
                .zip(hall.windows())
                .filter(|(window, state)| {
                    state.status == WindowStatus::Open && window.services.contains(&service.id)
                })
                .count() as u32;
            ServiceWait {
                service: service.id.0.clone(),
                waiting: waiting as u32,
                average_wait_s: average(&service_waits),
                p90_wait_s: percentile(&service_waits, 90),
                served_today: served.get(service.id.as_str()).copied().unwrap_or(0),
                open_windows,
                estimate_s,
            }
        })
        .collect()
}

fn average(sorted: &[u64]) -> u64 {
    if sorted.is_empty() {
        0
    } else {
        sorted.iter().sum::<u64>() / sorted.len() as u64
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], percent: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let values: Vec<u64> = (1..=10).map(|v| v * 60).collect();
        assert_eq!(percentile(&values, 90), 540);
        assert_eq!(percentile(&values, 50), 300);
        assert_eq!(percentile(&[42], 90), 42);
        assert_eq!(percentile(&[], 90), 0);
        assert_eq!(average(&values), 330);
    }
}
