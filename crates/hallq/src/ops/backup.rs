//! Backups a hall can trust: `hallq backup` while the hall serves (SQLite's `VACUUM INTO`, one
//! consistent instant), `hallq restore` onto a data directory no daemon uses, and the nightly
//! backup the daemon takes itself, with retention.
//!
//! A backup is the database file plus, beside it, `FILE.key`: the hall's secret key (mode 0600)
//! without which the citizens' sealed phone numbers cannot be opened again. The key is never
//! put inside the database; keep both files together, somewhere only IT staff can read.

use hallq_core::jiff::civil::Time;
use hallq_core::jiff::tz::TimeZone;
use hallq_core::jiff::{Timestamp, ToSpan};
use hallq_store::{BackupSummary, Store};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The database's file name in a data directory.
pub const DATABASE_FILE: &str = "hallq.db";
const LOCK_FILE: &str = "hallq.lock";

fn key_path(backup: &Path) -> PathBuf {
    let mut name = backup.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

fn copy_key(from: &Path, to: &Path) -> Result<bool, String> {
    if !from.exists() {
        return Ok(false);
    }
    std::fs::copy(from, to).map_err(|e| {
        format!(
            "cannot copy the key {} to {}: {e}",
            from.display(),
            to.display()
        )
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot protect {}: {e}", to.display()))?;
    }
    Ok(true)
}

/// Backs up the database of `data` into `to` (and its key into `to.key`), consistent while
/// the daemon keeps serving, and checks the copy.
pub fn backup(data: &Path, to: &Path) -> Result<BackupSummary, String> {
    let database = data.join(DATABASE_FILE);
    if !database.exists() {
        return Err(format!(
            "there is no database at {}: give the hall's data directory with --data",
            database.display()
        ));
    }
    if to.exists() {
        return Err(format!(
            "{} exists already: back up to a new file",
            to.display()
        ));
    }
    let store = Store::open_reader(&database).map_err(|e| e.to_string())?;
    let summary = store.backup_into(to).map_err(|e| {
        // Only what this backup started is removed: `to` did not exist before.
        let _ = std::fs::remove_file(to);
        format!("the backup failed: {e}")
    })?;
    copy_key(&data.join(hallq_privacy::KEY_FILE), &key_path(to))?;
    Ok(summary)
}

/// Whether a daemon holds `data` now (it keeps `hallq.lock` locked while it runs).
pub fn in_use(data: &Path) -> bool {
    let path = data.join(LOCK_FILE);
    match File::options().write(true).open(&path) {
        Ok(file) => file.try_lock().is_err(),
        Err(_) => false,
    }
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub summary: BackupSummary,
    /// Where the database that was there before was moved, if there was one.
    pub set_aside: Option<PathBuf>,
    pub key_restored: bool,
}

/// Restores `from` (and `from.key`) into `data`. Refuses while a daemon uses `data`; a
/// database already there is moved aside (`hallq.db.before-restore-…`), never deleted.
pub fn restore(from: &Path, data: &Path, now: Timestamp) -> Result<Restored, String> {
    if in_use(data) {
        return Err(format!(
            "a hallq daemon is running with {}: stop it first (systemctl stop hallq), then restore",
            data.display()
        ));
    }
    let summary = hallq_store::check_copy(from)
        .map_err(|e| format!("{} is not a usable backup: {e}", from.display()))?;
    std::fs::create_dir_all(data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    let database = data.join(DATABASE_FILE);
    let set_aside = if database.exists() {
        let aside = data.join(format!(
            "{DATABASE_FILE}.before-restore-{}",
            now.strftime("%Y%m%dT%H%M%SZ")
        ));
        std::fs::rename(&database, &aside)
            .map_err(|e| format!("cannot move the old database aside: {e}"))?;
        Some(aside)
    } else {
        None
    };
    // The old database's write-ahead log must not be applied to the restored one.
    for suffix in ["-wal", "-shm"] {
        let stale = data.join(format!("{DATABASE_FILE}{suffix}"));
        if stale.exists() {
            let aside = set_aside
                .as_ref()
                .map(|a| PathBuf::from(format!("{}{suffix}", a.display())))
                .unwrap_or_else(|| data.join(format!("{DATABASE_FILE}{suffix}.stale")));
            std::fs::rename(&stale, &aside)
                .map_err(|e| format!("cannot move {} aside: {e}", stale.display()))?;
        }
    }
    let partial = data.join(format!("{DATABASE_FILE}.restoring"));
    std::fs::copy(from, &partial).map_err(|e| format!("cannot copy the backup: {e}"))?;
    File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("cannot write the restored database to disk: {e}"))?;
    std::fs::rename(&partial, &database)
        .map_err(|e| format!("cannot put the restored database in place: {e}"))?;
    let key = data.join(hallq_privacy::KEY_FILE);
    let key_restored = if key_path(from).exists() {
        if key.exists() {
            let aside = data.join(format!("{}.before-restore", hallq_privacy::KEY_FILE));
            std::fs::rename(&key, aside)
                .map_err(|e| format!("cannot move the old key aside: {e}"))?;
        }
        copy_key(&key_path(from), &key)?
    } else {
        false
    };
    Ok(Restored {
        summary,
        set_aside,
        key_restored,
    })
}

/// The nightly backup: when, where, how many to keep.
#[derive(Clone, Debug)]
pub struct NightlySettings {
    /// The directory (relative paths are inside the data directory).
    pub dir: PathBuf,
    /// Local time of day.
    pub at: Time,
    /// Backups kept; older ones are deleted.
    pub keep: usize,
}

/// What the last nightly backup did, for metrics and alerts.
#[derive(Clone, Debug, Default)]
pub struct NightlyStatus {
    pub last_success: Option<Timestamp>,
    pub last_error: Option<String>,
    pub taken: u64,
}

/// The next instant at `at` (hall time) after `now`.
pub fn next_run(now: Timestamp, at: Time, zone: &TimeZone) -> Timestamp {
    let local = now.to_zoned(zone.clone());
    let today = local.date().to_datetime(at).to_zoned(zone.clone());
    let candidate = match today {
        Ok(zoned) if zoned.timestamp() > now => Some(zoned.timestamp()),
        _ => None,
    };
    candidate.unwrap_or_else(|| {
        local
            .date()
            .checked_add(1.day())
            .ok()
            .and_then(|tomorrow| tomorrow.to_datetime(at).to_zoned(zone.clone()).ok())
            .map(|z| z.timestamp())
            .unwrap_or(now + hallq_core::jiff::SignedDuration::from_hours(24))
    })
}

/// Takes one nightly backup into `settings.dir` and deletes the oldest beyond `keep`.
pub fn nightly_once(
    data: &Path,
    settings: &NightlySettings,
    now: Timestamp,
    zone: &TimeZone,
) -> Result<PathBuf, String> {
    let dir = if settings.dir.is_absolute() {
        settings.dir.clone()
    } else {
        data.join(&settings.dir)
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let name = format!(
        "hallq-{}.db",
        now.to_zoned(zone.clone()).strftime("%Y%m%d-%H%M%S")
    );
    let target = dir.join(name);
    backup(data, &target)?;
    // Retention: the newest `keep` backups stay (names sort by time).
    let mut kept: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("hallq-") && n.ends_with(".db"))
        })
        .collect();
    kept.sort();
    let excess = kept.len().saturating_sub(settings.keep.max(1));
    for old in &kept[..excess] {
        let _ = std::fs::remove_file(old);
        let _ = std::fs::remove_file(key_path(old));
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallq_core::jiff::civil::{date, time};

    #[test]
    fn the_next_run_is_tonight_or_tomorrow_night_in_hall_time() {
        let zone = TimeZone::get("Asia/Shanghai").unwrap();
        let at = time(2, 30, 0, 0);
        let evening = date(2026, 11, 28)
            .at(22, 0, 0, 0)
            .to_zoned(zone.clone())
            .unwrap();
        let next = next_run(evening.timestamp(), at, &zone).to_zoned(zone.clone());
        assert_eq!((next.date(), next.time()), (date(2026, 11, 29), at));
        let small_hours = date(2026, 11, 29)
            .at(1, 0, 0, 0)
            .to_zoned(zone.clone())
            .unwrap();
        let next = next_run(small_hours.timestamp(), at, &zone).to_zoned(zone);
        assert_eq!(next.date(), date(2026, 11, 29));
    }
}

#[cfg(test)]
mod retention_tests {
    use super::*;
    use hallq_core::jiff::civil::time;

    #[test]
    fn nightly_backups_keep_the_newest_and_refuse_to_overwrite() {
        let data = tempfile::tempdir().unwrap();
        hallq_store::Store::open(
            &data.path().join(DATABASE_FILE),
            &hallq_store::StoreOptions::default(),
        )
        .unwrap();
        std::fs::write(data.path().join(hallq_privacy::KEY_FILE), b"key").unwrap();
        let zone = TimeZone::get("Asia/Shanghai").unwrap();
        let settings = NightlySettings {
            dir: PathBuf::from("backups"),
            at: time(2, 30, 0, 0),
            keep: 2,
        };
        let start: Timestamp = "2026-11-28T18:30:00Z".parse().unwrap();
        let mut taken = Vec::new();
        for night in 0..3 {
            let at = start + hallq_core::jiff::SignedDuration::from_hours(24 * night);
            taken.push(nightly_once(data.path(), &settings, at, &zone).unwrap());
        }
        let dir = data.path().join("backups");
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "hallq-20261130-023000.db",
                "hallq-20261130-023000.db.key",
                "hallq-20261201-023000.db",
                "hallq-20261201-023000.db.key"
            ]
        );
        // A backup never overwrites a file.
        let again = backup(data.path(), &taken[2]);
        assert!(again.unwrap_err().contains("exists already"));
    }
}
