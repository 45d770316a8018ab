//! 好差评 shapes: cases as managers see them, visits as the rating pad and kiosk see them.
//! Never a phone whole, never a name; a complaint's text and its masked phone appear only in
//! the detail managers read.

use hallq_core::jiff::civil::Date;
use hallq_core::{Case, CaseSource, Hall, RatingLevel, RatingPolicy, Visit};
use serde_json::{json, Value};

/// A case in lists and on streams: what it is about, where it stands, when it is due.
/// `today` (hall time) adds whether it is overdue.
pub fn case_summary(case: &Case, today: Option<Date>) -> Value {
    let (kind, ticket, number, level, category) = match &case.source {
        CaseSource::BadRating {
            ticket,
            number,
            level,
        } => (
            "bad_rating",
            Some(ticket.0),
            Some(number.as_str()),
            Some(*level),
            None,
        ),
        CaseSource::Complaint {
            category, ticket, ..
        } => (
            "complaint",
            ticket.map(|t| t.0),
            None,
            None,
            Some(category.as_str()),
        ),
    };
    let overdue = today.and_then(|today| case.overdue(today));
    json!({
        "id": case.id,
        "kind": kind,
        "ticket": ticket,
        "number": number,
        "level": level.map(RatingLevel::as_str),
        "level_label": level.map(RatingLevel::label),
        "category": category,
        "channel": case.channel.as_str(),
        "department": case.department,
        "service": case.service,
        "window": case.window,
        "staff": case.staff,
        "status": case.status.as_str(),
        "status_label": case.status.label(),
        "opened_at": case.opened_at.to_string(),
        "callback_due": case.callback_due.to_string(),
        "due": case.due.to_string(),
        "overdue": overdue.map(|o| o.as_str()),
        "voided": case.voided,
    })
}

/// A case with its history and, for complaints, the text and the masked phone to answer on.
pub fn case_detail(case: &Case, today: Option<Date>, comment: Option<&str>) -> Value {
    let mut value = case_summary(case, today);
    if let CaseSource::Complaint { text, contact, .. } = &case.source {
        value["text"] = json!(text);
        value["phone_masked"] = json!(contact.as_ref().map(|c| &c.masked));
    }
    value["comment"] = json!(comment);
    value["notes"] = json!(case
        .notes
        .iter()
        .map(|note| json!({
            "at": note.at.to_string(),
            "by": note.by,
            "action": note.action.as_str(),
            "action_label": note.action.label(),
            "note": note.note,
        }))
        .collect::<Vec<_>>());
    value
}

/// The levels with their labels and the reasons offered for each, for the pages.
pub fn levels(policy: &RatingPolicy) -> Value {
    json!(RatingLevel::ALL
        .iter()
        .map(|level| json!({
            "level": level.as_str(),
            "code": level.code(),
            "label": level.label(),
            "bad": level.is_bad(),
            "reasons": policy.reasons_for(*level),
        }))
        .collect::<Vec<_>>())
}

/// Whether the visit's first rating may still be given.
pub fn rating_open(visit: &Visit, now: hallq_core::jiff::Timestamp) -> bool {
    visit.rating.is_none() && now <= visit.rate_by
}

/// Whether the one follow-up rating is open: a bad rating whose case was rectified.
pub fn follow_up_open(hall: &Hall, visit: &Visit) -> bool {
    visit.rating.as_ref().is_some_and(|r| r.level.is_bad())
        && visit.follow_up.is_none()
        && visit.case.and_then(|id| hall.case(id)).is_some_and(|c| {
            matches!(
                c.status,
                hallq_core::CaseStatus::Rectified | hallq_core::CaseStatus::FedBack
            )
        })
}

/// A visit as the rating pad, the kiosk and the citizen's page see it: what is being rated
/// (number, service, window, staff number) and whether a rating or the follow-up is open.
pub fn visit_view(hall: &Hall, visit: &Visit, now: hallq_core::jiff::Timestamp) -> Value {
    let spec = hall.spec();
    let service = spec.services.iter().find(|s| s.id == visit.service);
    let window = spec.windows.iter().find(|w| w.id == visit.window);
    json!({
        "ticket": visit.ticket.0,
        "number": visit.number,
        "service": visit.service,
        "service_name": service.map(|s| s.name.as_str()),
        "window": visit.window,
        "window_name": window.map(|w| w.call_name()),
        "staff": visit.staff,
        "completed_at": visit.completed_at.to_string(),
        "rate_by": visit.rate_by.to_string(),
        "rated": visit.rating.is_some(),
        "rating_open": rating_open(visit, now),
        "follow_up_open": follow_up_open(hall, visit),
        "level": visit.rating.as_ref().map(|r| r.level.as_str()),
        "levels": levels(&spec.ratings),
    })
}
