//! What a locality decides about ratings: how long a citizen may rate, the default when nobody
//! does, the deadlines of a bad rating's case, the reasons offered per level, the categories of
//! complaints.

use super::level::RatingLevel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RatingPolicy {
    /// Natural days after completion during which a citizen may still rate.
    pub rate_within_days: u32,
    /// The level recorded (channel `system_default`) when nobody rated in time; `None` (written
    /// `"none"` in the file) records nothing, for localities that count only real ratings.
    #[serde(with = "default_level_text")]
    pub default_level: Option<RatingLevel>,
    /// Working days for the callback (回访核实) of a bad rating or complaint.
    pub callback_working_days: u32,
    /// Working days for rectification and feedback.
    pub rectify_working_days: u32,
    /// Reasons a citizen may tick, per level.
    pub reasons: BTreeMap<RatingLevel, Vec<String>>,
    /// Complaint categories offered at the kiosk and on the citizen's page.
    pub complaint_categories: Vec<String>,
    /// Who answers complaints that name no ticket.
    pub complaints_department: String,
}

/// Reasons offered when the hall's file names none: short, in the national evaluation's spirit
/// (服务态度, 办事效率, 办事指南 …).
fn default_reasons() -> BTreeMap<RatingLevel, Vec<String>> {
    let good = ["服务热情", "办事高效", "一次办好", "指引清楚"];
    let middle = ["等候较久", "材料要求不够清楚"];
    let bad = [
        "服务态度差",
        "等候时间过长",
        "多次跑腿",
        "办事指南不清楚",
        "材料要求反复",
        "系统故障",
    ];
    let list = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    BTreeMap::from([
        (RatingLevel::VerySatisfied, list(&good)),
        (RatingLevel::Satisfied, list(&good)),
        (RatingLevel::BasicallySatisfied, list(&middle)),
        (RatingLevel::Dissatisfied, list(&bad)),
        (RatingLevel::VeryDissatisfied, list(&bad)),
    ])
}

impl Default for RatingPolicy {
    fn default() -> Self {
        Self {
            rate_within_days: 7,
            default_level: Some(RatingLevel::BasicallySatisfied),
            callback_working_days: 1,
            rectify_working_days: 15,
            reasons: default_reasons(),
            complaint_categories: [
                "服务态度",
                "办事效率",
                "收费问题",
                "环境设施",
                "廉洁问题",
                "其他",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
            complaints_department: "大厅管理办公室".to_owned(),
        }
    }
}

impl RatingPolicy {
    pub fn reasons_for(&self, level: RatingLevel) -> &[String] {
        self.reasons.get(&level).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// `default_level` in the file: a level's API name, or `"none"`.
mod default_level_text {
    use super::RatingLevel;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        level: &Option<RatingLevel>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match level {
            Some(level) => level.serialize(serializer),
            None => serializer.serialize_str("none"),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<RatingLevel>, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == "none" {
            return Ok(None);
        }
        RatingLevel::parse(&text).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "'{text}' is not a level: use very_satisfied, satisfied, basically_satisfied or \
                 \"none\""
            ))
        })
    }
}
