//! A year's holiday file in the holiday-cn layout (`kiosk-config/calendar/2026.json`): what a
//! hall reads from its folder and what the hub hands out. One parser for both.

use hallq_core::CalendarEntry;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct CalendarFile {
    year: i16,
    days: Vec<CalendarFileDay>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CalendarFileDay {
    name: String,
    date: String,
    is_off_day: bool,
}

/// What is wrong with a calendar file, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarFileError {
    pub line: Option<usize>,
    /// `days[3].date`, or `(file)`.
    pub key: String,
    pub message: String,
}

/// A year's file, checked: its year and its entries (each date in that year, none twice).
pub fn parse_calendar_file(text: &str) -> Result<(i16, Vec<CalendarEntry>), CalendarFileError> {
    let parsed: CalendarFile = serde_json::from_str(text).map_err(|e| CalendarFileError {
        line: Some(e.line()),
        key: "(file)".into(),
        message: format!("not a calendar file: {e}"),
    })?;
    let line_of_entry = |index: usize, date: &str| {
        text.lines()
            .position(|l| l.contains(date))
            .map(|l| l + 1)
            .or(Some(index + 1))
    };
    let mut entries = Vec::with_capacity(parsed.days.len());
    for (index, day) in parsed.days.iter().enumerate() {
        let date = day.date.parse().map_err(|_| CalendarFileError {
            line: line_of_entry(index, &day.date),
            key: format!("days[{index}].date"),
            message: format!("'{}' is not a date (YYYY-MM-DD)", day.date),
        })?;
        entries.push(CalendarEntry {
            date,
            name: day.name.clone(),
            is_off_day: day.is_off_day,
        });
    }
    // The same checks the calendar makes when the year is added, so that a file the hub
    // accepts is one every hall accepts.
    hallq_core::Calendar::default()
        .add_year(parsed.year, &entries)
        .map_err(|(index, message)| CalendarFileError {
            line: line_of_entry(index, &parsed.days[index].date),
            key: format!("days[{index}]"),
            message,
        })?;
    Ok((parsed.year, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_and_a_wrong_entry_named() {
        let (year, entries) = parse_calendar_file(
            r#"{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}"#,
        )
        .unwrap();
        assert_eq!((year, entries.len()), (2027, 1));
        let error = parse_calendar_file(
            "{\"year\": 2027, \"days\": [\n{\"name\": \"元旦\", \"date\": \"2026-01-01\", \"isOffDay\": true}]}",
        )
        .unwrap_err();
        assert_eq!((error.line, error.key.as_str()), (Some(2), "days[0]"));
        assert!(parse_calendar_file("not json").is_err());
    }
}
