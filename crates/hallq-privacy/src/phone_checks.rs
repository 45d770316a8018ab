//! Confirming a phone number before it is booked with, where nobody on staff sees the caller
//! (a kiosk): a six-digit code goes to the number by SMS, and the booking must quote it. Without
//! it a stranger could fill a day's slots with random numbers, or use up someone else's daily
//! bookings with their number.
//!
//! Codes live in memory for five minutes, five tries each, a new one per number at most once a
//! minute; the table is bounded. Codes are kept as hashes, numbers as their keyed hash.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const VALID_FOR: Duration = Duration::from_secs(300);
const RESEND_AFTER: Duration = Duration::from_secs(60);
const TRIES: u32 = 5;
const PENDING_MAX: usize = 10_000;

struct Pending {
    code_hash: [u8; 32],
    sent_at: Instant,
    tries_left: u32,
}

#[derive(Debug, PartialEq, Eq)]
pub enum CheckError {
    /// A code was sent less than a minute ago: wait this many seconds.
    TooSoon(u64),
    /// Too many numbers waiting for a code.
    Busy,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ConfirmError {
    /// No code was sent to this number, or it expired, or it was tried too often.
    NoCode,
    /// Wrong code; this many tries left.
    Wrong(u32),
}

#[derive(Default)]
pub struct PhoneChecks {
    pending: Mutex<HashMap<String, Pending>>,
}

impl PhoneChecks {
    /// A new code for the number with keyed hash `key`, to send by SMS.
    pub fn new_code(&self, key: &str, now: Instant) -> Result<String, CheckError> {
        let mut pending = self.pending.lock().map_err(|_| CheckError::Busy)?;
        pending.retain(|_, p| now.duration_since(p.sent_at) < VALID_FOR && p.tries_left > 0);
        if let Some(existing) = pending.get(key) {
            let since = now.duration_since(existing.sent_at);
            if since < RESEND_AFTER {
                return Err(CheckError::TooSoon((RESEND_AFTER - since).as_secs().max(1)));
            }
        }
        if pending.len() >= PENDING_MAX && !pending.contains_key(key) {
            return Err(CheckError::Busy);
        }
        let mut bytes = [0u8; 4];
        getrandom::getrandom(&mut bytes).expect("the operating system's random generator failed");
        let code = format!("{:06}", u32::from_le_bytes(bytes) % 1_000_000);
        pending.insert(
            key.to_owned(),
            Pending {
                code_hash: crate::secrets::sha256(&code),
                sent_at: now,
                tries_left: TRIES,
            },
        );
        Ok(code)
    }

    /// Checks a code for the number; a right code is used up.
    pub fn confirm(&self, key: &str, code: &str, now: Instant) -> Result<(), ConfirmError> {
        let mut pending = self.pending.lock().map_err(|_| ConfirmError::NoCode)?;
        let Some(entry) = pending.get_mut(key) else {
            return Err(ConfirmError::NoCode);
        };
        if now.duration_since(entry.sent_at) >= VALID_FOR || entry.tries_left == 0 {
            pending.remove(key);
            return Err(ConfirmError::NoCode);
        }
        if crate::secrets::sha256(code.trim()) == entry.code_hash {
            pending.remove(key);
            return Ok(());
        }
        entry.tries_left -= 1;
        Err(ConfirmError::Wrong(entry.tries_left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_confirms_once_within_its_time_and_tries() {
        let checks = PhoneChecks::default();
        let start = Instant::now();
        let code = checks.new_code("k", start).unwrap();
        assert_eq!(code.len(), 6);
        assert!(matches!(
            checks.new_code("k", start),
            Err(CheckError::TooSoon(60))
        ));
        assert_eq!(
            checks.confirm("k", "not-it", start),
            Err(ConfirmError::Wrong(4))
        );
        assert_eq!(checks.confirm("k", &code, start), Ok(()));
        assert_eq!(checks.confirm("k", &code, start), Err(ConfirmError::NoCode));
        // Expired codes and exhausted tries confirm nothing.
        let code = checks.new_code("k", start + RESEND_AFTER).unwrap();
        assert_eq!(
            checks.confirm("k", &code, start + RESEND_AFTER + VALID_FOR),
            Err(ConfirmError::NoCode)
        );
        let later = start + Duration::from_secs(1000);
        let code = checks.new_code("j", later).unwrap();
        for _ in 0..TRIES {
            let _ = checks.confirm("j", "x", later);
        }
        assert_eq!(checks.confirm("j", &code, later), Err(ConfirmError::NoCode));
    }
}
