//! The wait a citizen is promised: a point and an 80 % band, measured and tuned on simulated
//! hall days (`hallq-sim`, docs/benchmarks.md).
//!
//! The plain queue-length rule — people ahead × average service time ÷ windows — goes wrong in
//! a hall because windows are shared (一窗受理: a window serves its primary service first and
//! others only when that queue is empty, so "½ per secondary window" is a guess), because the
//! windows busy now free up at different moments, and because a wait is skewed: a point that is
//! the mean is too long for most citizens and far too short for a few.
//!
//! The forecast therefore **replays** the windows' choices: every open window, when it is next
//! free (a busy one after what remains of its current service), takes the ticket the call order
//! gives it from the queues as they stand, each service taking its moving-average time, until
//! the citizen's ticket is taken. That expected wait is then **calibrated**: by people ahead,
//! the 10th, 50th and 90th percentiles of actual ÷ expected measured on simulated days give the
//! band and the point (the median, which minimises the absolute error of a skewed wait). The
//! band narrows as the queue moves, because fewer people ahead scatter less.
//!
//! Tried and measured, but left out because they did worse on the simulated days: blending in
//! the rate the queue was recently served at, and replaying the arrivals expected during the
//! wait (green channel and appointments overtaking, primary services holding shared windows).

use super::queue::QueueEntry;
use super::Hall;
use crate::ids::{ServiceId, TicketId};
use crate::ordering::call_order_key;
use crate::ticket::{PriorityClass, TicketStatus};
use jiff::Timestamp;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

/// The replay looks no further ahead than this.
const REPLAY_HORIZON_S: f64 = 10.0 * 3600.0;
/// A service running past its average still needs this share of the average.
const RESIDUAL_SHARE: f64 = 0.35;
/// Beyond this many waiting tickets (a load test, not a hall) the replay is not run and the
/// plain rule answers: the replay costs a few microseconds per ticket.
const REPLAY_STEPS_MAX: usize = 2_000;

/// What a waiting citizen is told: a point (for the plain "约 N 分钟") and an 80 % band, and
/// the replay's expected wait they are made from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitForecast {
    pub point_s: u64,
    pub low_s: u64,
    pub high_s: u64,
    /// The replay's expected wait, before calibration.
    pub expected_s: u64,
}

/// Waits are calibrated on `expected + OFFSET_S`, so that "about now" has a band too.
pub const CALIBRATION_OFFSET_S: f64 = 60.0;

/// Measured on 200 simulated hall days (`hallq-sim --seed 1000 --days 200 --calibrate`, seeds
/// apart from those the figures in docs/benchmarks.md are measured on): by people ahead (up to
/// the first number), the 10th, 50th and 90th percentiles of (actual wait + 60 s) ÷ (expected
/// wait + 60 s). The point said is the median, the band the 10th to 90th percentile.
pub const CALIBRATION: &[(usize, f64, f64, f64)] = &[
    (0, 0.46, 1.14, 1.95),          // 38759 waits
    (1, 0.53, 1.21, 3.42),          // 12599 waits
    (2, 0.60, 1.19, 2.69),          // 9409 waits
    (4, 0.66, 1.23, 2.48),          // 14142 waits
    (7, 0.70, 1.23, 2.08),          // 14680 waits
    (12, 0.72, 1.14, 1.80),         // 12837 waits
    (20, 0.66, 0.99, 1.54),         // 5976 waits
    (usize::MAX, 0.55, 0.95, 1.51), // 888 waits
];

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

    pub(super) fn from_expected(expected_s: f64, ahead: usize) -> Self {
        let expected_s = expected_s.max(0.0);
        let (_, low, mid, high) = CALIBRATION
            .iter()
            .copied()
            .find(|(bound, ..)| ahead <= *bound)
            .unwrap_or(CALIBRATION[CALIBRATION.len() - 1]);
        let base = expected_s + CALIBRATION_OFFSET_S;
        let at =
            |multiplier: f64| (base * multiplier - CALIBRATION_OFFSET_S).max(0.0).round() as u64;
        Self {
            point_s: at(mid),
            low_s: at(low),
            high_s: at(high),
            expected_s: expected_s.round() as u64,
        }
    }
}

impl Hall {
    /// Seconds until `target` would be called if every open window went on serving the queues
    /// as they stand, in call order, each ticket taking its service's average time. `None`
    /// when no open window reaches the ticket (or the queue is beyond the replay's limits).
    fn replay_until_called(&self, target: TicketId, now: Timestamp) -> Option<f64> {
        let mut found = None;
        self.replay(now, |id, at_s| {
            if id == target {
                found = Some(at_s);
                return true;
            }
            false
        });
        found
    }

    /// Replays the windows' choices from `now`, telling `called(ticket, seconds from now)` for
    /// each ticket taken, until it answers true or every queue a window serves is empty.
    /// Does nothing when more tickets wait than `REPLAY_STEPS_MAX` (the plain rule answers).
    fn replay(&self, now: Timestamp, mut called: impl FnMut(TicketId, f64) -> bool) {
        let waiting: usize = self.queues.iter().map(|q| q.waiting_len()).sum();
        if waiting > REPLAY_STEPS_MAX {
            return;
        }
        let ageing = self.spec.policy.ageing_max_wait_s;
        // Each queue's waiting tickets in its own call order.
        let mut queues: Vec<VecDeque<(PriorityClass, QueueEntry)>> = self
            .queues
            .iter()
            .map(|queue| {
                let mut entries: Vec<(PriorityClass, QueueEntry)> = [
                    PriorityClass::Green,
                    PriorityClass::Appointment,
                    PriorityClass::WalkIn,
                ]
                .into_iter()
                .flat_map(|class| {
                    queue.waiting[usize::from(class.rank())]
                        .iter()
                        .map(move |entry| (class, *entry))
                })
                .collect();
                entries.sort_unstable_by_key(|(class, (queued_at, id))| {
                    (call_order_key(*class, *queued_at, 0, now, ageing), *id)
                });
                entries.into()
            })
            .collect();
        // Open windows by when they are next free (in milliseconds from now).
        let mut free: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
        for (index, state) in self.windows.iter().enumerate() {
            if state.status != super::WindowStatus::Open {
                continue;
            }
            let busy_for = state
                .current
                .and_then(|id| self.tickets.get(&id))
                .map(|ticket| {
                    let average = self
                        .service_index
                        .get(&ticket.service)
                        .map(|&s| self.queues[s].average.average_s())
                        .unwrap_or(0.0);
                    let elapsed = ticket
                        .called_at
                        .map(|at| (now.as_second() - at.as_second()).max(0) as f64)
                        .unwrap_or(0.0);
                    // Long-tailed services: one running long still has some way to go.
                    (average - elapsed).max(average * RESIDUAL_SHARE)
                })
                .unwrap_or(0.0);
            free.push(Reverse(((busy_for * 1000.0) as i64, index)));
        }
        let mut steps = 0usize;
        while let Some(Reverse((free_ms, window))) = free.pop() {
            steps += 1;
            if steps > REPLAY_STEPS_MAX || free_ms as f64 / 1000.0 > REPLAY_HORIZON_S {
                return;
            }
            // The window takes the front of one of its queues: the smallest call-order key.
            let mut best: Option<((u8, i128, i128), TicketId, usize)> = None;
            for (rank, service) in self.spec.windows[window].services.iter().enumerate() {
                let Some(&position) = self.service_index.get(service) else {
                    continue;
                };
                if let Some((class, (queued_at, id))) = queues[position].front() {
                    let key = call_order_key(*class, *queued_at, rank, now, ageing);
                    if best.is_none_or(|(best_key, best_id, _)| (key, *id) < (best_key, best_id)) {
                        best = Some((key, *id, position));
                    }
                }
            }
            // Nothing left for this window: it drops out of the replay.
            let Some((_, id, position)) = best else {
                continue;
            };
            queues[position].pop_front();
            if called(id, free_ms as f64 / 1000.0) {
                return;
            }
            let service_ms = (self.queues[position].average.average_s() * 1000.0) as i64;
            free.push(Reverse((free_ms + service_ms, window)));
        }
    }

    /// The forecast of every waiting ticket at `now`, from one replay: what many citizens'
    /// pages share. Tickets the replay does not reach get the plain rule's expectation.
    pub fn forecast_all(&self, now: Timestamp) -> HashMap<TicketId, WaitForecast> {
        let mut expected: HashMap<TicketId, f64> = HashMap::new();
        self.replay(now, |id, at_s| {
            expected.insert(id, at_s);
            false
        });
        self.tickets
            .values()
            .filter(|ticket| ticket.status == TicketStatus::Waiting)
            .filter_map(|ticket| {
                let (ahead, plain) = self.position(ticket.id, now)?;
                let wait = expected.get(&ticket.id).copied().unwrap_or(plain as f64);
                Some((ticket.id, WaitForecast::from_expected(wait, ahead)))
            })
            .collect()
    }

    /// The forecast of a waiting ticket now; `None` when it is not waiting.
    pub fn forecast(&self, id: TicketId, now: Timestamp) -> Option<WaitForecast> {
        let ticket = self.tickets.get(&id)?;
        if ticket.status != TicketStatus::Waiting {
            return None;
        }
        let (ahead, plain) = self.position(id, now)?;
        let point = self.replay_until_called(id, now).unwrap_or(plain as f64);
        Some(WaitForecast::from_expected(point, ahead))
    }

    /// What a walk-in taking a ticket for `service` now should expect: the forecast of the
    /// last walk-in waiting there, plus one service's worth for the newcomer behind them.
    pub fn forecast_for_walk_in(&self, service: &ServiceId, now: Timestamp) -> WaitForecast {
        let Some(&index) = self.service_index.get(service) else {
            return WaitForecast::from_expected(0.0, 0);
        };
        let waiting = self.queues[index].waiting_len();
        let last = self.queues[index].waiting[usize::from(PriorityClass::WalkIn.rank())]
            .last()
            .map(|(_, id)| *id);
        let capacity = self.window_capacity(service).max(0.5);
        let step = self.queues[index].average.average_s() / capacity;
        match last.and_then(|id| self.forecast(id, now)) {
            Some(behind) => WaitForecast::from_expected(behind.expected_s as f64 + step, waiting),
            None if waiting == 0 && self.idle_window_serves(service) => {
                WaitForecast::from_expected(0.0, 0)
            }
            None => WaitForecast::from_expected(step * (waiting as f64 + 0.5), waiting),
        }
    }

    /// Whether an open window that serves `service` holds no ticket now.
    fn idle_window_serves(&self, service: &ServiceId) -> bool {
        self.spec
            .windows
            .iter()
            .zip(&self.windows)
            .any(|(spec, state)| {
                state.status == super::WindowStatus::Open
                    && state.current.is_none()
                    && spec.services.contains(service)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::WaitForecast;

    #[test]
    fn one_replay_for_all_agrees_with_each_ticket_s_own() {
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
                        assert!(own.expected_s >= last_b);
                        last_b = own.expected_s;
                    }
                }
                None => assert!(!all.contains_key(&id)),
            }
        }
    }

    #[test]
    fn minutes_as_people_read_them() {
        let band = |low_s, high_s| WaitForecast {
            point_s: low_s,
            low_s,
            high_s,
            expected_s: low_s,
        };
        assert_eq!(band(0, 50).minutes(), (0, 0));
        assert_eq!(band(30, 170).minutes(), (0, 3));
        assert_eq!(band(125, 125).minutes(), (2, 3));
        assert_eq!(band(14 * 60 + 50, 23 * 60 + 10).minutes(), (10, 25));
        assert_eq!(band(41 * 60, 58 * 60).minutes(), (40, 60));
    }

    #[test]
    fn the_band_narrows_as_the_queue_moves_and_holds_the_point() {
        let far = WaitForecast::from_expected(1800.0, 20);
        let near = WaitForecast::from_expected(300.0, 1);
        for forecast in [far, near] {
            assert!(forecast.low_s < forecast.point_s && forecast.point_s < forecast.high_s);
        }
        let relative = |f: WaitForecast| (f.high_s - f.low_s) as f64 / f.point_s as f64;
        assert!(relative(far) < relative(near), "{far:?} {near:?}");
        // "About now" still has a band: the next minutes.
        let now = WaitForecast::from_expected(0.0, 0);
        assert_eq!(now.low_s, 0);
        assert!(now.high_s > 0);
    }
}
