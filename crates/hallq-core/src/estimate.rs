//! Service-time moving average behind the waiting-time estimate.

use serde::{Deserialize, Serialize};

/// An exponentially weighted moving average of recent service times, seeded with the
/// service's configured prior so that the first tickets of the day get a sensible estimate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceTimeAverage {
    average_s: f64,
    samples: u64,
}

/// Service times above this are treated as a forgotten "complete" press, not a real service.
const SAMPLE_CAP_S: u64 = 4 * 3600;

impl ServiceTimeAverage {
    pub fn new(prior_s: u32) -> Self {
        Self {
            average_s: f64::from(prior_s.max(1)),
            samples: 0,
        }
    }

    /// Folds in one completed service. `weight_percent` is the new sample's weight.
    pub fn record(&mut self, service_s: u64, weight_percent: u32) {
        let sample = service_s.min(SAMPLE_CAP_S) as f64;
        let weight = f64::from(weight_percent.clamp(1, 100)) / 100.0;
        self.average_s = self.average_s * (1.0 - weight) + sample * weight;
        self.samples += 1;
    }

    pub fn average_s(&self) -> f64 {
        self.average_s
    }

    pub fn samples(&self) -> u64 {
        self.samples
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
