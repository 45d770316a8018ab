//! The `[backup]` section: the nightly backup the daemon takes itself.

use super::errors::Problems;
use crate::ops::backup::NightlySettings;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct BackupSection {
    /// false turns the nightly backup off (take backups another way, then).
    enabled: bool,
    /// Where backups go; relative paths are inside the data directory. Better: another disk.
    dir: String,
    /// Hall time, "HH:MM", when the hall is closed.
    at: String,
    /// How many nightly backups to keep.
    keep: usize,
}

impl Default for BackupSection {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: "backups".into(),
            at: "02:30".into(),
            keep: 14,
        }
    }
}

pub(crate) fn backup(raw: BackupSection, problems: &mut Problems<'_>) -> Option<NightlySettings> {
    let at = raw.at.parse::<hallq_core::jiff::civil::Time>();
    if at.is_err() || raw.at.len() != 5 {
        problems.at(
            "backup.at",
            "give the time of day as \"HH:MM\" (hall time), e.g. \"02:30\"",
        );
    }
    if !(1..=365).contains(&raw.keep) {
        problems.at("backup.keep", "keep between 1 and 365 backups");
    }
    if raw.dir.trim().is_empty() {
        problems.at("backup.dir", "name a directory for the backups");
    }
    (raw.enabled && !raw.dir.trim().is_empty()).then(|| NightlySettings {
        dir: PathBuf::from(raw.dir),
        at: at.unwrap_or_default(),
        keep: raw.keep,
    })
}
