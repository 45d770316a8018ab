//! A service visit (一次服务): a completed ticket, rateable once (一次一评), with one follow-up
//! rating (二次评价) after a bad rating's rectification.

use super::level::{RatingChannel, RatingLevel};
use crate::ids::{ServiceId, TicketId, WindowId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub level: RatingLevel,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub channel: RatingChannel,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub ticket: TicketId,
    pub number: String,
    pub service: ServiceId,
    pub window: WindowId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<String>,
    pub completed_at: Timestamp,
    /// The last instant a citizen may rate; then the default applies (or nothing).
    pub rate_by: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<Rating>,
    /// The case a bad rating opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<u64>,
}

impl Visit {
    /// Whether the hall must still hold the visit: not yet rated, or rated badly with its case
    /// not closed (a follow-up may come).
    pub fn is_open(&self, case_closed: bool) -> bool {
        match &self.rating {
            None => true,
            Some(rating) => rating.level.is_bad() && self.follow_up.is_none() && !case_closed,
        }
    }
}
