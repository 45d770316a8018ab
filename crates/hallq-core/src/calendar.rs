//! The national calendar: public holidays and adjusted working days (调休), per year, and the
//! hall's schedule — which mode each service is in at a given instant.
//!
//! Pure like the rest of the core: the data comes from kiosk-config/calendar/ through the
//! daemon, the instant and the time zone are arguments.

use crate::ids::{ServiceId, WindowId};
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayType {
    Workday,
    /// A weekend day worked to make up for a holiday (补班).
    MakeupWorkday,
    Weekend,
    Holiday,
}

impl DayType {
    pub fn as_str(self) -> &'static str {
        match self {
            DayType::Workday => "workday",
            DayType::MakeupWorkday => "makeup_workday",
            DayType::Weekend => "weekend",
            DayType::Holiday => "holiday",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "workday" => Some(DayType::Workday),
            "makeup_workday" => Some(DayType::MakeupWorkday),
            "weekend" => Some(DayType::Weekend),
            "holiday" => Some(DayType::Holiday),
            _ => None,
        }
    }

    /// 工作日, 补班, 周末, 节假日 — for published lists.
    pub fn chinese(self) -> &'static str {
        match self {
            DayType::Workday => "工作日",
            DayType::MakeupWorkday => "调休工作日",
            DayType::Weekend => "周末",
            DayType::Holiday => "法定节假日",
        }
    }
}

/// One entry of a year's file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    pub date: Date,
    pub name: String,
    pub is_off_day: bool,
}

/// What a date is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarDay {
    pub date: Date,
    pub day_type: DayType,
    /// The holiday's name (春节) for holidays and their make-up days.
    pub name: Option<String>,
    /// False when the year has no data and the answer is a plain weekday/weekend guess.
    pub known: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Calendar {
    days: BTreeMap<Date, (bool, String)>,
    years: BTreeSet<i16>,
}

impl Calendar {
    /// Adds a year's entries; refuses entries outside the year and dates given twice, naming
    /// the entry (by its index in the file).
    pub fn add_year(
        &mut self,
        year: i16,
        entries: &[CalendarEntry],
    ) -> Result<(), (usize, String)> {
        let mut seen = BTreeSet::new();
        for (index, entry) in entries.iter().enumerate() {
            if entry.date.year() != year {
                return Err((index, format!("{} is not in {year}", entry.date)));
            }
            if !seen.insert(entry.date) {
                return Err((index, format!("{} is listed twice", entry.date)));
            }
        }
        for entry in entries {
            self.days
                .insert(entry.date, (entry.is_off_day, entry.name.clone()));
        }
        self.years.insert(year);
        Ok(())
    }

    pub fn has_year(&self, year: i16) -> bool {
        self.years.contains(&year)
    }

    pub fn years(&self) -> impl Iterator<Item = i16> + '_ {
        self.years.iter().copied()
    }

    /// Whether `date` is worked: a weekday that is no holiday, or a make-up day (补班).
    pub fn is_working_day(&self, date: Date) -> bool {
        matches!(
            self.day(date).day_type,
            DayType::Workday | DayType::MakeupWorkday
        )
    }

    /// The `n`th working day after `date` (`date` itself for 0): the last day of a deadline
    /// of `n` working days that starts on `date`. Holidays and weekends are skipped, make-up
    /// days count. Stops looking after a year and a half, which no deadline reaches.
    pub fn working_days_after(&self, date: Date, n: u32) -> Date {
        let mut day = date;
        let mut left = n;
        for _ in 0..550 {
            if left == 0 {
                break;
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    pub fn day(&self, date: Date) -> CalendarDay {
        let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
        match self.days.get(&date) {
            Some((true, name)) => CalendarDay {
                date,
                day_type: DayType::Holiday,
                name: Some(name.clone()),
                known: true,
            },
            Some((false, name)) => CalendarDay {
                date,
                day_type: DayType::MakeupWorkday,
                name: Some(name.clone()),
                known: true,
            },
            None => CalendarDay {
                date,
                day_type: if weekend {
                    DayType::Weekend
                } else {
                    DayType::Workday
                },
                name: None,
                known: self.has_year(date.year()),
            },
        }
    }
}

/// What a service offers during a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceMode {
    /// Open at its usual windows.
    Regular,
    /// 值班: open at the period's duty windows only.
    Duty,
    /// 预约: only booked citizens (checked-in appointments) are served.
    AppointmentOnly,
    Closed,
}

impl ServiceMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceMode::Regular => "regular",
            ServiceMode::Duty => "duty",
            ServiceMode::AppointmentOnly => "appointment_only",
            ServiceMode::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "regular" => Some(ServiceMode::Regular),
            "duty" => Some(ServiceMode::Duty),
            "appointment_only" => Some(ServiceMode::AppointmentOnly),
            "closed" => Some(ServiceMode::Closed),
            _ => None,
        }
    }

    /// Whether a walk-in may take a ticket.
    pub fn takes_walk_ins(self) -> bool {
        matches!(self, ServiceMode::Regular | ServiceMode::Duty)
    }
}

/// A stretch of time on some day types during which some services are in one mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Period {
    pub name: String,
    pub days: Vec<DayType>,
    pub from: Time,
    /// Exclusive; 23:59:59.999999999 stands for midnight.
    pub to: Time,
    pub mode: ServiceMode,
    /// `None`: every service.
    pub services: Option<Vec<ServiceId>>,
    /// Duty windows (for lists and boards).
    pub windows: Vec<WindowId>,
    /// Listed in the extended-hours list (错时延时).
    pub extended: bool,
}

impl Period {
    fn covers(&self, service: &ServiceId, day: DayType, time: Time) -> bool {
        self.days.contains(&day)
            && self.from <= time
            && time < self.to
            && self
                .services
                .as_ref()
                .is_none_or(|list| list.contains(service))
    }

    pub fn serves(&self, service: &ServiceId) -> bool {
        self.services
            .as_ref()
            .is_none_or(|list| list.contains(service))
    }
}

/// The hall's schedule. Without periods every service is always open (the demo hall);
/// otherwise the first period covering a service at an instant gives its mode, and no period
/// means closed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub periods: Vec<Period>,
}

/// A service's situation at an instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Availability {
    pub mode: ServiceMode,
    /// The period that decided it.
    pub period: Option<String>,
    /// When walk-ins are next taken, if not now (within four weeks).
    pub next_open: Option<Timestamp>,
    /// When walk-ins stop being taken, if they are now (within two days).
    pub closes_at: Option<Timestamp>,
}

impl Schedule {
    pub fn is_always_open(&self) -> bool {
        self.periods.is_empty()
    }

    fn resolve(
        &self,
        calendar: &Calendar,
        tz: &TimeZone,
        service: &ServiceId,
        at: Timestamp,
    ) -> (ServiceMode, Option<&Period>) {
        if self.periods.is_empty() {
            return (ServiceMode::Regular, None);
        }
        let local = at.to_zoned(tz.clone());
        let day = calendar.day(local.date()).day_type;
        match self
            .periods
            .iter()
            .find(|p| p.covers(service, day, local.time()))
        {
            Some(period) => (period.mode, Some(period)),
            None => (ServiceMode::Closed, None),
        }
    }

    pub fn mode_at(
        &self,
        calendar: &Calendar,
        tz: &TimeZone,
        service: &ServiceId,
        at: Timestamp,
    ) -> ServiceMode {
        self.resolve(calendar, tz, service, at).0
    }

    /// Every instant from `after` on (within `days`) where some period starts or ends: the only
    /// places a service's mode can change.
    fn boundaries(&self, tz: &TimeZone, after: Timestamp, days: i64) -> Vec<Timestamp> {
        let start = after.to_zoned(tz.clone()).date();
        let mut instants = BTreeSet::new();
        for offset in 0..=days {
            let Ok(date) = start.checked_add(offset.days()) else {
                break;
            };
            for moment in std::iter::once(Time::midnight())
                .chain(self.periods.iter().flat_map(|p| [p.from, p.to]))
            {
                if let Ok(zoned) = date.to_datetime(moment).to_zoned(tz.clone()) {
                    let instant = zoned.timestamp();
                    // A period ending at 23:59:59.999… really ends at midnight.
                    let instant = if moment == Time::MAX {
                        instant + 1.nanosecond()
                    } else {
                        instant
                    };
                    if instant > after {
                        instants.insert(instant);
                    }
                }
            }
        }
        instants.into_iter().collect()
    }

    pub fn availability(
        &self,
        calendar: &Calendar,
        tz: &TimeZone,
        service: &ServiceId,
        now: Timestamp,
    ) -> Availability {
        let (mode, period) = self.resolve(calendar, tz, service, now);
        let period = period.map(|p| p.name.clone());
        if self.periods.is_empty() {
            return Availability {
                mode,
                period,
                next_open: None,
                closes_at: None,
            };
        }
        if mode.takes_walk_ins() {
            let closes_at = self
                .boundaries(tz, now, 2)
                .into_iter()
                .find(|b| !self.mode_at(calendar, tz, service, *b).takes_walk_ins());
            Availability {
                mode,
                period,
                next_open: None,
                closes_at,
            }
        } else {
            let next_open = self
                .boundaries(tz, now, 28)
                .into_iter()
                .find(|b| self.mode_at(calendar, tz, service, *b).takes_walk_ins());
            Availability {
                mode,
                period,
                next_open,
                closes_at: None,
            }
        }
    }
}
