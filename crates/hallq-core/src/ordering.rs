//! The calling order: priority classes first, first come first served inside a class, and
//! ageing so that nobody waits longer than the hall's bound behind later priority arrivals.

use crate::ticket::PriorityClass;
use jiff::Timestamp;

/// The key a window sorts candidates by; the smallest is called first.
///
/// Green-channel tickets and tickets that have waited at least `ageing_max_wait_s` form the
/// first tier and are served in arrival order across all the window's services. Below it,
/// appointments then walk-ins, each by the window's service order, then arrival. An aged
/// walk-in is therefore only ever passed by tickets that arrived before it.
pub fn call_order_key(
    priority: PriorityClass,
    queued_at: Timestamp,
    service_rank: usize,
    now: Timestamp,
    ageing_max_wait_s: u32,
) -> (u8, i128, i128) {
    let queued_ns = queued_at.as_nanosecond();
    let waited_s = now.as_second() - queued_at.as_second();
    let aged = waited_s >= i64::from(ageing_max_wait_s);
    if priority == PriorityClass::Green || aged {
        (0, queued_ns, service_rank as i128)
    } else {
        (priority.rank(), service_rank as i128, queued_ns)
    }
}
