//! Holiday calendars from the hub: the years the hub has and this hall lacks are fetched, added
//! to the running hall (the missing-year alert clears) and kept in the data directory's
//! `calendar/` folder, which the daemon reads at its next start.

use super::client::{CallError, HubClient};
use super::Upstream;
use hallq_protocol::CalendarYears;

/// The folder in the data directory where fetched years are kept.
pub const FETCHED_CALENDAR_DIR: &str = "calendar";

/// Fetches and applies the years this hall lacks; returns the years added.
pub async fn fetch_missing(upstream: &Upstream, client: &HubClient) -> Result<Vec<i16>, CallError> {
    let text = client.call("GET", "/v1/calendars".into(), None).await?;
    let offered: CalendarYears = serde_json::from_str(&text).map_err(|e| {
        CallError::Refused(format!("the hub's calendar list is not understood: {e}"))
    })?;
    let mut added = Vec::new();
    for year in offered.years {
        if upstream
            .engine
            .view(|hall| hall.spec().calendar.has_year(year))
        {
            continue;
        }
        let file = client
            .call("GET", format!("/v1/calendars/{year}"), None)
            .await?;
        let (parsed, entries) = match hallq_protocol::parse_calendar_file(&file) {
            Ok(parsed) if parsed.0 == year => parsed,
            _ => {
                tracing::error!(year, "the hub's calendar file does not parse; not applied");
                continue;
            }
        };
        match upstream.engine.add_calendar_year(parsed, entries).await {
            Ok(Ok(())) => {}
            Ok(Err(problem)) => {
                tracing::error!(year, %problem, "the hub's calendar year was refused");
                continue;
            }
            Err(error) => {
                return Err(CallError::Unavailable(format!(
                    "the calendar could not be applied now: {error}"
                )))
            }
        }
        keep(upstream, year, &file);
        tracing::info!(year, "holiday calendar fetched from the hub");
        added.push(year);
    }
    Ok(added)
}

/// Writes the year's file so that a restart has it without the hub.
fn keep(upstream: &Upstream, year: i16, file: &str) {
    let folder = upstream.data_dir.join(FETCHED_CALENDAR_DIR);
    let written = std::fs::create_dir_all(&folder).and_then(|()| {
        let temporary = folder.join(format!(".{year}.json.tmp"));
        std::fs::write(&temporary, file)?;
        std::fs::rename(&temporary, folder.join(format!("{year}.json")))
    });
    if let Err(error) = written {
        tracing::warn!(year, %error, "could not keep the fetched calendar year on disk");
    }
}
