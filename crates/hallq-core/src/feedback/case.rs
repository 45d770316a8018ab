//! A rectification case (整改工单): opened by a bad rating or a complaint, followed to a closed
//! loop — called back (回访核实), rectified, fed back to the citizen, closed — with appeal
//! (申诉复核) when a rating is shown to be mistaken or malicious.

use super::level::{RatingChannel, RatingLevel};
use crate::contact::Contact;
use crate::ids::{ServiceId, TicketId, WindowId};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// How many notes a case keeps; later actions still change its status.
pub const CASE_NOTES_MAX: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    CalledBack,
    Rectified,
    FedBack,
    Closed,
    /// Under review after an appeal; the rating stands until the review upholds the appeal.
    Appealed,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::CalledBack => "called_back",
            CaseStatus::Rectified => "rectified",
            CaseStatus::FedBack => "fed_back",
            CaseStatus::Closed => "closed",
            CaseStatus::Appealed => "appealed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            CaseStatus::Open,
            CaseStatus::CalledBack,
            CaseStatus::Rectified,
            CaseStatus::FedBack,
            CaseStatus::Closed,
            CaseStatus::Appealed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Open => "待回访",
            CaseStatus::CalledBack => "已回访，整改中",
            CaseStatus::Rectified => "已整改，待反馈",
            CaseStatus::FedBack => "已反馈，待办结",
            CaseStatus::Closed => "已办结",
            CaseStatus::Appealed => "申诉复核中",
        }
    }
}

/// What a manager does with a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseAction {
    /// 回访核实: the citizen was called back and the facts checked.
    CallBack,
    /// 整改: the cause was put right.
    Rectify,
    /// 反馈: the citizen was told what was done.
    FeedBack,
    /// 办结.
    Close,
    /// 申诉: the department disputes the rating as mistaken or malicious.
    Appeal,
    /// The review finds the rating mistaken or malicious: the case closes and the rating no
    /// longer counts in the figures.
    UpholdAppeal,
    /// The review finds the rating stands: the case goes back to where it was.
    RejectAppeal,
}

impl CaseAction {
    pub const ALL: [CaseAction; 7] = [
        CaseAction::CallBack,
        CaseAction::Rectify,
        CaseAction::FeedBack,
        CaseAction::Close,
        CaseAction::Appeal,
        CaseAction::UpholdAppeal,
        CaseAction::RejectAppeal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseAction::CallBack => "call_back",
            CaseAction::Rectify => "rectify",
            CaseAction::FeedBack => "feed_back",
            CaseAction::Close => "close",
            CaseAction::Appeal => "appeal",
            CaseAction::UpholdAppeal => "uphold_appeal",
            CaseAction::RejectAppeal => "reject_appeal",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseAction::CallBack => "回访核实",
            CaseAction::Rectify => "整改完成",
            CaseAction::FeedBack => "反馈群众",
            CaseAction::Close => "办结",
            CaseAction::Appeal => "申诉复核",
            CaseAction::UpholdAppeal => "申诉成立",
            CaseAction::RejectAppeal => "申诉不成立",
        }
    }
}

/// What opened the case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaseSource {
    BadRating {
        ticket: TicketId,
        number: String,
        level: RatingLevel,
    },
    /// 投诉.
    Complaint {
        category: String,
        text: String,
        /// The phone to answer on, kept the hall's way (keyed hash, sealed, masked).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        contact: Option<Contact>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket: Option<TicketId>,
    },
}

/// One step of a case's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseNote {
    pub at: Timestamp,
    pub by: String,
    pub action: CaseAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: u64,
    pub source: CaseSource,
    /// Where the rating or complaint came from.
    pub channel: RatingChannel,
    /// The department answerable: the window's, or the service's.
    pub department: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowId>,
    /// The staff number of who served (never a name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<String>,
    pub opened_at: Timestamp,
    /// The last working day for the callback (回访核实).
    pub callback_due: Date,
    /// The last working day for rectification and feedback.
    pub due: Date,
    pub status: CaseStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called_back_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fed_back_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    /// The status an appeal interrupted, to return to when it is rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appealed_from: Option<CaseStatus>,
    /// An upheld appeal: the rating does not count.
    #[serde(default)]
    pub voided: bool,
    #[serde(default)]
    pub notes: Vec<CaseNote>,
}

/// Why a case is late, if it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overdue {
    /// Not called back by `callback_due`.
    Callback,
    /// Not rectified and fed back by `due`.
    Rectification,
}

impl Overdue {
    pub fn as_str(self) -> &'static str {
        match self {
            Overdue::Callback => "callback",
            Overdue::Rectification => "rectification",
        }
    }
}

impl Case {
    /// The status an action leads to from the current one, or `None` when it does not apply.
    pub fn next_status(&self, action: CaseAction) -> Option<CaseStatus> {
        use CaseStatus::*;
        match (action, self.status) {
            (CaseAction::CallBack, Open) => Some(CalledBack),
            (CaseAction::Rectify, Open | CalledBack) => Some(Rectified),
            (CaseAction::FeedBack, Rectified) => Some(FedBack),
            (CaseAction::Close, FedBack) => Some(Closed),
            (CaseAction::Appeal, Open | CalledBack | Rectified)
                if matches!(self.source, CaseSource::BadRating { .. }) =>
            {
                Some(Appealed)
            }
            (CaseAction::UpholdAppeal, Appealed) => Some(Closed),
            (CaseAction::RejectAppeal, Appealed) => Some(self.appealed_from.unwrap_or(Open)),
            _ => None,
        }
    }

    /// Whether the case is late on `today` (hall time), and for what. A closed case is never
    /// late; a case fed back is late for nothing.
    pub fn overdue(&self, today: Date) -> Option<Overdue> {
        match self.status {
            CaseStatus::Closed | CaseStatus::FedBack => None,
            CaseStatus::Open if today > self.callback_due => Some(Overdue::Callback),
            _ if today > self.due => Some(Overdue::Rectification),
            _ => None,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.status == CaseStatus::Closed
    }

    /// Folds an action in.
    pub(crate) fn apply(
        &mut self,
        action: CaseAction,
        status: CaseStatus,
        note: &Option<String>,
        by: &str,
        at: Timestamp,
    ) {
        match action {
            CaseAction::CallBack => self.called_back_at = Some(at),
            CaseAction::FeedBack => self.fed_back_at = Some(at),
            CaseAction::Appeal => self.appealed_from = Some(self.status),
            CaseAction::UpholdAppeal => self.voided = true,
            CaseAction::RejectAppeal => self.appealed_from = None,
            CaseAction::Rectify | CaseAction::Close => {}
        }
        if status == CaseStatus::Closed {
            self.closed_at = Some(at);
        }
        self.status = status;
        if self.notes.len() < CASE_NOTES_MAX {
            self.notes.push(CaseNote {
                at,
                by: by.to_owned(),
                action,
                note: note.clone(),
            });
        }
    }
}
