//! hallq's durable store: one SQLite file with the event log and the tables projected from it.
//!
//! Only this crate issues SQL. The engine hands it a [`Batch`] — the events of a group of
//! commands and the rows they changed — and [`Store::commit`] writes all of it in one
//! transaction, fsync'd before it returns (`synchronous=FULL` in WAL mode). A failed commit
//! leaves nothing behind: the engine then reloads its state with [`Store::load`].
//!
//! Not here: deciding anything about tickets (hallq-core), threads or channels (hallq-engine).

mod error;
mod ratings;
mod rows;

pub use ratings::{FigureKey, Figures, StoredRating};

pub use error::{StoreError, StoreErrorKind};

use hallq_core::jiff::civil::Date;
use hallq_core::jiff::Timestamp;
use hallq_core::{Appointment, Event, RestoredState, Ticket, TicketId, WindowId, WindowStatus};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use rusqlite_migration::{Migrations, M};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The schema, compiled in; migrations run at every open.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../migrations/001-initial.sql")),
        M::up(include_str!("../migrations/002-events-by-kind.sql")),
        M::up(include_str!("../migrations/003-appointments.sql")),
        M::up(include_str!("../migrations/004-lean-indexes.sql")),
        M::up(include_str!("../migrations/005-contacts-and-audit.sql")),
        M::up(include_str!("../migrations/006-ratings.sql")),
        M::up(include_str!("../migrations/007-id-cards.sql")),
    ])
}

/// How long a connection waits for a lock held by another before it reports busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Tuning an installer may set in the hall configuration.
#[derive(Clone, Debug, Default)]
pub struct StoreOptions {
    /// Refuse to grow the database beyond this many bytes, so that the box's disk never fills
    /// up: requests then fail with a clear "storage full" error instead.
    pub max_size_bytes: Option<u64>,
}

/// One event as kept in the log.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub seq: u64,
    pub event: Event,
}

/// One line of the audit log: who did what, from where, and how it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// The staff or device id.
    pub actor: String,
    pub role: String,
    /// The client's address, when known.
    pub address: Option<String>,
    /// What was asked: `call_next`, `sign_in` …
    pub action: String,
    /// What it was about: a window, a ticket, an appointment (masked), a staff id.
    pub target: Option<String>,
    /// `ok`, or the refusal's code.
    pub outcome: String,
}

/// What one group commit writes: events with their sequence numbers, and the rows they changed.
#[derive(Debug, Default)]
pub struct Batch<'a> {
    pub audit: Vec<AuditEntry>,
    pub events: Vec<(u64, &'a Event)>,
    pub tickets: Vec<&'a Ticket>,
    /// Tickets that expired at a day change (no longer in the engine's live state).
    pub expired: Vec<(TicketId, Timestamp)>,
    pub appointments: Vec<&'a Appointment>,
    /// Bookings of an earlier day nobody came for (no longer in the live state).
    pub appointment_no_shows: Vec<&'a str>,
    pub windows: Vec<(&'a WindowId, WindowStatus)>,
    pub day: Option<Date>,
    /// Visits the batch touched, as the hall now holds them (`None`: no longer held).
    pub visits: Vec<(TicketId, Option<&'a hallq_core::Visit>)>,
    /// Visits the hall forgot at the start of the day.
    pub pruned_visits: &'a [TicketId],
    /// Cases the batch touched, as they now stand.
    pub cases: Vec<&'a hallq_core::Case>,
}

impl Batch<'_> {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.audit.is_empty()
    }
}

/// What a restart needs: the hall's state and the last sequence number in the log.
#[derive(Debug)]
pub struct Loaded {
    pub state: RestoredState,
    pub last_seq: u64,
}

/// The result of checking the log for gaps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogCheck {
    pub count: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
}

impl LogCheck {
    /// Gap-free: sequence numbers run 1, 2, … count.
    pub fn is_gap_free(&self) -> bool {
        match (self.first_seq, self.last_seq) {
            (None, None) => self.count == 0,
            (Some(first), Some(last)) => first == 1 && last == self.count,
            _ => false,
        }
    }
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database for writing, sets the durability pragmas and
    /// runs the migrations.
    pub fn open(path: &Path, options: &StoreOptions) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path).map_err(|e| StoreError::opening(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::other(format!(
                "{} cannot use write-ahead logging (journal_mode is {mode}); put the data \
                 directory on a local disk",
                path.display()
            )));
        }
        // FULL: in WAL mode NORMAL may lose the last commits on power loss, and a ticket in a
        // citizen's hand must never vanish.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Checkpoints run on their own connection and thread (`checkpoint`), not inside the
        // writer's commits: a checkpoint copying thousands of pages there stalls every caller
        // waiting for that commit.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        migrations()
            .to_latest(&mut conn)
            .map_err(|e| StoreError::other(format!("migrating {}: {e}", path.display())))?;
        if let Some(bytes) = options.max_size_bytes {
            let page_size: u64 = conn.query_row("PRAGMA page_size", [], |row| row.get(0))?;
            let pages = (bytes / page_size.max(1)).max(1);
            conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))?;
        }
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    /// Opens a read-only connection for queries that need history (SSE resume, old tickets).
    /// It sees every committed transaction and never blocks the writer.
    pub fn open_reader(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::opening(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens a connection for checkpointing the write-ahead log beside the writer.
    pub fn open_checkpointer(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(|e| StoreError::opening(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    /// Copies committed pages from the write-ahead log into the database without waiting for
    /// (or blocking) the writer or readers. Returns (pages in the log, pages copied).
    pub fn checkpoint(&self) -> Result<(i64, i64), StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
            })?)
    }

    /// Writes one group of commands' events and rows in a single transaction and returns once
    /// it is on disk. On error nothing of the batch is kept.
    pub fn commit(&mut self, batch: &Batch<'_>) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert_event = tx.prepare_cached(
                "INSERT INTO events (seq, at_ms, kind, ticket, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (seq, event) in &batch.events {
                let data = serde_json::to_string(event)
                    .map_err(|e| StoreError::other(format!("encoding event {seq}: {e}")))?;
                insert_event.execute(params![
                    seq,
                    event.at().as_millisecond(),
                    event.kind(),
                    event.ticket().map(|id| id.0),
                    data
                ])?;
            }
            let mut upsert_ticket = tx.prepare_cached(rows::UPSERT_TICKET)?;
            for ticket in &batch.tickets {
                rows::upsert_ticket(&mut upsert_ticket, ticket)?;
            }
            let mut expire = tx.prepare_cached(
                "UPDATE tickets SET status = 'expired', finished_at_ms = ?2
                 WHERE id = ?1 AND status IN ('waiting', 'called')",
            )?;
            for (ticket, at) in &batch.expired {
                expire.execute(params![ticket.0, at.as_millisecond()])?;
            }
            let mut upsert_appointment = tx.prepare_cached(rows::UPSERT_APPOINTMENT)?;
            for appointment in &batch.appointments {
                rows::upsert_appointment(&mut upsert_appointment, appointment)?;
            }
            let mut no_show = tx.prepare_cached(
                "UPDATE appointments SET status = 'no_show' WHERE code = ?1 AND status = 'booked'",
            )?;
            for code in &batch.appointment_no_shows {
                no_show.execute(params![code])?;
            }
            let mut upsert_window = tx.prepare_cached(
                "INSERT INTO windows (id, status) VALUES (?1, ?2)
                 ON CONFLICT(id) DO UPDATE SET status = excluded.status",
            )?;
            for (window, status) in &batch.windows {
                upsert_window.execute(params![window.as_str(), status.as_str()])?;
            }
            let mut audit = tx.prepare_cached(
                "INSERT INTO audit (at_ms, actor, role, address, action, target, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for entry in &batch.audit {
                audit.execute(params![
                    entry.at.as_millisecond(),
                    entry.actor,
                    entry.role,
                    entry.address,
                    entry.action,
                    entry.target,
                    entry.outcome
                ])?;
            }
            ratings::write(
                &tx,
                &batch.events,
                &batch.visits,
                batch.pruned_visits,
                &batch.cases,
            )?;
            if let Some(day) = batch.day {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('service_day', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    params![day.to_string()],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Proves the database can still take a write of a few pages — about what a busy batch
    /// needs — without changing anything visible: the probe row is deleted in the same
    /// transaction. A tiny probe would still fit into a database that is nearly full.
    pub fn check_writable(&mut self) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('write_probe', printf('%.*c', 16384, 'x'))
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [],
        )?;
        tx.execute("DELETE FROM meta WHERE key = 'write_probe'", [])?;
        tx.commit()?;
        Ok(())
    }

    /// Reads what a restart needs: the service day, its tickets and every older ticket still
    /// open, the paused windows, the last ticket id and the last sequence number. Indexed, so
    /// it stays fast with years of history.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let day: Option<Date> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'service_day'",
                [],
                |row| row.get::<_, String>(0),
            )
            .optional()?
            .map(|text| {
                text.parse()
                    .map_err(|e| StoreError::other(format!("stored service day '{text}': {e}")))
            })
            .transpose()?;
        let day_text = day.map(|d| d.to_string()).unwrap_or_default();
        let mut statement = self.conn.prepare(&format!(
            "SELECT {cols} FROM tickets WHERE service_day = ?1
             UNION ALL
             SELECT {cols} FROM tickets WHERE status IN ('waiting', 'called') AND service_day <> ?1
             ORDER BY id",
            cols = rows::TICKET_COLUMNS
        ))?;
        let tickets = statement
            .query_map(params![day_text], rows::ticket_from_row)?
            .collect::<Result<Result<Vec<Ticket>, StoreError>, rusqlite::Error>>()??;
        let mut statement = self
            .conn
            .prepare("SELECT id FROM windows WHERE status = 'paused' ORDER BY id")?;
        let paused_windows = statement
            .query_map([], |row| row.get::<_, String>(0).map(WindowId))?
            .collect::<Result<Vec<_>, _>>()?;
        let last_ticket_id: u64 =
            self.conn
                .query_row("SELECT COALESCE(MAX(id), 0) FROM tickets", [], |row| {
                    row.get(0)
                })?;
        let last_seq: u64 =
            self.conn
                .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |row| {
                    row.get(0)
                })?;
        let mut statement = self.conn.prepare(&format!(
            "SELECT {} FROM appointments WHERE date >= ?1 ORDER BY code",
            rows::APPOINTMENT_COLUMNS
        ))?;
        let appointments = statement
            .query_map(params![day_text], rows::appointment_from_row)?
            .collect::<Result<Result<Vec<Appointment>, StoreError>, rusqlite::Error>>()??;
        Ok(Loaded {
            state: RestoredState {
                day,
                tickets,
                paused_windows,
                last_ticket_id,
                appointments,
                visits: ratings::open_visits(&self.conn)?,
                cases: ratings::unclosed_cases(&self.conn)?,
                last_case_id: ratings::last_case_id(&self.conn)?,
                board_notice: self.board_notice()?,
                wait_alarms: self.wait_alarms()?,
                past_tickets: self.past_tickets(day)?,
            },
            last_seq,
        })
    }

    /// The tickets of the `PAST_TICKET_DAYS` calendar days before `day`, for what the
    /// forecast learns over days (the usual day of arrivals, each service's times): a range
    /// of the number index, a few thousand rows a week.
    fn past_tickets(&self, day: Option<Date>) -> Result<Vec<hallq_core::PastTicket>, StoreError> {
        let Some(day) = day else {
            return Ok(Vec::new());
        };
        let from = day
            .checked_sub(hallq_core::jiff::Span::new().days(hallq_core::PAST_TICKET_DAYS))
            .unwrap_or(day);
        let mut statement = self.conn.prepare(
            "SELECT service_day, number_service, priority, issued_at_ms, service, status,
                    called_at_ms, finished_at_ms
             FROM tickets WHERE service_day >= ?1 AND service_day < ?2 ORDER BY service_day, id",
        )?;
        let rows = statement.query_map(params![from.to_string(), day.to_string()], |row| {
            Ok((
                (
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                ),
                (
                    row.get::<_, String>(4)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, Option<i64>>(6)?,
                    row.get::<_, Option<i64>>(7)?,
                ),
            ))
        })?;
        let mut tickets = Vec::new();
        for row in rows {
            let ((day_text, number_service, priority, issued_at_ms), served) = row?;
            // A row this version cannot read is left out of a statistic, not a failed start.
            let (Ok(day), Some(priority), Ok(issued_at)) = (
                day_text.parse::<Date>(),
                hallq_core::PriorityClass::parse(&priority),
                Timestamp::from_millisecond(issued_at_ms),
            ) else {
                continue;
            };
            let served = match served {
                (service, status, Some(called_ms), Some(finished_ms))
                    if status == hallq_core::TicketStatus::Completed.as_str()
                        && finished_ms >= called_ms =>
                {
                    Timestamp::from_millisecond(finished_ms)
                        .ok()
                        .map(|finished_at| hallq_core::PastService {
                            service: hallq_core::ServiceId(service),
                            finished_at,
                            service_s: (finished_ms / 1000 - called_ms / 1000) as u64,
                        })
                }
                _ => None,
            };
            tickets.push(hallq_core::PastTicket {
                day,
                service: hallq_core::ServiceId(number_service),
                priority,
                issued_at,
                served,
            });
        }
        Ok(tickets)
    }

    /// The boards' notice a manager set last (`None` when none was, or it was given back to
    /// the hall file): the newest `board_notice_set` in the log, by the kind index.
    fn board_notice(&self) -> Result<Option<String>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT seq, data FROM events WHERE kind = 'board_notice_set'
             ORDER BY at_ms DESC, seq DESC LIMIT 1",
        )?;
        let newest = decode_events(statement.query_map([], event_row)?)?;
        Ok(newest.into_iter().find_map(|stored| match stored.event {
            Event::BoardNoticeSet { text, .. } => text,
            _ => None,
        }))
    }

    /// The services' wait alarms as the log's `wait_alarm_set` events leave them (managers set
    /// a handful in a hall's life, so all of them are read).
    fn wait_alarms(&self) -> Result<Vec<(hallq_core::ServiceId, u32)>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT seq, data FROM events WHERE kind = 'wait_alarm_set' ORDER BY at_ms, seq",
        )?;
        let mut alarms = std::collections::BTreeMap::new();
        for stored in decode_events(statement.query_map([], event_row)?)? {
            if let Event::WaitAlarmSet {
                service,
                max_wait_s,
                ..
            } = stored.event
            {
                match max_wait_s {
                    Some(limit) => alarms.insert(service, limit),
                    None => alarms.remove(&service),
                };
            }
        }
        Ok(alarms.into_iter().collect())
    }

    /// Events with a sequence number above `after`, oldest first, at most `limit`.
    pub fn events_after(&self, after: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT seq, data FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
        let rows = statement.query_map(params![after, limit as i64], event_row)?;
        decode_events(rows)
    }

    /// Events of one kind at or after an instant, oldest first, at most `limit`.
    pub fn events_of_kind_since(
        &self,
        kind: &str,
        since: Timestamp,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT seq, data FROM events WHERE kind = ?1 AND at_ms >= ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = statement.query_map(
            params![kind, since.as_millisecond(), limit as i64],
            event_row,
        )?;
        decode_events(rows)
    }

    pub fn last_seq(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |row| {
                row.get(0)
            })?)
    }

    /// Any ticket ever issued, by id.
    pub fn ticket(&self, id: TicketId) -> Result<Option<Ticket>, StoreError> {
        self.ticket_where("id = ?1", params![id.0])
    }

    /// Any ticket ever issued, by its status-page token.
    pub fn ticket_by_token(&self, token: &str) -> Result<Option<Ticket>, StoreError> {
        self.ticket_where("token = ?1", params![token])
    }

    fn ticket_where(
        &self,
        condition: &str,
        params: impl rusqlite::Params,
    ) -> Result<Option<Ticket>, StoreError> {
        let sql = format!(
            "SELECT {} FROM tickets WHERE {condition}",
            rows::TICKET_COLUMNS
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        statement
            .query_row(params, rows::ticket_from_row)
            .optional()?
            .transpose()
    }

    /// The audit log, newest first: at most `limit` entries before `before` (an entry id).
    pub fn audit(
        &self,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<(u64, AuditEntry)>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, at_ms, actor, role, address, action, target, outcome FROM audit
             WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = statement.query_map(
            params![before.unwrap_or(i64::MAX as u64) as i64, limit as i64],
            |row| {
                Ok((
                    row.get::<_, u64>(0)?,
                    row.get::<_, i64>(1)?,
                    AuditEntry {
                        at: Timestamp::UNIX_EPOCH,
                        actor: row.get(2)?,
                        role: row.get(3)?,
                        address: row.get(4)?,
                        action: row.get(5)?,
                        target: row.get(6)?,
                        outcome: row.get(7)?,
                    },
                ))
            },
        )?;
        rows.map(|row| {
            let (id, at_ms, mut entry) = row?;
            entry.at = Timestamp::from_millisecond(at_ms)
                .map_err(|e| StoreError::other(format!("audit entry {id}: {e}")))?;
            Ok((id, entry))
        })
        .collect()
    }

    /// Removes personal data — contacts (keyed hash, sealed number, masked number), ID cards
    /// (keyed hash, masked number), booking names and complaints' phones — from tickets,
    /// bookings, cases and the log older than `before`. Returns the rows changed.
    pub fn purge_personal(&mut self, before: Timestamp) -> Result<usize, StoreError> {
        let cutoff = before.as_millisecond();
        let tx = self.conn.transaction()?;
        let mut changed = tx.execute(
            "UPDATE tickets SET contact = NULL, id_card = NULL
             WHERE (contact IS NOT NULL OR id_card IS NOT NULL) AND issued_at_ms < ?1",
            params![cutoff],
        )?;
        changed += tx.execute(
            "UPDATE appointments SET contact = '{\"key\":\"\",\"masked\":\"\"}', name_sealed = NULL,
                id_card = NULL
             WHERE (contact <> '{\"key\":\"\",\"masked\":\"\"}' OR name_sealed IS NOT NULL
                    OR id_card IS NOT NULL)
               AND start_ms < ?1",
            params![cutoff],
        )?;
        changed += tx.execute(
            "UPDATE events SET data = json_remove(data, '$.ticket.contact', '$.ticket.id_card')
             WHERE kind = 'ticket_issued' AND at_ms < ?1
               AND (json_extract(data, '$.ticket.contact') IS NOT NULL
                    OR json_extract(data, '$.ticket.id_card') IS NOT NULL)",
            params![cutoff],
        )?;
        // A complaint's phone to answer on: the case is long answered.
        changed += tx.execute(
            "UPDATE cases SET data = json_remove(data, '$.source.contact')
             WHERE opened_at_ms < ?1 AND json_extract(data, '$.source.contact') IS NOT NULL",
            params![cutoff],
        )?;
        changed += tx.execute(
            "UPDATE events SET data = json_remove(data, '$.case.source.contact')
             WHERE kind = 'case_opened' AND at_ms < ?1
               AND json_extract(data, '$.case.source.contact') IS NOT NULL",
            params![cutoff],
        )?;
        changed += tx.execute(
            "UPDATE events SET data = json_remove(data, '$.appointment.contact',
                    '$.appointment.name_sealed', '$.appointment.id_card')
             WHERE kind = 'appointment_booked' AND at_ms < ?1
               AND (json_extract(data, '$.appointment.contact') IS NOT NULL
                    OR json_extract(data, '$.appointment.name_sealed') IS NOT NULL
                    OR json_extract(data, '$.appointment.id_card') IS NOT NULL)",
            params![cutoff],
        )?;
        tx.commit()?;
        Ok(changed)
    }

    /// Counts the log and its bounds, to check that it has no gap.
    pub fn check_log(&self) -> Result<LogCheck, StoreError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), MIN(seq), MAX(seq) FROM events",
            [],
            |row| {
                Ok(LogCheck {
                    count: row.get(0)?,
                    first_seq: row.get(1)?,
                    last_seq: row.get(2)?,
                })
            },
        )?)
    }

    /// Every ticket of a service day, for reports and checks.
    pub fn tickets_of_day(&self, day: Date) -> Result<Vec<Ticket>, StoreError> {
        let sql = format!(
            "SELECT {} FROM tickets WHERE service_day = ?1 ORDER BY id",
            rows::TICKET_COLUMNS
        );
        let mut statement = self.conn.prepare(&sql)?;
        let tickets = statement
            .query_map(params![day.to_string()], rows::ticket_from_row)?
            .collect::<Result<Result<Vec<Ticket>, StoreError>, rusqlite::Error>>()??;
        Ok(tickets)
    }

    /// 好差评 figures of the visits of `from..=to` per window, service, staff member or
    /// department, per day or per month; `today` (hall time) decides which cases were due.
    pub fn rating_figures(
        &self,
        from: Date,
        to: Date,
        key: FigureKey,
        by_month: bool,
        today: Date,
        time_zone: &hallq_core::jiff::tz::TimeZone,
    ) -> Result<Vec<Figures>, StoreError> {
        ratings::figures(&self.conn, from, to, key, by_month, today, time_zone)
    }

    /// Cases with one of `statuses` (all when `None`), newest first, at most `limit`.
    pub fn cases(
        &self,
        statuses: Option<&[&str]>,
        limit: usize,
    ) -> Result<Vec<hallq_core::Case>, StoreError> {
        ratings::cases(&self.conn, statuses, limit)
    }

    pub fn case(&self, id: u64) -> Result<Option<hallq_core::Case>, StoreError> {
        ratings::case(&self.conn, id)
    }

    /// Every rating of the visits of `from..=to`, oldest first, at most `limit`.
    pub fn ratings(
        &self,
        from: Date,
        to: Date,
        limit: usize,
    ) -> Result<Vec<StoredRating>, StoreError> {
        ratings::ratings(&self.conn, from, to, limit)
    }

    /// How many ratings (first and follow-up) a ticket ever received.
    pub fn rated_rounds(&self, ticket: TicketId) -> Result<u8, StoreError> {
        ratings::rated_rounds(&self.conn, ticket)
    }

    /// Copies the whole database, consistent as of one instant, into a new file at `to`
    /// (`VACUUM INTO`: a read transaction, so the hall keeps serving while it runs), then
    /// checks the copy. `to` must not exist.
    pub fn backup_into(&self, to: &Path) -> Result<BackupSummary, StoreError> {
        if to.exists() {
            return Err(StoreError::other(format!(
                "{} exists already: back up to a new file",
                to.display()
            )));
        }
        let target = to
            .to_str()
            .ok_or_else(|| StoreError::other(format!("{} is not a UTF-8 path", to.display())))?;
        self.conn.execute("VACUUM INTO ?1", params![target])?;
        check_copy(to)
    }

    /// For tests and tools: makes this connection refuse writes, as a read-only disk would.
    pub fn set_read_only_for_testing(&self, read_only: bool) -> Result<(), StoreError> {
        self.conn
            .pragma_update(None, "query_only", if read_only { "ON" } else { "OFF" })?;
        Ok(())
    }

    /// Writes many tickets at once, outside the engine: for building large test histories
    /// (benchmarks of restart time). Not for production paths.
    pub fn bulk_insert_history(&mut self, tickets: &[Ticket]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(rows::UPSERT_TICKET)?;
            for ticket in tickets {
                rows::upsert_ticket(&mut upsert, ticket)?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

/// What a backup holds, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupSummary {
    pub events: u64,
    pub last_seq: u64,
    pub tickets: u64,
    pub bytes: u64,
}

/// Opens a database file read-only and checks it: SQLite's integrity check, a gap-free log.
pub fn check_copy(path: &Path) -> Result<BackupSummary, StoreError> {
    let copy = Store::open_reader(path)?;
    let integrity: String = copy
        .conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
    if integrity != "ok" {
        return Err(StoreError::other(format!(
            "{} fails SQLite's integrity check: {integrity}",
            path.display()
        )));
    }
    let log = copy.check_log()?;
    if !log.is_gap_free() {
        return Err(StoreError::other(format!(
            "{}: the event log has a gap",
            path.display()
        )));
    }
    let tickets: u64 = copy
        .conn
        .query_row("SELECT COUNT(*) FROM tickets", [], |row| row.get(0))?;
    Ok(BackupSummary {
        events: log.count,
        last_seq: log.last_seq.unwrap_or(0),
        tickets,
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
    })
}

fn event_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(u64, String)> {
    Ok((row.get(0)?, row.get(1)?))
}

fn decode_events(
    rows: impl Iterator<Item = rusqlite::Result<(u64, String)>>,
) -> Result<Vec<StoredEvent>, StoreError> {
    rows.map(|row| {
        let (seq, data) = row?;
        let event = serde_json::from_str(&data)
            .map_err(|e| StoreError::other(format!("event {seq} cannot be read: {e}")))?;
        Ok(StoredEvent { seq, event })
    })
    .collect()
}

#[cfg(test)]
mod tests;
