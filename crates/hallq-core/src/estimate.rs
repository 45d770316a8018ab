//! What the waiting-time estimate learns: service times (a moving average and a steadier
//! log-normal fit), recent arrival rates, and the usual day's arrivals.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// An exponentially weighted moving average of recent service times, seeded with the
/// service's configured prior so that the first tickets of the day get a sensible estimate;
/// beside it, the steadier log-normal fit the forecast draws service times from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceTimeAverage {
    average_s: f64,
    samples: u64,
    /// The fitted mean and variance of ln(service time): where this service's times centre
    /// and how widely they scatter (a log-standard deviation of 0.5–0.8 is usual at a
    /// counter). The prior counts as `FIT_PRIOR_SAMPLES` services, each service after
    /// as one more until the newest weighs `FIT_WEIGHT_MIN`: about the last fifty citizens,
    /// across days (`next_day`).
    #[serde(default = "prior_log_variance")]
    log_variance: f64,
    #[serde(default)]
    log_mean: Option<f64>,
    /// Services in the fit: unlike the moving average, it is kept from day to day.
    #[serde(default)]
    fit_samples: u64,
}

/// The spread assumed before a service has a history: a log-standard deviation of 0.6.
const PRIOR_LOG_SIGMA: f64 = 0.6;
/// How many services the configured prior is worth in the fit.
const FIT_PRIOR_SAMPLES: f64 = 10.0;
/// The least weight of a new service in the fit. The screen's moving average weighs the
/// newest citizen at the hall's `service_time_weight_percent` (10 %), which follows the last
/// few citizens; measured on simulated days, the forecast an hour ahead errs 2 points less
/// (of the mean wait) when its times come from a fit this steady.
const FIT_WEIGHT_MIN: f64 = 0.02;

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
            fit_samples: 0,
        }
    }

    /// The next day's: the moving average starts from the prior again (the screen shows
    /// today's service), the fit goes on (a service takes as long as it did yesterday).
    pub fn next_day(&self, prior_s: u32) -> Self {
        Self {
            log_variance: self.log_variance,
            log_mean: self.log_mean,
            fit_samples: self.fit_samples,
            ..Self::new(prior_s)
        }
    }

    /// Folds in one completed service. `weight_percent` is the new sample's weight in the
    /// moving average.
    pub fn record(&mut self, service_s: u64, weight_percent: u32) {
        self.record_fit(service_s);
        let sample = service_s.min(SAMPLE_CAP_S) as f64;
        let weight = f64::from(weight_percent.clamp(1, 100)) / 100.0;
        self.average_s = self.average_s * (1.0 - weight) + sample * weight;
        self.samples += 1;
    }

    /// Folds one completed service into the fit only (a past day's, at a restart).
    pub fn record_fit(&mut self, service_s: u64) {
        let log = (service_s.min(SAMPLE_CAP_S) as f64).max(10.0).ln();
        // Before any service: the prior's median.
        let log_mean = self
            .log_mean
            .unwrap_or_else(|| self.average_s.ln() - self.log_variance / 2.0);
        self.fit_samples += 1;
        let weight = (1.0 / (self.fit_samples as f64 + FIT_PRIOR_SAMPLES)).max(FIT_WEIGHT_MIN);
        let delta = log - log_mean;
        self.log_mean = Some(log_mean + weight * delta);
        self.log_variance = (1.0 - weight) * (self.log_variance + weight * delta * delta);
    }

    /// The log-normal fit of the service's times: ln of the median and the log-standard
    /// deviation (within what counters show). Before any service, the prior's.
    pub fn fit(&self) -> (f64, f64) {
        let sigma = self.log_variance.sqrt().clamp(0.15, 1.2);
        let log_median = self
            .log_mean
            .unwrap_or_else(|| self.average_s.ln() - self.log_variance / 2.0);
        (log_median, sigma)
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

/// Slots of the day the arrival profile counts in (a quarter of an hour each).
pub const PROFILE_SLOT_S: f64 = 900.0;
const PROFILE_SLOTS: usize = 96;

/// A queue's arrivals over a working day, learned from the days before: how many tickets of
/// each priority class each quarter of an hour usually brings. It tells the forecast that the
/// morning peak is still to come or that the lunchtime dip begins at noon, which a rate of
/// the last half hour cannot know.
#[derive(Clone, Debug, PartialEq)]
pub struct ArrivalProfile {
    /// Per class (by rank), per slot: the usual arrivals.
    usual: [Vec<f64>; 3],
    /// Today's arrivals so far, per class and slot.
    today: [Vec<u32>; 3],
    /// Working days learned.
    days: u32,
}

impl Default for ArrivalProfile {
    fn default() -> Self {
        Self {
            usual: std::array::from_fn(|_| vec![0.0; PROFILE_SLOTS]),
            today: std::array::from_fn(|_| vec![0; PROFILE_SLOTS]),
            days: 0,
        }
    }
}

/// The weight of a new day once a few are learned: about the last two weeks count.
const PROFILE_DAY_WEIGHT: f64 = 0.15;

impl ArrivalProfile {
    fn slot(second_of_day: f64) -> usize {
        ((second_of_day / PROFILE_SLOT_S).max(0.0) as usize).min(PROFILE_SLOTS - 1)
    }

    /// One ticket of class `rank` arrived at `second_of_day` (the hall's local time).
    pub fn record(&mut self, rank: usize, second_of_day: f64) {
        self.today[rank.min(2)][Self::slot(second_of_day)] += 1;
    }

    /// The day is over: it joins the usual day, unless nothing arrived (a closed day).
    pub fn fold_day(&mut self) {
        let total: u32 = self.today.iter().flatten().sum();
        if total == 0 {
            return;
        }
        let weight = (1.0 / f64::from(self.days + 1)).max(PROFILE_DAY_WEIGHT);
        for (usual, today) in self.usual.iter_mut().zip(&mut self.today) {
            for (u, t) in usual.iter_mut().zip(today.iter_mut()) {
                *u = *u * (1.0 - weight) + f64::from(*t) * weight;
                *t = 0;
            }
        }
        self.days += 1;
    }

    pub fn days(&self) -> u32 {
        self.days
    }

    /// The usual arrivals per second of class `rank` at `second_of_day`.
    pub fn usual_rate(&self, rank: usize, second_of_day: f64) -> f64 {
        self.usual[rank.min(2)][Self::slot(second_of_day)] / PROFILE_SLOT_S
    }

    /// How busy today is against the usual day, from the last `span_s` seconds before
    /// `second_of_day`: observed ÷ usual, pulled toward 1 when few have come.
    pub fn level(&self, second_of_day: f64, span_s: f64) -> f64 {
        let from = second_of_day - span_s;
        let mut observed = 0.0;
        let mut usual = 0.0;
        for slot in 0..PROFILE_SLOTS {
            let start = slot as f64 * PROFILE_SLOT_S;
            let end = start + PROFILE_SLOT_S;
            let overlap = (end.min(second_of_day) - start.max(from)).max(0.0) / PROFILE_SLOT_S;
            if overlap <= 0.0 {
                continue;
            }
            // Today's count of the slot under way is all of it so far; of the slot cut at
            // `from`, its share.
            let share = if end > second_of_day { 1.0 } else { overlap };
            for rank in 0..3 {
                usual += self.usual[rank][slot] * overlap;
                observed += f64::from(self.today[rank][slot]) * share;
            }
        }
        const PULL: f64 = 4.0;
        ((observed + PULL) / (usual + PULL)).clamp(0.4, 2.5)
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
    fn the_fit_learns_centre_and_spread_from_the_samples() {
        let mut steady = ServiceTimeAverage::new(300);
        let mut scattered = ServiceTimeAverage::new(300);
        for n in 0..400u64 {
            steady.record(290 + n % 3 * 10, 10);
            scattered.record(if n % 2 == 0 { 100 } else { 700 }, 10);
        }
        let (log_median, sigma) = steady.fit();
        assert!(sigma < 0.2, "{sigma}");
        assert!(
            (log_median.exp() - 300.0).abs() < 10.0,
            "{}",
            log_median.exp()
        );
        // ln 700 − ln 100 ≈ 1.95: a log-standard deviation near 0.97, a median near √70000.
        let (log_median, sigma) = scattered.fit();
        assert!((0.8..1.1).contains(&sigma), "{sigma}");
        assert!(
            (log_median.exp() - 264.6).abs() < 25.0,
            "{}",
            log_median.exp()
        );
    }

    #[test]
    fn the_fit_starts_from_the_prior_and_is_steadier_than_the_average() {
        let fresh = ServiceTimeAverage::new(600);
        let (log_median, sigma) = fresh.fit();
        assert!((sigma - PRIOR_LOG_SIGMA).abs() < 1e-9);
        // The prior is the mean: the median of a log-normal with σ 0.6 is e^(−0.18) of it.
        assert!((log_median.exp() - 600.0 * (-0.18f64).exp()).abs() < 1.0);
        // Three short services in a row move the screen's average by a quarter, the fit far
        // less: the prior still counts as ten.
        let mut average = ServiceTimeAverage::new(600);
        for _ in 0..3 {
            average.record(120, 10);
        }
        assert!(average.average_s() < 600.0 * 0.8);
        let (log_median, _) = average.fit();
        let moved = 1.0 - log_median.exp() / (600.0 * (-0.18f64).exp());
        assert!((0.05..0.5).contains(&moved), "{moved}");
    }

    #[test]
    fn the_fit_is_kept_from_day_to_day_and_the_screen_average_is_not() {
        let mut average = ServiceTimeAverage::new(300);
        for _ in 0..300 {
            average.record(900, 10);
        }
        let tomorrow = average.next_day(300);
        assert_eq!(tomorrow.average_s(), 300.0);
        assert_eq!(tomorrow.samples(), 0);
        assert_eq!(tomorrow.fit(), average.fit());
        assert!(
            (average.fit().0.exp() - 900.0).abs() < 60.0,
            "{:?}",
            average.fit()
        );
        // The same services read back into the fit alone, as a restart does with past days,
        // give the same fit.
        let mut restored = ServiceTimeAverage::new(300);
        for _ in 0..300 {
            restored.record_fit(900);
        }
        assert_eq!(restored.fit(), average.fit());
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
    fn the_usual_day_is_learned_from_working_days_and_closed_days_are_skipped() {
        let hour = |h: f64| h * 3600.0;
        let mut profile = ArrivalProfile::default();
        assert_eq!(profile.days(), 0);
        // Five days with eight walk-ins between 9:00 and 9:15 and two green-channel tickets
        // at 14:00, and a closed day between them.
        for day in 0..6 {
            if day != 3 {
                for n in 0..8 {
                    profile.record(2, hour(9.0) + f64::from(n) * 60.0);
                }
                profile.record(0, hour(14.0));
                profile.record(0, hour(14.1));
            }
            profile.fold_day();
        }
        assert_eq!(profile.days(), 5);
        let per_slot = |rank, at| profile.usual_rate(rank, at) * PROFILE_SLOT_S;
        assert!((per_slot(2, hour(9.1)) - 8.0).abs() < 1e-9);
        assert!((per_slot(0, hour(14.05)) - 2.0).abs() < 1e-9);
        assert_eq!(per_slot(2, hour(12.0)), 0.0);
        // A day twice as busy so far reads as busier; a quiet one as quieter; with nothing
        // usual and nothing seen, as usual.
        for n in 0..16 {
            profile.record(2, hour(9.0) + f64::from(n) * 50.0);
        }
        let busy = profile.level(hour(9.25), 3600.0);
        assert!((1.5..2.2).contains(&busy), "{busy}");
        let mut quiet = profile.clone();
        quiet.today = std::array::from_fn(|_| vec![0; PROFILE_SLOTS]);
        let level = quiet.level(hour(9.25), 3600.0);
        assert!(level < 0.5, "{level}");
        assert_eq!(quiet.level(hour(20.0), 3600.0), 1.0);
        // A later day weighs in: the usual day moves toward it.
        let mut moved = quiet.clone();
        for n in 0..20 {
            moved.record(2, hour(9.0) + f64::from(n) * 40.0);
        }
        moved.fold_day();
        let now_usual = moved.usual_rate(2, hour(9.1)) * PROFILE_SLOT_S;
        assert!(now_usual > 8.0 && now_usual < 20.0, "{now_usual}");
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
