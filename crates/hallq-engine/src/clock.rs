//! Where the engine gets `now`. Tests pass a clock they move by hand.

use hallq_core::jiff::Timestamp;

pub trait Clock: Send + Sync + 'static {
    /// The current instant, in whole milliseconds: the store keeps milliseconds, so a state
    /// rebuilt after a restart orders tickets exactly as the running one did.
    fn now(&self) -> Timestamp;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
    }
}

/// A clock moved by hand, for tests, simulations and benchmarks.
#[derive(Debug)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self(std::sync::atomic::AtomicI64::new(start.as_millisecond()))
    }

    pub fn advance_s(&self, seconds: i64) {
        self.0
            .fetch_add(seconds * 1000, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn set(&self, at: Timestamp) {
        self.0
            .store(at.as_millisecond(), std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millisecond(self.0.load(std::sync::atomic::Ordering::SeqCst))
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }
}
