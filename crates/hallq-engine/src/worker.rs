//! The engine thread's loop: take a group of requests, decide, commit once, fold the committed
//! events into the read model, answer, publish.

use crate::{
    Clock, EngineError, EngineStats, Executed, Heart, Published, ReadModel, BATCH_SIZE_BOUNDS,
};
use hallq_core::jiff::Timestamp;
use hallq_core::{Command, DomainError, Event, Hall, TicketId, WindowId};
use hallq_store::{AuditEntry, Batch, Store, StoreError};
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{broadcast, mpsc, oneshot};

pub(crate) type ReadJob = Box<dyn FnOnce(&Hall, Timestamp) + Send>;

pub(crate) enum Request {
    Execute {
        command: Command,
        actor: Option<crate::Actor>,
        reply: oneshot::Sender<Result<Executed, EngineError>>,
    },
    /// An audit entry to write with the next commit.
    Audit(AuditEntry, oneshot::Sender<Result<(), StoreError>>),
    /// Removes personal data older than the instant.
    Purge(Timestamp, oneshot::Sender<Result<usize, StoreError>>),
    Read(ReadJob),
    CheckWritable(oneshot::Sender<Result<(), StoreError>>),
    /// Wakes the engine so that it notices a new day (and shows it is alive).
    Tick,
    /// A reloaded configuration for the writer's hall and the read model.
    ReplaceSpec(
        Box<hallq_core::HallSpec>,
        oneshot::Sender<Result<(), String>>,
    ),
    /// A year of the holiday calendar to add to the writer's hall and the read model.
    AddCalendarYear(
        i16,
        Vec<hallq_core::CalendarEntry>,
        oneshot::Sender<Result<(), String>>,
    ),
}

pub(crate) struct Worker {
    pub(crate) hall: Hall,
    pub(crate) store: Store,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) last_seq: u64,
    pub(crate) events: broadcast::Sender<Arc<Published>>,
    pub(crate) stats: Arc<Mutex<EngineStats>>,
    pub(crate) read_model: Arc<ReadModel>,
    pub(crate) heart: Arc<Heart>,
    pub(crate) batch_max: usize,
    pub(crate) needs_reload: bool,
}

/// A command applied in this batch, waiting for the commit to be answered.
struct Pending {
    reply: oneshot::Sender<Result<Executed, EngineError>>,
    result: Result<(std::ops::Range<usize>, Option<TicketId>), DomainError>,
}

impl Worker {
    pub(crate) fn run(mut self, mut receiver: mpsc::Receiver<Request>) {
        while let Some(first) = receiver.blocking_recv() {
            let mut batch = Vec::with_capacity(16);
            batch.push(first);
            while batch.len() < self.batch_max {
                match receiver.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            if let Err(error) = self.process(batch) {
                tracing::error!(%error, "engine batch failed");
            }
            self.heart.beat();
        }
        tracing::info!(last_seq = self.last_seq, "engine stopped");
    }

    fn reload(&mut self) -> Result<(), StoreError> {
        let loaded = self.store.load()?;
        self.hall = Hall::restore(
            self.hall.spec().clone(),
            self.hall.time_zone().clone(),
            loaded.state,
        );
        self.last_seq = loaded.last_seq;
        self.needs_reload = false;
        tracing::warn!(
            last_seq = self.last_seq,
            "engine state reloaded from the database"
        );
        Ok(())
    }

    /// Handles one group of requests. Returns the storage error if the commit failed (every
    /// caller has been told already).
    pub(crate) fn process(&mut self, requests: Vec<Request>) -> Result<(), StoreError> {
        if self.needs_reload {
            if let Err(error) = self.reload() {
                for request in requests {
                    fail(request, &error);
                }
                return Err(error);
            }
        }
        let now = self.clock.now();
        // Reads first, so that they see only committed state.
        let mut commands = Vec::with_capacity(requests.len());
        let mut audit: Vec<AuditEntry> = Vec::new();
        let mut audit_replies = Vec::new();
        let mut reads = 0;
        for request in requests {
            match request {
                Request::Read(job) => {
                    reads += 1;
                    job(&self.hall, now)
                }
                Request::CheckWritable(reply) => {
                    let _ = reply.send(self.store.check_writable());
                }
                Request::Tick => {}
                Request::Execute {
                    command,
                    actor,
                    reply,
                } => commands.push((command, actor, reply)),
                Request::Audit(entry, reply) => {
                    audit.push(entry);
                    audit_replies.push(reply);
                }
                Request::Purge(before, reply) => {
                    let _ = reply.send(self.store.purge_personal(before));
                }
                Request::AddCalendarYear(year, entries, reply) => {
                    let _ = reply.send(self.add_calendar_year(year, &entries));
                }
                Request::ReplaceSpec(spec, reply) => {
                    let _ = reply.send(self.replace_spec(*spec));
                }
            }
        }
        let mut events: Vec<Event> = self.hall.advance_to(now);
        let command_count = commands.len();
        let mut pending = Vec::with_capacity(command_count);
        for (command, actor, reply) in commands {
            let audited = actor.map(|actor| (actor, command.name(), command.target()));
            let result = self.hall.execute(&command, now).map(|outcome| {
                let start = events.len();
                events.extend(outcome.events);
                (start..events.len(), outcome.ticket)
            });
            if let Some((actor, action, target)) = audited {
                audit.push(AuditEntry {
                    at: now,
                    actor: actor.id,
                    role: actor.role,
                    address: actor.address,
                    action: action.to_owned(),
                    target,
                    outcome: match &result {
                        Ok(_) => "ok".to_owned(),
                        Err(error) => error.code().to_owned(),
                    },
                });
            }
            pending.push(Pending { reply, result });
        }
        #[cfg(debug_assertions)]
        if let Err(message) = self.hall.check_invariants() {
            panic!("hall invariant broken: {message}");
        }
        let started = Instant::now();
        let committed = if events.is_empty() && audit.is_empty() {
            Ok(())
        } else {
            self.commit(&events, audit)
        };
        let commit_seconds = started.elapsed().as_secs_f64();
        let first_seq = self.last_seq + 1;
        match committed {
            Ok(()) => {
                let published: Vec<Arc<Published>> = events
                    .into_iter()
                    .enumerate()
                    .map(|(offset, event)| {
                        Arc::new(Published {
                            seq: first_seq + offset as u64,
                            event,
                        })
                    })
                    .collect();
                self.last_seq += published.len() as u64;
                self.fold_into_read_model(&published);
                for item in pending {
                    let answer = item
                        .result
                        .map_err(EngineError::from)
                        .map(|(range, ticket)| Executed {
                            events: published[range].to_vec(),
                            ticket: ticket.and_then(|id| self.hall.ticket(id).cloned()),
                            position: ticket.and_then(|id| self.hall.position(id, now)),
                            at: now,
                            log_seq: self.last_seq,
                        });
                    let _ = item.reply.send(answer);
                }
                for reply in audit_replies {
                    let _ = reply.send(Ok(()));
                }
                for event in &published {
                    // No subscribers is fine; lagging subscribers are their own problem.
                    let _ = self.events.send(event.clone());
                }
                self.record(command_count, published.len(), commit_seconds, None, reads);
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, commands = command_count, "commit failed; reloading state");
                for item in pending {
                    let _ = item.reply.send(Err(EngineError::Storage(error.clone())));
                }
                for reply in audit_replies {
                    let _ = reply.send(Err(error.clone()));
                }
                self.needs_reload = true;
                // Reload at once so that the next batch does not build on what was never written.
                if let Err(reload_error) = self.reload() {
                    tracing::error!(%reload_error, "reload after failed commit failed");
                }
                self.record(
                    command_count,
                    0,
                    commit_seconds,
                    Some(error.to_string()),
                    reads,
                );
                Err(error)
            }
        }
    }

    /// Brings the readers' hall to the committed state: the same events, folded the same way.
    fn add_calendar_year(
        &mut self,
        year: i16,
        entries: &[hallq_core::CalendarEntry],
    ) -> Result<(), String> {
        let describe = |(index, message): (usize, String)| format!("entry {index}: {message}");
        self.hall
            .add_calendar_year(year, entries)
            .map_err(describe)?;
        self.read_model
            .hall
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .add_calendar_year(year, entries)
            .map_err(describe)
    }

    fn replace_spec(&mut self, spec: hallq_core::HallSpec) -> Result<(), String> {
        self.hall.replace_spec(spec.clone())?;
        self.read_model
            .hall
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .replace_spec(spec)
    }

    fn fold_into_read_model(&self, published: &[Arc<Published>]) {
        if published.is_empty() {
            return;
        }
        let mut hall = self
            .read_model
            .hall
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for item in published {
            hall.evolve(&item.event);
        }
        self.read_model.seq.store(self.last_seq, Ordering::Release);
    }

    fn commit(&mut self, events: &[Event], audit: Vec<AuditEntry>) -> Result<(), StoreError> {
        let ticket_ids: BTreeSet<TicketId> = events.iter().filter_map(Event::ticket).collect();
        let window_ids: BTreeSet<&WindowId> = events
            .iter()
            .filter(|e| matches!(e, Event::WindowPaused { .. } | Event::WindowResumed { .. }))
            .filter_map(Event::window)
            .collect();
        let mut visit_ids: BTreeSet<TicketId> = events.iter().filter_map(Event::visit).collect();
        let case_ids: BTreeSet<u64> = events.iter().filter_map(Event::case).collect();
        // A case's progress changes its visit too (closed: no follow-up any more).
        visit_ids.extend(
            case_ids
                .iter()
                .filter_map(|id| self.hall.case(*id))
                .filter_map(|case| match &case.source {
                    hallq_core::CaseSource::BadRating { ticket, .. } => Some(*ticket),
                    hallq_core::CaseSource::Complaint { .. } => None,
                }),
        );
        let day = events.iter().rev().find_map(|event| match event {
            Event::ServiceDayStarted { day, .. } => Some(*day),
            _ => None,
        });
        let batch = Batch {
            audit,
            events: events
                .iter()
                .enumerate()
                .map(|(offset, event)| (self.last_seq + 1 + offset as u64, event))
                .collect(),
            tickets: ticket_ids
                .iter()
                .filter_map(|id| self.hall.ticket(*id))
                .collect(),
            // Tickets of an earlier day leave the live state in the batch that expires them,
            // so their rows are updated from the events.
            expired: events
                .iter()
                .filter_map(|event| match event {
                    Event::TicketExpired { ticket, at, .. } => Some((*ticket, *at)),
                    _ => None,
                })
                .collect(),
            appointments: events
                .iter()
                .filter_map(Event::appointment)
                .collect::<BTreeSet<&str>>()
                .into_iter()
                .filter_map(|code| self.hall.appointment(code))
                .collect(),
            appointment_no_shows: events
                .iter()
                .filter_map(|event| match event {
                    Event::AppointmentNoShow { code, .. } => Some(code.as_str()),
                    _ => None,
                })
                .collect(),
            windows: window_ids
                .into_iter()
                .filter_map(|id| self.hall.window(id).map(|w| (&w.id, w.status)))
                .collect(),
            day,
            visits: visit_ids
                .into_iter()
                .map(|id| (id, self.hall.visit(id)))
                .collect(),
            pruned_visits: if day.is_some() {
                self.hall.last_pruned_visits()
            } else {
                &[]
            },
            cases: case_ids
                .into_iter()
                .filter_map(|id| self.hall.case(id))
                .collect(),
        };
        self.store.commit(&batch)
    }

    fn record(
        &self,
        commands: usize,
        events: usize,
        seconds: f64,
        error: Option<String>,
        reads: u64,
    ) {
        if let Ok(mut stats) = self.stats.lock() {
            stats.batches += 1;
            stats.commands += commands as u64;
            stats.events += events as u64;
            stats.commit_seconds_total += seconds;
            stats.last_seq = self.last_seq;
            stats.writer_reads += reads;
            if commands > 0 {
                let bucket = BATCH_SIZE_BOUNDS
                    .iter()
                    .position(|&bound| commands <= bound)
                    .unwrap_or(BATCH_SIZE_BOUNDS.len() - 1);
                stats.batch_size_buckets[bucket] += 1;
            }
            if error.is_some() {
                stats.commit_failures += 1;
            }
            if error.is_some() || events > 0 {
                stats.last_error = error;
            }
        }
    }
}

fn fail(request: Request, error: &StoreError) {
    match request {
        Request::Execute { reply, .. } => {
            let _ = reply.send(Err(EngineError::Storage(error.clone())));
        }
        Request::CheckWritable(reply) => {
            let _ = reply.send(Err(error.clone()));
        }
        Request::Audit(_, reply) => {
            let _ = reply.send(Err(error.clone()));
        }
        Request::Purge(_, reply) => {
            let _ = reply.send(Err(error.clone()));
        }
        Request::AddCalendarYear(_, _, reply) | Request::ReplaceSpec(_, reply) => {
            let _ = reply.send(Err(error.to_string()));
        }
        Request::Read(_) | Request::Tick => {}
    }
}
