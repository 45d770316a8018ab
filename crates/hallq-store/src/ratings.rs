//! 好差评 rows: visits (reloaded after a restart), ratings (kept for ever, counted for the
//! figures) and cases.

use crate::StoreError;
use hallq_core::jiff::civil::Date;
use hallq_core::{Case, CaseSource, Event, RatingLevel, TicketId, Visit};
use rusqlite::{params, Transaction};
use std::collections::BTreeMap;

/// Writes what one batch changed: visits as the hall now holds them (or closed), every rating
/// given, cases as they now stand (and their ratings voided by an upheld appeal).
pub(crate) fn write(
    tx: &Transaction<'_>,
    events: &[(u64, &Event)],
    visits: &[(TicketId, Option<&Visit>)],
    pruned_visits: &[TicketId],
    cases: &[&Case],
) -> Result<(), StoreError> {
    let mut upsert_visit = tx.prepare_cached(
        "INSERT INTO visits (ticket, open, rate_by_ms, data) VALUES (?1, 1, ?2, ?3)
         ON CONFLICT(ticket) DO UPDATE SET open = 1, rate_by_ms = excluded.rate_by_ms,
             data = excluded.data",
    )?;
    let mut close_visit = tx.prepare_cached("UPDATE visits SET open = 0 WHERE ticket = ?1")?;
    for (ticket, visit) in visits {
        match visit {
            Some(visit) => {
                upsert_visit.execute(params![
                    ticket.0,
                    visit.rate_by.as_millisecond(),
                    encode(visit)?
                ])?;
            }
            None => {
                close_visit.execute(params![ticket.0])?;
            }
        }
    }
    for ticket in pruned_visits {
        close_visit.execute(params![ticket.0])?;
    }
    let mut insert_rating = tx.prepare_cached(
        "INSERT INTO ratings (ticket, round, level, channel, at_ms, day, number, service, window,
             staff, department, reasons, comment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for (_, event) in events {
        if let Event::ServiceRated {
            ticket,
            number,
            service,
            window,
            staff,
            department,
            day,
            round,
            rating,
        } = event
        {
            insert_rating.execute(params![
                ticket.0,
                round,
                rating.level.code(),
                rating.channel.as_str(),
                rating.at.as_millisecond(),
                day.to_string(),
                number,
                service.as_str(),
                window.as_str(),
                staff,
                department,
                encode(&rating.reasons)?,
                rating.comment,
            ])?;
        }
    }
    let mut upsert_case = tx.prepare_cached(
        "INSERT INTO cases (id, status, ticket, opened_at_ms, opened_day, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, data = excluded.data",
    )?;
    let mut void_rating = tx.prepare_cached(
        "UPDATE ratings SET voided = 1 WHERE ticket = ?1 AND round = 1 AND voided = 0",
    )?;
    for case in cases {
        let ticket = case_ticket(case);
        upsert_case.execute(params![
            case.id,
            case.status.as_str(),
            ticket.map(|t| t.0),
            case.opened_at.as_millisecond(),
            opened_day(case),
            encode(case)?
        ])?;
        if case.voided {
            if let (Some(ticket), CaseSource::BadRating { .. }) = (ticket, &case.source) {
                void_rating.execute(params![ticket.0])?;
            }
        }
    }
    Ok(())
}

fn case_ticket(case: &Case) -> Option<TicketId> {
    match &case.source {
        CaseSource::BadRating { ticket, .. } => Some(*ticket),
        CaseSource::Complaint { ticket, .. } => *ticket,
    }
}

/// The UTC date of the opening: the store knows no time zone, so queries by hall day look a
/// day either side in this column and then filter on the instant in hall time.
fn opened_day(case: &Case) -> String {
    case.opened_at
        .to_zoned(hallq_core::jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::other(format!("encoding: {e}")))
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::other(format!("{what} cannot be read: {e}")))
}

pub(crate) fn open_visits(conn: &rusqlite::Connection) -> Result<Vec<Visit>, StoreError> {
    let mut statement = conn.prepare("SELECT data FROM visits WHERE open = 1 ORDER BY ticket")?;
    let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
    rows.map(|row| decode("a stored visit", &row?)).collect()
}

pub(crate) fn unclosed_cases(conn: &rusqlite::Connection) -> Result<Vec<Case>, StoreError> {
    let mut statement =
        conn.prepare("SELECT data FROM cases WHERE status <> 'closed' ORDER BY id")?;
    let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
    rows.map(|row| decode("a stored case", &row?)).collect()
}

pub(crate) fn last_case_id(conn: &rusqlite::Connection) -> Result<u64, StoreError> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(id), 0) FROM cases", [], |row| {
            row.get(0)
        })?,
    )
}

/// What the figures are counted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FigureKey {
    Window,
    Service,
    Staff,
    Department,
}

impl FigureKey {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "window" => Some(FigureKey::Window),
            "service" => Some(FigureKey::Service),
            "staff" => Some(FigureKey::Staff),
            "department" => Some(FigureKey::Department),
            _ => None,
        }
    }

    fn column(self) -> &'static str {
        match self {
            FigureKey::Window => "window",
            FigureKey::Service => "service",
            FigureKey::Staff => "COALESCE(staff, '')",
            FigureKey::Department => "department",
        }
    }

    fn of_case(self, case: &Case) -> String {
        match self {
            FigureKey::Window => case.window.as_ref().map(|w| w.0.clone()),
            FigureKey::Service => case.service.as_ref().map(|s| s.0.clone()),
            FigureKey::Staff => case.staff.clone(),
            FigureKey::Department => Some(case.department.clone()),
        }
        .unwrap_or_default()
    }
}

/// The satisfaction figures of one window, service, staff member or department in one period.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    /// `2026-11-28`, or `2026-11` when counted by month.
    pub period: String,
    pub key: String,
    /// First ratings given (follow-ups and voided ratings not counted).
    pub ratings: u64,
    /// Ratings per national code 1..=5.
    pub by_level: [u64; 5],
    /// Of the ratings, how many came from the system default.
    pub defaults: u64,
    /// 差评 and complaints: cases opened.
    pub cases: u64,
    pub called_back: u64,
    /// Cases whose rectification was due by the end of the period's last day.
    pub due: u64,
    /// Of those, fed back by their due date.
    pub rectified_on_time: u64,
}

impl Figures {
    /// 非常满意 + 满意 over all ratings; `None` without ratings.
    pub fn satisfaction(&self) -> Option<f64> {
        (self.ratings > 0)
            .then(|| (self.by_level[0] + self.by_level[1]) as f64 / self.ratings as f64)
    }

    pub fn bad(&self) -> u64 {
        self.by_level[3] + self.by_level[4]
    }

    pub fn callback_rate(&self) -> Option<f64> {
        (self.cases > 0).then(|| self.called_back as f64 / self.cases as f64)
    }

    pub fn on_time_rate(&self) -> Option<f64> {
        (self.due > 0).then(|| self.rectified_on_time as f64 / self.due as f64)
    }
}

/// Counts the figures of the visits of `from..=to` (service days) per `key`, per day or per
/// month; `today` decides which cases were due. Rows sorted by period, then key.
pub(crate) fn figures(
    conn: &rusqlite::Connection,
    from: Date,
    to: Date,
    key: FigureKey,
    by_month: bool,
    today: Date,
    time_zone: &hallq_core::jiff::tz::TimeZone,
) -> Result<Vec<Figures>, StoreError> {
    let period = if by_month { "substr(day, 1, 7)" } else { "day" };
    let sql = format!(
        "SELECT {period}, {key}, level, channel = 'system_default', COUNT(*) FROM ratings
         WHERE day BETWEEN ?1 AND ?2 AND round = 1 AND voided = 0
         GROUP BY 1, 2, 3, 4",
        key = key.column()
    );
    let mut rows: BTreeMap<(String, String), Figures> = BTreeMap::new();
    let mut statement = conn.prepare(&sql)?;
    let counted = statement.query_map(params![from.to_string(), to.to_string()], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, u8>(2)?,
            row.get::<_, bool>(3)?,
            row.get::<_, u64>(4)?,
        ))
    })?;
    for row in counted {
        let (period, key, level, default, count) = row?;
        let entry = rows
            .entry((period.clone(), key.clone()))
            .or_insert_with(|| Figures {
                period,
                key,
                ..Figures::default()
            });
        if let Some(level) = RatingLevel::from_code(level) {
            entry.by_level[usize::from(level.code() - 1)] += count;
            entry.ratings += count;
            if default {
                entry.defaults += count;
            }
        }
    }
    // Cases opened in the range (a little wider in UTC, then filtered by hall day).
    let mut statement =
        conn.prepare("SELECT data FROM cases WHERE opened_day BETWEEN ?1 AND ?2 ORDER BY id")?;
    let wide_from = from.yesterday().unwrap_or(from).to_string();
    let wide_to = to.tomorrow().unwrap_or(to).to_string();
    let cases = statement.query_map(params![wide_from, wide_to], |row| row.get::<_, String>(0))?;
    for data in cases {
        let case: Case = decode("a stored case", &data?)?;
        let day = case.opened_at.to_zoned(time_zone.clone()).date();
        if day < from || day > to || case.voided {
            continue;
        }
        let period = if by_month {
            day.to_string()[..7].to_owned()
        } else {
            day.to_string()
        };
        let key = key.of_case(&case);
        let entry = rows
            .entry((period.clone(), key.clone()))
            .or_insert_with(|| Figures {
                period,
                key,
                ..Figures::default()
            });
        entry.cases += 1;
        if case.called_back_at.is_some() {
            entry.called_back += 1;
        }
        let fed_back_day = case
            .fed_back_at
            .map(|at| at.to_zoned(time_zone.clone()).date());
        if case.due < today || fed_back_day.is_some() {
            entry.due += 1;
            if fed_back_day.is_some_and(|day| day <= case.due) {
                entry.rectified_on_time += 1;
            }
        }
    }
    Ok(rows.into_values().collect())
}

/// Cases by status, newest first: `None` for every status. At most `limit`.
pub(crate) fn cases(
    conn: &rusqlite::Connection,
    statuses: Option<&[&str]>,
    limit: usize,
) -> Result<Vec<Case>, StoreError> {
    let filter = match statuses {
        Some(list) if !list.is_empty() => format!(
            "WHERE status IN ({})",
            list.iter()
                .map(|s| format!("'{}'", s.replace('\'', "")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => String::new(),
    };
    let mut statement = conn.prepare(&format!(
        "SELECT data FROM cases {filter} ORDER BY id DESC LIMIT ?1"
    ))?;
    let rows = statement.query_map(params![limit as i64], |row| row.get::<_, String>(0))?;
    rows.map(|row| decode("a stored case", &row?)).collect()
}

pub(crate) fn case(conn: &rusqlite::Connection, id: u64) -> Result<Option<Case>, StoreError> {
    use rusqlite::OptionalExtension;
    let data: Option<String> = conn
        .query_row("SELECT data FROM cases WHERE id = ?1", params![id], |row| {
            row.get(0)
        })
        .optional()?;
    data.map(|text| decode("a stored case", &text)).transpose()
}

/// One rating as stored, for the day's CSV and for checks.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRating {
    pub ticket: TicketId,
    pub round: u8,
    pub level: RatingLevel,
    pub channel: String,
    pub at: hallq_core::jiff::Timestamp,
    pub day: String,
    pub number: String,
    pub service: String,
    pub window: String,
    pub staff: Option<String>,
    pub department: String,
    pub reasons: Vec<String>,
    pub comment: Option<String>,
    pub voided: bool,
}

/// Every rating of the visits of `from..=to`, in the order given; at most `limit`.
pub(crate) fn ratings(
    conn: &rusqlite::Connection,
    from: Date,
    to: Date,
    limit: usize,
) -> Result<Vec<StoredRating>, StoreError> {
    let mut statement = conn.prepare(
        "SELECT ticket, round, level, channel, at_ms, day, number, service, window, staff,
                department, reasons, comment, voided
         FROM ratings WHERE day BETWEEN ?1 AND ?2 ORDER BY at_ms, ticket, round LIMIT ?3",
    )?;
    let rows = statement.query_map(
        params![from.to_string(), to.to_string(), limit as i64],
        |row| {
            Ok((
                row.get::<_, u64>(0)?,
                row.get::<_, u8>(1)?,
                row.get::<_, u8>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, String>(6)?,
                row.get::<_, String>(7)?,
                row.get::<_, String>(8)?,
                row.get::<_, Option<String>>(9)?,
                row.get::<_, String>(10)?,
                row.get::<_, String>(11)?,
                row.get::<_, Option<String>>(12)?,
                row.get::<_, bool>(13)?,
            ))
        },
    )?;
    rows.map(|row| {
        let r = row?;
        Ok(StoredRating {
            ticket: TicketId(r.0),
            round: r.1,
            level: RatingLevel::from_code(r.2)
                .ok_or_else(|| StoreError::other(format!("rating level {} is not 1-5", r.2)))?,
            channel: r.3,
            at: hallq_core::jiff::Timestamp::from_millisecond(r.4)
                .map_err(|e| StoreError::other(format!("rating time: {e}")))?,
            day: r.5,
            number: r.6,
            service: r.7,
            window: r.8,
            staff: r.9,
            department: r.10,
            reasons: decode("a rating's reasons", &r.11)?,
            comment: r.12,
            voided: r.13,
        })
    })
    .collect()
}

/// The first rating of a ticket, when it was ever rated (also after the hall forgot the visit).
pub(crate) fn rated_rounds(
    conn: &rusqlite::Connection,
    ticket: TicketId,
) -> Result<u8, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM ratings WHERE ticket = ?1",
        params![ticket.0],
        |row| row.get(0),
    )?)
}
