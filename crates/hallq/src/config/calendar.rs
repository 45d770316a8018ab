//! The holiday calendar: one file per year in the holiday-cn layout (`calendar/2026.json`),
//! from the folder beside the hall file, or the years compiled in for the built-in demo hall.

use super::errors::{ConfigError, Problems};
use serde::Deserialize;
use std::path::Path;

/// The shipped calendar years, compiled in for the built-in demo hall.
pub const BUILT_IN_CALENDAR: &[(&str, &str)] = &[(
    "2026.json",
    include_str!("../../../../kiosk-config/calendar/2026.json"),
)];

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct CalendarSection {
    /// Folder of yearly files (2026.json …), relative to the configuration file.
    pub(crate) directory: String,
}

impl Default for CalendarSection {
    fn default() -> Self {
        Self {
            directory: "calendar".into(),
        }
    }
}

/// "09:00-10:00" → (09:00, 10:00).
pub(crate) fn clock_range(
    text: &str,
) -> Option<(hallq_core::jiff::civil::Time, hallq_core::jiff::civil::Time)> {
    let (from, to) = text.split_once('-')?;
    Some((clock(from.trim())?, clock(to.trim())?))
}

/// Parses "08:30"; "24:00" is the end of the day.
pub(crate) fn clock(text: &str) -> Option<hallq_core::jiff::civil::Time> {
    if text == "24:00" {
        return Some(hallq_core::jiff::civil::Time::MAX);
    }
    let (hours, minutes) = text.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    hallq_core::jiff::civil::Time::new(hours.parse().ok()?, minutes.parse().ok()?, 0, 0).ok()
}

/// Reads one year's calendar file into `calendar`, naming the entry at fault.
pub fn load_calendar_year(
    calendar: &mut hallq_core::Calendar,
    file: &str,
    text: &str,
) -> Result<i16, ConfigError> {
    let fail = |error: hallq_protocol::CalendarFileError| ConfigError {
        file: file.to_owned(),
        line: error.line,
        key: error.key,
        message: error.message,
    };
    let (year, entries) = hallq_protocol::parse_calendar_file(text).map_err(fail)?;
    calendar
        .add_year(year, &entries)
        .map_err(|(index, message)| {
            fail(hallq_protocol::CalendarFileError {
                line: None,
                key: format!("days[{index}]"),
                message,
            })
        })?;
    Ok(year)
}

/// The calendar of a hall file: every year in its folder (the built-in years when the file
/// has no folder, as the compiled-in demo hall has not).
pub(crate) fn load(
    directory: Option<&Path>,
    section: &CalendarSection,
    problems: &mut Problems<'_>,
) -> hallq_core::Calendar {
    let mut calendar = hallq_core::Calendar::default();
    let Some(directory) = directory else {
        for (name, text) in BUILT_IN_CALENDAR {
            if let Err(error) = load_calendar_year(&mut calendar, name, text) {
                problems.push(error);
            }
        }
        return calendar;
    };
    let folder = directory.join(&section.directory);
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    for path in files {
        let name = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                if let Err(error) = load_calendar_year(&mut calendar, &name, &text) {
                    problems.push(error);
                }
            }
            Err(e) => problems.push(ConfigError {
                file: name,
                line: None,
                key: "(file)".into(),
                message: format!("cannot read: {e}"),
            }),
        }
    }
    calendar
}
