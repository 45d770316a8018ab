//! The `[upstream]` section: where the city's hub is and how this hall talks to it. Absent, the
//! hall is an island (it works alone; nothing leaves it). `HALLQ_UPSTREAM_URL` and
//! `HALLQ_UPSTREAM_TOKEN` override the file, so that the token need not be written in it.

use super::errors::Problems;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct UpstreamSection {
    /// The hub's base URL, `http://hub.example:8090` (TLS through a reverse proxy: docs/).
    pub(crate) url: Option<String>,
    /// The hall's token, as `hallq-hub add-hall` printed it (better: HALLQ_UPSTREAM_TOKEN).
    pub(crate) token: Option<String>,
    /// Events per push (the hub takes at most 1000).
    pub(crate) batch_events: Option<usize>,
    pub(crate) snapshot_interval_s: Option<u64>,
    pub(crate) pull_interval_s: Option<u64>,
    /// Every call to the hub gives up after this long.
    pub(crate) timeout_s: Option<u64>,
    /// The dashboard shows an alert when the oldest event not yet at the hub is this old.
    pub(crate) lag_alert_s: Option<u64>,
    /// The longest wait between attempts while the hub cannot be reached.
    pub(crate) retry_max_s: Option<u64>,
    /// 行政区划: the hall's six-digit administrative division code (GB/T 2260), for the
    /// 好差评 records.
    pub(crate) region_code: Option<String>,
    /// How the province numbers the satisfaction levels: "national" (1 非常满意 … 5) or
    /// "reversed".
    pub(crate) level_numbering: Option<hallq_core::LevelNumbering>,
}

/// The upstream link, checked.
#[derive(Clone, Debug)]
pub struct UpstreamSettings {
    pub url: String,
    pub token: String,
    pub batch_events: usize,
    pub snapshot_interval: Duration,
    pub pull_interval: Duration,
    pub timeout: Duration,
    pub lag_alert: Duration,
    pub retry_max: Duration,
    /// 行政区划 of the 好差评 records; empty when not configured.
    pub region_code: String,
    pub level_numbering: hallq_core::LevelNumbering,
}

/// The largest push the hub accepts.
pub const MAX_BATCH_EVENTS: usize = 1000;

pub(crate) fn upstream(
    raw: UpstreamSection,
    problems: &mut Problems<'_>,
) -> Option<UpstreamSettings> {
    let url = raw.url?;
    let url = url.trim_end_matches('/').to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        problems.at(
            "upstream.url",
            "give the hub's address as http://HOST:PORT or https://HOST",
        );
    }
    let batch_events = raw.batch_events.unwrap_or(500);
    if !(1..=MAX_BATCH_EVENTS).contains(&batch_events) {
        problems.at(
            "upstream.batch_events",
            format!("must be between 1 and {MAX_BATCH_EVENTS}"),
        );
    }
    let mut seconds = |key: &str, value: Option<u64>, default: u64, range: (u64, u64)| {
        let value = value.unwrap_or(default);
        if value < range.0 || value > range.1 {
            problems.at(
                format!("upstream.{key}"),
                format!("must be between {} and {} seconds", range.0, range.1),
            );
        }
        Duration::from_secs(value)
    };
    let snapshot_interval = seconds(
        "snapshot_interval_s",
        raw.snapshot_interval_s,
        60,
        (1, 3600),
    );
    let pull_interval = seconds("pull_interval_s", raw.pull_interval_s, 30, (1, 3600));
    let timeout = seconds("timeout_s", raw.timeout_s, 10, (1, 300));
    let lag_alert = seconds("lag_alert_s", raw.lag_alert_s, 900, (1, 7 * 24 * 3600));
    let retry_max = seconds("retry_max_s", raw.retry_max_s, 60, (1, 3600));
    let region_code = raw.region_code.unwrap_or_default();
    let six_digits = region_code.len() == 6 && region_code.bytes().all(|b| b.is_ascii_digit());
    if !region_code.is_empty() && !six_digits {
        problems.at(
            "upstream.region_code",
            "give the six-digit administrative division code (行政区划代码, GB/T 2260), e.g. \"320102\"",
        );
    }
    Some(UpstreamSettings {
        region_code,
        level_numbering: raw.level_numbering.unwrap_or_default(),
        url,
        // An empty token is reported when the link starts (the environment may give it).
        token: raw.token.unwrap_or_default(),
        batch_events,
        snapshot_interval,
        pull_interval,
        timeout,
        lag_alert,
        retry_max,
    })
}

impl UpstreamSettings {
    /// The link as configured, with `HALLQ_UPSTREAM_URL` and `HALLQ_UPSTREAM_TOKEN` over it: the
    /// URL alone in the environment turns the link on with the defaults.
    pub fn with_environment(
        configured: Option<UpstreamSettings>,
        url: Option<String>,
        token: Option<String>,
    ) -> Option<UpstreamSettings> {
        let url = url.filter(|u| !u.trim().is_empty());
        let mut settings = match (configured, url) {
            (Some(mut settings), Some(url)) => {
                settings.url = url.trim_end_matches('/').to_owned();
                settings
            }
            (Some(settings), None) => settings,
            (None, Some(url)) => UpstreamSettings {
                url: url.trim_end_matches('/').to_owned(),
                token: String::new(),
                batch_events: 500,
                snapshot_interval: Duration::from_secs(60),
                pull_interval: Duration::from_secs(30),
                timeout: Duration::from_secs(10),
                lag_alert: Duration::from_secs(900),
                retry_max: Duration::from_secs(60),
                region_code: String::new(),
                level_numbering: hallq_core::LevelNumbering::National,
            },
            (None, None) => return None,
        };
        if let Some(token) = token.filter(|t| !t.trim().is_empty()) {
            settings.token = token.trim().to_owned();
        }
        Some(settings)
    }
}
