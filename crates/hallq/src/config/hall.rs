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

fn default_time_zone() -> String {
    "Asia/Shanghai".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StorageSection {
    pub(crate) max_size_mb: Option<u64>,
}
