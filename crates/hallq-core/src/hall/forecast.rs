//! The wait a citizen is promised: a point and an 80 % band, measured and tuned on simulated
//! hall days (`hallq-sim`, docs/benchmarks.md).
//!
//! The plain queue-length rule — people ahead × average service time ÷ windows — goes wrong in
//! a hall because windows are shared (一窗受理: a window serves its primary service first and
//! others only when that queue is empty, so "½ per secondary window" is a guess), because the
//! windows busy now free up at different moments, because the green channel and appointments
//! still to come overtake, and because a wait is skewed: a point that is the mean is too long
//! for most citizens and far too short for a few.
//!
//! The forecast therefore **draws futures** of the hall as it stands (a Monte Carlo replay):
//! every open window, when it is next free, takes the ticket the call order gives it; each
//! service takes a time drawn from that service's own recent times (their moving mean and
//! log-spread, long-tailed as counters are; a service in progress only what is left of it,
//! given how long it has run); tickets keep arriving at each queue and class at the rate they
//! have lately (the green channel and appointments overtaking, walk-ins keeping shared
//! windows on their primary queue). Of `DRAWS` such futures the median wait is the point (the
//! one with the least expected absolute error) and the 10th to 90th percentile the band, which
//! narrows as the queue moves because fewer people ahead scatter less.
//!
//! The draws are seeded from what has happened in the hall (tickets issued, called, finished),
//! not from the clock: the same hall gives the same forecast (one for all tickets agrees with
//! each ticket's own), and the band printed on a ticket is the one its page shows a moment
//! later, until the queue moves. The state they start
//! from is copied out of the hall in one short step (`Hall::forecast_plan`), so the draws run
//! outside the engine's read lock.

use super::queue::QueueEntry;
use super::Hall;
use crate::ids::{ServiceId, TicketId};
use crate::ordering::call_order_key;
use crate::ticket::{PriorityClass, TicketStatus};
use jiff::Timestamp;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// Futures drawn per forecast. The median of 32 draws was itself noisy enough to cost a
/// third of a point of the error (of the mean wait) on simulated days; 64 cost about 0.5 ms
/// a forecast for a hall's queues.
const DRAWS: usize = 64;
/// More arrivals than this per second across the hall is no hall's day (the busiest see a
/// ticket every few seconds at their peak; a hundred windows serve one every three): no
/// future is drawn.
const BURST_ARRIVALS_PER_S: f64 = 1.0;
/// Beyond this many waiting, fewer futures are drawn (never fewer than `DRAWS_FEWEST`), so
/// that a forecast's cost stops growing with the queue: each draw replays every waiting
/// ticket, and a burst of issues (a load test) of a few hundred waiting made each issue cost
/// milliseconds. The busiest simulated days rarely pass it.
const WAITING_ALL_DRAWS: usize = 100;
const DRAWS_FEWEST: usize = 12;
/// The replay looks no further ahead than this.
const REPLAY_HORIZON_S: f64 = 10.0 * 3600.0;
/// Beyond this many waiting tickets (a load test or a burst, not a hall's day: the busiest
/// simulated days keep under 200) no future is drawn and the plain rule answers, with its
/// calibrated band.
const WAITING_DRAWN_MAX: usize = 400;
/// Each draw's work limit: tickets taken plus arrivals drawn. A draw that has not reached its
/// ticket by then counts as beyond the horizon; when most do, the plain rule answers. This
/// bounds a forecast's cost even when a burst of issues makes the recent arrival rate huge.
const DRAW_WORK_MAX: usize = 3_000;
/// A service running past its usual length still needs at least this share of its mean.
const RESIDUAL_SHARE: f64 = 0.35;
/// A window paused this many times longer than a pause usually lasts is not expected back.
const ABANDONED_PAUSES: f64 = 4.0;

/// What a waiting citizen is told: a point (for the plain "约 N 分钟") and an 80 % band, and
/// the expected wait they are made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitForecast {
    pub point_s: u64,
    pub low_s: u64,
    pub high_s: u64,
    /// The median of the drawn waits (the plain rule's estimate when none were drawn).
    pub expected_s: u64,
    /// Whether futures were drawn (else the plain rule answered).
    pub drawn: bool,
}

/// Waits are calibrated as (wait + 60 s): a minute either way matters when the call is due,
/// not when it is an hour off.
pub const CALIBRATION_OFFSET_S: f64 = 60.0;

/// The drawn median made the point and the band: per row, up to that many people ahead, the
/// multipliers of (drawn median + 60 s) that give the band's ends — the 10th and 90th
/// percentiles of (actual wait + 60 s) ÷ (drawn median + 60 s) — and the point: their median
/// weighted by (drawn median + 60 s), the multiplier with the least absolute error in seconds.
/// Measured on simulated days other than those the figures are reported on (`hallq-sim --seed
/// 1000 --days 100 --seeds 5 --calibrate`, docs/benchmarks.md). By people ahead rather than by
/// the draws' own scatter: the 10th and 90th of the draws move a little as the clock moves, and
/// a band that jumped with them would not be the one printed on the ticket a moment before
/// (measured: no better a point either).
pub const DRAWN_CALIBRATION: &[(usize, f64, f64, f64)] = &[
    (0, 0.54, 1.01, 1.92),
    (1, 0.48, 1.01, 2.20),
    (2, 0.54, 1.01, 1.92),
    (4, 0.60, 0.99, 1.70),
    (7, 0.66, 0.99, 1.48),
    (12, 0.73, 0.99, 1.26),
    (20, 0.81, 0.99, 1.19),
    (usize::MAX, 0.76, 0.95, 1.14),
];

/// When no future can be drawn (no open window serves the ticket, or a queue far beyond a
/// hall's), the plain rule's estimate is spread by people ahead: per row, up to that many
/// ahead, the same multipliers of (the plain rule + 60 s).
pub const CALIBRATION: &[(usize, f64, f64, f64)] = &[
    (0, 1.12, 1.63, 8.25),
    (1, 0.76, 1.92, 5.00),
    (2, 0.86, 1.73, 3.94),
    (4, 0.88, 1.57, 3.42),
    (7, 0.88, 1.42, 2.92),
    (12, 0.84, 1.26, 2.48),
    (20, 0.75, 1.09, 1.99),
    (usize::MAX, 0.68, 0.93, 1.88),
];

/// A calibration table's row for `ahead` people ahead: its low, mid and high multipliers.
fn row(table: &[(usize, f64, f64, f64)], ahead: usize) -> (f64, f64, f64) {
    let (_, low, mid, high) = table
        .iter()
        .copied()
        .find(|(bound, ..)| ahead <= *bound)
        .unwrap_or(table[table.len() - 1]);
    (low, mid, high)
}

impl WaitForecast {
    /// The band in whole minutes as people read it: "约 15–25 分钟". Short waits in minutes,
    /// longer ones to five minutes (the lower end down, the upper end up), never a band of
    /// one number. `(0, 0)` when the call is due any moment.
    pub fn minutes(&self) -> (u64, u64) {
        let low = self.low_s / 60;
        let high = self.high_s.div_ceil(60);
        if high <= 1 {
            return (0, 0);
        }
        let (low, high) = if high > 10 {
            (low / 5 * 5, high.div_ceil(5) * 5)
        } else {
            (low, high)
        };
        (low, high.max(low + 1))
    }

    /// The plain rule's expectation, spread by the measured calibration.
    pub(super) fn from_expected(expected_s: f64, ahead: usize) -> Self {
        let expected_s = expected_s.max(0.0);
        Self::calibrated(expected_s, row(CALIBRATION, ahead), false)
    }

    /// The median of the drawn waits, calibrated.
    fn from_draws(waits: &mut [f64], ahead: usize) -> Self {
        waits.sort_unstable_by(f64::total_cmp);
        let middle = waits.len() / 2;
        let median = if waits.len() % 2 == 1 {
            waits[middle]
        } else {
            (waits[middle - 1] + waits[middle]) / 2.0
        };
        Self::calibrated(median, row(DRAWN_CALIBRATION, ahead), true)
    }

    /// `base` (a median or the plain rule) made the point and the band by the multipliers of
    /// (wait + 60 s).
    fn calibrated(base_s: f64, (low, mid, high): (f64, f64, f64), drawn: bool) -> Self {
        let base = base_s + CALIBRATION_OFFSET_S;
        let at =
            |multiplier: f64| (base * multiplier - CALIBRATION_OFFSET_S).max(0.0).round() as u64;
        Self {
            point_s: at(mid),
            low_s: at(low),
            high_s: at(high),
            expected_s: base_s.round() as u64,
            drawn,
        }
    }
}

/// A service as the draws see it.
#[derive(Clone, Debug)]
struct ServiceDraw {
    /// ln of the median service time, and the log-spread.
    log_median: f64,
    sigma: f64,
    mean_s: f64,
    /// Arrivals per second by priority class (rank) from now on, in pieces: (until, rates),
    /// `until` in seconds from now, the last piece for ever.
    rates: Vec<(f64, [f64; 3])>,
    /// The share of today's tickets that left before their call (walked away, cancelled).
    leaves: f64,
}

impl ServiceDraw {
    fn sample(&self, rng: &mut Draws) -> f64 {
        (self.log_median + self.sigma * rng.normal())
            .exp()
            .clamp(10.0, 4.0 * 3600.0)
    }

    /// What is left of a service that has run `elapsed` seconds: a time drawn from the
    /// service's times longer than that.
    fn residual(&self, rng: &mut Draws, elapsed: f64) -> f64 {
        for _ in 0..24 {
            let total = self.sample(rng);
            if total > elapsed {
                return (total - elapsed).max(1.0);
            }
        }
        self.mean_s * RESIDUAL_SHARE
    }

    /// The piece of the rates in force at `at_s`.
    fn rates_at(&self, at_s: f64) -> [f64; 3] {
        self.rates
            .iter()
            .find(|(until, _)| at_s < *until)
            .or(self.rates.last())
            .map(|(_, rates)| *rates)
            .unwrap_or_default()
    }

    /// The next arrival after `from_s`, drawn from the rates in force (a Poisson process
    /// whose rate changes piece by piece); infinity when none is expected.
    fn next_arrival(&self, rng: &mut Draws, from_s: f64) -> f64 {
        let mut needed = rng.exponential(1.0);
        let mut at = from_s;
        for (until, rates) in &self.rates {
            if *until <= at {
                continue;
            }
            let rate: f64 = rates.iter().sum();
            if rate > 0.0 {
                let step = needed / rate;
                if at + step < *until {
                    return at + step;
                }
                needed -= rate * (until - at);
            }
            at = *until;
        }
        f64::INFINITY
    }

    fn arriving_class(&self, rng: &mut Draws, at_s: f64) -> PriorityClass {
        let rates = self.rates_at(at_s);
        let pick = rng.unit() * rates.iter().sum::<f64>();
        if pick < rates[0] {
            PriorityClass::Green
        } else if pick < rates[0] + rates[1] {
            PriorityClass::Appointment
        } else {
            PriorityClass::WalkIn
        }
    }
}

/// An open window as the draws see it.
#[derive(Clone, Debug)]
struct WindowDraw {
    /// Positions of its services, primary first.
    services: Vec<usize>,
    /// The service of the ticket it is serving, and for how long it has been.
    busy: Option<(usize, f64)>,
    /// Paused now: when it is expected back (seconds from now).
    away_for: Option<f64>,
    /// Its planned breaks of today, in milliseconds from now (start, end): whole numbers, as
    /// the draws' clock is, so that a window back at a break's end is not still in it.
    breaks: Vec<(i64, i64)>,
}

/// The hall's state a forecast starts from, copied out in one short step so that the draws
/// need no lock on the hall.
#[derive(Clone, Debug)]
pub struct ForecastPlan {
    now: Timestamp,
    ageing_s: u32,
    /// Each queue's waiting tickets by priority class (`PriorityClass::rank`), each class in
    /// the order it queued: the order inside a class never changes, while which class comes
    /// first does as walk-ins age (see `ForecastPlan::draw`).
    queues: Vec<[Vec<QueueEntry>; 3]>,
    services: Vec<ServiceDraw>,
    windows: Vec<WindowDraw>,
    /// Each waiting ticket's people ahead and the plain rule's estimate.
    positions: HashMap<TicketId, (usize, u64)>,
    /// Whether futures can be drawn at all (not too many waiting).
    drawable: bool,
    /// Where the draws' random numbers start: a function of the hall's history so far.
    seed: u64,
    /// How many futures are drawn (fewer when many wait).
    draws: usize,
}

/// The front a window takes in a draw: its call-order key (with the ticket), its queue and
/// its class.
struct Pick {
    key: ((u8, i128, i128), TicketId),
    position: usize,
    class_rank: usize,
}

/// Draws that have not reached their ticket, in a row from the first, after which no more
/// are drawn and the plain rule answers. A burst of issues (a load test; no hall's day) makes
/// the last minutes' arrival rate absurd, every draw then runs into its work limit without
/// reaching the ticket, and drawing all of them made each issue cost ten milliseconds.
const HOPELESS_DRAWS: usize = 4;

/// Whether the first `HOPELESS_DRAWS` draws (in the order drawn) all failed to reach the
/// ticket.
fn hopeless(waits: &[f64]) -> bool {
    waits.len() >= HOPELESS_DRAWS
        && waits[..HOPELESS_DRAWS]
            .iter()
            .all(|&wait| wait >= REPLAY_HORIZON_S)
}

/// The priority classes by rank (`PriorityClass::rank`).
const CLASSES: [PriorityClass; 3] = [
    PriorityClass::Green,
    PriorityClass::Appointment,
    PriorityClass::WalkIn,
];

/// Tickets that only exist in a draw (arrivals to come, a newcomer asking) are numbered from
/// here down, far above any real ticket.
const DRAWN_TICKETS_FROM: u64 = u64::MAX - (1 << 32);

impl Hall {
    /// The state a forecast of every waiting ticket needs, copied out of the hall: O(waiting
    /// tickets), the draws themselves then need no access to the hall.
    pub fn forecast_plan(&self, now: Timestamp) -> ForecastPlan {
        let waiting = self
            .queues
            .iter()
            .flat_map(|queue| queue.waiting.iter().flat_map(|set| set.iter()))
            .map(|(_, id)| *id);
        self.plan(now, waiting)
    }

    /// The state the forecast of one waiting ticket needs (the others' positions left out).
    pub fn forecast_plan_for(&self, id: TicketId, now: Timestamp) -> ForecastPlan {
        self.plan(now, std::iter::once(id))
    }

    fn plan(&self, now: Timestamp, forecast_for: impl Iterator<Item = TicketId>) -> ForecastPlan {
        let ageing_s = self.spec.policy.ageing_max_wait_s;
        let waiting: usize = self.queues.iter().map(|q| q.waiting_len()).sum();
        let services: Vec<ServiceDraw> = self
            .queues
            .iter()
            .zip(&self.counts)
            .enumerate()
            .map(|(index, (queue, counts))| {
                let left = counts
                    .issued
                    .saturating_sub(counts.called)
                    .saturating_sub(queue.waiting_len() as u32);
                let leaves = if counts.issued >= 20 {
                    (f64::from(left) / f64::from(counts.issued)).min(0.5)
                } else {
                    0.0
                };
                // The steadier fit of the service's times: the moving average the hall shows
                // follows the last few citizens, which is right for "average service time"
                // on a screen and too jumpy for a forecast an hour ahead.
                let (log_median, sigma) = queue.average.fit();
                ServiceDraw {
                    log_median,
                    sigma,
                    mean_s: (log_median + sigma * sigma / 2.0).exp(),
                    rates: self.arrival_rates(index, queue, now),
                    leaves,
                }
            })
            .collect();
        // Arrivals faster than any hall's (a load test, a kiosk gone wrong) make futures
        // meaningless and each draw as long as its work limit: the plain rule answers.
        let arriving_per_s: f64 = services
            .iter()
            .map(|service| service.rates_at(0.0).iter().sum::<f64>())
            .sum();
        let drawable = waiting <= WAITING_DRAWN_MAX && arriving_per_s <= BURST_ARRIVALS_PER_S;
        let queues = self
            .queues
            .iter()
            .filter(|_| drawable)
            .map(|queue| std::array::from_fn(|rank| queue.waiting[rank].iter().copied().collect()))
            .collect();
        let windows = (0..self.windows.len())
            .filter_map(|index| self.window_draw(index, now))
            .collect();
        let positions = forecast_for
            .filter_map(|id| Some((id, self.position(id, now)?)))
            .collect();
        let seed = self
            .counts
            .iter()
            .fold(self.last_ticket_id, |seed, counts| {
                let moved =
                    u64::from(counts.called) << 32 | u64::from(counts.completed + counts.no_show);
                seed.rotate_left(17) ^ moved.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            });
        let draws = if waiting <= WAITING_ALL_DRAWS {
            DRAWS
        } else {
            (DRAWS * WAITING_ALL_DRAWS / waiting).max(DRAWS_FEWEST)
        };
        ForecastPlan {
            draws,
            now,
            ageing_s,
            queues,
            services,
            windows,
            positions,
            drawable,
            seed,
        }
    }

    /// The forecast of every waiting ticket at `now`: what many citizens' pages share.
    pub fn forecast_all(&self, now: Timestamp) -> HashMap<TicketId, WaitForecast> {
        self.forecast_plan(now).forecast_all()
    }

    /// The forecast of a waiting ticket now; `None` when it is not waiting.
    pub fn forecast(&self, id: TicketId, now: Timestamp) -> Option<WaitForecast> {
        let ticket = self.tickets.get(&id)?;
        if ticket.status != TicketStatus::Waiting {
            return None;
        }
        self.forecast_plan_for(id, now).forecast(id)
    }

    /// What a walk-in taking a ticket for `service` now should expect.
    pub fn forecast_for_walk_in(&self, service: &ServiceId, now: Timestamp) -> WaitForecast {
        let Some(&index) = self.service_index.get(service) else {
            return WaitForecast::from_expected(0.0, 0);
        };
        let mut plan = self.plan(now, std::iter::empty());
        let ahead = self.queues[index].waiting_len();
        let plain = crate::estimate::wait_estimate_s(
            ahead,
            self.queues[index].average.average_s(),
            self.window_capacity(service),
        );
        let newcomer = TicketId(DRAWN_TICKETS_FROM);
        if let Some(queue) = plan.queues.get_mut(index) {
            queue[usize::from(PriorityClass::WalkIn.rank())].push((now, newcomer));
        }
        plan.positions.insert(newcomer, (ahead, plain));
        plan.forecast(newcomer)
            .unwrap_or_else(|| WaitForecast::from_expected(plain as f64, ahead))
    }
}

impl Hall {
    /// A window as the draws see it; `None` when it is not expected to serve (paused far
    /// longer than pauses last: unstaffed today).
    fn window_draw(&self, index: usize, now: Timestamp) -> Option<WindowDraw> {
        let (spec, state) = (&self.spec.windows[index], &self.windows[index]);
        let pause_s = self.pause_length.average_s();
        let paused_for = self.paused_since[index]
            .map(|at| (now.as_second() - at.as_second()).max(0) as f64)
            .unwrap_or(0.0);
        let paused = state.status == super::WindowStatus::Paused;
        // Today's breaks still to come or under way, in milliseconds from now.
        let now_minute = self.minute_of_day(now);
        let from_now_ms =
            |minute: u16| ((f64::from(minute) - now_minute) * 60_000.0).round() as i64;
        let breaks: Vec<(i64, i64)> = spec
            .breaks
            .iter()
            .filter(|b| f64::from(b.end_minute) > now_minute)
            .map(|b| (from_now_ms(b.start_minute), from_now_ms(b.end_minute)))
            .collect();
        // Paused now. On a planned break, its staff are back a break's length after they went
        // (they finish the citizen in front of them first), never before its planned end, and
        // however long the break has lasted so far. Otherwise after what pauses usually last,
        // and not at all when paused far longer than that (nobody at the window today).
        let planned =
            self.paused_since[index].and_then(|since| self.planned_break_at(index, since));
        let away_for = match (paused, planned) {
            (false, _) => None,
            (true, Some((start_minute, end_minute))) => {
                let until_end = (end_minute - now_minute) * 60.0;
                let length = (end_minute - start_minute) * 60.0;
                Some(
                    until_end
                        .max(length - paused_for)
                        .max(pause_s * RESIDUAL_SHARE),
                )
            }
            (true, None) if paused_for >= pause_s * ABANDONED_PAUSES => return None,
            (true, None) => Some((pause_s - paused_for).max(pause_s * RESIDUAL_SHARE)),
        };
        let busy = state
            .current
            .and_then(|id| self.tickets.get(&id))
            .and_then(|ticket| {
                let service = *self.service_index.get(&ticket.service)?;
                let elapsed = ticket
                    .called_at
                    .map(|at| (now.as_millisecond() - at.as_millisecond()).max(0))
                    .unwrap_or(0) as f64
                    / 1000.0;
                Some((service, elapsed))
            });
        Some(WindowDraw {
            services: spec
                .services
                .iter()
                .filter_map(|service| self.service_index.get(service).copied())
                .collect(),
            busy,
            away_for,
            breaks,
        })
    }

    /// The arrivals a queue may expect from `now` on: the usual day learned from the days
    /// before (scaled by how busy today has been lately), or when none is learned yet the
    /// rate of the last half hour kept up.
    fn arrival_rates(
        &self,
        index: usize,
        queue: &super::queue::ServiceQueue,
        now: Timestamp,
    ) -> Vec<(f64, [f64; 3])> {
        let recent = queue.arrivals.map(|rate| rate.per_second(now));
        let profile = &self.arrival_profiles[index];
        if profile.days() == 0 {
            return vec![(f64::INFINITY, recent)];
        }
        let second = self.minute_of_day(now) * 60.0;
        let level = profile.level(second, 3600.0);
        let slot = crate::estimate::PROFILE_SLOT_S;
        let mut pieces = Vec::new();
        let mut start = second;
        while start < 86_400.0 {
            let end = ((start / slot).floor() + 1.0) * slot;
            let rates = std::array::from_fn(|rank| profile.usual_rate(rank, start) * level);
            pieces.push((end - second, rates));
            start = end;
        }
        pieces
    }

    /// Minutes after the hall's midnight at `at`, with the fraction.
    pub(super) fn minute_of_day(&self, at: Timestamp) -> f64 {
        let time = at.to_zoned(self.tz.clone()).time();
        f64::from(time.hour()) * 60.0 + f64::from(time.minute()) + f64::from(time.second()) / 60.0
    }

    /// Whether a pause begun at `at` is one of the window's planned breaks.
    pub(super) fn in_planned_break(&self, window: usize, at: Timestamp) -> bool {
        self.planned_break_at(window, at).is_some()
    }

    /// The planned break (start and end, minutes of the day) a pause begun at `at` is taking:
    /// begun within the break or up to a quarter of an hour before it.
    fn planned_break_at(&self, window: usize, at: Timestamp) -> Option<(f64, f64)> {
        let minute = self.minute_of_day(at);
        self.spec.windows[window]
            .breaks
            .iter()
            .map(|b| (f64::from(b.start_minute), f64::from(b.end_minute)))
            .find(|(start, end)| start - 15.0 <= minute && minute < *end)
    }
}

impl ForecastPlan {
    /// The forecast of one waiting ticket; `None` when it is not waiting.
    pub fn forecast(&self, target: TicketId) -> Option<WaitForecast> {
        let &(ahead, plain) = self.positions.get(&target)?;
        let mut waits = Vec::with_capacity(self.draws);
        if self.drawable {
            for draw in 0..self.draws {
                let mut reached = None;
                self.draw(draw, |id, at_s| {
                    if id == target {
                        reached = Some(at_s);
                        return true;
                    }
                    false
                });
                waits.push(reached.unwrap_or(REPLAY_HORIZON_S));
                if hopeless(&waits) {
                    break;
                }
            }
        }
        Some(self.finish(&mut waits, ahead, plain))
    }

    /// The forecast of every waiting ticket, from the same draws.
    pub fn forecast_all(&self) -> HashMap<TicketId, WaitForecast> {
        let mut waits: HashMap<TicketId, Vec<f64>> = HashMap::new();
        if self.drawable {
            for draw in 0..self.draws {
                let mut reached = 0;
                self.draw(draw, |id, at_s| {
                    if let Some(samples) = waits.get_mut(&id) {
                        samples.push(at_s);
                    } else if self.positions.contains_key(&id) {
                        waits.insert(id, vec![at_s]);
                    }
                    reached += 1;
                    reached == self.positions.len()
                });
                // Tickets this draw did not reach wait beyond the horizon.
                for (id, samples) in waits.iter_mut() {
                    if samples.len() <= draw && self.positions.contains_key(id) {
                        samples.push(REPLAY_HORIZON_S);
                    }
                }
                for id in self.positions.keys() {
                    waits
                        .entry(*id)
                        .or_insert_with(|| vec![REPLAY_HORIZON_S; draw + 1]);
                }
            }
        }
        self.positions
            .iter()
            .map(|(id, &(ahead, plain))| {
                let mut samples = waits.remove(id).unwrap_or_default();
                (*id, self.finish(&mut samples, ahead, plain))
            })
            .collect()
    }

    /// The forecast from a ticket's drawn waits; the plain rule when the draws could not
    /// reach it (no open window serves it, or too many wait).
    fn finish(&self, waits: &mut [f64], ahead: usize, plain: u64) -> WaitForecast {
        let reached = waits.iter().filter(|&&w| w < REPLAY_HORIZON_S).count();
        if waits.is_empty() || hopeless(waits) || reached * 2 < waits.len() {
            return WaitForecast::from_expected(plain as f64, ahead);
        }
        WaitForecast::from_draws(waits, ahead)
    }

    /// One drawn future of the hall: tells `called(ticket, seconds from now)` for each real
    /// ticket a window takes, until it answers true, every real ticket is taken, or the
    /// horizon or the work limit is reached.
    fn draw(&self, draw: usize, mut called: impl FnMut(TicketId, f64) -> bool) {
        let mut rng = Draws::new(self.seed, draw as u64);
        let mut queues = self.queues.clone();
        let mut real_left: usize = queues.iter().flatten().map(Vec::len).sum();
        // Queues are taken from the front: a read index per queue and class, not shifting.
        let mut fronts = vec![[0usize; 3]; queues.len()];
        let mut next_arrival: Vec<f64> = self
            .services
            .iter()
            .map(|service| service.next_arrival(&mut rng, 0.0))
            .collect();
        let mut drawn_ids = DRAWN_TICKETS_FROM + 1;
        // Open windows by when they are next free (in milliseconds from now).
        let mut free: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
        for (index, window) in self.windows.iter().enumerate() {
            let busy_for = match (window.away_for, window.busy) {
                (Some(away), _) => away,
                (None, Some((service, elapsed))) => {
                    self.services[service].residual(&mut rng, elapsed)
                }
                (None, None) => 0.0,
            };
            free.push(Reverse(((busy_for * 1000.0).ceil() as i64, index)));
        }
        // Tickets taken and arrivals drawn so far (`DRAW_WORK_MAX`).
        let mut work = 0usize;
        while let Some(Reverse((free_ms, window))) = free.pop() {
            let at_s = free_ms as f64 / 1000.0;
            work += 1;
            if work > DRAW_WORK_MAX || at_s > REPLAY_HORIZON_S {
                return;
            }
            // A window free during one of its breaks goes now and takes the whole break: back
            // a break's length later, never before the planned end.
            if let Some((start, end)) = self.windows[window]
                .breaks
                .iter()
                .find(|(start, end)| *start <= free_ms && free_ms < *end)
            {
                free.push(Reverse(((*end).max(free_ms + (end - start)), window)));
                continue;
            }
            // Whoever has arrived by then joins the end of their class's queue.
            for (position, service) in self.services.iter().enumerate() {
                while next_arrival[position] <= at_s {
                    work += 1;
                    if work > DRAW_WORK_MAX {
                        return;
                    }
                    let class = service.arriving_class(&mut rng, next_arrival[position]);
                    let queued_at = self.now
                        + jiff::SignedDuration::from_millis(
                            (next_arrival[position] * 1000.0) as i64,
                        );
                    queues[position][usize::from(class.rank())]
                        .push((queued_at, TicketId(drawn_ids)));
                    drawn_ids += 1;
                    next_arrival[position] = service.next_arrival(&mut rng, next_arrival[position]);
                }
            }
            // The window takes the smallest call-order key among the fronts of its queues'
            // classes, as the keys stand at that moment: a walk-in long enough in the queue
            // has aged into the first tier and comes before a green-channel ticket that came
            // after it (inside a class the order never changes, so the fronts are enough).
            let moment = self.now + jiff::SignedDuration::from_millis(free_ms);
            let mut best: Option<Pick> = None;
            for (rank, &position) in self.windows[window].services.iter().enumerate() {
                for (class_rank, class) in CLASSES.into_iter().enumerate() {
                    let front = fronts[position][class_rank];
                    if let Some(&(queued_at, id)) = queues[position][class_rank].get(front) {
                        let key = (
                            call_order_key(class, queued_at, rank, moment, self.ageing_s),
                            id,
                        );
                        if best.as_ref().is_none_or(|best| key < best.key) {
                            best = Some(Pick {
                                key,
                                position,
                                class_rank,
                            });
                        }
                    }
                }
            }
            let Some(Pick {
                key: (_, id),
                position,
                class_rank,
            }) = best
            else {
                // Nothing for this window now: it waits for the next arrival it serves.
                let wake = self.windows[window]
                    .services
                    .iter()
                    .map(|&position| next_arrival[position])
                    .fold(f64::INFINITY, f64::min);
                if wake < REPLAY_HORIZON_S && real_left > 0 {
                    // An idle window whose break begins before that goes at the break's start.
                    let wake_ms = (wake * 1000.0).ceil() as i64;
                    let wake_ms = self.windows[window]
                        .breaks
                        .iter()
                        .map(|(start, _)| *start)
                        .find(|start| free_ms < *start && *start < wake_ms)
                        .unwrap_or(wake_ms);
                    free.push(Reverse((wake_ms, window)));
                }
                continue;
            };
            fronts[position][class_rank] += 1;
            if id.0 < DRAWN_TICKETS_FROM || self.positions.contains_key(&id) {
                if called(id, at_s) {
                    return;
                }
                real_left -= 1;
                if real_left == 0 {
                    return;
                }
            }
            // Some of those ahead will have walked away by their turn: the window goes on.
            let service = &self.services[position];
            let service_ms = if rng.unit() < service.leaves {
                1000
            } else {
                (service.sample(&mut rng) * 1000.0) as i64
            };
            free.push(Reverse((free_ms + service_ms, window)));
        }
    }
}

/// The draws' random source (SplitMix64): small, fully specified, seeded from the hall's
/// history and the draw's number, so that a forecast is a function of the hall's state.
struct Draws {
    state: u64,
}

impl Draws {
    fn new(seed: u64, draw: u64) -> Self {
        let mut rng = Self {
            state: seed ^ draw.wrapping_mul(0xD1B5_4A32_D192_ED03),
        };
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.unit();
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::WaitForecast;

    #[test]
    fn one_forecast_for_all_agrees_with_each_ticket_s_own() {
        use crate::fixtures::*;
        use crate::{Command, Hall, PriorityClass, WindowId};
        let now = friday_at(0);
        let mut hall = Hall::new(two_service_hall(), shanghai());
        hall.advance_to(now);
        let mut ids = Vec::new();
        for n in 0..12 {
            let service = if n % 3 == 0 { "a" } else { "b" };
            let class = if n == 7 {
                PriorityClass::Green
            } else {
                PriorityClass::WalkIn
            };
            let token = format!("t{n}");
            ids.push(
                hall.execute(&issue(service, class, &token), now)
                    .unwrap()
                    .ticket
                    .unwrap(),
            );
        }
        hall.execute(
            &Command::CallNext {
                window: WindowId::new("w1"),
                staff: None,
            },
            now,
        )
        .unwrap();
        let all = hall.forecast_all(now);
        let mut last_b = 0;
        for id in ids {
            match hall.forecast(id, now) {
                Some(own) => {
                    assert_eq!(all.get(&id), Some(&own));
                    assert!(own.low_s <= own.point_s && own.point_s <= own.high_s);
                    if hall.ticket(id).unwrap().service.as_str() == "b"
                        && hall.ticket(id).unwrap().priority == PriorityClass::WalkIn
                    {
                        // Later walk-ins of one queue never expect to be called sooner.
                        assert!(own.point_s >= last_b, "{own:?} after {last_b}");
                        last_b = own.point_s;
                    }
                }
                None => assert!(!all.contains_key(&id)),
            }
        }
        // The same hall at the same moment gives the same forecast.
        assert_eq!(hall.forecast_all(now), all);
    }

    #[test]
    fn the_band_on_the_ticket_is_the_one_its_page_shows_a_moment_later() {
        use crate::fixtures::*;
        use crate::{Hall, PriorityClass};
        let now = friday_at(0);
        let mut hall = Hall::new(two_service_hall(), shanghai());
        hall.advance_to(now);
        let mut last = None;
        for n in 0..8 {
            let token = format!("t{n}");
            last = hall
                .execute(&issue("a", PriorityClass::WalkIn, &token), now)
                .unwrap()
                .ticket;
        }
        let at_issue = hall.forecast(last.unwrap(), now).unwrap();
        // Nothing happened in the hall: the draws are the same, only the clock moved on.
        for later_ms in [1, 400, 1_500, 3_000] {
            let later = now + jiff::SignedDuration::from_millis(later_ms);
            let on_the_page = hall.forecast(last.unwrap(), later).unwrap();
            for (then, now) in [
                (at_issue.low_s, on_the_page.low_s),
                (at_issue.point_s, on_the_page.point_s),
                (at_issue.high_s, on_the_page.high_s),
            ] {
                assert!(
                    then.abs_diff(now) * 100 <= then.max(100),
                    "{at_issue:?} then {on_the_page:?} {later_ms} ms later"
                );
            }
        }
    }

    #[test]
    fn a_burst_beyond_any_hall_s_queue_is_answered_by_the_plain_rule() {
        use crate::fixtures::*;
        use crate::{Hall, PriorityClass};
        let now = friday_at(0);
        let mut hall = Hall::new(two_service_hall(), shanghai());
        hall.advance_to(now);
        let mut last = None;
        for n in 0..=super::WAITING_DRAWN_MAX {
            let token = format!("t{n}");
            last = hall
                .execute(&issue("a", PriorityClass::WalkIn, &token), now)
                .unwrap()
                .ticket;
        }
        let (ahead, plain) = hall.position(last.unwrap(), now).unwrap();
        let forecast = hall.forecast(last.unwrap(), now).unwrap();
        assert_eq!(forecast, WaitForecast::from_expected(plain as f64, ahead));
        assert!(forecast.low_s < forecast.point_s && forecast.point_s < forecast.high_s);
    }

    #[test]
    fn minutes_as_people_read_them() {
        let band = |low_s, high_s| WaitForecast {
            point_s: low_s,
            low_s,
            high_s,
            expected_s: low_s,
            drawn: true,
        };
        assert_eq!(band(0, 50).minutes(), (0, 0));
        assert_eq!(band(30, 170).minutes(), (0, 3));
        assert_eq!(band(125, 125).minutes(), (2, 3));
        assert_eq!(band(14 * 60 + 50, 23 * 60 + 10).minutes(), (10, 25));
        assert_eq!(band(41 * 60, 58 * 60).minutes(), (40, 60));
    }

    #[test]
    fn the_band_narrows_as_the_queue_moves_and_holds_the_point() {
        use crate::fixtures::*;
        use crate::{Command, Hall, PriorityClass, WindowId};
        let now = friday_at(0);
        let mut hall = Hall::new(two_service_hall(), shanghai());
        hall.advance_to(now);
        let ids: Vec<_> = (0..20)
            .map(|n| {
                hall.execute(&issue("a", PriorityClass::WalkIn, &format!("t{n}")), now)
                    .unwrap()
                    .ticket
                    .unwrap()
            })
            .collect();
        hall.execute(
            &Command::CallNext {
                window: WindowId::new("w1"),
                staff: None,
            },
            now,
        )
        .unwrap();
        let near = hall.forecast(ids[2], now).unwrap();
        let far = hall.forecast(ids[19], now).unwrap();
        for forecast in [far, near] {
            assert!(forecast.low_s < forecast.point_s && forecast.point_s < forecast.high_s);
        }
        assert!(far.point_s > near.point_s);
        let relative = |f: WaitForecast| (f.high_s - f.low_s) as f64 / f.point_s as f64;
        assert!(relative(far) < relative(near), "{far:?} {near:?}");
        // "About now" still has a band: the next minutes.
        let now_band = WaitForecast::from_expected(0.0, 0);
        assert_eq!(now_band.minutes().0, 0);
        assert!(now_band.high_s > 0);
    }

    /// One window serving one queue, three citizens waiting at `hour`:`minute` on a Friday,
    /// the window free (`paused`: its staff pressed pause a minute ago).
    fn forecast_of_the_last(breaks: &str, hour: i8, minute: i8, paused: bool) -> WaitForecast {
        use crate::fixtures::*;
        use crate::{Command, Hall, PriorityClass, WindowId};
        let mut spec = HallBuilder::new()
            .service("a", "A")
            .window("w1", &["a"])
            .build();
        if !breaks.is_empty() {
            spec.windows[0].breaks = vec![crate::DailyBreak::try_from(breaks.to_owned()).unwrap()];
        }
        let at = |seconds| local(jiff::civil::date(2026, 11, 27), hour, minute, seconds);
        let mut hall = Hall::new(spec, shanghai());
        hall.advance_to(at(-60));
        let window = WindowId::new("w1");
        if paused {
            hall.execute(
                &Command::Pause {
                    window: window.clone(),
                },
                at(-60),
            )
            .unwrap();
        }
        let mut last = None;
        for n in 0..3 {
            let token = format!("t{n}");
            last = hall
                .execute(&issue("a", PriorityClass::WalkIn, &token), at(0))
                .unwrap()
                .ticket;
        }
        hall.forecast(last.unwrap(), at(0)).unwrap()
    }

    #[test]
    fn a_window_on_its_planned_break_is_expected_back_when_it_ends() {
        // Two ahead at five minutes each: about ten minutes, with nobody away.
        let working = forecast_of_the_last("", 11, 0, false);
        assert!((300..=1200).contains(&working.point_s), "{working:?}");
        // At 12:05 the window's staff are at lunch until 13:00: nobody is called before.
        let at_lunch = forecast_of_the_last("12:00-13:00", 12, 5, false);
        assert!(
            at_lunch.point_s >= working.point_s + 40 * 60,
            "{at_lunch:?}"
        );
        // Seen from 11:00 the break is still ahead and the queue is served before noon, so
        // it changes nothing.
        let before_lunch = forecast_of_the_last("12:00-13:00", 11, 0, false);
        assert!(
            before_lunch.point_s <= working.point_s + 5 * 60,
            "{before_lunch:?}"
        );
    }

    #[test]
    fn a_paused_window_is_expected_back_after_a_usual_pause() {
        let working = forecast_of_the_last("", 10, 0, false);
        let paused = forecast_of_the_last("", 10, 0, true);
        // No pause seen yet today: the prior (a quarter of an hour) less the minute already
        // paused, and never less than a third of it.
        assert!(
            paused.point_s >= working.point_s + 4 * 60,
            "{paused:?} {working:?}"
        );
        assert!(
            paused.point_s <= working.point_s + 20 * 60,
            "{paused:?} {working:?}"
        );
        // Paused during its planned break, it is expected back when the break ends.
        let lunch = forecast_of_the_last("12:00-13:00", 12, 30, true);
        assert!(lunch.point_s >= working.point_s + 20 * 60, "{lunch:?}");
    }

    /// A hall of one service and one window with lunch 12:00–13:00, whose staff have taken
    /// three five-minute pauses this morning (so a pause is expected to last about ten).
    fn lunch_hall() -> (crate::Hall, crate::WindowId, impl Fn(i8, i8) -> Timestamp) {
        use crate::fixtures::*;
        use crate::{Command, Hall, WindowId};
        let mut spec = HallBuilder::new()
            .service("a", "A")
            .window("w1", &["a"])
            .build();
        spec.windows[0].breaks =
            vec![crate::DailyBreak::try_from("12:00-13:00".to_owned()).unwrap()];
        let at = |hour: i8, minute: i8| local(jiff::civil::date(2026, 11, 27), hour, minute, 0);
        let mut hall = Hall::new(spec, shanghai());
        hall.advance_to(at(8, 30));
        let window = WindowId::new("w1");
        for hour in [9, 10, 11] {
            hall.execute(
                &Command::Pause {
                    window: window.clone(),
                },
                at(hour, 0),
            )
            .unwrap();
            hall.execute(
                &Command::Resume {
                    window: window.clone(),
                },
                at(hour, 5),
            )
            .unwrap();
        }
        (hall, window, at)
    }

    fn issue_three(hall: &mut crate::Hall, at: Timestamp) -> crate::TicketId {
        use crate::fixtures::issue;
        let mut last = None;
        for n in 0..3 {
            last = hall
                .execute(
                    &issue("a", crate::PriorityClass::WalkIn, &format!("late{n}")),
                    at,
                )
                .unwrap()
                .ticket;
        }
        last.unwrap()
    }

    use jiff::Timestamp;

    #[test]
    fn a_window_long_at_lunch_is_still_expected_back_when_its_break_ends() {
        use crate::Command;
        let (mut hall, window, at) = lunch_hall();
        hall.execute(&Command::Pause { window }, at(12, 0)).unwrap();
        // At 12:50 the window has been paused five times longer than its pauses last, which
        // outside a planned break means nobody is coming back today; at lunch it means 13:00.
        let last = issue_three(&mut hall, at(12, 50));
        let forecast = hall.forecast(last, at(12, 50)).unwrap();
        // Ten minutes until 13:00, then two citizens ahead at five minutes each.
        assert!(
            (15 * 60..=30 * 60).contains(&forecast.point_s),
            "{forecast:?}"
        );
    }

    #[test]
    fn a_break_taken_late_lasts_its_whole_length() {
        use crate::fixtures::issue;
        use crate::{Command, PriorityClass};
        let (mut hall, window, at) = lunch_hall();
        // The window serves a long case from 11:50 to 12:20 and only then goes to lunch.
        hall.execute(&issue("a", PriorityClass::WalkIn, "long"), at(11, 50))
            .unwrap();
        hall.execute(
            &Command::CallNext {
                window: window.clone(),
                staff: None,
            },
            at(11, 50),
        )
        .unwrap();
        hall.execute(
            &Command::Complete {
                window: window.clone(),
                staff: None,
            },
            at(12, 20),
        )
        .unwrap();
        hall.execute(&Command::Pause { window }, at(12, 20))
            .unwrap();
        // Back at 13:20, an hour after it went: fifty minutes from 12:30, then two ahead.
        let last = issue_three(&mut hall, at(12, 30));
        let forecast = hall.forecast(last, at(12, 30)).unwrap();
        assert!(
            (55 * 60..=80 * 60).contains(&forecast.point_s),
            "{forecast:?}"
        );
    }

    #[test]
    fn what_the_days_before_taught_is_learned_live_and_again_at_a_restart() {
        use crate::fixtures::*;
        use crate::{
            Command, Hall, PastService, PastTicket, PriorityClass, RestoredState, WindowId,
        };
        let spec = HallBuilder::new()
            .service("a", "A")
            .window("w1", &["a"])
            .build();
        let thursday = jiff::civil::date(2026, 11, 26);
        let friday = jiff::civil::date(2026, 11, 27);
        // On Thursday a crowd of green-channel citizens came at 10:00, and each of the three
        // served took twenty minutes (the hall file says five).
        let mut live = Hall::new(spec.clone(), shanghai());
        live.advance_to(local(thursday, 8, 30, 0));
        for n in 0..12 {
            let at = local(thursday, 10, 0, n * 60);
            live.execute(&issue("a", PriorityClass::Green, &format!("g{n}")), at)
                .unwrap();
        }
        let window = WindowId::new("w1");
        for (call, done) in [(0, 20), (20, 40), (40, 60)] {
            live.execute(
                &Command::CallNext {
                    window: window.clone(),
                    staff: None,
                },
                local(thursday, 10, call, 0),
            )
            .unwrap();
            live.execute(
                &Command::Complete {
                    window: window.clone(),
                    staff: None,
                },
                local(thursday, 10, 0, done * 60),
            )
            .unwrap();
        }
        // What the store keeps of Thursday.
        let past: Vec<PastTicket> = live
            .tickets()
            .map(|ticket| PastTicket {
                day: thursday,
                service: ticket.number_service.clone(),
                priority: ticket.priority,
                issued_at: ticket.issued_at,
                served: ticket
                    .finished_at
                    .filter(|_| ticket.status == crate::TicketStatus::Completed)
                    .map(|finished_at| PastService {
                        service: ticket.service.clone(),
                        finished_at,
                        service_s: super::super::seconds_between(
                            ticket.called_at.unwrap(),
                            finished_at,
                        ),
                    }),
            })
            .collect();
        assert_eq!(past.iter().filter(|t| t.served.is_some()).count(), 3);
        // Friday 9:56: three walk-ins. The forecast expects Thursday's crowd again at 10:00,
        // ahead of the last of them, and twenty minutes a citizen.
        let now = local(friday, 9, 56, 0);
        live.advance_to(now);
        let last = issue_three(&mut live, now);
        let learned = live.forecast(last, now).unwrap();
        let mut fresh = Hall::new(spec.clone(), shanghai());
        fresh.advance_to(now);
        let fresh_last = issue_three(&mut fresh, now);
        let unaware = fresh.forecast(fresh_last, now).unwrap();
        assert!(
            learned.point_s > unaware.point_s + 15 * 60,
            "{learned:?} {unaware:?}"
        );
        // A restart reads Thursday back from the store and forecasts the same.
        let restored = Hall::restore(
            spec,
            shanghai(),
            RestoredState {
                day: Some(friday),
                tickets: live.tickets().cloned().collect(),
                last_ticket_id: live.last_ticket_id(),
                past_tickets: past,
                ..Default::default()
            },
        );
        assert_eq!(restored.forecast(last, now), Some(learned));
    }
}
