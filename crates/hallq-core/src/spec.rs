//! What a hall is made of, as configured: services, windows and the queueing policy.
//!
//! The daemon reads these from the hall's TOML file; here they are plain data with the checks
//! that need no file (duplicate ids, windows naming unknown services, bad prefixes).

use crate::ids::{ServiceId, WindowId};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// 面向群体: who a service is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetGroup {
    Enterprise,
    Individual,
    Both,
}

/// 事项类型: done on the spot (即办件) or accepted now and finished by a promised date (承诺件).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    Immediate,
    Commitment,
}

/// A service (事项) a citizen can take a ticket for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub id: ServiceId,
    /// The Chinese name shown on kiosks, tickets and boards.
    pub name: String,
    /// English name for the kiosk's English mode; falls back to `name`.
    #[serde(default)]
    pub name_en: Option<String>,
    /// One or two capital ASCII letters printed before the number (A001).
    pub prefix: String,
    pub target_group: TargetGroup,
    pub item_type: ItemType,
    /// 部门: the agency behind the service (税务, 社保, 公安 …).
    pub department: String,
    /// The average service time assumed before any ticket of the day has been completed.
    pub prior_service_s: u32,
    /// 办事材料: what to bring, one line each, shown when booking.
    #[serde(default)]
    pub materials: Vec<String>,
}

/// A window (窗口) and the services it serves, primary first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub id: WindowId,
    pub name: String,
    /// What calls and boards say ("3号窗口"); the name when absent.
    #[serde(default)]
    pub call_name: Option<String>,
    /// Services in the order the window serves them: the first is its primary service.
    pub services: Vec<ServiceId>,
    /// A green-channel (绿色通道) window; informational for boards and lists.
    #[serde(default)]
    pub green_channel: bool,
    /// A duty window (值班窗口) open in extended hours.
    #[serde(default)]
    pub duty: bool,
    /// The department answerable for the window's bad ratings; the rated service's department
    /// when absent (一窗受理 windows serve several).
    #[serde(default)]
    pub department: Option<String>,
    /// Breaks the window's staff take every working day (午休轮岗), in the hall's time, as
    /// `["12:00-13:00"]`. Nothing pauses the window by itself: staff still press pause. The
    /// wait forecast expects the window to be away then, which is most of what makes a wait
    /// promised before lunch come true.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breaks: Vec<DailyBreak>,
}

/// A daily break of a window, in minutes after the hall's midnight: `"12:00-13:00"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DailyBreak {
    pub start_minute: u16,
    pub end_minute: u16,
}

impl TryFrom<String> for DailyBreak {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        let wrong = || {
            format!("'{text}' is not a break like \"12:00-13:00\" (start before end, the same day)")
        };
        let minute = |part: &str| -> Option<u16> {
            let (hours, minutes) = part.trim().split_once(':')?;
            let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
            (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
        };
        let (start, end) = text.split_once('-').ok_or_else(wrong)?;
        let (start_minute, end_minute) = (
            minute(start).ok_or_else(wrong)?,
            minute(end).ok_or_else(wrong)?,
        );
        if start_minute >= end_minute {
            return Err(wrong());
        }
        Ok(Self {
            start_minute,
            end_minute,
        })
    }
}

impl From<DailyBreak> for String {
    fn from(value: DailyBreak) -> Self {
        format!(
            "{:02}:{:02}-{:02}:{:02}",
            value.start_minute / 60,
            value.start_minute % 60,
            value.end_minute / 60,
            value.end_minute % 60
        )
    }
}

/// Queueing rules the hall may tune.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// No ticket waits longer than this behind priority tickets that arrived after it: once a
    /// ticket has waited this long it is served in arrival order with the priority classes.
    pub ageing_max_wait_s: u32,
    /// A no-show may be requeued by staff within this time after it was marked.
    pub requeue_within_s: u32,
    /// How many times one ticket may be requeued after a no-show.
    pub requeue_limit: u32,
    /// Weight of the newest service time in the moving average, in percent (1..=100).
    pub service_time_weight_percent: u32,
    /// Tickets one person (one phone, or one ID card) may take for one service on one day;
    /// 0 for no limit. Answers number touts (号贩子).
    pub tickets_per_person_per_service_per_day: u32,
}

impl WindowSpec {
    /// The short name used when calling ("请A001号到3号窗口办理").
    pub fn call_name(&self) -> &str {
        self.call_name.as_deref().unwrap_or(&self.name)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            ageing_max_wait_s: 30 * 60,
            requeue_within_s: 30 * 60,
            requeue_limit: 1,
            service_time_weight_percent: 20,
            tickets_per_person_per_service_per_day: 3,
        }
    }
}

/// A whole hall as configured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HallSpec {
    pub name: String,
    /// 层级: 市本级, 县(区), 乡镇(街道) …
    pub level: String,
    pub services: Vec<ServiceSpec>,
    pub windows: Vec<WindowSpec>,
    pub policy: Policy,
    /// Opening hours and modes per service; empty means always open.
    #[serde(default)]
    pub schedule: crate::calendar::Schedule,
    /// Public holidays and adjusted working days.
    #[serde(default)]
    pub calendar: crate::calendar::Calendar,
    #[serde(default)]
    pub appointment_plans: Vec<crate::appointment::AppointmentPlan>,
    #[serde(default)]
    pub appointment_rules: crate::appointment::AppointmentRules,
    /// 好差评: rating periods, the default, case deadlines, reasons.
    #[serde(default)]
    pub ratings: crate::feedback::RatingPolicy,
}

/// A configuration that cannot describe a working hall. `path` names the offending entry the
/// way the configuration file spells it (`windows[2].services[0]`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SpecError {
    pub path: String,
    pub message: String,
}

fn spec_error(path: String, message: impl Into<String>) -> SpecError {
    SpecError {
        path,
        message: message.into(),
    }
}

/// Maximum number of services or windows in one hall: the biggest halls have a few hundred.
pub const ENTRIES_MAX: usize = 1000;

impl HallSpec {
    /// Checks everything that can be checked without the file: returns every problem found.
    pub fn validate(&self) -> Result<(), Vec<SpecError>> {
        let mut errors = Vec::new();
        if self.name.trim().is_empty() {
            errors.push(spec_error("hall.name".into(), "must not be empty"));
        }
        if self.services.is_empty() {
            errors.push(spec_error(
                "services".into(),
                "a hall needs at least one service",
            ));
        }
        if self.windows.is_empty() {
            errors.push(spec_error(
                "windows".into(),
                "a hall needs at least one window",
            ));
        }
        if self.services.len() > ENTRIES_MAX || self.windows.len() > ENTRIES_MAX {
            errors.push(spec_error(
                "services".into(),
                format!("at most {ENTRIES_MAX} services and {ENTRIES_MAX} windows"),
            ));
        }
        let mut service_ids = HashSet::new();
        let mut prefixes = HashSet::new();
        for (index, service) in self.services.iter().enumerate() {
            let at = |key: &str| format!("services[{index}].{key}");
            if !is_valid_id(service.id.as_str()) {
                errors.push(spec_error(
                    at("id"),
                    "use 1-40 characters a-z, 0-9, '-' or '_'",
                ));
            }
            if !service_ids.insert(service.id.clone()) {
                errors.push(spec_error(
                    at("id"),
                    format!("duplicate service id '{}'", service.id),
                ));
            }
            let prefix_ok = (1..=2).contains(&service.prefix.len())
                && service.prefix.bytes().all(|b| b.is_ascii_uppercase());
            if !prefix_ok {
                errors.push(spec_error(
                    at("prefix"),
                    "use one or two capital letters A-Z",
                ));
            } else if !prefixes.insert(service.prefix.clone()) {
                errors.push(spec_error(
                    at("prefix"),
                    format!(
                        "prefix '{}' is already used by another service",
                        service.prefix
                    ),
                ));
            }
            if service.name.trim().is_empty() {
                errors.push(spec_error(at("name"), "must not be empty"));
            }
            if service.prior_service_s == 0 || service.prior_service_s > 24 * 3600 {
                errors.push(spec_error(
                    at("prior_service_s"),
                    "must be between 1 and 86400",
                ));
            }
        }
        let mut window_ids = HashSet::new();
        for (index, window) in self.windows.iter().enumerate() {
            if !is_valid_id(window.id.as_str()) {
                errors.push(spec_error(
                    format!("windows[{index}].id"),
                    "use 1-40 characters a-z, 0-9, '-' or '_'",
                ));
            }
            if !window_ids.insert(window.id.clone()) {
                errors.push(spec_error(
                    format!("windows[{index}].id"),
                    format!("duplicate window id '{}'", window.id),
                ));
            }
            if window.services.is_empty() {
                errors.push(spec_error(
                    format!("windows[{index}].services"),
                    "a window must serve at least one service",
                ));
            }
            let mut seen = HashSet::new();
            for (position, service) in window.services.iter().enumerate() {
                let path = format!("windows[{index}].services[{position}]");
                if !service_ids.contains(service) {
                    errors.push(spec_error(path, format!("unknown service '{service}'")));
                } else if !seen.insert(service) {
                    errors.push(spec_error(
                        path,
                        format!("service '{service}' listed twice"),
                    ));
                }
            }
        }
        for service in &self.services {
            if !self
                .windows
                .iter()
                .any(|w| w.services.contains(&service.id))
            {
                let index = self
                    .services
                    .iter()
                    .position(|s| s.id == service.id)
                    .unwrap_or(0);
                errors.push(spec_error(
                    format!("services[{index}].id"),
                    format!(
                        "no window serves '{}': its tickets could never be called",
                        service.id
                    ),
                ));
            }
        }
        let windows: HashSet<&WindowId> = self.windows.iter().map(|w| &w.id).collect();
        for (index, period) in self.schedule.periods.iter().enumerate() {
            let at = |key: &str| format!("schedule[{index}].{key}");
            if period.from >= period.to {
                errors.push(spec_error(at("to"), "must be after from"));
            }
            if period.days.is_empty() {
                errors.push(spec_error(at("days"), "name at least one day type"));
            }
            for service in period.services.iter().flatten() {
                if !service_ids.contains(service) {
                    errors.push(spec_error(
                        at("services"),
                        format!("unknown service '{service}'"),
                    ));
                }
            }
            for window in &period.windows {
                if !windows.contains(window) {
                    errors.push(spec_error(
                        at("windows"),
                        format!("unknown window '{window}'"),
                    ));
                }
            }
        }
        for (index, plan) in self.appointment_plans.iter().enumerate() {
            let at = |key: &str| format!("appointments.plans[{index}].{key}");
            if !service_ids.contains(&plan.service) {
                errors.push(spec_error(
                    at("service"),
                    format!("unknown service '{}'", plan.service),
                ));
            }
            if plan.capacity == 0 || plan.capacity > 10_000 {
                errors.push(spec_error(at("capacity"), "must be between 1 and 10000"));
            }
            if plan.hub_share > plan.capacity {
                errors.push(spec_error(
                    at("hub_share"),
                    format!(
                        "the hub's share ({}) cannot be more than the capacity ({})",
                        plan.hub_share, plan.capacity
                    ),
                ));
            }
            if plan.slots.is_empty() || plan.slots.iter().any(|(from, to)| from >= to) {
                errors.push(spec_error(
                    at("slots"),
                    "give slots as \"HH:MM-HH:MM\", each ending after it starts",
                ));
            }
            if plan.days.is_empty() {
                errors.push(spec_error(at("days"), "name at least one day type"));
            }
        }
        let policy = &self.policy;
        if !(1..=100).contains(&policy.service_time_weight_percent) {
            errors.push(spec_error(
                "policy.service_time_weight_percent".into(),
                "must be between 1 and 100",
            ));
        }
        if policy.ageing_max_wait_s == 0 {
            errors.push(spec_error(
                "policy.ageing_max_wait_s".into(),
                "must be positive",
            ));
        }
        let ratings = &self.ratings;
        if !(1..=90).contains(&ratings.rate_within_days) {
            errors.push(spec_error(
                "ratings.rate_within_days".into(),
                "must be between 1 and 90 natural days",
            ));
        }
        if ratings.default_level.is_some_and(|level| level.is_bad()) {
            errors.push(spec_error(
                "ratings.default_level".into(),
                "a default rating cannot be 不满意 or 非常不满意 (it would open cases nobody filed)",
            ));
        }
        for (key, days) in [
            ("callback_working_days", ratings.callback_working_days),
            ("rectify_working_days", ratings.rectify_working_days),
        ] {
            if !(1..=60).contains(&days) {
                errors.push(spec_error(
                    format!("ratings.{key}"),
                    "must be between 1 and 60 working days",
                ));
            }
        }
        if ratings.callback_working_days > ratings.rectify_working_days {
            errors.push(spec_error(
                "ratings.callback_working_days".into(),
                "the callback cannot be due after the rectification",
            ));
        }
        if ratings.complaint_categories.is_empty()
            || ratings
                .complaint_categories
                .iter()
                .any(|c| c.trim().is_empty())
        {
            errors.push(spec_error(
                "ratings.complaint_categories".into(),
                "name at least one category, none empty",
            ));
        }
        for (level, reasons) in &ratings.reasons {
            if reasons.len() > 12
                || reasons
                    .iter()
                    .any(|r| r.trim().is_empty() || r.chars().count() > 20)
            {
                errors.push(spec_error(
                    format!("ratings.reasons.{}", level.as_str()),
                    "at most 12 reasons, each 1-20 characters",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Ids appear in URLs and file names: keep them to a safe alphabet.
pub fn is_valid_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}
