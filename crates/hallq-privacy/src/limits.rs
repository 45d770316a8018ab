//! Rate limits: at most `max` events per key in a sliding `window` (tickets per kiosk per
//! minute, check-ins per kiosk per minute). Memory is bounded: each key keeps at most `max`
//! instants, and keys unused for a window are dropped.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const KEYS_MAX: usize = 10_000;

pub struct RateLimit {
    max: usize,
    window: Duration,
    seen: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimit {
    pub fn per_minute(max: u32) -> Self {
        Self {
            max: max.max(1) as usize,
            window: Duration::from_secs(60),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for `key`, or says in how many seconds there will be room for it.
    pub fn allow(&self, key: &str, now: Instant) -> Result<(), u64> {
        let Ok(mut seen) = self.seen.lock() else {
            return Ok(());
        };
        if seen.len() >= KEYS_MAX && !seen.contains_key(key) {
            let window = self.window;
            seen.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let times = seen.entry(key.to_owned()).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.max {
            let oldest = *times.front().expect("full");
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        times.push_back(now);
        Ok(())
    }
}

/// Counts open things per key (event streams per address), with a maximum.
pub struct OpenCounts {
    max: usize,
    open: Mutex<HashMap<String, usize>>,
}

impl OpenCounts {
    pub fn new(max: usize) -> Self {
        Self {
            max,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a place for `key`; false when it holds `max` already.
    pub fn take(&self, key: &str) -> bool {
        let Ok(mut open) = self.open.lock() else {
            return true;
        };
        let count = open.entry(key.to_owned()).or_default();
        if *count >= self.max {
            return false;
        }
        *count += 1;
        true
    }

    pub fn give_back(&self, key: &str) {
        if let Ok(mut open) = self.open.lock() {
            if let Some(count) = open.get_mut(key) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    open.remove(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sliding_window() {
        let limit = RateLimit::per_minute(3);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.allow("k", start), Ok(()));
        }
        assert_eq!(limit.allow("k", start + Duration::from_secs(20)), Err(40));
        assert_eq!(limit.allow("other", start), Ok(()));
        assert_eq!(limit.allow("k", start + Duration::from_secs(61)), Ok(()));
    }

    #[test]
    fn open_counts() {
        let counts = OpenCounts::new(2);
        assert!(counts.take("a") && counts.take("a") && !counts.take("a"));
        assert!(counts.take("b"));
        counts.give_back("a");
        assert!(counts.take("a"));
    }
}
