//! 好差评 rules with explicit instants: one rating per visit, the follow-up once, cases and
//! their deadlines on the holiday calendar, defaults after the rating time.

use crate::feedback::Overdue;
use crate::fixtures::*;
use crate::*;
use jiff::civil::{date, Date};
use jiff::{SignedDuration, Timestamp};

/// 2026's 春节: 15–23 Feb off, Sat 14 and Sat 28 Feb worked (国办发明电〔2025〕7号).
fn spring_festival_2026() -> Calendar {
    let mut entries = vec![
        CalendarEntry {
            date: date(2026, 2, 14),
            name: "春节".into(),
            is_off_day: false,
        },
        CalendarEntry {
            date: date(2026, 2, 28),
            name: "春节".into(),
            is_off_day: false,
        },
    ];
    entries.extend((15..=23).map(|day| CalendarEntry {
        date: date(2026, 2, day),
        name: "春节".into(),
        is_off_day: true,
    }));
    let mut calendar = Calendar::default();
    calendar.add_year(2026, &entries).unwrap();
    calendar
}

fn rating_hall(now: Timestamp, policy: RatingPolicy) -> Hall {
    let spec = HallBuilder::new()
        .service("a", "A")
        .window("w1", &["a"])
        .edit(|spec| {
            spec.calendar = spring_festival_2026();
            spec.ratings = policy;
            spec.windows[0].department = Some("社保局".into());
        })
        .build();
    let mut hall = Hall::new(spec, shanghai());
    hall.advance_to(now);
    hall
}

/// Issues, calls and completes one ticket at w1 by staff 1001; returns its id.
fn served_visit(hall: &mut Hall, now: Timestamp) -> TicketId {
    let token = format!("t{}", hall.last_ticket_id() + 1);
    let id = hall
        .execute(&issue("a", PriorityClass::WalkIn, &token), now)
        .unwrap()
        .ticket
        .unwrap();
    let staff = Some("1001".to_owned());
    hall.execute(
        &Command::CallNext {
            window: WindowId::new("w1"),
            staff: staff.clone(),
        },
        now,
    )
    .unwrap();
    hall.execute(
        &Command::Complete {
            window: WindowId::new("w1"),
            staff,
        },
        now,
    )
    .unwrap();
    id
}

fn rate(ticket: TicketId, level: RatingLevel, reasons: &[&str]) -> Command {
    Command::Rate {
        ticket,
        level,
        reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
        comment: Some("  窗口人员让我跑了两次  ".into()),
        channel: RatingChannel::Pad,
    }
}

fn progress(case: u64, action: CaseAction) -> Command {
    Command::ProgressCase {
        case,
        action,
        note: Some("已联系群众".into()),
        by: "m01".into(),
    }
}

fn opened_case(outcome: &Outcome) -> Case {
    outcome
        .events
        .iter()
        .find_map(|event| match event {
            Event::CaseOpened { case } => Some(case.clone()),
            _ => None,
        })
        .expect("a case was opened")
}

fn at_local(day: Date, hour: i8) -> Timestamp {
    local(day, hour, 0, 0)
}

#[test]
fn working_days_skip_the_spring_festival_and_count_its_make_up_days() {
    let calendar = spring_festival_2026();
    let friday = date(2026, 2, 13);
    // The next working day after Friday 13 Feb is the make-up Saturday.
    assert_eq!(calendar.working_days_after(friday, 1), date(2026, 2, 14));
    // 14 (Sat, worked), then 24-28 (Sat 28 worked), 2-6 Mar, 9-12 Mar.
    assert_eq!(calendar.working_days_after(friday, 15), date(2026, 3, 12));
    assert_eq!(calendar.working_days_after(friday, 0), friday);
    // From the make-up Saturday the next working day is after the whole holiday.
    assert_eq!(
        calendar.working_days_after(date(2026, 2, 14), 1),
        date(2026, 2, 24)
    );
}

#[test]
fn a_bad_rating_opens_a_case_with_dues_across_the_spring_festival() {
    let now = at_local(date(2026, 2, 13), 16);
    let mut hall = rating_hall(now, RatingPolicy::default());
    let ticket = served_visit(&mut hall, now);
    let visit = hall.visit(ticket).unwrap();
    assert_eq!(visit.staff.as_deref(), Some("1001"));
    let outcome = hall
        .execute(
            &rate(ticket, RatingLevel::Dissatisfied, &["服务态度差"]),
            now,
        )
        .unwrap();
    assert!(matches!(
        &outcome.events[0],
        Event::ServiceRated { round: 1, rating, staff: Some(staff), .. }
            if rating.level == RatingLevel::Dissatisfied
                && rating.comment.as_deref() == Some("窗口人员让我跑了两次")
                && staff == "1001"
    ));
    let case = opened_case(&outcome);
    assert_eq!(case.status, CaseStatus::Open);
    assert_eq!(case.department, "社保局");
    assert_eq!(case.staff.as_deref(), Some("1001"));
    assert_eq!(case.callback_due, date(2026, 2, 14));
    assert_eq!(case.due, date(2026, 3, 12));
    assert!(matches!(
        case.source,
        CaseSource::BadRating { ticket: t, level: RatingLevel::Dissatisfied, .. } if t == ticket
    ));
}

#[test]
fn each_visit_is_rated_once() {
    let now = friday_at(0);
    let mut hall = rating_hall(now, RatingPolicy::default());
    let ticket = served_visit(&mut hall, now);
    hall.execute(&rate(ticket, RatingLevel::Satisfied, &[]), now)
        .unwrap();
    let again = hall
        .execute(&rate(ticket, RatingLevel::VeryDissatisfied, &[]), now)
        .unwrap_err();
    assert_eq!(again.code(), "already_rated");
    assert_eq!(
        hall.execute(&rate(TicketId(999), RatingLevel::Satisfied, &[]), now)
            .unwrap_err()
            .code(),
        "unknown_ticket"
    );
    // A reason not offered for the level is refused and changes nothing.
    let other = served_visit(&mut hall, now);
    assert_eq!(
        hall.execute(&rate(other, RatingLevel::Satisfied, &["服务态度差"]), now)
            .unwrap_err()
            .code(),
        "unknown_reason"
    );
    assert!(hall.visit(other).unwrap().rating.is_none());
    // A waiting ticket is not a visit yet.
    let waiting = hall
        .execute(&issue("a", PriorityClass::WalkIn, "waiting"), now)
        .unwrap()
        .ticket
        .unwrap();
    assert_eq!(
        hall.execute(&rate(waiting, RatingLevel::Satisfied, &[]), now)
            .unwrap_err()
            .code(),
        "not_rateable"
    );
}

#[test]
fn the_follow_up_is_accepted_once_after_rectification() {
    let now = friday_at(0);
    let mut hall = rating_hall(now, RatingPolicy::default());
    let ticket = served_visit(&mut hall, now);
    let case = opened_case(
        &hall
            .execute(&rate(ticket, RatingLevel::VeryDissatisfied, &[]), now)
            .unwrap(),
    );
    // Not before the rectification.
    let early = hall
        .execute(&rate(ticket, RatingLevel::Satisfied, &[]), now)
        .unwrap_err();
    assert_eq!(early.code(), "follow_up_not_open");
    hall.execute(&progress(case.id, CaseAction::CallBack), now)
        .unwrap();
    hall.execute(&progress(case.id, CaseAction::Rectify), now)
        .unwrap();
    let follow_up = hall
        .execute(&rate(ticket, RatingLevel::Satisfied, &[]), now)
        .unwrap();
    assert!(matches!(
        &follow_up.events[..],
        [Event::ServiceRated { round: 2, .. }]
    ));
    let third = hall
        .execute(&rate(ticket, RatingLevel::VerySatisfied, &[]), now)
        .unwrap_err();
    assert_eq!(third.code(), "already_rated");
}

#[test]
fn cases_move_through_their_states_and_refuse_the_wrong_step() {
    let now = friday_at(0);
    let mut hall = rating_hall(now, RatingPolicy::default());
    let ticket = served_visit(&mut hall, now);
    let case = opened_case(
        &hall
            .execute(&rate(ticket, RatingLevel::Dissatisfied, &[]), now)
            .unwrap(),
    );
    let wrong = hall
        .execute(&progress(case.id, CaseAction::Close), now)
        .unwrap_err();
    assert_eq!(wrong.code(), "invalid_case_state");
    for (action, status) in [
        (CaseAction::CallBack, CaseStatus::CalledBack),
        (CaseAction::Rectify, CaseStatus::Rectified),
        (CaseAction::FeedBack, CaseStatus::FedBack),
        (CaseAction::Close, CaseStatus::Closed),
    ] {
        hall.execute(&progress(case.id, action), now).unwrap();
        assert_eq!(hall.case(case.id).unwrap().status, status);
    }
    let closed = hall.case(case.id).unwrap();
    assert!(closed.called_back_at.is_some() && closed.fed_back_at.is_some());
    assert_eq!(closed.notes.len(), 4);
    assert_eq!(
        hall.execute(&progress(77, CaseAction::CallBack), now)
            .unwrap_err()
            .code(),
        "unknown_case"
    );
}

#[test]
fn an_upheld_appeal_voids_the_rating_and_a_rejected_one_returns() {
    let now = friday_at(0);
    let mut hall = rating_hall(now, RatingPolicy::default());
    let first = served_visit(&mut hall, now);
    let second = served_visit(&mut hall, now);
    let upheld = opened_case(
        &hall
            .execute(&rate(first, RatingLevel::Dissatisfied, &[]), now)
            .unwrap(),
    );
    let rejected = opened_case(
        &hall
            .execute(&rate(second, RatingLevel::Dissatisfied, &[]), now)
            .unwrap(),
    );
    hall.execute(&progress(rejected.id, CaseAction::CallBack), now)
        .unwrap();
    for case in [upheld.id, rejected.id] {
        hall.execute(&progress(case, CaseAction::Appeal), now)
            .unwrap();
    }
    hall.execute(&progress(upheld.id, CaseAction::UpholdAppeal), now)
        .unwrap();
    hall.execute(&progress(rejected.id, CaseAction::RejectAppeal), now)
        .unwrap();
    let upheld = hall.case(upheld.id).unwrap();
    assert!(upheld.voided && upheld.status == CaseStatus::Closed);
    let rejected = hall.case(rejected.id).unwrap();
    assert!(!rejected.voided);
    assert_eq!(rejected.status, CaseStatus::CalledBack);
}

#[test]
fn overdue_cases_with_a_fixed_clock() {
    let opened = at_local(date(2026, 2, 13), 16);
    let mut hall = rating_hall(opened, RatingPolicy::default());
    let ticket = served_visit(&mut hall, opened);
    let case = opened_case(
        &hall
            .execute(&rate(ticket, RatingLevel::Dissatisfied, &[]), opened)
            .unwrap(),
    );
    let case = hall.case(case.id).unwrap().clone();
    assert_eq!(case.overdue(date(2026, 2, 14)), None);
    assert_eq!(case.overdue(date(2026, 2, 15)), Some(Overdue::Callback));
    let mut called_back = case.clone();
    called_back.status = CaseStatus::CalledBack;
    assert_eq!(called_back.overdue(date(2026, 2, 15)), None);
    assert_eq!(called_back.overdue(date(2026, 3, 12)), None);
    assert_eq!(
        called_back.overdue(date(2026, 3, 13)),
        Some(Overdue::Rectification)
    );
    let mut fed_back = case;
    fed_back.status = CaseStatus::FedBack;
    assert_eq!(fed_back.overdue(date(2026, 4, 1)), None);
}

#[test]
fn the_default_rating_applies_when_the_rating_time_is_over() {
    let now = friday_at(0);
    let mut hall = rating_hall(now, RatingPolicy::default());
    let ticket = served_visit(&mut hall, now);
    let rated = served_visit(&mut hall, now);
    hall.execute(&rate(rated, RatingLevel::VerySatisfied, &[]), now)
        .unwrap();
    // Still within 7 natural days: nothing.
    let almost = now + SignedDuration::from_hours(7 * 24);
    assert!(hall
        .advance_to(almost)
        .iter()
        .all(|e| !matches!(e, Event::ServiceRated { .. })));
    let late = almost + SignedDuration::from_secs(1);
    let events = hall.advance_to(late);
    let defaults: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            Event::ServiceRated { ticket, rating, .. } => {
                Some((*ticket, rating.level, rating.channel))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        defaults,
        vec![(
            ticket,
            RatingLevel::BasicallySatisfied,
            RatingChannel::SystemDefault
        )]
    );
    // Once, not at every later turn; and a citizen can no longer rate.
    assert!(hall
        .advance_to(late + SignedDuration::from_secs(60))
        .is_empty());
    let day_after = at_local(date(2026, 12, 6), 9);
    hall.advance_to(day_after);
    assert!(hall.visit(ticket).is_none() && hall.visit(rated).is_none());
}

#[test]
fn without_a_default_the_visit_lapses_unrated() {
    let now = friday_at(0);
    let policy = RatingPolicy {
        default_level: None,
        ..RatingPolicy::default()
    };
    let mut hall = rating_hall(now, policy);
    let ticket = served_visit(&mut hall, now);
    let late = now + SignedDuration::from_hours(7 * 24 + 1);
    let events = hall.advance_to(late);
    assert!(events
        .iter()
        .all(|e| !matches!(e, Event::ServiceRated { .. })));
    let refused = hall
        .execute(&rate(ticket, RatingLevel::Satisfied, &[]), late)
        .unwrap_err();
    // The day changed with the advance: the lapsed visit is forgotten.
    assert_eq!(refused.code(), "unknown_ticket");
    assert!(hall.visit(ticket).is_none());
}

#[test]
fn complaints_open_cases_for_the_complaints_department_or_the_visit() {
    let now = friday_at(0);
    let mut hall = rating_hall(now, RatingPolicy::default());
    let ticket = served_visit(&mut hall, now);
    let complaint = |ticket, category: &str| Command::FileComplaint {
        category: category.into(),
        text: "叫号屏看不清".into(),
        contact: Some(contact("13800001234")),
        ticket,
        channel: RatingChannel::Kiosk,
    };
    let general = opened_case(&hall.execute(&complaint(None, "环境设施"), now).unwrap());
    assert_eq!(general.department, "大厅管理办公室");
    let about_visit = opened_case(
        &hall
            .execute(&complaint(Some(ticket), "服务态度"), now)
            .unwrap(),
    );
    assert_eq!(about_visit.department, "社保局");
    assert_eq!(about_visit.staff.as_deref(), Some("1001"));
    assert_ne!(general.id, about_visit.id);
    assert_eq!(
        hall.execute(&complaint(None, "外星人"), now)
            .unwrap_err()
            .code(),
        "unknown_category"
    );
    // A complaint cannot be appealed: it is not a rating.
    assert_eq!(
        hall.execute(&progress(general.id, CaseAction::Appeal), now)
            .unwrap_err()
            .code(),
        "invalid_case_state"
    );
}

#[test]
fn visits_and_open_cases_survive_a_restore() {
    let now = friday_at(0);
    let mut hall = rating_hall(now, RatingPolicy::default());
    let bad = served_visit(&mut hall, now);
    let unrated = served_visit(&mut hall, now);
    let case = opened_case(
        &hall
            .execute(&rate(bad, RatingLevel::Dissatisfied, &[]), now)
            .unwrap(),
    );
    let restored = Hall::restore(
        hall.spec().clone(),
        hall.time_zone().clone(),
        RestoredState {
            day: hall.day(),
            tickets: hall.tickets().cloned().collect(),
            visits: hall.visits().cloned().collect(),
            cases: hall.cases().cloned().collect(),
            last_case_id: hall.last_case_id(),
            ..Default::default()
        },
    );
    assert_eq!(restored.visit(unrated), hall.visit(unrated));
    assert_eq!(restored.case(case.id), hall.case(case.id));
    assert_eq!(restored.last_case_id(), case.id);
    // The restored hall still applies the default to the unrated visit.
    let late = now + SignedDuration::from_hours(8 * 24);
    let mut restored = restored;
    assert!(restored
        .advance_to(late)
        .iter()
        .any(|e| matches!(e, Event::ServiceRated { ticket, .. } if *ticket == unrated)));
}

#[test]
fn a_bad_default_level_is_refused_by_validation() {
    let spec = HallBuilder::new()
        .service("a", "A")
        .window("w1", &["a"])
        .edit(|spec| spec.ratings.default_level = Some(RatingLevel::Dissatisfied))
        .build();
    let errors = spec.validate().unwrap_err();
    assert!(errors.iter().any(|e| e.path == "ratings.default_level"));
}
