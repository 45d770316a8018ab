//! The simulated hall: seven services with long-tailed service times, ten windows of which
//! several serve more than one service (一窗受理), and a day's arrivals with the morning peak,
//! the lunchtime dip and the afternoon.

use hallq_core::fixtures::{service, window, HallBuilder};
use hallq_core::{HallSpec, Policy};

/// One service of the simulated hall.
pub struct ServiceModel {
    pub id: &'static str,
    pub prefix: &'static str,
    /// Mean service time, seconds.
    pub mean_s: f64,
    /// Log-standard deviation of the service time (0.5–0.9: the long tail of real counters).
    pub sigma: f64,
    /// Walk-ins per day at an average day's intensity.
    pub daily: f64,
}

pub const SERVICES: &[ServiceModel] = &[
    ServiceModel {
        id: "tax",
        prefix: "A",
        mean_s: 420.0,
        sigma: 0.7,
        daily: 120.0,
    },
    ServiceModel {
        id: "invoice",
        prefix: "B",
        mean_s: 240.0,
        sigma: 0.5,
        daily: 95.0,
    },
    ServiceModel {
        id: "social",
        prefix: "C",
        mean_s: 480.0,
        sigma: 0.7,
        daily: 95.0,
    },
    ServiceModel {
        id: "medical",
        prefix: "D",
        mean_s: 360.0,
        sigma: 0.6,
        daily: 75.0,
    },
    ServiceModel {
        id: "property",
        prefix: "E",
        mean_s: 900.0,
        sigma: 0.8,
        daily: 45.0,
    },
    ServiceModel {
        id: "household",
        prefix: "F",
        mean_s: 300.0,
        sigma: 0.6,
        daily: 70.0,
    },
    ServiceModel {
        id: "business",
        prefix: "G",
        mean_s: 1200.0,
        sigma: 0.8,
        daily: 22.0,
    },
];

/// Windows and the services they serve, primary first.
pub const WINDOWS: &[(&str, &[&str])] = &[
    ("w1", &["tax", "invoice"]),
    ("w2", &["tax"]),
    ("w3", &["invoice", "tax"]),
    ("w4", &["social", "medical"]),
    ("w5", &["medical", "social"]),
    ("w6", &["property"]),
    ("w7", &["property", "business"]),
    ("w8", &["household"]),
    ("w9", &["business", "property"]),
    // The comprehensive window (综合受理) helps wherever it is needed.
    ("w10", &["social", "household", "tax", "invoice"]),
];

/// The hall's day in seconds after midnight.
pub const OPEN_S: f64 = 8.5 * 3600.0;
/// Walk-ins stop being taken.
pub const LAST_TICKET_S: f64 = 17.0 * 3600.0;
/// Windows stop calling; whoever still waits is sent home (their ticket expires).
pub const CLOSE_S: f64 = 18.0 * 3600.0;

/// Relative arrival intensity over the day (1.0 = the day's average while open): the morning
/// peak, the lunchtime dip, the afternoon, the end of the day.
const CURVE: &[(f64, f64)] = &[
    (8.5, 0.7),
    (9.0, 1.35),
    (9.5, 1.6),
    (10.5, 1.5),
    (11.5, 1.0),
    (12.0, 0.45),
    (13.0, 0.4),
    (13.5, 0.7),
    (14.0, 1.15),
    (15.0, 1.25),
    (16.0, 1.0),
    (16.5, 0.75),
    (17.0, 0.4),
];

/// The intensity at `t` seconds after midnight (0 outside the ticket hours).
pub fn intensity(t: f64) -> f64 {
    let hour = t / 3600.0;
    if !(CURVE[0].0..LAST_TICKET_S / 3600.0).contains(&hour) {
        return 0.0;
    }
    for pair in CURVE.windows(2) {
        let ((h0, v0), (h1, v1)) = (pair[0], pair[1]);
        if hour >= h0 && hour < h1 {
            return v0 + (v1 - v0) * (hour - h0) / (h1 - h0);
        }
    }
    CURVE[CURVE.len() - 1].1
}

/// The highest intensity, for thinning.
pub fn peak_intensity() -> f64 {
    CURVE.iter().map(|(_, v)| *v).fold(0.0, f64::max)
}

/// Seconds the hall takes tickets.
pub fn ticket_hours_s() -> f64 {
    LAST_TICKET_S - OPEN_S
}

/// The simulated hall as the core sees it.
pub fn spec() -> HallSpec {
    let mut builder = HallBuilder::new();
    for model in SERVICES {
        let mut spec = service(model.id, model.prefix);
        spec.prior_service_s = model.mean_s as u32;
        builder = builder.service_spec(spec);
    }
    for (index, (id, services)) in WINDOWS.iter().enumerate() {
        let mut spec = window(id, services);
        spec.name = format!("{id}号窗口");
        // Lunch in two shifts (as `Simulation::plan_breaks` takes it), planned in the file.
        let lunch = if index % 2 == 0 {
            "12:00-13:00"
        } else {
            "12:30-13:30"
        };
        spec.breaks = vec![hallq_core::DailyBreak::try_from(lunch.to_owned()).expect("a break")];
        builder = builder.edit(|hall| hall.windows.push(spec));
    }
    builder
        .policy(Policy {
            ageing_max_wait_s: 45 * 60,
            requeue_within_s: 20 * 60,
            requeue_limit: 1,
            service_time_weight_percent: 10,
            tickets_per_person_per_service_per_day: 0,
        })
        .build()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_curve_averages_about_one_while_tickets_are_taken() {
        let steps = 10_000;
        let span = super::ticket_hours_s();
        let mean: f64 = (0..steps)
            .map(|i| super::intensity(super::OPEN_S + span * i as f64 / steps as f64))
            .sum::<f64>()
            / steps as f64;
        assert!((0.9..1.15).contains(&mean), "{mean}");
        super::spec().validate().unwrap();
    }
}
