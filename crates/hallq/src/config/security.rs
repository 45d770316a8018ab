//! The `[security]` section: limits on what one client may do, and how long personal data is
//! kept. Defaults suit a hall; every value has a bound.

use super::errors::Problems;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct SecuritySection {
    pub(crate) sign_in_failures_before_lockout: u32,
    pub(crate) tickets_per_kiosk_per_minute: u32,
    pub(crate) check_ins_per_kiosk_per_minute: u32,
    pub(crate) streams_per_address: usize,
    pub(crate) kiosk_ticket_reach_minutes: u32,
    pub(crate) keep_personal_days: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed (their addresses).
    pub(crate) trusted_proxies: Vec<String>,
}

impl Default for SecuritySection {
    fn default() -> Self {
        Self {
            sign_in_failures_before_lockout: 12,
            tickets_per_kiosk_per_minute: 30,
            check_ins_per_kiosk_per_minute: 20,
            streams_per_address: 50,
            kiosk_ticket_reach_minutes: 30,
            keep_personal_days: 30,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Limits and retention, checked.
#[derive(Clone, Debug)]
pub struct SecuritySettings {
    /// Wrong PINs for one account, or from one address, before sign-in is locked for a while
    /// (30 s, doubling with every further failure, at most an hour).
    pub sign_in_failures_before_lockout: u32,
    /// Tickets one kiosk may issue in a minute (a flood of paper and queue otherwise).
    pub tickets_per_kiosk_per_minute: u32,
    /// Check-in attempts one kiosk may make in a minute.
    pub check_ins_per_kiosk_per_minute: u32,
    /// Event streams one address may hold open.
    pub streams_per_address: usize,
    /// How long a kiosk may look up, cancel or reprint the tickets it issued itself.
    pub kiosk_ticket_reach_minutes: u32,
    /// Days after which phones, ID hashes and booking names are removed.
    pub keep_personal_days: u32,
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

pub(crate) fn security(raw: SecuritySection, problems: &mut Problems<'_>) -> SecuritySettings {
    let mut check = |key: &str, value: u64, range: std::ops::RangeInclusive<u64>| {
        if !range.contains(&value) {
            problems.at(
                format!("security.{key}"),
                format!("must be between {} and {}", range.start(), range.end()),
            );
        }
    };
    check(
        "sign_in_failures_before_lockout",
        raw.sign_in_failures_before_lockout.into(),
        3..=100,
    );
    check(
        "tickets_per_kiosk_per_minute",
        raw.tickets_per_kiosk_per_minute.into(),
        1..=100_000,
    );
    check(
        "check_ins_per_kiosk_per_minute",
        raw.check_ins_per_kiosk_per_minute.into(),
        1..=10_000,
    );
    check(
        "streams_per_address",
        raw.streams_per_address as u64,
        1..=5000,
    );
    check(
        "kiosk_ticket_reach_minutes",
        raw.kiosk_ticket_reach_minutes.into(),
        1..=24 * 60,
    );
    check(
        "keep_personal_days",
        raw.keep_personal_days.into(),
        1..=3650,
    );
    let mut trusted_proxies = Vec::new();
    for (index, proxy) in raw.trusted_proxies.iter().enumerate() {
        match proxy.parse() {
            Ok(address) => trusted_proxies.push(address),
            Err(_) => problems.at(
                format!("security.trusted_proxies[{index}]"),
                format!("'{proxy}' is not an IP address"),
            ),
        }
    }
    SecuritySettings {
        sign_in_failures_before_lockout: raw.sign_in_failures_before_lockout,
        tickets_per_kiosk_per_minute: raw.tickets_per_kiosk_per_minute,
        check_ins_per_kiosk_per_minute: raw.check_ins_per_kiosk_per_minute,
        streams_per_address: raw.streams_per_address,
        kiosk_ticket_reach_minutes: raw.kiosk_ticket_reach_minutes,
        keep_personal_days: raw.keep_personal_days,
        trusted_proxies,
    }
}
