//! How the hall keeps a citizen's phone or resident ID number: never the number itself.
//! The daemon makes a `Contact` from the number with the hall's secret key: a keyed hash for
//! matching (the same number gives the same key, nothing else can be learned from it), the
//! number sealed (encrypted) for the one follower that must dial it — the SMS sender — and a
//! masked form for staff. The core compares keys and copies the rest; it can read none of it.
//! An ID card is kept the same way without the sealed copy (nobody dials an ID number): its
//! key serves the per-person limit and check-in by card, its mask the staff console.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Contact {
    /// A keyed hash of the number: equal numbers have equal keys.
    pub key: String,
    /// The number encrypted with the hall's key; `None` once purged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
    /// `138****8000`: enough for staff to confirm with the citizen.
    pub masked: String,
}

impl Contact {
    /// The same contact without the sealed number (after the privacy period).
    pub fn purged(&self) -> Self {
        Self {
            key: self.key.clone(),
            sealed: None,
            masked: self.masked.clone(),
        }
    }
}
