//! The schedule (periods with a service mode) and the appointment plans (slots × capacity).

use super::calendar::{clock, clock_range};
use super::errors::Problems;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct AppointmentsSection {
    pub(crate) check_in_before_min: u32,
    pub(crate) check_in_after_min: u32,
    pub(crate) per_person_per_day: u32,
    pub(crate) book_ahead_days: u32,
    pub(crate) plans: Vec<PlanSection>,
}

impl Default for AppointmentsSection {
    fn default() -> Self {
        let rules = hallq_core::AppointmentRules::default();
        Self {
            check_in_before_min: rules.check_in_before_min,
            check_in_after_min: rules.check_in_after_min,
            per_person_per_day: rules.per_person_per_day,
            book_ahead_days: rules.book_ahead_days,
            plans: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanSection {
    pub(crate) service: String,
    pub(crate) days: Vec<String>,
    /// Explicit slots, "09:00-10:00" …
    #[serde(default)]
    pub(crate) slots: Vec<String>,
    /// Or hours ("09:00-12:00") cut into slots of `slot_minutes`.
    #[serde(default)]
    pub(crate) hours: Vec<String>,
    #[serde(default)]
    pub(crate) slot_minutes: Option<u32>,
    pub(crate) capacity: u32,
    /// Of `capacity`, the places the city's hub books online and by SMS.
    #[serde(default)]
    pub(crate) hub_share: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PeriodSection {
    pub(crate) name: String,
    pub(crate) days: Vec<String>,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) mode: String,
    #[serde(default)]
    pub(crate) services: Vec<String>,
    #[serde(default)]
    pub(crate) windows: Vec<String>,
    #[serde(default)]
    pub(crate) extended: bool,
}

/// The schedule's periods, each checked; a period with a mistake is left out (and reported).
pub(crate) fn periods(
    raw: &[PeriodSection],
    problems: &mut Problems<'_>,
) -> Vec<hallq_core::Period> {
    let mut periods = Vec::new();
    for (index, period) in raw.iter().enumerate() {
        let at = |key: &str| format!("schedule[{index}].{key}");
        let days: Vec<hallq_core::DayType> = period
            .days
            .iter()
            .filter_map(|d| hallq_core::DayType::parse(d))
            .collect();
        if days.len() != period.days.len() {
            problems.at(
                at("days"),
                "day types are workday, makeup_workday, weekend, holiday".to_owned(),
            );
        }
        let (from, to) = (clock(&period.from), clock(&period.to));
        if from.is_none() {
            problems.at(at("from"), "write the time as HH:MM");
        }
        if to.is_none() {
            problems.at(
                at("to"),
                "write the time as HH:MM (24:00 for midnight)".to_owned(),
            );
        }
        let mode = hallq_core::ServiceMode::parse(&period.mode);
        if mode.is_none() {
            problems.at(
                at("mode"),
                "use regular, duty, appointment_only or closed".to_owned(),
            );
        }
        if let (Some(from), Some(to), Some(mode)) = (from, to, mode) {
            let everything = period.services.is_empty() || period.services.iter().any(|s| s == "*");
            periods.push(hallq_core::Period {
                name: period.name.clone(),
                days,
                from,
                to,
                mode,
                services: (!everything).then(|| {
                    period
                        .services
                        .iter()
                        .map(|s| hallq_core::ServiceId::new(s.clone()))
                        .collect()
                }),
                windows: period
                    .windows
                    .iter()
                    .map(|w| hallq_core::WindowId::new(w.clone()))
                    .collect(),
                extended: period.extended,
            });
        }
    }
    periods
}

/// The appointment plans and rules, each plan checked.
pub(crate) fn plans(
    raw: &AppointmentsSection,
    problems: &mut Problems<'_>,
) -> (
    Vec<hallq_core::AppointmentPlan>,
    hallq_core::AppointmentRules,
) {
    let mut plans = Vec::new();
    for (index, plan) in raw.plans.iter().enumerate() {
        let at = |key: &str| format!("appointments.plans[{index}].{key}");
        let days: Vec<hallq_core::DayType> = plan
            .days
            .iter()
            .filter_map(|d| hallq_core::DayType::parse(d))
            .collect();
        if days.len() != plan.days.len() {
            problems.at(
                at("days"),
                "day types are workday, makeup_workday, weekend, holiday".to_owned(),
            );
        }
        let mut slots = Vec::new();
        for slot in &plan.slots {
            match clock_range(slot) {
                Some(range) => slots.push(range),
                None => problems.at(at("slots"), format!("'{slot}' is not like \"09:00-10:00\"")),
            }
        }
        if !plan.hours.is_empty() {
            match plan.slot_minutes.filter(|m| (5..=240).contains(m)) {
                None => problems.at(at("slot_minutes"), "give slot_minutes (5-240) with hours"),
                Some(minutes) => {
                    for hours in &plan.hours {
                        let Some((from, to)) = clock_range(hours) else {
                            problems.at(
                                at("hours"),
                                format!("'{hours}' is not like \"09:00-12:00\""),
                            );
                            continue;
                        };
                        let mut start = from;
                        while let Ok(end) = start.checked_add(
                            hallq_core::jiff::SignedDuration::from_mins(i64::from(minutes)),
                        ) {
                            if end <= start
                                || (end > to && to != hallq_core::jiff::civil::Time::MAX)
                            {
                                break;
                            }
                            slots.push((start, end));
                            start = end;
                        }
                        // The last slot of a day running to midnight.
                        if to == hallq_core::jiff::civil::Time::MAX && start > from {
                            let minutes_left = 24 * 60
                                - (i64::from(start.hour()) * 60 + i64::from(start.minute()));
                            if minutes_left == i64::from(minutes) {
                                slots.push((start, to));
                            }
                        }
                    }
                }
            }
        }
        plans.push(hallq_core::AppointmentPlan {
            service: hallq_core::ServiceId::new(plan.service.clone()),
            days,
            slots,
            capacity: plan.capacity,
            hub_share: plan.hub_share,
        });
    }
    let rules = hallq_core::AppointmentRules {
        check_in_before_min: raw.check_in_before_min,
        check_in_after_min: raw.check_in_after_min,
        per_person_per_day: raw.per_person_per_day,
        book_ahead_days: raw.book_ahead_days,
    };
    (plans, rules)
}
