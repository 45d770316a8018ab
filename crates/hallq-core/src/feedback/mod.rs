//! 好差评: ratings of each service visit and the closed loop of bad ratings and complaints.
//!
//! - `level` — the five national levels and the channels a rating comes from;
//! - `visit` — a completed ticket as a rateable visit, its rating and follow-up;
//! - `case` — the rectification case and its states;
//! - `policy` — what a locality configures (deadlines, default, reasons).
//!
//! The decisions live with the hall's other rules (`hall/rating.rs`); the figures are counted
//! by the store from the ratings it keeps.

mod case;
mod level;
mod policy;
mod visit;

pub use case::{Case, CaseAction, CaseNote, CaseSource, CaseStatus, Overdue, CASE_NOTES_MAX};
pub use level::{LevelNumbering, RatingChannel, RatingLevel};
pub use policy::RatingPolicy;
pub use visit::{Rating, Visit};

/// Longest comment kept with a rating or complaint, in characters.
pub const COMMENT_MAX_CHARS: usize = 500;
/// Most reasons ticked on one rating.
pub const REASONS_MAX: usize = 8;

#[cfg(test)]
mod tests;
