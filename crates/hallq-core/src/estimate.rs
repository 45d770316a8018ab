//! Service-time moving average behind the waiting-time estimate.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// An exponentially weighted moving average of recent service times, seeded with the
/// service's configured prior so that the first tickets of the day get a sensible estimate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceTimeAverage {
    average_s: f64,
    samples: u64,
    /// The moving mean and variance of ln(service time): how widely this service's times
    /// scatter (a log-standard deviation of 0.5–0.8 is usual at a counter).
    #[serde(default = "prior_log_variance")]
    log_variance: f64,
    #[serde(default)]
    log_mean: Option<f64>,
}

/// The spread assumed before a service has a history: a log-standard deviation of 0.6.
const PRIOR_LOG_SIGMA: f64 = 0.6;

fn prior_log_variance() -> f64 {
    PRIOR_LOG_SIGMA * PRIOR_LOG_SIGMA
}

/// Service times above this are treated as a forgotten "complete" press, not a real service.
const SAMPLE_CAP_S: u64 = 4 * 3600;

impl ServiceTimeAverage {
    pub fn new(prior_s: u32) -> Self {
        Self {
            average_s: f64::from(prior_s.max(1)),
            samples: 0,
            log_variance: prior_log_variance(),
            log_mean: None,
        }
    }

    /// Folds in one completed service. `weight_percent` is the new sample's weight.
    pub fn record(&mut self, service_s: u64, weight_percent: u32) {
        let sample = service_s.min(SAMPLE_CAP_S) as f64;
        let weight = f64::from(weight_percent.clamp(1, 100)) / 100.0;
        self.average_s = self.average_s * (1.0 - weight) + sample * weight;
        self.samples += 1;
        // The spread learns more slowly than the mean: it needs more samples to mean much.
        let log = sample.max(10.0).ln();
        let log_weight = weight / 2.0;
        let log_mean = self
            .log_mean
            .unwrap_or_else(|| self.average_s.ln() - self.log_variance / 2.0);
        let delta = log - log_mean;
        self.log_mean = Some(log_mean + log_weight * delta);
        self.log_variance = (1.0 - log_weight) * (self.log_variance + log_weight * delta * delta);
    }

    /// The log-standard deviation of recent service times, within what counters show.
    pub fn log_sigma(&self) -> f64 {
        self.log_variance.sqrt().clamp(0.15, 1.2)
    }

    pub fn average_s(&self) -> f64 {
        self.average_s
    }

    pub fn samples(&self) -> u64 {
        self.samples
    }
}

/// How many tickets a queue has been taking per second lately: arrivals weighted down
/// exponentially with their age (a time constant of half an hour), so that the forecast
/// sees the morning peak and the lunchtime dip as they come.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ArrivalRate {
    /// Σ exp(−age / τ) over the arrivals, as of `at_s`.
    weight: f64,
    at_s: i64,
    /// When this run of arrivals began (the day's first, after a gap of hours).
    since_s: i64,
}

const ARRIVAL_TAU_S: f64 = 1800.0;
/// A gap this long starts a new run (the next day).
const ARRIVAL_GAP_S: i64 = 4 * 3600;

impl ArrivalRate {
    pub fn record(&mut self, at: Timestamp) {
        let at_s = at.as_second();
        if self.weight == 0.0 || at_s - self.at_s > ARRIVAL_GAP_S {
            *self = Self {
                weight: 1.0,
                at_s,
                since_s: at_s,
            };
            return;
        }
        if at_s >= self.at_s {
            self.weight = self.weight * (-((at_s - self.at_s) as f64) / ARRIVAL_TAU_S).exp() + 1.0;
            self.at_s = at_s;
        } else {
            // Out of order (a restart folding tickets in): it counts as old as it is.
            self.weight += (-((self.at_s - at_s) as f64) / ARRIVAL_TAU_S).exp();
            self.since_s = self.since_s.min(at_s);
        }
    }

    /// Arrivals per second at `now`. Early in a run the weights have had less than τ to add
    /// up, which is made good (but never over less than ten minutes).
    pub fn per_second(&self, now: Timestamp) -> f64 {
        let now_s = now.as_second();
        if self.weight == 0.0 || now_s - self.at_s > ARRIVAL_GAP_S {
            return 0.0;
        }
        let age = (now_s - self.at_s).max(0) as f64;
        let span = ((now_s - self.since_s).max(600)) as f64;
        let normaliser = ARRIVAL_TAU_S * (1.0 - (-span / ARRIVAL_TAU_S).exp());
        self.weight * (-age / ARRIVAL_TAU_S).exp() / normaliser
    }
}

/// Estimated wait for someone with `ahead` people in front, served by `window_capacity`
/// windows' worth of service (a window serving it as a secondary service counts half).
pub fn wait_estimate_s(ahead: usize, average_s: f64, window_capacity: f64) -> u64 {
    let capacity = if window_capacity > 0.0 {
        window_capacity
    } else {
        1.0
    };
    (ahead as f64 * average_s / capacity).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spread_is_learned_from_the_samples() {
        let mut steady = ServiceTimeAverage::new(300);
        let mut scattered = ServiceTimeAverage::new(300);
        for n in 0..400u64 {
            steady.record(290 + n % 3 * 10, 10);
            scattered.record(if n % 2 == 0 { 100 } else { 700 }, 10);
        }
        assert!(steady.log_sigma() < 0.2, "{}", steady.log_sigma());
        // ln 700 − ln 100 ≈ 1.95: a log-standard deviation near 0.97.
        assert!(
            (0.8..1.1).contains(&scattered.log_sigma()),
            "{}",
            scattered.log_sigma()
        );
    }

    #[test]
    fn arrival_rates_follow_the_recent_past() {
        let at = |s: i64| Timestamp::from_second(1_700_000_000 + s).unwrap();
        let mut rate = ArrivalRate::default();
        assert_eq!(rate.per_second(at(0)), 0.0);
        // One a minute for two hours.
        for minute in 0..120 {
            rate.record(at(minute * 60));
        }
        let per_minute = rate.per_second(at(120 * 60)) * 60.0;
        assert!((0.85..1.1).contains(&per_minute), "{per_minute}");
        // Early in the day the half hour is not yet full: still about one a minute.
        let mut early = ArrivalRate::default();
        for minute in 0..15 {
            early.record(at(minute * 60));
        }
        let per_minute = early.per_second(at(15 * 60)) * 60.0;
        assert!((0.8..1.3).contains(&per_minute), "{per_minute}");
        // An hour with nobody: the rate falls away; the next day starts afresh.
        assert!(rate.per_second(at(180 * 60)) * 60.0 < 0.2);
        rate.record(at(24 * 3600));
        assert!(rate.per_second(at(24 * 3600 + 600)) * 60.0 < 0.2);
    }

    #[test]
    fn average_moves_toward_samples() {
        let mut average = ServiceTimeAverage::new(300);
        average.record(100, 20);
        assert!((average.average_s() - 260.0).abs() < 1e-9);
        for _ in 0..100 {
            average.record(100, 20);
        }
        assert!((average.average_s() - 100.0).abs() < 1.0);
        assert_eq!(average.samples(), 101);
    }

    #[test]
    fn outliers_are_capped() {
        let mut average = ServiceTimeAverage::new(300);
        average.record(10 * 24 * 3600, 100);
        assert_eq!(average.average_s(), SAMPLE_CAP_S as f64);
    }

    #[test]
    fn estimates() {
        for (ahead, average, capacity, expected) in [
            (0, 300.0, 2.0, 0),
            (4, 300.0, 2.0, 600),
            (4, 300.0, 0.0, 1200),
            (3, 100.0, 1.5, 200),
        ] {
            assert_eq!(wait_estimate_s(ahead, average, capacity), expected);
        }
    }
}
