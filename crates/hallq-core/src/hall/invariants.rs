//! The invariants that must hold between any two commands. A failure is a bug, described in
//! the message; tests and the engine's debug builds check them after every batch.

use super::Hall;
use crate::ids::{TicketId, WindowId};
use crate::ticket::TicketStatus;
use std::collections::{HashMap, HashSet};

impl Hall {
    /// Checks the invariants that must hold between every two commands. Used by tests and by
    /// the engine's debug builds; a failure is a bug, described in the message.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut numbers = HashSet::new();
        let mut holders: HashMap<TicketId, &WindowId> = HashMap::new();
        for window in &self.windows {
            if let Some(id) = window.current {
                let ticket = self
                    .tickets
                    .get(&id)
                    .ok_or_else(|| format!("window {} holds unknown ticket {id}", window.id))?;
                if ticket.status != TicketStatus::Called
                    || ticket.window.as_ref() != Some(&window.id)
                {
                    return Err(format!(
                        "window {} holds ticket {id} not called by it",
                        window.id
                    ));
                }
                if let Some(other) = holders.insert(id, &window.id) {
                    return Err(format!("ticket {id} held by {other} and {}", window.id));
                }
            }
        }
        let mut waiting = 0;
        for ticket in self.tickets.values() {
            if !numbers.insert((ticket.service_day, &ticket.number_service, &ticket.number)) {
                return Err(format!("number {} issued twice", ticket.number));
            }
            match ticket.status {
                TicketStatus::Called => {
                    let held = ticket.window.as_ref().is_some_and(|window| {
                        !self.window_index.contains_key(window) || holders.contains_key(&ticket.id)
                    });
                    if !held {
                        return Err(format!("called ticket {} held by no window", ticket.id));
                    }
                }
                TicketStatus::Waiting => {
                    if let Some(&service) = self.service_index.get(&ticket.service) {
                        waiting += 1;
                        let set =
                            &self.queues[service].waiting[usize::from(ticket.priority.rank())];
                        if !set.contains(&(ticket.queued_at, ticket.id)) {
                            return Err(format!("waiting ticket {} not in its queue", ticket.id));
                        }
                    }
                }
                _ => {}
            }
        }
        let queued: usize = self.queues.iter().map(|q| q.waiting_len()).sum();
        if queued != waiting {
            return Err(format!(
                "{queued} queue entries for {waiting} waiting tickets"
            ));
        }
        if self.counts != self.counts_by_scan() {
            return Err(format!(
                "the day's figures {:?} differ from the tickets' {:?}",
                self.counts,
                self.counts_by_scan()
            ));
        }
        for id in &self.recent_calls {
            let called = self
                .tickets
                .get(id)
                .is_some_and(|t| t.called_at.is_some() && Some(t.service_day) == self.day);
            if !called {
                return Err(format!("recent call {id} is not a call of today"));
            }
        }
        Ok(())
    }
}
