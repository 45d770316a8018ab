//! The `[hall]` and `[storage]` sections.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HallSection {
    /// The hall's id in the city (its name at the hub): a-z, 0-9, '-' or '_'; "hall" when
    /// not given (a hall on its own).
    #[serde(default)]
    pub(crate) id: Option<String>,
    pub(crate) name: String,
    /// The hall's name in the kiosk's English mode.
    #[serde(default)]
    pub(crate) name_en: Option<String>,
    pub(crate) level: String,
    /// The hall's address, told to citizens who book (online and by SMS).
    #[serde(default)]
    pub(crate) address: Option<String>,
    #[serde(default = "default_time_zone")]
    pub(crate) time_zone: String,
    /// This is the demo hall: its well-known credentials are expected, not a risk.
    #[serde(default)]
    pub(crate) demo: bool,
}

/// What the hall says of one department (`[departments."税务"]`): its English name and where
/// its citizens wait. Halls seat their waiting citizens by department, so this is said once.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    #[serde(default)]
    pub name_en: Option<String>,
    /// 等候区: "二楼 B 区", told on the kiosk's ticket screen.
    #[serde(default)]
    pub waiting_area: Option<String>,
    #[serde(default)]
    pub waiting_area_en: Option<String>,
}

/// Every `[departments."…"]` must name a department some service has (a typo would otherwise
/// go unnoticed until a citizen reads the Chinese name in English mode).
pub(crate) fn departments(
    raw: std::collections::BTreeMap<String, Department>,
    services: &[hallq_core::ServiceSpec],
    problems: &mut super::errors::Problems,
) -> std::collections::BTreeMap<String, Department> {
    for name in raw.keys() {
        if !services.iter().any(|s| &s.department == name) {
            let known: std::collections::BTreeSet<&str> =
                services.iter().map(|s| s.department.as_str()).collect();
            problems.at(
                format!("departments.{name}"),
                format!(
                    "no service has the department '{name}'; the services' departments are: {}",
                    known.into_iter().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    raw
}

fn default_time_zone() -> String {
    "Asia/Shanghai".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StorageSection {
    pub(crate) max_size_mb: Option<u64>,
}
