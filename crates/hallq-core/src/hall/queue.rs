//! The queues: who waits for which service, the call order, a ticket's position and the
//! estimate, and the day's figures per service.
//!
//! Each service keeps its waiting tickets in three ordered sets, one per priority class, keyed
//! by (queued at, id). Positions are counts of entries below a bound in those sets, O(log n)
//! each ([`RankedSet`]), so issuing stays flat however long the queue grows.

use super::{seconds_between, Hall, WindowStatus};
use crate::estimate::{wait_estimate_s, ArrivalRate, ServiceTimeAverage};
use crate::ids::{ServiceId, TicketId, WindowId};
use crate::ordering::call_order_key;
use crate::ranked::RankedSet;
use crate::ticket::{PriorityClass, Ticket, TicketStatus};
use jiff::Timestamp;

/// One service's queue at a glance.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueStats {
    pub service: ServiceId,
    pub waiting: usize,
    pub oldest_wait_s: u64,
    /// What a walk-in taking a ticket now should expect to wait.
    pub wait_s_estimate: u64,
    pub issued_today: u32,
    pub called_today: u32,
    pub completed_today: u32,
    pub no_show_today: u32,
    pub average_service_s: f64,
}

pub(crate) type QueueEntry = (Timestamp, TicketId);

#[derive(Clone, Debug)]
pub(super) struct ServiceQueue {
    /// Waiting tickets per priority class (by `PriorityClass::rank`), by queue time.
    pub(super) waiting: [RankedSet<QueueEntry>; 3],
    /// The last number this service issued today.
    pub(super) last_number: u32,
    pub(super) average: ServiceTimeAverage,
    /// Recent arrivals per priority class (by rank): what the forecast expects to come.
    pub(super) arrivals: [ArrivalRate; 3],
}

impl ServiceQueue {
    pub(super) fn new(prior_service_s: u32) -> Self {
        Self {
            waiting: Default::default(),
            last_number: 0,
            average: ServiceTimeAverage::new(prior_service_s),
            arrivals: Default::default(),
        }
    }

    pub(super) fn waiting_len(&self) -> usize {
        self.waiting.iter().map(RankedSet::len).sum()
    }

    fn oldest(&self) -> Option<QueueEntry> {
        self.waiting
            .iter()
            .filter_map(|set| set.first().copied())
            .min()
    }

    #[cfg(test)]
    pub(super) fn entries(&self) -> impl Iterator<Item = (PriorityClass, QueueEntry)> + '_ {
        [
            PriorityClass::Green,
            PriorityClass::Appointment,
            PriorityClass::WalkIn,
        ]
        .into_iter()
        .flat_map(move |class| {
            self.waiting[usize::from(class.rank())]
                .iter()
                .map(move |entry| (class, *entry))
        })
    }
}

/// The day's figures of one service, kept as the events arrive rather than recounted.
/// Issued counts by the service that numbered the ticket; the rest by the service whose queue
/// the ticket is in now (a transfer moves its figures along).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct DayCounts {
    pub(super) issued: u32,
    pub(super) called: u32,
    pub(super) completed: u32,
    pub(super) no_show: u32,
}

impl Hall {
    /// Adds (or, with `add` false, takes away) what `ticket` contributes to the day's figures.
    /// `evolve` takes a ticket's contribution away before changing it and adds it back after.
    pub(super) fn tally(&mut self, ticket: &Ticket, add: bool) {
        if Some(ticket.service_day) != self.day {
            return;
        }
        let change = |value: &mut u32, by: bool| {
            if by {
                *value = if add {
                    *value + 1
                } else {
                    value.saturating_sub(1)
                };
            }
        };
        if let Some(&origin) = self.service_index.get(&ticket.number_service) {
            change(&mut self.counts[origin].issued, true);
        }
        if let Some(&service) = self.service_index.get(&ticket.service) {
            let counts = &mut self.counts[service];
            change(&mut counts.called, ticket.called_at.is_some());
            change(
                &mut counts.completed,
                ticket.status == TicketStatus::Completed,
            );
            change(&mut counts.no_show, ticket.status == TicketStatus::NoShow);
        }
    }

    /// The day's figures derived from the tickets themselves: what `tally` must agree with.
    pub(super) fn counts_by_scan(&self) -> Vec<DayCounts> {
        let mut counts = vec![DayCounts::default(); self.queues.len()];
        for ticket in self
            .tickets
            .values()
            .filter(|t| Some(t.service_day) == self.day)
        {
            if let Some(&origin) = self.service_index.get(&ticket.number_service) {
                counts[origin].issued += 1;
            }
            if let Some(&service) = self.service_index.get(&ticket.service) {
                let count = &mut counts[service];
                count.called += u32::from(ticket.called_at.is_some());
                count.completed += u32::from(ticket.status == TicketStatus::Completed);
                count.no_show += u32::from(ticket.status == TicketStatus::NoShow);
            }
        }
        counts
    }

    pub(super) fn remove_waiting(&mut self, ticket: &Ticket) {
        if let Some(&service) = self.service_index.get(&ticket.service) {
            self.queues[service].waiting[usize::from(ticket.priority.rank())]
                .remove(&(ticket.queued_at, ticket.id));
        }
    }

    pub(super) fn add_waiting(&mut self, ticket: &Ticket) {
        if let Some(&service) = self.service_index.get(&ticket.service) {
            self.queues[service].waiting[usize::from(ticket.priority.rank())]
                .insert((ticket.queued_at, ticket.id));
        }
    }

    /// Open-window capacity serving a service: 1 for each open window where it is the primary
    /// service, ½ where it is a secondary one (that window also serves others first).
    pub fn window_capacity(&self, service: &ServiceId) -> f64 {
        self.spec
            .windows
            .iter()
            .zip(&self.windows)
            .filter(|(_, state)| state.status == WindowStatus::Open)
            .filter_map(|(spec, _)| spec.services.iter().position(|s| s == service))
            .map(|position| if position == 0 { 1.0 } else { 0.5 })
            .sum()
    }

    /// The moving average of service time of a service, in seconds.
    pub fn average_service_s(&self, service: &ServiceId) -> Option<f64> {
        let index = *self.service_index.get(service)?;
        Some(self.queues[index].average.average_s())
    }

    /// People ahead of a waiting ticket in its queue and the estimated wait, at `now`.
    /// `None` when the ticket is not waiting. O(log n).
    pub fn position(&self, id: TicketId, now: Timestamp) -> Option<(usize, u64)> {
        let ticket = self.tickets.get(&id)?;
        if ticket.status != TicketStatus::Waiting {
            return None;
        }
        let service = *self.service_index.get(&ticket.service)?;
        let queue = &self.queues[service];
        let ahead = self.count_ahead(queue, ticket, now);
        let estimate = wait_estimate_s(
            ahead,
            queue.average.average_s(),
            self.window_capacity(&ticket.service),
        );
        Some((ahead, estimate))
    }

    /// Counts the queue entries that `call_order_key` puts before `ticket`, class set by class
    /// set, without computing a key per entry. Checked against the plain scan in the tests.
    fn count_ahead(&self, queue: &ServiceQueue, ticket: &Ticket, now: Timestamp) -> usize {
        let ageing = i64::from(self.spec.policy.ageing_max_wait_s);
        let own: QueueEntry = (ticket.queued_at, ticket.id);
        // Entries queued before this bound have waited past the ageing limit: they rank with
        // the green channel, by queue time.
        let aged_until = now.as_second() - ageing;
        let aged_bound: QueueEntry = (
            Timestamp::from_second(aged_until.saturating_add(1)).unwrap_or(Timestamp::MAX),
            TicketId(0),
        );
        let is_aged = ticket.queued_at < aged_bound.0;
        let aged_before = |set: &RankedSet<QueueEntry>, bound: &QueueEntry| {
            set.count_below(bound.min(&aged_bound))
        };
        let [green, appointment, walk_in] = &queue.waiting;
        let tier = if ticket.priority == PriorityClass::Green || is_aged {
            0
        } else {
            ticket.priority.rank()
        };
        match tier {
            // First tier: earlier greens and earlier aged tickets of the other classes.
            0 => {
                green.count_below(&own)
                    + aged_before(appointment, &own)
                    + aged_before(walk_in, &own)
            }
            // A fresh appointment: every green, every earlier appointment, aged walk-ins.
            1 => {
                let everything = (Timestamp::MAX, TicketId(u64::MAX));
                green.len() + appointment.count_below(&own) + aged_before(walk_in, &everything)
            }
            // A fresh walk-in: every green and appointment, every earlier walk-in.
            _ => green.len() + appointment.len() + walk_in.count_below(&own),
        }
    }

    /// The plain definition of `count_ahead`, for tests.
    #[cfg(test)]
    pub(crate) fn count_ahead_by_scan(&self, id: TicketId, now: Timestamp) -> Option<usize> {
        let ticket = self.tickets.get(&id)?;
        let queue = &self.queues[*self.service_index.get(&ticket.service)?];
        let ageing = self.spec.policy.ageing_max_wait_s;
        let own = (
            call_order_key(ticket.priority, ticket.queued_at, 0, now, ageing),
            ticket.id,
        );
        Some(
            queue
                .entries()
                .filter(|(class, (queued_at, other))| {
                    (call_order_key(*class, *queued_at, 0, now, ageing), *other) < own
                })
                .count(),
        )
    }

    /// The ticket `window` would call at `now`, if any.
    pub fn next_for_window(&self, window: &WindowId, now: Timestamp) -> Option<TicketId> {
        let index = *self.window_index.get(window)?;
        let ageing = self.spec.policy.ageing_max_wait_s;
        let mut best: Option<((u8, i128, i128), TicketId)> = None;
        for (rank, service) in self.spec.windows[index].services.iter().enumerate() {
            let Some(&position) = self.service_index.get(service) else {
                continue;
            };
            let queue = &self.queues[position];
            // The smallest key in a queue is the first of some class, or the oldest ticket
            // once ageing applies; no other entry can win.
            let firsts = [
                PriorityClass::Green,
                PriorityClass::Appointment,
                PriorityClass::WalkIn,
            ]
            .into_iter()
            .filter_map(|class| {
                queue.waiting[usize::from(class.rank())]
                    .first()
                    .map(|entry| (class, *entry))
            });
            for (class, (queued_at, id)) in firsts {
                let key = call_order_key(class, queued_at, rank, now, ageing);
                if best.is_none_or(|(best_key, best_id)| (key, id) < (best_key, best_id)) {
                    best = Some((key, id));
                }
            }
        }
        best.map(|(_, id)| id)
    }

    /// Waiting tickets a window could call, in call order, at most `limit` (for the console's
    /// waiting list). Walks each service's sets only as far as needed.
    pub fn waiting_for_window(
        &self,
        window: &WindowId,
        now: Timestamp,
        limit: usize,
    ) -> Vec<TicketId> {
        let Some(&index) = self.window_index.get(window) else {
            return Vec::new();
        };
        let ageing = self.spec.policy.ageing_max_wait_s;
        let mut keyed: Vec<((u8, i128, i128), TicketId)> = Vec::new();
        for (rank, service) in self.spec.windows[index].services.iter().enumerate() {
            let Some(&position) = self.service_index.get(service) else {
                continue;
            };
            for class in [
                PriorityClass::Green,
                PriorityClass::Appointment,
                PriorityClass::WalkIn,
            ] {
                for (queued_at, id) in self.queues[position].waiting[usize::from(class.rank())]
                    .iter()
                    .take(limit)
                {
                    keyed.push((call_order_key(class, *queued_at, rank, now, ageing), *id));
                }
            }
        }
        keyed.sort_unstable();
        keyed.into_iter().take(limit).map(|(_, id)| id).collect()
    }

    /// Each service's queue now and its figures for the day. O(services × windows).
    pub fn queue_stats(&self, now: Timestamp) -> Vec<QueueStats> {
        self.spec
            .services
            .iter()
            .zip(&self.queues)
            .zip(&self.counts)
            .map(|((spec, queue), counts)| {
                let waiting = queue.waiting_len();
                QueueStats {
                    service: spec.id.clone(),
                    waiting,
                    oldest_wait_s: queue
                        .oldest()
                        .map(|(queued_at, _)| seconds_between(queued_at, now))
                        .unwrap_or(0),
                    wait_s_estimate: wait_estimate_s(
                        waiting,
                        queue.average.average_s(),
                        self.window_capacity(&spec.id),
                    ),
                    issued_today: counts.issued,
                    called_today: counts.called,
                    completed_today: counts.completed,
                    no_show_today: counts.no_show,
                    average_service_s: queue.average.average_s(),
                }
            })
            .collect()
    }

    /// Tickets waiting for one service now, and what a walk-in taking a ticket now should
    /// expect to wait. O(windows).
    pub fn queue_estimate(&self, service: &ServiceId) -> (usize, u64) {
        let Some(&index) = self.service_index.get(service) else {
            return (0, 0);
        };
        let queue = &self.queues[index];
        let waiting = queue.waiting_len();
        (
            waiting,
            wait_estimate_s(
                waiting,
                queue.average.average_s(),
                self.window_capacity(service),
            ),
        )
    }

    /// Tickets waiting for one service now.
    pub fn waiting_count(&self, service: &ServiceId) -> usize {
        self.service_index
            .get(service)
            .map(|&index| self.queues[index].waiting_len())
            .unwrap_or(0)
    }
}
