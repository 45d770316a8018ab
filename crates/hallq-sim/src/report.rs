//! What the simulated days measured: the hall's traffic, the waits, and for each estimator how
//! far its promise was from the wait that followed. Kept as running sums and a histogram, so a
//! thousand days need no more memory than one.

use hallq_core::jiff::Timestamp;
use hallq_core::{PriorityClass, WaitForecast};
use std::fmt::Write;

/// A ticket's promises at issue and, once called, its actual wait.
#[derive(Clone, Debug)]
pub struct Record {
    pub issued: Timestamp,
    pub priority: PriorityClass,
    pub ahead: usize,
    /// The plain rule: people ahead × average service time ÷ windows.
    pub queue_length_s: u64,
    /// Last-to-enter-service: the wait of the last ticket of the service to be called.
    pub last_to_enter_s: u64,
    /// Head-of-line: how long the oldest ticket of the service has waited so far.
    pub head_of_line_s: u64,
    /// hallq's forecast: a point and an 80 % band.
    pub forecast: Option<WaitForecast>,
    /// The oracle's estimate (only for the tickets it is asked about).
    pub oracle_s: Option<u64>,
    /// Whether this ticket's promises are measured (a sample of them is, see `SimOptions`).
    pub measured: bool,
    /// The hour of the day (hall time) it was issued.
    pub issued_hour: u8,
    pub actual_s: Option<u64>,
}

/// One estimator's errors.
#[derive(Clone, Debug, Default)]
pub struct Errors {
    pub absolute_s: f64,
    /// Sum of (actual − promised): positive when waits run longer than said.
    pub signed_s: f64,
    /// Waits that ran longer than promised (for the band: than its upper end).
    pub longer: u64,
    pub count: u64,
}

impl Errors {
    fn add(&mut self, promised: u64, actual: u64, upper: u64) {
        self.absolute_s += (promised as f64 - actual as f64).abs();
        self.signed_s += actual as f64 - promised as f64;
        self.longer += u64::from(actual > upper);
        self.count += 1;
    }

    pub fn mae_s(&self) -> f64 {
        self.absolute_s / self.count.max(1) as f64
    }

    pub fn bias_s(&self) -> f64 {
        self.signed_s / self.count.max(1) as f64
    }

    pub fn longer_share(&self) -> f64 {
        self.longer as f64 / self.count.max(1) as f64
    }
}

/// Histogram buckets of waits, 10 s wide, up to 8 hours.
const BUCKET_S: u64 = 10;
const BUCKETS: usize = 8 * 360;

#[derive(Clone, Debug)]
pub struct Tally {
    pub days: u32,
    pub commands: u64,
    pub issued: u64,
    pub calls: u64,
    pub completed: u64,
    pub no_shows: u64,
    pub requeues: u64,
    pub transfers: u64,
    pub walked_away: u64,
    pub expired: u64,
    pub pauses: u64,
    pub refused: u64,
    /// Tickets never called (walked away, expired): their wait is unknown.
    pub censored: u64,
    pub waits: u64,
    pub wait_sum_s: f64,
    histogram: Vec<u64>,
    pub queue_length: Errors,
    pub last_to_enter: Errors,
    pub head_of_line: Errors,
    pub forecast_point: Errors,
    pub forecast_band: Errors,
    pub covered: u64,
    /// On the tickets the oracle was asked about: its errors, the forecast's and the plain
    /// rule's, and the sum of their waits.
    pub oracle: Errors,
    pub oracle_forecast: Errors,
    pub oracle_queue_length: Errors,
    pub oracle_wait_sum_s: f64,
    /// Walk-ins with few people ahead (≤ 3), where no point can be precise.
    pub near_covered: u64,
    pub near: u64,
    /// The figures by people ahead at issue, and by the hour of the day it was issued.
    pub by_ahead: [Bucket; AHEAD_BUCKETS.len()],
    pub by_hour: [Bucket; 24],
    /// Per row of the core's calibration of drawn forecasts (by people ahead): a histogram of
    /// ln((actual + 60) / (drawn median + 60)).
    drawn_ratios: Vec<Vec<(u64, f64)>>,
    /// Per row of the plain rule's calibration (by people ahead): the same of the plain rule.
    plain_ratios: Vec<Vec<(u64, f64)>>,
}

/// Log-ratio histogram: bins of 0.02 from −4 to 4.
const RATIO_BINS: usize = 400;
const RATIO_STEP: f64 = 0.02;

/// Upper bounds of the people-ahead buckets of the breakdown.
pub const AHEAD_BUCKETS: [usize; 6] = [0, 2, 5, 10, 20, usize::MAX];

/// The figures of a slice of the tickets: their waits, the forecast's and the plain rule's
/// errors, the forecast's bias (actual − point: positive when waits ran longer than said),
/// the waits inside the band, and on those the oracle was asked about, its error beside the
/// forecast's.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bucket {
    pub count: u64,
    pub wait_s: f64,
    pub forecast_error_s: f64,
    pub forecast_signed_s: f64,
    pub queue_length_error_s: f64,
    pub covered: u64,
    pub oracle_count: u64,
    pub oracle_error_s: f64,
    pub oracle_forecast_error_s: f64,
}

impl Bucket {
    fn add(&mut self, record: &Record, actual: u64, point: u64, inside: bool) {
        let error = |promised: u64| (promised as f64 - actual as f64).abs();
        self.count += 1;
        self.wait_s += actual as f64;
        self.forecast_error_s += error(point);
        self.forecast_signed_s += actual as f64 - point as f64;
        self.queue_length_error_s += error(record.queue_length_s);
        self.covered += u64::from(inside);
        if let Some(oracle) = record.oracle_s {
            self.oracle_count += 1;
            self.oracle_error_s += error(oracle);
            self.oracle_forecast_error_s += error(point);
        }
    }

    fn merged(&self, other: &Bucket) -> Bucket {
        Bucket {
            count: self.count + other.count,
            wait_s: self.wait_s + other.wait_s,
            forecast_error_s: self.forecast_error_s + other.forecast_error_s,
            forecast_signed_s: self.forecast_signed_s + other.forecast_signed_s,
            queue_length_error_s: self.queue_length_error_s + other.queue_length_error_s,
            covered: self.covered + other.covered,
            oracle_count: self.oracle_count + other.oracle_count,
            oracle_error_s: self.oracle_error_s + other.oracle_error_s,
            oracle_forecast_error_s: self.oracle_forecast_error_s + other.oracle_forecast_error_s,
        }
    }

    /// One row of a breakdown table.
    fn row(&self, label: &str) -> String {
        let n = self.count.max(1) as f64;
        let minutes = |s: f64| s / 60.0;
        let mut row = format!(
            "{:<14} {:>8} {:>8.1} m {:>11.1} m {:>+8.1} m {:>15.1} m {:>9.1}%",
            label,
            self.count,
            minutes(self.wait_s / n),
            minutes(self.forecast_error_s / n),
            minutes(self.forecast_signed_s / n),
            minutes(self.queue_length_error_s / n),
            100.0 * self.covered as f64 / n
        );
        if self.oracle_count > 0 {
            let n = self.oracle_count as f64;
            let _ = write!(
                row,
                " {:>8} {:>8.1} m {:>8.1} m",
                self.oracle_count,
                minutes(self.oracle_error_s / n),
                minutes(self.oracle_forecast_error_s / n)
            );
        }
        row.push('\n');
        row
    }
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            days: 0,
            commands: 0,
            issued: 0,
            calls: 0,
            completed: 0,
            no_shows: 0,
            requeues: 0,
            transfers: 0,
            walked_away: 0,
            expired: 0,
            pauses: 0,
            refused: 0,
            censored: 0,
            waits: 0,
            wait_sum_s: 0.0,
            histogram: vec![0; BUCKETS + 1],
            queue_length: Errors::default(),
            last_to_enter: Errors::default(),
            head_of_line: Errors::default(),
            forecast_point: Errors::default(),
            forecast_band: Errors::default(),
            covered: 0,
            oracle: Errors::default(),
            oracle_forecast: Errors::default(),
            oracle_queue_length: Errors::default(),
            oracle_wait_sum_s: 0.0,
            near_covered: 0,
            near: 0,
            by_ahead: Default::default(),
            by_hour: Default::default(),
            drawn_ratios: vec![vec![(0, 0.0); RATIO_BINS]; hallq_core::DRAWN_CALIBRATION.len()],
            plain_ratios: vec![vec![(0, 0.0); RATIO_BINS]; hallq_core::CALIBRATION.len()],
        }
    }
}

impl Errors {
    fn merged(&self, other: &Errors) -> Errors {
        Errors {
            absolute_s: self.absolute_s + other.absolute_s,
            signed_s: self.signed_s + other.signed_s,
            longer: self.longer + other.longer,
            count: self.count + other.count,
        }
    }
}

impl Tally {
    /// Two runs' figures added up (several seeds).
    pub fn merged(&self, other: &Tally) -> Tally {
        Tally {
            days: self.days + other.days,
            commands: self.commands + other.commands,
            issued: self.issued + other.issued,
            calls: self.calls + other.calls,
            completed: self.completed + other.completed,
            no_shows: self.no_shows + other.no_shows,
            requeues: self.requeues + other.requeues,
            transfers: self.transfers + other.transfers,
            walked_away: self.walked_away + other.walked_away,
            expired: self.expired + other.expired,
            pauses: self.pauses + other.pauses,
            refused: self.refused + other.refused,
            censored: self.censored + other.censored,
            waits: self.waits + other.waits,
            wait_sum_s: self.wait_sum_s + other.wait_sum_s,
            histogram: self
                .histogram
                .iter()
                .zip(&other.histogram)
                .map(|(a, b)| a + b)
                .collect(),
            queue_length: self.queue_length.merged(&other.queue_length),
            last_to_enter: self.last_to_enter.merged(&other.last_to_enter),
            head_of_line: self.head_of_line.merged(&other.head_of_line),
            forecast_point: self.forecast_point.merged(&other.forecast_point),
            forecast_band: self.forecast_band.merged(&other.forecast_band),
            covered: self.covered + other.covered,
            oracle: self.oracle.merged(&other.oracle),
            oracle_forecast: self.oracle_forecast.merged(&other.oracle_forecast),
            oracle_queue_length: self.oracle_queue_length.merged(&other.oracle_queue_length),
            oracle_wait_sum_s: self.oracle_wait_sum_s + other.oracle_wait_sum_s,
            near_covered: self.near_covered + other.near_covered,
            near: self.near + other.near,
            drawn_ratios: added(&self.drawn_ratios, &other.drawn_ratios),
            plain_ratios: added(&self.plain_ratios, &other.plain_ratios),
            by_ahead: std::array::from_fn(|i| self.by_ahead[i].merged(&other.by_ahead[i])),
            by_hour: std::array::from_fn(|i| self.by_hour[i].merged(&other.by_hour[i])),
        }
    }

    pub fn measured(&mut self, record: Record) {
        let Some(actual) = record.actual_s.filter(|_| record.measured) else {
            return;
        };
        self.waits += 1;
        self.wait_sum_s += actual as f64;
        self.histogram[((actual / BUCKET_S) as usize).min(BUCKETS)] += 1;
        self.queue_length
            .add(record.queue_length_s, actual, record.queue_length_s);
        let row = hallq_core::CALIBRATION
            .iter()
            .position(|(bound, ..)| record.ahead <= *bound)
            .unwrap_or(hallq_core::CALIBRATION.len() - 1);
        tally_ratio(&mut self.plain_ratios[row], actual, record.queue_length_s);
        self.last_to_enter
            .add(record.last_to_enter_s, actual, record.last_to_enter_s);
        self.head_of_line
            .add(record.head_of_line_s, actual, record.head_of_line_s);
        if let (Some(oracle), Some(forecast)) = (record.oracle_s, record.forecast) {
            self.oracle.add(oracle, actual, oracle);
            self.oracle_forecast
                .add(forecast.point_s, actual, forecast.point_s);
            self.oracle_queue_length
                .add(record.queue_length_s, actual, record.queue_length_s);
            self.oracle_wait_sum_s += actual as f64;
        }
        if let Some(forecast) = record.forecast {
            self.forecast_point
                .add(forecast.point_s, actual, forecast.point_s);
            self.forecast_band
                .add(forecast.point_s, actual, forecast.high_s);
            let inside = (forecast.low_s..=forecast.high_s).contains(&actual);
            self.covered += u64::from(inside);
            if forecast.drawn {
                let row = hallq_core::DRAWN_CALIBRATION
                    .iter()
                    .position(|(bound, ..)| record.ahead <= *bound)
                    .unwrap_or(hallq_core::DRAWN_CALIBRATION.len() - 1);
                tally_ratio(&mut self.drawn_ratios[row], actual, forecast.expected_s);
            }
            let bucket = AHEAD_BUCKETS
                .iter()
                .position(|&bound| record.ahead <= bound)
                .unwrap_or(AHEAD_BUCKETS.len() - 1);
            self.by_ahead[bucket].add(&record, actual, forecast.point_s, inside);
            self.by_hour[usize::from(record.issued_hour).min(23)].add(
                &record,
                actual,
                forecast.point_s,
                inside,
            );
            if record.ahead <= 3 && record.priority == PriorityClass::WalkIn {
                self.near += 1;
                self.near_covered += u64::from(inside);
            }
        }
    }

    pub fn mean_wait_s(&self) -> f64 {
        self.wait_sum_s / self.waits.max(1) as f64
    }

    pub fn percentile_wait_s(&self, p: f64) -> u64 {
        let target = (self.waits as f64 * p).ceil() as u64;
        let mut seen = 0;
        for (bucket, count) in self.histogram.iter().enumerate() {
            seen += count;
            if seen >= target.max(1) {
                return bucket as u64 * BUCKET_S;
            }
        }
        BUCKETS as u64 * BUCKET_S
    }

    /// MAE as a percentage of the mean wait.
    pub fn mae_percent(&self, errors: &Errors) -> f64 {
        100.0 * errors.mae_s() / self.mean_wait_s().max(1.0)
    }

    pub fn coverage(&self) -> f64 {
        self.covered as f64 / self.forecast_band.count.max(1) as f64
    }

    /// The calibration tables the core should use, measured on these days: per row, the
    /// 10th, 50th and 90th percentiles of (actual + 60) / (estimate + 60), for the drawn
    /// forecasts by their spread and for the plain rule by people ahead.
    pub fn calibration(&self) -> String {
        let mut out = String::new();
        let bounds = |table: &[(usize, f64, f64, f64)]| -> Vec<String> {
            table
                .iter()
                .map(|(bound, ..)| match *bound {
                    usize::MAX => "usize::MAX".to_owned(),
                    bound => bound.to_string(),
                })
                .collect()
        };
        let drawn = bounds(hallq_core::DRAWN_CALIBRATION);
        table(&mut out, "DRAWN_CALIBRATION", &drawn, &self.drawn_ratios);
        let plain = bounds(hallq_core::CALIBRATION);
        table(&mut out, "CALIBRATION", &plain, &self.plain_ratios);
        out
    }

    /// The summary `hallq-sim` prints: the same seed gives the same text.
    pub fn summary(&self, seed: u64) -> String {
        let mut out = String::new();
        let minutes = |s: f64| s / 60.0;
        let _ = writeln!(
            out,
            "hallq-sim seed {seed}: {} days, {} commands",
            self.days, self.commands
        );
        let _ = writeln!(
            out,
            "tickets {} · called {} · completed {} · no-shows {} (requeued {}) · transfers {} · walked away {} · expired {} · pauses {} · refused {}",
            self.issued, self.calls, self.completed, self.no_shows, self.requeues,
            self.transfers, self.walked_away, self.expired, self.pauses, self.refused
        );
        let _ = writeln!(
            out,
            "waits measured {} (not called: {}) · mean {:.1} min · median {:.1} min · p90 {:.1} min",
            self.waits,
            self.censored,
            minutes(self.mean_wait_s()),
            minutes(self.percentile_wait_s(0.5) as f64),
            minutes(self.percentile_wait_s(0.9) as f64),
        );
        let _ = writeln!(
            out,
            "{:<28} {:>9} {:>7} {:>9} {:>22}",
            "estimator", "MAE min", "MAE %", "bias min", "waits longer than said"
        );
        for (name, errors) in [
            ("queue-length", &self.queue_length),
            ("last-to-enter-service", &self.last_to_enter),
            ("head-of-line", &self.head_of_line),
            ("hallq forecast (point)", &self.forecast_point),
            ("hallq forecast (band top)", &self.forecast_band),
        ] {
            let _ = writeln!(
                out,
                "{:<28} {:>9.2} {:>6.1}% {:>9.2} {:>21.1}%",
                name,
                minutes(errors.mae_s()),
                self.mae_percent(errors),
                minutes(errors.bias_s()),
                100.0 * errors.longer_share()
            );
        }
        let oracle_asked = self.oracle.count > 0;
        let header = |first: &str| {
            let mut header = format!(
                "{:<14} {:>8} {:>10} {:>13} {:>10} {:>17} {:>10}",
                first,
                "tickets",
                "mean wait",
                "forecast MAE",
                "bias",
                "queue-length MAE",
                "in band"
            );
            if oracle_asked {
                let _ = write!(
                    header,
                    " {:>8} {:>10} {:>10}",
                    "oracle n", "oracle MAE", "forecast"
                );
            }
            header.push('\n');
            header
        };
        out.push_str(&header("people ahead"));
        let mut low = 0;
        for (bucket, bound) in self.by_ahead.iter().zip(AHEAD_BUCKETS) {
            let label = match bound {
                usize::MAX => format!("{low}+"),
                b if b == low => format!("{b}"),
                b => format!("{low}-{b}"),
            };
            low = bound.saturating_add(1);
            out.push_str(&bucket.row(&label));
        }
        out.push_str(&header("issued at"));
        for (hour, bucket) in self.by_hour.iter().enumerate() {
            if bucket.count > 0 {
                out.push_str(&bucket.row(&format!("{hour:02}:00-{:02}:00", hour + 1)));
            }
        }
        let _ = writeln!(
            out,
            "MAE {:.1} % · queue-length MAE {:.1} % · ratio {:.2} · longer than the band {:.1} % · band coverage {:.1} % (≤3 ahead: {:.1} %)",
            self.mae_percent(&self.forecast_point),
            self.mae_percent(&self.queue_length),
            self.forecast_point.mae_s() / self.queue_length.mae_s().max(1e-9),
            100.0 * self.forecast_band.longer_share(),
            100.0 * self.coverage(),
            100.0 * self.near_covered as f64 / self.near.max(1) as f64,
        );
        if self.oracle.count > 0 {
            let mean = self.oracle_wait_sum_s / self.oracle.count as f64;
            let percent = |errors: &Errors| 100.0 * errors.mae_s() / mean.max(1.0);
            let _ = writeln!(
                out,
                "oracle on {} tickets (mean wait {:.1} min): oracle MAE {:.1} % · forecast {:.1} % · queue-length {:.1} % · oracle ratio {:.2}",
                self.oracle.count,
                minutes(mean),
                percent(&self.oracle),
                percent(&self.oracle_forecast),
                percent(&self.oracle_queue_length),
                self.oracle.mae_s() / self.oracle_queue_length.mae_s().max(1e-9),
            );
        }
        out
    }
}

/// Counts a ratio ln((actual + 60) / (estimate + 60)) in its histogram bin, by ticket and by
/// the estimate's weight (+ 60 s): the band's ends are quantiles of tickets, the point the
/// weighted median, which is what makes the point's absolute error in seconds least.
fn tally_ratio(histogram: &mut [(u64, f64)], actual: u64, estimate: u64) {
    let offset = hallq_core::CALIBRATION_OFFSET_S;
    let ratio = ((actual as f64 + offset) / (estimate as f64 + offset)).ln();
    let bin = ((ratio + 4.0) / RATIO_STEP).clamp(0.0, (RATIO_BINS - 1) as f64) as usize;
    histogram[bin].0 += 1;
    histogram[bin].1 += estimate as f64 + offset;
}

fn added(a: &[Vec<(u64, f64)>], b: &[Vec<(u64, f64)>]) -> Vec<Vec<(u64, f64)>> {
    a.iter()
        .zip(b)
        .map(|(a, b)| {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x.0 + y.0, x.1 + y.1))
                .collect()
        })
        .collect()
}

/// One calibration table as Rust, its rows' percentiles read off their histograms.
fn table(out: &mut String, name: &str, bounds: &[String], histograms: &[Vec<(u64, f64)>]) {
    let _ = writeln!(out, "pub const {name}: &[(usize, f64, f64, f64)] = &[");
    for (bound, histogram) in bounds.iter().zip(histograms) {
        let total: u64 = histogram.iter().map(|(count, _)| count).sum();
        let weight: f64 = histogram.iter().map(|(_, weight)| weight).sum();
        let at_bin = |bin: usize| (bin as f64 * RATIO_STEP - 4.0 + RATIO_STEP / 2.0).exp();
        let quantile = |p: f64| {
            let target = (total as f64 * p).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (bin, (count, _)) in histogram.iter().enumerate() {
                seen += count;
                if seen >= target {
                    return at_bin(bin);
                }
            }
            (4.0f64).exp()
        };
        let weighted_median = {
            let mut seen = 0.0;
            histogram
                .iter()
                .position(|(_, w)| {
                    seen += w;
                    seen >= weight / 2.0
                })
                .map_or(1.0, at_bin)
        };
        let _ = writeln!(
            out,
            "    ({bound}, {:.2}, {:.2}, {:.2}), // {total} tickets",
            quantile(0.10),
            weighted_median,
            quantile(0.90)
        );
    }
    out.push_str("];\n");
}
