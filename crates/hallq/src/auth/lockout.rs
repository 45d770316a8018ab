//! Sign-in lockout: after `threshold` wrong PINs for one account, or from one address, further
//! attempts are refused without checking the PIN — for 30 s, doubling with every further
//! failure up to an hour. A right PIN resets the account's and the address's count. Failures
//! are forgotten an hour after the last one. The table is bounded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FIRST_LOCK: Duration = Duration::from_secs(30);
const LONGEST_LOCK: Duration = Duration::from_secs(3600);
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Accounts and addresses remembered at most; the oldest are forgotten first.
const ENTRIES_MAX: usize = 10_000;

struct Record {
    failures: u32,
    last_failure: Instant,
    locked_until: Option<Instant>,
}

pub struct Lockout {
    threshold: u32,
    records: Mutex<HashMap<String, Record>>,
}

impl Lockout {
    pub fn new(threshold: u32) -> Self {
        Self {
            threshold: threshold.max(1),
            records: Mutex::new(HashMap::new()),
        }
    }

    /// Whole seconds until `key` may try again, if it is locked now.
    pub fn locked(&self, key: &str, now: Instant) -> Option<u64> {
        let records = self.records.lock().ok()?;
        let until = records.get(key)?.locked_until?;
        (until > now).then(|| (until - now).as_secs().max(1))
    }

    /// Counts a wrong PIN; returns the seconds of the lock it starts, if it starts one.
    pub fn failed(&self, key: &str, now: Instant) -> Option<u64> {
        let mut records = self.records.lock().ok()?;
        if records.len() >= ENTRIES_MAX && !records.contains_key(key) {
            records.retain(|_, r| now.duration_since(r.last_failure) < FORGET_AFTER);
            if records.len() >= ENTRIES_MAX {
                let oldest = records
                    .iter()
                    .min_by_key(|(_, r)| r.last_failure)
                    .map(|(k, _)| k.clone())?;
                records.remove(&oldest);
            }
        }
        let record = records.entry(key.to_owned()).or_insert(Record {
            failures: 0,
            last_failure: now,
            locked_until: None,
        });
        if now.duration_since(record.last_failure) >= FORGET_AFTER {
            record.failures = 0;
        }
        record.failures += 1;
        record.last_failure = now;
        if record.failures < self.threshold {
            return None;
        }
        let doublings = (record.failures - self.threshold).min(16);
        let lock = (FIRST_LOCK * 2u32.pow(doublings)).min(LONGEST_LOCK);
        record.locked_until = Some(now + lock);
        Some(lock.as_secs())
    }

    pub fn succeeded(&self, key: &str) {
        if let Ok(mut records) = self.records.lock() {
            records.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_threshold_with_growing_back_off() {
        let lockout = Lockout::new(3);
        let start = Instant::now();
        assert_eq!(lockout.failed("account:a", start), None);
        assert_eq!(lockout.failed("account:a", start), None);
        assert_eq!(lockout.locked("account:a", start), None);
        assert_eq!(lockout.failed("account:a", start), Some(30));
        assert_eq!(lockout.locked("account:a", start), Some(30));
        assert_eq!(lockout.failed("account:a", start), Some(60));
        assert_eq!(lockout.failed("account:a", start), Some(120));
        // Locks end, and the right PIN clears the count.
        assert_eq!(
            lockout.locked("account:a", start + Duration::from_secs(121)),
            None
        );
        lockout.succeeded("account:a");
        assert_eq!(lockout.failed("account:a", start), None);
        // Others are not affected; long waits are capped; old failures are forgotten.
        assert_eq!(lockout.locked("account:b", start), None);
        for _ in 0..30 {
            lockout.failed("address:x", start);
        }
        assert_eq!(lockout.locked("address:x", start), Some(3600));
        let much_later = start + Duration::from_secs(2 * 3600);
        assert_eq!(lockout.failed("address:x", much_later), None);
    }
}
