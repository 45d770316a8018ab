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
