//! Rules of the hall, with explicit instants: no sleeping, no wall clock.

use crate::fixtures::*;
use crate::*;
use jiff::civil::date;
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

/// 2026-11-27 09:00 in the hall, plus `seconds`.
fn at(seconds: i64) -> Timestamp {
    friday_at(seconds)
}

fn test_spec() -> HallSpec {
    two_service_hall()
}

fn hall_at(now: Timestamp) -> Hall {
    let mut hall = Hall::new(test_spec(), shanghai());
    hall.advance_to(now);
    hall
}

fn walk_in(hall: &mut Hall, service: &str, now: Timestamp) -> TicketId {
    let token = format!("t{}", hall.last_ticket_id() + 1);
    hall.execute(&issue(service, PriorityClass::WalkIn, &token), now)
        .unwrap()
        .ticket
        .unwrap()
}

fn with_priority(
    hall: &mut Hall,
    service: &str,
    priority: PriorityClass,
    now: Timestamp,
) -> TicketId {
    let token = format!("t{}", hall.last_ticket_id() + 1);
    hall.execute(&issue(service, priority, &token), now)
        .unwrap()
        .ticket
        .unwrap()
}

fn call(hall: &mut Hall, window: &str, now: Timestamp) -> Option<TicketId> {
    hall.execute(
        &Command::CallNext {
            window: WindowId::new(window),
            staff: None,
        },
        now,
    )
    .unwrap()
    .ticket
}

fn number(hall: &Hall, id: TicketId) -> String {
    hall.ticket(id).unwrap().number.clone()
}

#[test]
fn numbers_count_per_service_and_restart_at_local_midnight() {
    let mut hall = hall_at(at(0));
    let a1 = walk_in(&mut hall, "a", at(0));
    let b1 = walk_in(&mut hall, "b", at(1));
    let a2 = walk_in(&mut hall, "a", at(2));
    assert_eq!(
        [number(&hall, a1), number(&hall, b1), number(&hall, a2)],
        ["A001", "B001", "A002"]
    );

    // 23:59:59 local is still the same day; 00:00:00 local is the next.
    let last_second = date(2026, 11, 27)
        .at(23, 59, 59, 0)
        .to_zoned(shanghai())
        .unwrap()
        .timestamp();
    assert!(hall.advance_to(last_second).is_empty());
    let a3 = walk_in(&mut hall, "a", last_second);
    assert_eq!(number(&hall, a3), "A003");

    let midnight = last_second + 1.second();
    let events = hall.advance_to(midnight);
    assert!(
        matches!(events.last(), Some(Event::ServiceDayStarted { day, .. }) if *day == date(2026, 11, 28))
    );
    let next_day = walk_in(&mut hall, "a", midnight);
    assert_eq!(number(&hall, next_day), "A001");
}

#[test]
fn numbers_grow_past_three_digits() {
    let mut hall = hall_at(at(0));
    let mut last = None;
    for i in 0..1000 {
        last = Some(walk_in(&mut hall, "a", at(i)));
    }
    assert_eq!(number(&hall, last.unwrap()), "A1000");
}

#[test]
fn day_end_expires_everything_still_open() {
    let mut hall = hall_at(at(0));
    let waiting = walk_in(&mut hall, "a", at(0));
    let called = walk_in(&mut hall, "a", at(1));
    let done = walk_in(&mut hall, "b", at(2));
    call(&mut hall, "w2", at(3));
    hall.execute(
        &Command::Complete {
            window: WindowId::new("w2"),
            staff: None,
        },
        at(4),
    )
    .unwrap();
    assert_eq!(call(&mut hall, "w1", at(5)), Some(waiting));

    let tomorrow = at(24 * 3600);
    let events = hall.advance_to(tomorrow);
    let expired: HashSet<TicketId> = events
        .iter()
        .filter_map(|e| match e {
            Event::TicketExpired { ticket, .. } => Some(*ticket),
            _ => None,
        })
        .collect();
    assert_eq!(expired, HashSet::from([waiting, called]));
    assert!(hall.windows().iter().all(|w| w.current.is_none()));
    // Yesterday's tickets are no longer in the live state.
    assert!(hall.ticket(done).is_none());
    hall.check_invariants().unwrap();
}

#[test]
fn a_clock_stepping_back_never_moves_the_day_back() {
    let mut hall = hall_at(at(24 * 3600));
    assert!(hall.advance_to(at(0)).is_empty());
    let id = walk_in(&mut hall, "a", at(0));
    assert_eq!(hall.ticket(id).unwrap().service_day, date(2026, 11, 28));
}

#[test]
fn commands_before_the_day_started_are_refused() {
    let hall = Hall::new(test_spec(), shanghai());
    assert_eq!(
        hall.decide(&issue("a", PriorityClass::WalkIn, "x"), at(0))
            .unwrap_err(),
        DomainError::DayNotStarted
    );
}

#[test]
fn call_order_table() {
    // Each case: tickets issued (service, class, seconds after 09:00), the window that calls,
    // the instant of the call, and the expected order of numbers called.
    use PriorityClass::*;
    type Case = (
        &'static str,
        Vec<(&'static str, PriorityClass, i64)>,
        &'static str,
        i64,
        Vec<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "first come first served",
            vec![("a", WalkIn, 0), ("a", WalkIn, 10), ("a", WalkIn, 20)],
            "w1",
            30,
            vec!["A001", "A002", "A003"],
        ),
        (
            "green before walk-in",
            vec![("a", WalkIn, 0), ("a", Green, 10)],
            "w1",
            30,
            vec!["A002", "A001"],
        ),
        (
            "appointment after green, before walk-in",
            vec![("a", WalkIn, 0), ("a", Appointment, 5), ("a", Green, 10)],
            "w1",
            30,
            vec!["A003", "A002", "A001"],
        ),
        (
            "primary service first",
            vec![("a", WalkIn, 0), ("b", WalkIn, 10)],
            "w3",
            30,
            vec!["B001", "A001"],
        ),
        (
            "green on a secondary service beats primary walk-ins",
            vec![("b", WalkIn, 0), ("a", Green, 10)],
            "w3",
            30,
            vec!["A001", "B001"],
        ),
        (
            "appointments by service order",
            vec![("a", Appointment, 0), ("b", Appointment, 10)],
            "w3",
            30,
            vec!["B001", "A001"],
        ),
        (
            "aged walk-in goes before later green",
            vec![("a", WalkIn, 0), ("a", Green, 1000)],
            "w1",
            1800,
            vec!["A001", "A002"],
        ),
        (
            "aged walk-in still after earlier green",
            vec![("a", Green, 0), ("a", WalkIn, 1)],
            "w1",
            4000,
            vec!["A001", "A002"],
        ),
        (
            "not yet aged",
            vec![("a", WalkIn, 0), ("a", Green, 1000)],
            "w1",
            1799,
            vec!["A002", "A001"],
        ),
        (
            "aged secondary walk-in before later primary appointment",
            vec![("a", WalkIn, 0), ("b", Appointment, 100)],
            "w3",
            2000,
            vec!["A001", "B001"],
        ),
        (
            "window does not serve it",
            vec![("b", WalkIn, 0)],
            "w1",
            10,
            vec![],
        ),
    ];
    for (name, tickets, window, call_at, expected) in cases {
        let mut hall = hall_at(at(0));
        for (service, class, t) in tickets {
            with_priority(&mut hall, service, class, at(t));
        }
        let mut called = Vec::new();
        let mut now = call_at;
        while let Some(id) = call(&mut hall, window, at(now)) {
            called.push(number(&hall, id));
            now += 1;
        }
        assert_eq!(called, expected, "case: {name}");
        hall.check_invariants().unwrap();
    }
}

#[test]
fn call_next_completes_the_current_ticket() {
    let mut hall = hall_at(at(0));
    let first = walk_in(&mut hall, "a", at(0));
    let second = walk_in(&mut hall, "a", at(1));
    call(&mut hall, "w1", at(10));
    let outcome = hall
        .execute(
            &Command::CallNext {
                window: WindowId::new("w1"),
                staff: None,
            },
            at(130),
        )
        .unwrap();
    assert!(
        matches!(&outcome.events[0], Event::TicketCompleted { ticket, service_s: 120, .. } if *ticket == first)
    );
    assert!(
        matches!(&outcome.events[1], Event::TicketCalled { ticket, wait_s: 129, .. } if *ticket == second)
    );
    assert_eq!(hall.ticket(first).unwrap().status, TicketStatus::Completed);
}

#[test]
fn window_actions_in_the_wrong_state_are_refused_and_change_nothing() {
    let w1 = || WindowId::new("w1");
    let mut hall = hall_at(at(0));
    let id = walk_in(&mut hall, "a", at(0));
    let cases: Vec<(Command, &str)> = vec![
        (
            Command::Complete {
                window: w1(),
                staff: None,
            },
            "no_current_ticket",
        ),
        (Command::Recall { window: w1() }, "no_current_ticket"),
        (Command::NoShow { window: w1() }, "no_current_ticket"),
        (
            Command::Transfer {
                window: w1(),
                service: ServiceId::new("b"),
            },
            "no_current_ticket",
        ),
        (Command::Resume { window: w1() }, "window_not_paused"),
        (
            Command::CallNext {
                window: WindowId::new("w9"),
                staff: None,
            },
            "unknown_window",
        ),
        (
            Command::Requeue {
                window: w1(),
                ticket: id,
            },
            "invalid_state",
        ),
        (
            Command::Cancel {
                ticket: TicketId(99),
            },
            "unknown_ticket",
        ),
        (issue("zz", PriorityClass::WalkIn, "x"), "unknown_service"),
    ];
    for (command, code) in cases {
        let before = format!("{:?}", hall);
        let error = hall.execute(&command, at(5)).unwrap_err();
        assert_eq!(error.code(), code, "{command:?}");
        assert_eq!(
            before,
            format!("{:?}", hall),
            "{command:?} changed the hall"
        );
    }

    hall.execute(&Command::Pause { window: w1() }, at(6))
        .unwrap();
    assert_eq!(
        hall.execute(
            &Command::CallNext {
                window: w1(),
                staff: None
            },
            at(7)
        )
        .unwrap_err()
        .code(),
        "window_paused"
    );
    assert_eq!(
        hall.execute(&Command::Pause { window: w1() }, at(7))
            .unwrap_err()
            .code(),
        "window_paused"
    );
    hall.execute(&Command::Resume { window: w1() }, at(8))
        .unwrap();
    assert_eq!(call(&mut hall, "w1", at(9)), Some(id));
    assert_eq!(
        hall.execute(
            &Command::Transfer {
                window: w1(),
                service: ServiceId::new("a")
            },
            at(10)
        )
        .unwrap_err()
        .code(),
        "transfer_to_same_service"
    );
    assert_eq!(
        hall.execute(&Command::Cancel { ticket: id }, at(10))
            .unwrap_err()
            .code(),
        "invalid_state"
    );
}

#[test]
fn recent_calls_are_newest_first() {
    let mut hall = hall_at(at(0));
    for i in 0..4 {
        walk_in(&mut hall, "a", at(i));
    }
    call(&mut hall, "w1", at(10));
    call(&mut hall, "w3", at(20));
    call(&mut hall, "w1", at(30));
    let numbers: Vec<&str> = hall
        .recent_calls(2)
        .iter()
        .map(|t| t.number.as_str())
        .collect();
    assert_eq!(numbers, ["A003", "A002"]);
    assert_eq!(hall.recent_calls(10).len(), 3);
}

#[test]
fn recall_counts() {
    let mut hall = hall_at(at(0));
    let id = walk_in(&mut hall, "a", at(0));
    call(&mut hall, "w1", at(1));
    for expected in 1..=3 {
        hall.execute(
            &Command::Recall {
                window: WindowId::new("w1"),
            },
            at(2),
        )
        .unwrap();
        assert_eq!(hall.ticket(id).unwrap().recalls, expected);
    }
}

#[test]
fn no_show_may_be_requeued_once_within_the_time() {
    let w1 = || WindowId::new("w1");
    let mut hall = hall_at(at(0));
    let id = walk_in(&mut hall, "a", at(0));
    let later = walk_in(&mut hall, "a", at(10));
    call(&mut hall, "w1", at(20));
    hall.execute(&Command::NoShow { window: w1() }, at(80))
        .unwrap();
    assert_eq!(hall.ticket(id).unwrap().status, TicketStatus::NoShow);
    assert!(hall.window(&w1()).unwrap().current.is_none());

    // Only the window that marked it may requeue it: not another service's window, and not
    // another window serving the same service (w3 serves a too).
    for other in ["w2", "w3"] {
        assert_eq!(
            hall.execute(
                &Command::Requeue {
                    window: WindowId::new(other),
                    ticket: id
                },
                at(90)
            )
            .unwrap_err()
            .code(),
            "marked_at_another_window"
        );
    }
    hall.execute(
        &Command::Requeue {
            window: w1(),
            ticket: id,
        },
        at(100),
    )
    .unwrap();
    // Requeued at the back: the later ticket goes first.
    assert_eq!(call(&mut hall, "w1", at(110)), Some(later));
    assert_eq!(call(&mut hall, "w1", at(120)), Some(id));
    hall.execute(&Command::NoShow { window: w1() }, at(130))
        .unwrap();
    assert_eq!(
        hall.execute(
            &Command::Requeue {
                window: w1(),
                ticket: id
            },
            at(140)
        )
        .unwrap_err()
        .code(),
        "requeue_limit_reached"
    );

    // Too late: the policy allows 600 s.
    let mut hall = hall_at(at(0));
    let id = walk_in(&mut hall, "a", at(0));
    call(&mut hall, "w1", at(1));
    hall.execute(&Command::NoShow { window: w1() }, at(2))
        .unwrap();
    assert_eq!(
        hall.execute(
            &Command::Requeue {
                window: w1(),
                ticket: id
            },
            at(603)
        )
        .unwrap_err()
        .code(),
        "requeue_too_late"
    );
    hall.execute(
        &Command::Requeue {
            window: w1(),
            ticket: id,
        },
        at(602),
    )
    .unwrap();
}

#[test]
fn transfer_keeps_the_number_and_the_place() {
    let mut hall = hall_at(at(0));
    let transferred = walk_in(&mut hall, "a", at(0));
    let b_waiting = walk_in(&mut hall, "b", at(50));
    call(&mut hall, "w1", at(100));
    let outcome = hall
        .execute(
            &Command::Transfer {
                window: WindowId::new("w1"),
                service: ServiceId::new("b"),
            },
            at(200),
        )
        .unwrap();
    assert!(
        matches!(&outcome.events[0], Event::TicketTransferred { number, .. } if number == "A001")
    );
    let ticket = hall.ticket(transferred).unwrap();
    assert_eq!(
        (
            ticket.status,
            ticket.service.as_str(),
            ticket.number.as_str()
        ),
        (TicketStatus::Waiting, "b", "A001")
    );
    // It arrived before B001, so it is called first at the b window.
    assert_eq!(call(&mut hall, "w2", at(300)), Some(transferred));
    assert_eq!(call(&mut hall, "w2", at(400)), Some(b_waiting));
    hall.check_invariants().unwrap();
}

#[test]
fn idempotency_key_returns_the_same_ticket() {
    let mut hall = hall_at(at(0));
    let keyed = |service: &str, token: &str| {
        Command::IssueTicket(IssueTicket {
            service: ServiceId::new(service),
            priority: PriorityClass::WalkIn,
            channel: Channel::Kiosk,
            contact: None,
            id_card: None,
            kiosk: Some("k1".into()),
            token: token.into(),
            idempotency_key: Some("key-1".into()),
        })
    };
    let first = hall.execute(&keyed("a", "t1"), at(0)).unwrap();
    let retry = hall.execute(&keyed("a", "t2"), at(5)).unwrap();
    assert_eq!(first.ticket, retry.ticket);
    // The same key with a different request is refused, whatever differs.
    let mut green = keyed("a", "t3");
    if let Command::IssueTicket(issue) = &mut green {
        issue.priority = PriorityClass::Green;
    }
    assert_eq!(
        hall.execute(&green, at(6)).unwrap_err().code(),
        "idempotency_key_reused"
    );
    let mut with_phone = keyed("a", "t4");
    if let Command::IssueTicket(issue) = &mut with_phone {
        issue.contact = Some(contact("13800138000"));
    }
    assert_eq!(
        hall.execute(&with_phone, at(7)).unwrap_err().code(),
        "idempotency_key_reused"
    );
    assert!(retry.events.is_empty());
    assert_eq!(
        hall.execute(&keyed("b", "t3"), at(6)).unwrap_err(),
        DomainError::IdempotencyKeyReused
    );
    // The key is scoped to the service day.
    hall.advance_to(at(24 * 3600));
    let tomorrow = hall.execute(&keyed("a", "t4"), at(24 * 3600)).unwrap();
    assert_ne!(tomorrow.ticket, first.ticket);
}

#[test]
fn duplicate_token_is_refused() {
    let mut hall = hall_at(at(0));
    hall.execute(&issue("a", PriorityClass::WalkIn, "same"), at(0))
        .unwrap();
    assert_eq!(
        hall.execute(&issue("a", PriorityClass::WalkIn, "same"), at(1))
            .unwrap_err(),
        DomainError::TokenInUse
    );
}

#[test]
fn estimates_follow_people_ahead_windows_and_service_times() {
    let mut hall = hall_at(at(0));
    // Service a: w1 primary (1) + w3 secondary (0.5) = 1.5 windows, prior 300 s.
    let ids: Vec<TicketId> = (0..4).map(|i| walk_in(&mut hall, "a", at(i))).collect();
    assert_eq!(hall.position(ids[0], at(10)), Some((0, 0)));
    assert_eq!(hall.position(ids[3], at(10)), Some((3, 600)));
    // A green ticket goes ahead of all walk-ins.
    let green = with_priority(&mut hall, "a", PriorityClass::Green, at(20));
    assert_eq!(hall.position(green, at(20)), Some((0, 0)));
    assert_eq!(hall.position(ids[3], at(20)), Some((4, 800)));
    // Pausing w3 leaves one window.
    hall.execute(
        &Command::Pause {
            window: WindowId::new("w3"),
        },
        at(30),
    )
    .unwrap();
    assert_eq!(hall.position(ids[3], at(30)), Some((4, 1200)));
    // Fast services lower the average.
    for t in [40, 100, 160] {
        call(&mut hall, "w1", at(t));
    }
    let stats = hall.queue_stats(at(160));
    let a = stats.iter().find(|s| s.service.as_str() == "a").unwrap();
    assert_eq!(a.completed_today, 2);
    assert!(a.average_service_s < 300.0);
    assert_eq!(a.waiting, 2);
    assert_eq!(a.oldest_wait_s, 158);
}

#[test]
fn spec_validation_names_the_entry() {
    let mut spec = test_spec();
    spec.windows[1].services.push(ServiceId::new("nope"));
    spec.services[1].prefix = "a1".into();
    let errors = spec.validate().unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"windows[1].services[1]"), "{errors:?}");
    assert!(paths.contains(&"services[1].prefix"), "{errors:?}");
    assert!(test_spec().validate().is_ok());
}

/// Rebuilding a hall from the tickets the store keeps gives the same observable state as the
/// hall that produced them.
/// The hall as a restart would rebuild it from the stored tickets.
fn restore(hall: &Hall) -> Hall {
    Hall::restore(
        hall.spec().clone(),
        hall.time_zone().clone(),
        RestoredState {
            day: hall.day(),
            tickets: hall.tickets().cloned().collect(),
            paused_windows: hall
                .windows()
                .iter()
                .filter(|w| w.status == WindowStatus::Paused)
                .map(|w| w.id.clone())
                .collect(),
            last_ticket_id: hall.last_ticket_id(),
            appointments: hall.appointments().cloned().collect(),
            visits: hall.visits().cloned().collect(),
            cases: hall.cases().filter(|c| !c.is_closed()).cloned().collect(),
            last_case_id: hall.last_case_id(),
            board_notice: hall.board_notice().map(str::to_owned),
            wait_alarms: hall
                .wait_alarms()
                .iter()
                .map(|(service, limit)| (service.clone(), *limit))
                .collect(),
            past_tickets: Vec::new(),
        },
    )
}

fn assert_restores(hall: &Hall, now: Timestamp) {
    let restored = Hall::restore(
        hall.spec().clone(),
        hall.time_zone().clone(),
        RestoredState {
            day: hall.day(),
            tickets: hall.tickets().cloned().collect(),
            paused_windows: hall
                .windows()
                .iter()
                .filter(|w| w.status == WindowStatus::Paused)
                .map(|w| w.id.clone())
                .collect(),
            last_ticket_id: hall.last_ticket_id(),
            appointments: Vec::new(),
            ..Default::default()
        },
    );
    restored.check_invariants().unwrap();
    assert_eq!(restored.windows(), hall.windows());
    assert_eq!(
        restored.tickets().collect::<Vec<_>>(),
        hall.tickets().collect::<Vec<_>>()
    );
    for (a, b) in restored.queue_stats(now).iter().zip(hall.queue_stats(now)) {
        assert_eq!(
            (
                a.waiting,
                a.issued_today,
                a.called_today,
                a.completed_today,
                a.no_show_today
            ),
            (
                b.waiting,
                b.issued_today,
                b.called_today,
                b.completed_today,
                b.no_show_today
            )
        );
        assert!((a.average_service_s - b.average_service_s).abs() < 1e-6);
    }
    for window in hall.windows() {
        assert_eq!(
            restored.next_for_window(&window.id, now),
            hall.next_for_window(&window.id, now)
        );
    }
}

// ---- simulation: random hall days against the invariants ----

#[derive(Clone, Debug)]
enum Step {
    Issue { service: usize, class: usize },
    Call { window: usize },
    CallTicket { window: usize, ticket_back: usize },
    Recall { window: usize },
    NoShow { window: usize },
    Requeue { window: usize, ticket_back: usize },
    Transfer { window: usize, service: usize },
    Complete { window: usize },
    Pause { window: usize },
    Resume { window: usize },
    Cancel { ticket_back: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..2usize, 0..3usize).prop_map(|(service, class)| Step::Issue { service, class }),
        5 => (0..3usize).prop_map(|window| Step::Call { window }),
        1 => (0..3usize, 0..8usize).prop_map(|(window, ticket_back)| Step::CallTicket { window, ticket_back }),
        1 => (0..3usize).prop_map(|window| Step::Recall { window }),
        1 => (0..3usize).prop_map(|window| Step::NoShow { window }),
        1 => (0..3usize, 0..8usize).prop_map(|(window, ticket_back)| Step::Requeue { window, ticket_back }),
        1 => (0..3usize, 0..2usize).prop_map(|(window, service)| Step::Transfer { window, service }),
        2 => (0..3usize).prop_map(|window| Step::Complete { window }),
        1 => (0..3usize).prop_map(|window| Step::Pause { window }),
        1 => (0..3usize).prop_map(|window| Step::Resume { window }),
        1 => (0..8usize).prop_map(|ticket_back| Step::Cancel { ticket_back }),
    ]
}

fn to_command(step: &Step, hall: &Hall, serial: usize) -> Command {
    let windows = ["w1", "w2", "w3"];
    let services = ["a", "b"];
    let classes = [
        PriorityClass::Green,
        PriorityClass::Appointment,
        PriorityClass::WalkIn,
    ];
    let w = |i: usize| WindowId::new(windows[i]);
    let back = |n: usize| TicketId(hall.last_ticket_id().saturating_sub(n as u64));
    match *step {
        Step::Issue { service, class } => issue(
            services[service],
            classes[class],
            &format!("token-{serial}"),
        ),
        Step::Call { window } => Command::CallNext {
            window: w(window),
            staff: None,
        },
        Step::CallTicket {
            window,
            ticket_back,
        } => Command::CallTicket {
            window: w(window),
            ticket: back(ticket_back),
            staff: None,
        },
        Step::Recall { window } => Command::Recall { window: w(window) },
        Step::NoShow { window } => Command::NoShow { window: w(window) },
        Step::Requeue {
            window,
            ticket_back,
        } => Command::Requeue {
            window: w(window),
            ticket: back(ticket_back),
        },
        Step::Transfer { window, service } => Command::Transfer {
            window: w(window),
            service: ServiceId::new(services[service]),
        },
        Step::Complete { window } => Command::Complete {
            window: w(window),
            staff: None,
        },
        Step::Pause { window } => Command::Pause { window: w(window) },
        Step::Resume { window } => Command::Resume { window: w(window) },
        Step::Cancel { ticket_back } => Command::Cancel {
            ticket: back(ticket_back),
        },
    }
}

/// No walk-in that has waited past the bound is passed by a priority ticket that came later.
fn check_ageing(hall: &Hall, window: &WindowId, called: TicketId, now: Timestamp) {
    let called = hall.ticket(called).unwrap();
    if called.priority == PriorityClass::WalkIn {
        return;
    }
    let bound = i64::from(hall.spec().policy.ageing_max_wait_s);
    let services = &hall
        .spec()
        .windows
        .iter()
        .find(|w| &w.id == window)
        .unwrap()
        .services;
    for other in hall.tickets() {
        let starved = other.status == TicketStatus::Waiting
            && services.contains(&other.service)
            && other.priority == PriorityClass::WalkIn
            && other.queued_at < called.queued_at
            && now.as_second() - other.queued_at.as_second() >= bound;
        assert!(
            !starved,
            "{} waited past the bound and was passed by later {}",
            other.number, called.number
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_days_keep_the_invariants(
        steps in proptest::collection::vec((step(), 0..900i64), 1..300),
    ) {
        let mut hall = hall_at(at(0));
        let mut now = at(0);
        // Every number ever issued per (day, service); final transitions per ticket.
        let mut issued: HashSet<(jiff::civil::Date, String)> = HashSet::new();
        let mut finals: HashMap<TicketId, i32> = HashMap::new();
        let mut days: HashMap<TicketId, jiff::civil::Date> = HashMap::new();
        for (serial, (step, advance_s)) in steps.iter().enumerate() {
            // Steps of up to 15 minutes: 300 steps cross midnight now and then.
            now += (advance_s * 10).seconds();
            let mut events = hall.advance_to(now);
            let command = to_command(step, &hall, serial);
            let before = format!("{hall:?}");
            match hall.execute(&command, now) {
                Ok(outcome) => {
                    if let (Command::CallNext { window, .. }, Some(id)) = (&command, outcome.ticket) {
                        // The tickets still waiting are the ones the call passed over.
                        check_ageing(&hall, window, id, now);
                    }
                    events.extend(outcome.events);
                }
                Err(_) => prop_assert_eq!(before, format!("{hall:?}"), "a refused command changed the hall"),
            }
            for event in &events {
                match event {
                    Event::TicketIssued { ticket } => {
                        prop_assert!(issued.insert((ticket.service_day, ticket.number.clone())), "number {} issued twice", ticket.number);
                        days.insert(ticket.id, ticket.service_day);
                    }
                    Event::TicketCompleted { ticket, .. } | Event::TicketNoShow { ticket, .. }
                    | Event::TicketCancelled { ticket, .. } | Event::TicketExpired { ticket, .. } => {
                        *finals.entry(*ticket).or_default() += 1;
                    }
                    Event::TicketRequeued { ticket, .. } => *finals.entry(*ticket).or_default() -= 1,
                    _ => {}
                }
            }
            if let Err(message) = hall.check_invariants() {
                prop_assert!(false, "{}", message);
            }
        }
        assert_restores(&hall, now);
        // End every day seen: each ticket ends in exactly one final state.
        let after = now + 48.hours();
        for event in hall.advance_to(after) {
            if let Event::TicketExpired { ticket, .. } = event {
                *finals.entry(ticket).or_default() += 1;
            }
        }
        for ticket in days.keys() {
            prop_assert_eq!(finals.get(ticket).copied().unwrap_or(0), 1, "ticket {} final states", ticket);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The fast count of people ahead agrees with the plain definition, ageing included.
    #[test]
    fn positions_match_the_plain_scan(
        arrivals in proptest::collection::vec((0..2usize, 0..3usize, 0..400i64), 1..120),
        calls in 0..20usize,
        look_after_s in 0..5000i64,
    ) {
        let classes = [PriorityClass::Green, PriorityClass::Appointment, PriorityClass::WalkIn];
        let mut hall = hall_at(at(0));
        let mut now = at(0);
        for (service, class, gap) in arrivals {
            now += gap.seconds();
            with_priority(&mut hall, ["a", "b"][service], classes[class], now);
        }
        for i in 0..calls {
            call(&mut hall, ["w1", "w2", "w3"][i % 3], now);
        }
        let look = now + look_after_s.seconds();
        let ids: Vec<TicketId> = hall.tickets().map(|t| t.id).collect();
        for id in ids {
            if let Some((ahead, _)) = hall.position(id, look) {
                prop_assert_eq!(Some(ahead), hall.count_ahead_by_scan(id, look));
            }
        }
    }
}

// ---- calendar and schedule ----

fn entry(date: jiff::civil::Date, name: &str, off: bool) -> CalendarEntry {
    CalendarEntry {
        date,
        name: name.into(),
        is_off_day: off,
    }
}

/// Part of 2026: 春节 (15-23 Feb, Sat 14 and Sat 28 worked), 国庆 (1-7 Oct, Sat 10 worked).
fn calendar_2026() -> Calendar {
    let mut entries = vec![
        entry(date(2026, 2, 14), "春节", false),
        entry(date(2026, 2, 28), "春节", false),
    ];
    entries.extend((15..=23).map(|d| entry(date(2026, 2, d), "春节", true)));
    entries.extend((1..=7).map(|d| entry(date(2026, 10, d), "国庆节", true)));
    entries.push(entry(date(2026, 10, 10), "国庆节", false));
    let mut calendar = Calendar::default();
    calendar.add_year(2026, &entries).unwrap();
    calendar
}

#[test]
fn day_types_follow_the_calendar_and_fall_back_to_weekdays() {
    let calendar = calendar_2026();
    let cases = [
        (date(2026, 2, 13), DayType::Workday, None, true),
        (
            date(2026, 2, 14),
            DayType::MakeupWorkday,
            Some("春节"),
            true,
        ),
        (date(2026, 2, 15), DayType::Holiday, Some("春节"), true),
        (date(2026, 2, 23), DayType::Holiday, Some("春节"), true),
        (date(2026, 2, 24), DayType::Workday, None, true),
        (date(2026, 3, 7), DayType::Weekend, None, true),
        (date(2026, 10, 1), DayType::Holiday, Some("国庆节"), true),
        (
            date(2026, 10, 10),
            DayType::MakeupWorkday,
            Some("国庆节"),
            true,
        ),
        (date(2026, 10, 11), DayType::Weekend, None, true),
        // A year without data: a plain guess, flagged as such.
        (date(2027, 1, 1), DayType::Workday, None, false),
        (date(2027, 1, 2), DayType::Weekend, None, false),
    ];
    for (day, day_type, name, known) in cases {
        let found = calendar.day(day);
        assert_eq!(
            (found.day_type, found.name.as_deref(), found.known),
            (day_type, name, known),
            "{day}"
        );
    }
    let mut bad = Calendar::default();
    assert_eq!(
        bad.add_year(2026, &[entry(date(2025, 12, 31), "x", true)])
            .unwrap_err()
            .0,
        0
    );
    assert_eq!(
        bad.add_year(
            2026,
            &[
                entry(date(2026, 1, 1), "a", true),
                entry(date(2026, 1, 1), "b", true)
            ]
        )
        .unwrap_err()
        .0,
        1
    );
}

fn time(text: &str) -> jiff::civil::Time {
    text.parse().unwrap()
}

fn period(
    name: &str,
    days: &[DayType],
    from: &str,
    to: &str,
    mode: ServiceMode,
    services: Option<&[&str]>,
) -> Period {
    Period {
        name: name.into(),
        days: days.to_vec(),
        from: time(from),
        to: time(to),
        mode,
        services: services.map(|list| list.iter().map(|s| ServiceId::new(*s)).collect()),
        windows: vec![],
        extended: false,
    }
}

/// Weekdays 8:30-17:30 with a lunchtime duty window for a, weekend mornings duty for a, and b
/// by appointment only.
fn scheduled_spec() -> HallSpec {
    use DayType::*;
    use ServiceMode::*;
    let mut spec = test_spec();
    spec.services.push(service("c", "C"));
    spec.windows[2].services.push(ServiceId::new("c"));
    spec.schedule = Schedule {
        periods: vec![
            period(
                "预约",
                &[Workday, MakeupWorkday],
                "08:30",
                "17:30",
                AppointmentOnly,
                Some(&["b"]),
            ),
            period(
                "上午",
                &[Workday, MakeupWorkday],
                "08:30",
                "12:00",
                Regular,
                None,
            ),
            period(
                "午间",
                &[Workday, MakeupWorkday],
                "12:00",
                "13:30",
                Duty,
                Some(&["a"]),
            ),
            period(
                "下午",
                &[Workday, MakeupWorkday],
                "13:30",
                "17:30",
                Regular,
                None,
            ),
            period("周末", &[Weekend], "09:00", "12:00", Duty, Some(&["a"])),
        ],
    };
    spec.calendar = calendar_2026();
    spec
}

fn local(day: jiff::civil::Date, clock: &str) -> Timestamp {
    day.to_datetime(time(clock))
        .to_zoned(shanghai())
        .unwrap()
        .timestamp()
}

#[test]
fn schedule_decisions_at_the_boundary_minutes() {
    use ServiceMode::*;
    let spec = scheduled_spec();
    let friday = date(2026, 11, 27);
    let saturday = date(2026, 11, 28);
    let cases = [
        (friday, "08:29:59", "a", Closed),
        (friday, "08:30", "a", Regular),
        (friday, "08:30", "b", AppointmentOnly),
        (friday, "11:59:59", "c", Regular),
        (friday, "12:00", "a", Duty),
        (friday, "12:00", "c", Closed),
        (friday, "13:29:59", "a", Duty),
        (friday, "13:30", "c", Regular),
        (friday, "17:29:59", "a", Regular),
        (friday, "17:30", "a", Closed),
        (saturday, "09:00", "a", Duty),
        (saturday, "09:00", "c", Closed),
        (saturday, "12:00", "a", Closed),
        // 14 Feb is a Saturday worked for the Spring Festival: a weekday schedule.
        (date(2026, 2, 14), "09:00", "c", Regular),
        (date(2026, 2, 15), "09:00", "a", Closed),
        (date(2026, 10, 1), "09:00", "a", Closed),
    ];
    for (day, clock, service, mode) in cases {
        let found = spec.schedule.mode_at(
            &spec.calendar,
            &shanghai(),
            &ServiceId::new(service),
            local(day, clock),
        );
        assert_eq!(found, mode, "{day} {clock} {service}");
    }
}

#[test]
fn next_opening_and_closing() {
    let spec = scheduled_spec();
    let hall = Hall::new(spec, shanghai());
    let friday = date(2026, 11, 27);
    let cases = [
        // (now, service, next_open, closes_at)
        (
            local(friday, "17:45"),
            "a",
            Some(local(date(2026, 11, 28), "09:00")),
            None,
        ),
        (
            local(friday, "17:45"),
            "c",
            Some(local(date(2026, 11, 30), "08:30")),
            None,
        ),
        (
            local(friday, "12:30"),
            "c",
            Some(local(friday, "13:30")),
            None,
        ),
        // Regular, then lunchtime duty, then regular: one stretch until 17:30.
        (
            local(friday, "11:00"),
            "a",
            None,
            Some(local(friday, "17:30")),
        ),
        (
            local(friday, "11:00"),
            "c",
            None,
            Some(local(friday, "12:00")),
        ),
        // The Spring Festival: closed from Sat 14 Feb evening until Tue 24 Feb.
        (
            local(date(2026, 2, 14), "18:00"),
            "c",
            Some(local(date(2026, 2, 24), "08:30")),
            None,
        ),
    ];
    for (now, service, next_open, closes_at) in cases {
        let availability = hall.availability(&ServiceId::new(service), now);
        assert_eq!(
            (availability.next_open, availability.closes_at),
            (next_open, closes_at),
            "{now} {service}"
        );
    }
}

#[test]
fn closed_and_appointment_only_services_refuse_walk_ins() {
    let friday = date(2026, 11, 27);
    let mut hall = Hall::new(scheduled_spec(), shanghai());
    let early = local(friday, "08:00");
    hall.advance_to(early);
    match hall
        .execute(&issue("a", PriorityClass::WalkIn, "t1"), early)
        .unwrap_err()
    {
        DomainError::ServiceClosed { next_open, .. } => {
            assert_eq!(next_open, Some(local(friday, "08:30")))
        }
        other => panic!("{other:?}"),
    }
    let open = local(friday, "09:00");
    assert_eq!(
        hall.execute(&issue("b", PriorityClass::WalkIn, "t2"), open)
            .unwrap_err()
            .code(),
        "appointment_only"
    );
    assert!(hall
        .execute(&issue("b", PriorityClass::Appointment, "t3"), open)
        .is_ok());
    assert!(hall
        .execute(&issue("a", PriorityClass::Green, "t4"), open)
        .is_ok());
    let mut invalid = scheduled_spec();
    invalid.schedule.periods[0].services = Some(vec![ServiceId::new("zz")]);
    invalid.schedule.periods[1].to = time("08:00");
    let paths: Vec<String> = invalid
        .validate()
        .unwrap_err()
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert!(
        paths.contains(&"schedule[0].services".to_owned())
            && paths.contains(&"schedule[1].to".to_owned()),
        "{paths:?}"
    );
}

// ---- appointments ----

fn booking_hall(now: Timestamp) -> Hall {
    let mut spec = test_spec();
    spec.calendar = calendar_2026();
    spec.appointment_plans = vec![AppointmentPlan {
        service: ServiceId::new("b"),
        days: vec![DayType::Workday, DayType::MakeupWorkday],
        slots: vec![
            (time("09:00"), time("10:00")),
            (time("10:00"), time("11:00")),
        ],
        capacity: 2,
        hub_share: 0,
    }];
    spec.appointment_rules = AppointmentRules {
        check_in_before_min: 30,
        check_in_after_min: 15,
        per_person_per_day: 1,
        book_ahead_days: 7,
    };
    spec.validate().unwrap();
    let mut hall = Hall::new(spec, shanghai());
    hall.advance_to(now);
    hall
}

fn book(code: &str, day: jiff::civil::Date, clock: &str, phone: &str) -> Command {
    Command::BookAppointment {
        code: code.into(),
        service: ServiceId::new("b"),
        start: local(day, clock),
        channel: BookingChannel::Phone,
        contact: contact(phone),
        name_sealed: None,
        id_card: None,
    }
}

fn check_in(code: &str, token: &str) -> Command {
    Command::CheckIn {
        by: CheckInBy::Code(code.into()),
        token: token.into(),
        kiosk: None,
    }
}

fn book_via(
    code: &str,
    channel: BookingChannel,
    day: jiff::civil::Date,
    clock: &str,
    phone: &str,
) -> Command {
    Command::BookAppointment {
        code: code.into(),
        service: ServiceId::new("b"),
        start: local(day, clock),
        channel,
        contact: contact(phone),
        name_sealed: None,
        id_card: None,
    }
}

#[test]
fn each_side_books_only_its_share_of_a_slot() {
    let thursday = date(2026, 11, 26);
    let friday = date(2026, 11, 27);
    let now = local(thursday, "15:00");
    let mut hall = booking_hall(now);
    let mut spec = hall.spec().clone();
    spec.appointment_plans[0].capacity = 3;
    spec.appointment_plans[0].hub_share = 2;
    spec.appointment_rules.per_person_per_day = 5;
    spec.validate().unwrap();
    hall = Hall::new(spec, shanghai());
    hall.advance_to(now);
    let phone = BookingChannel::Phone;
    let online = BookingChannel::Online;
    // The hall's one place, then the hall is full while the hub's two are free.
    hall.execute(
        &book_via("2HALL", phone, friday, "09:00", "13800000001"),
        now,
    )
    .unwrap();
    assert_eq!(
        hall.execute(
            &book_via("3HALL", phone, friday, "09:00", "13800000002"),
            now
        )
        .unwrap_err()
        .code(),
        "slot_full"
    );
    // The hub's bookings arrive (from its share; its own rules were checked at the hub, so a
    // booking that arrives late, after its slot, is still recorded).
    let late = local(friday, "11:30");
    hall.advance_to(late);
    hall.execute(
        &book_via("WHUB1", online, friday, "09:00", "13800000003"),
        late,
    )
    .unwrap();
    hall.execute(
        &book_via("WHUB2", BookingChannel::Sms, friday, "09:00", "13800000001"),
        late,
    )
    .unwrap();
    // A third hub booking would oversell: refused, so the hub hears of it.
    assert_eq!(
        hall.execute(
            &book_via("WHUB3", online, friday, "09:00", "13800000004"),
            late
        )
        .unwrap_err()
        .code(),
        "slot_full"
    );
    let slot = &hall.slots(&ServiceId::new("b"), friday)[0];
    assert_eq!(
        (
            slot.capacity,
            slot.booked,
            slot.hub_capacity,
            slot.hub_booked
        ),
        (1, 1, 2, 2)
    );
    // A hub share bigger than the capacity is a configuration error.
    let mut wrong = hall.spec().clone();
    wrong.appointment_plans[0].hub_share = 4;
    let errors = wrong.validate().unwrap_err();
    assert!(errors
        .iter()
        .any(|e| e.path == "appointments.plans[0].hub_share"));
}

#[test]
fn booking_rules_table() {
    let thursday = date(2026, 11, 26);
    let friday = date(2026, 11, 27);
    let now = local(thursday, "15:00");
    let cases: Vec<(Command, Option<&str>)> = vec![
        (book("OK1", friday, "09:00", "13800000001"), None),
        (book("OK2", friday, "09:00", "13800000002"), None),
        (
            book("FULL", friday, "09:00", "13800000003"),
            Some("slot_full"),
        ),
        (
            book("TWICE", friday, "10:00", "13800000001"),
            Some("booking_limit_reached"),
        ),
        (
            book("OK1", friday, "10:00", "13800000009"),
            Some("appointment_code_in_use"),
        ),
        (
            book("ODD", friday, "09:30", "13800000004"),
            Some("slot_not_offered"),
        ),
        (
            book("PAST", thursday, "09:00", "13800000005"),
            Some("slot_in_past"),
        ),
        (
            book("SAT", date(2026, 11, 28), "09:00", "13800000006"),
            Some("slot_not_offered"),
        ),
        (
            book("FAR", date(2026, 12, 7), "09:00", "13800000007"),
            Some("too_far_ahead"),
        ),
        (
            book("NEAR", date(2026, 12, 3), "09:00", "13800000007"),
            None,
        ),
        (
            Command::BookAppointment {
                code: "A".into(),
                service: ServiceId::new("a"),
                start: local(friday, "09:00"),
                channel: BookingChannel::Online,
                contact: contact("1"),
                name_sealed: None,
                id_card: None,
            },
            Some("not_bookable"),
        ),
    ];
    let mut hall = booking_hall(now);
    for (command, expected) in cases {
        let result = hall.execute(&command, now);
        assert_eq!(
            result.as_ref().err().map(|e| e.code()),
            expected,
            "{command:?}"
        );
    }
    let slots = hall.slots(&ServiceId::new("b"), friday);
    assert_eq!(
        slots
            .iter()
            .map(|s| (s.booked, s.capacity))
            .collect::<Vec<_>>(),
        [(2, 2), (0, 2)]
    );
    // A cancellation frees the place.
    hall.execute(&Command::CancelAppointment { code: "OK2".into() }, now)
        .unwrap();
    assert_eq!(hall.slots(&ServiceId::new("b"), friday)[0].booked, 1);
    assert_eq!(
        hall.execute(&Command::CancelAppointment { code: "OK2".into() }, now)
            .unwrap_err()
            .code(),
        "invalid_state"
    );
    assert!(hall
        .execute(&book("OK3", friday, "09:00", "13800000003"), now)
        .is_ok());
    // 14 Feb 2026 is a Saturday worked for the Spring Festival: slots are offered.
    assert_eq!(hall.slots(&ServiceId::new("b"), date(2026, 2, 14)).len(), 2);
}

#[test]
fn check_in_window_boundaries() {
    let thursday = date(2026, 11, 26);
    let friday = date(2026, 11, 27);
    let mut hall = booking_hall(local(thursday, "15:00"));
    hall.execute(
        &book("C1", friday, "09:00", "13800000001"),
        local(thursday, "15:00"),
    )
    .unwrap();
    hall.execute(
        &book("C2", friday, "10:00", "13800000002"),
        local(thursday, "15:00"),
    )
    .unwrap();
    hall.advance_to(local(friday, "08:00"));
    let cases = [
        ("C1", "08:29:59", Some("too_early")),
        ("C1", "09:15:01", Some("too_late")),
        ("C1", "08:30", None),
        ("C1", "08:31", Some("invalid_state")),
        ("C2", "10:15", None),
        ("ZZ", "10:15", Some("unknown_appointment")),
    ];
    for (code, clock, expected) in cases {
        let now = local(friday, clock);
        let result = hall.execute(&check_in(code, &format!("tok-{code}-{clock}")), now);
        assert_eq!(
            result.as_ref().err().map(|e| e.code()),
            expected,
            "{code} at {clock}"
        );
        if expected == Some("too_early") {
            assert!(
                matches!(result, Err(DomainError::TooEarly(opens)) if opens == local(friday, "08:30"))
            );
        }
    }
    let ticket = hall
        .ticket(hall.appointment("C1").unwrap().ticket.unwrap())
        .unwrap();
    assert_eq!(
        (
            ticket.priority,
            ticket.channel,
            ticket.contact.as_ref().map(|c| c.key.as_str())
        ),
        (
            PriorityClass::Appointment,
            Channel::Appointment,
            Some("key-of-13800000001")
        )
    );
    assert_eq!(
        hall.appointment("C1").unwrap().status,
        AppointmentStatus::CheckedIn
    );
}

#[test]
fn check_in_by_phone_and_appointment_priority() {
    let friday = date(2026, 11, 27);
    let early = local(friday, "07:00");
    let mut hall = booking_hall(early);
    hall.execute(&book("P1", friday, "10:00", "13900000000"), early)
        .unwrap();
    // A walk-in who came earlier but has not waited past the ageing bound (30 minutes).
    walk_in(&mut hall, "b", local(friday, "09:30"));
    let by_phone_with = |hall: &mut Hall, clock: &str, suffix: Option<&str>| {
        hall.execute(
            &Command::CheckIn {
                by: CheckInBy::Contact {
                    key: "key-of-13900000000".into(),
                    code_suffix: suffix.map(str::to_owned),
                },
                token: format!("p-{clock}-{suffix:?}"),
                kiosk: None,
            },
            local(friday, clock),
        )
    };
    // At a kiosk the phone comes with the code's end: a wrong or empty end finds nothing.
    for wrong in ["X1", ""] {
        assert_eq!(
            by_phone_with(&mut hall, "09:45", Some(wrong))
                .unwrap_err()
                .code(),
            "unknown_appointment"
        );
    }
    let by_phone = |hall: &mut Hall, clock: &str| by_phone_with(hall, clock, Some("1"));
    assert_eq!(
        by_phone(&mut hall, "09:00").unwrap_err().code(),
        "too_early"
    );
    let outcome = by_phone(&mut hall, "09:45").unwrap();
    assert!(matches!(
        outcome.events[1],
        Event::AppointmentCheckedIn { .. }
    ));
    // The checked-in citizen goes before the walk-in who came earlier.
    assert_eq!(
        call(&mut hall, "w2", local(friday, "09:50")),
        outcome.ticket
    );
    assert_eq!(
        hall.execute(
            &Command::CheckIn {
                by: CheckInBy::Contact {
                    key: "key-of-13000000000".into(),
                    code_suffix: None,
                },
                token: "x".into(),
                kiosk: None,
            },
            local(friday, "09:50")
        )
        .unwrap_err()
        .code(),
        "unknown_appointment"
    );
}

#[test]
fn bookings_nobody_came_for_are_no_shows_at_the_end_of_the_day() {
    let thursday = date(2026, 11, 26);
    let friday = date(2026, 11, 27);
    let mut hall = booking_hall(local(thursday, "15:00"));
    hall.execute(
        &book("N1", friday, "09:00", "13800000001"),
        local(thursday, "15:00"),
    )
    .unwrap();
    hall.execute(
        &book("N2", friday, "10:00", "13800000002"),
        local(thursday, "15:00"),
    )
    .unwrap();
    hall.advance_to(local(friday, "08:00"));
    hall.execute(&check_in("N2", "t"), local(friday, "09:50"))
        .unwrap();
    let events = hall.advance_to(local(date(2026, 11, 28), "00:00"));
    let no_shows: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::AppointmentNoShow { code, .. } => Some(code.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(no_shows, ["N1"]);
    // Yesterday's bookings leave the live state.
    assert!(hall.appointment("N1").is_none());
}

#[test]
fn appointments_survive_a_restore() {
    let thursday = date(2026, 11, 26);
    let now = local(thursday, "15:00");
    let mut hall = booking_hall(now);
    hall.execute(&book("R1", date(2026, 11, 27), "09:00", "13800000001"), now)
        .unwrap();
    let restored = Hall::restore(
        hall.spec().clone(),
        hall.time_zone().clone(),
        RestoredState {
            day: hall.day(),
            tickets: vec![],
            paused_windows: vec![],
            last_ticket_id: 0,
            appointments: vec![hall.appointment("R1").unwrap().clone()],
            ..Default::default()
        },
    );
    assert_eq!(
        restored.slots(&ServiceId::new("b"), date(2026, 11, 27))[0].booked,
        1
    );
}

#[test]
fn one_person_may_hold_only_so_many_tickets_of_a_service_a_day() {
    let mut hall = hall_at(at(0));
    let issue_as = |hall: &mut Hall, service: &str, phone: &str, n: i64| {
        hall.execute(
            &Command::IssueTicket(IssueTicket {
                service: ServiceId::new(service),
                priority: PriorityClass::WalkIn,
                channel: Channel::Kiosk,
                contact: Some(contact(phone)),
                id_card: None,
                kiosk: None,
                token: format!("t-{service}-{phone}-{n}"),
                idempotency_key: None,
            }),
            at(n),
        )
    };
    for n in 0..3 {
        issue_as(&mut hall, "a", "13800000001", n).unwrap();
    }
    assert_eq!(
        issue_as(&mut hall, "a", "13800000001", 3)
            .unwrap_err()
            .code(),
        "person_limit_reached"
    );
    // Another service, another person: fine.
    issue_as(&mut hall, "b", "13800000001", 4).unwrap();
    issue_as(&mut hall, "a", "13800000002", 5).unwrap();
    // The count survives a restart and starts afresh the next day.
    let restored = restore(&hall);
    assert_eq!(
        issue_as(&mut restored.clone(), "a", "13800000001", 6)
            .unwrap_err()
            .code(),
        "person_limit_reached"
    );
    let mut tomorrow = restored;
    tomorrow.advance_to(at(24 * 3600));
    tomorrow
        .execute(
            &Command::IssueTicket(IssueTicket {
                service: ServiceId::new("a"),
                priority: PriorityClass::WalkIn,
                channel: Channel::Kiosk,
                contact: Some(contact("13800000001")),
                id_card: None,
                kiosk: None,
                token: "tomorrow".into(),
                idempotency_key: None,
            }),
            at(24 * 3600 + 1),
        )
        .unwrap();
}

#[test]
fn a_window_calls_a_given_waiting_number_out_of_turn_and_its_queue_closes_up() {
    let w3 = || WindowId::new("w3");
    let mut hall = hall_at(at(0));
    let first = walk_in(&mut hall, "a", at(0));
    let second = walk_in(&mut hall, "a", at(10));
    let third = walk_in(&mut hall, "b", at(20));
    assert_eq!(call(&mut hall, "w3", at(30)), Some(third));
    // 特呼 A002 while B001 is at the window: B001's visit is completed, A002 is called.
    let outcome = hall
        .execute(
            &Command::CallTicket {
                window: w3(),
                ticket: second,
                staff: Some("0007".into()),
            },
            at(90),
        )
        .unwrap();
    assert_eq!(outcome.ticket, Some(second));
    let kinds: Vec<&str> = outcome.events.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, ["ticket_completed", "ticket_called"]);
    match &outcome.events[1] {
        Event::TicketCalled { wait_s, window, .. } => {
            assert_eq!((*wait_s, window), (80, &w3()));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(hall.ticket(third).unwrap().status, TicketStatus::Completed);
    assert_eq!(hall.ticket(second).unwrap().status, TicketStatus::Called);
    // The one jumped over is still first in line, and now the only one.
    assert_eq!(
        hall.position(first, at(90)).map(|(ahead, _)| ahead),
        Some(0)
    );
    assert_eq!(hall.waiting_count(&ServiceId::new("a")), 1);
    hall.check_invariants().unwrap();
    assert_eq!(call(&mut hall, "w1", at(100)), Some(first));
    hall.check_invariants().unwrap();
}

#[test]
fn a_call_out_of_turn_is_refused_for_what_the_window_may_not_call() {
    let mut hall = hall_at(at(0));
    let a = walk_in(&mut hall, "a", at(0));
    let b = walk_in(&mut hall, "b", at(1));
    let called_b = call(&mut hall, "w2", at(2)).unwrap();
    assert_eq!(called_b, b);
    let call_ticket = |window: &str, ticket| Command::CallTicket {
        window: WindowId::new(window),
        ticket,
        staff: None,
    };
    hall.execute(
        &Command::Pause {
            window: WindowId::new("w3"),
        },
        at(3),
    )
    .unwrap();
    for (command, code) in [
        // w2 serves only b.
        (call_ticket("w2", a), "service_not_served"),
        // b is at w2 already, not waiting.
        (call_ticket("w1", b), "invalid_state"),
        (call_ticket("w1", TicketId(99)), "unknown_ticket"),
        (call_ticket("w9", a), "unknown_window"),
        (call_ticket("w3", a), "window_paused"),
    ] {
        let before = format!("{hall:?}");
        let error = hall.execute(&command, at(4)).unwrap_err();
        assert_eq!(error.code(), code, "{command:?}");
        assert_eq!(format!("{hall:?}"), before, "{command:?} changed the hall");
    }
}

#[test]
fn a_manager_sets_the_boards_notice_and_wait_alarms_and_a_restart_keeps_them() {
    let mut hall = hall_at(at(0));
    assert_eq!(hall.board_notice(), None);
    let notice = |text: Option<&str>| Command::SetBoardNotice {
        text: text.map(str::to_owned),
    };
    let alarm = |service: &str, minutes: Option<u32>| Command::SetWaitAlarm {
        service: ServiceId::new(service),
        max_wait_s: minutes.map(|m| m * 60),
    };
    hall.execute(&notice(Some("午间 12:00–13:30 仅开放值班窗口")), at(1))
        .unwrap();
    hall.execute(&alarm("a", Some(20)), at(2)).unwrap();
    hall.execute(&alarm("b", Some(45)), at(3)).unwrap();
    hall.execute(&alarm("b", None), at(4)).unwrap();
    assert_eq!(hall.board_notice(), Some("午间 12:00–13:30 仅开放值班窗口"));
    assert_eq!(
        hall.wait_alarms().iter().collect::<Vec<_>>(),
        [(&ServiceId::new("a"), &1200)]
    );
    let long = "长".repeat(BOARD_NOTICE_MAX_CHARS + 1);
    for (command, code) in [
        (notice(Some(long.as_str())), "invalid_notice"),
        (notice(Some("a\u{7}bell")), "invalid_notice"),
        (alarm("a", Some(0)), "invalid_wait_alarm"),
        (alarm("a", Some(9 * 60)), "invalid_wait_alarm"),
        (alarm("zz", Some(10)), "unknown_service"),
    ] {
        let before = format!("{hall:?}");
        assert_eq!(hall.execute(&command, at(5)).unwrap_err().code(), code);
        assert_eq!(format!("{hall:?}"), before);
    }
    // An empty notice is a notice of nothing; `None` gives the board back to the hall file.
    hall.execute(&notice(Some("")), at(6)).unwrap();
    assert_eq!(hall.board_notice(), Some(""));
    let restored = restore(&hall);
    assert_eq!(restored.board_notice(), Some(""));
    assert_eq!(restored.wait_alarms(), hall.wait_alarms());
    hall.execute(&notice(None), at(7)).unwrap();
    assert_eq!(hall.board_notice(), None);
    // A new day keeps both: they are the hall's settings, not the day's.
    hall.execute(&notice(Some("明日休息")), at(8)).unwrap();
    hall.advance_to(at(86_400));
    assert_eq!(hall.board_notice(), Some("明日休息"));
    assert_eq!(hall.wait_alarms().len(), 1);
}

// ---- resident ID cards ----

fn issue_with_card(
    hall: &mut Hall,
    service: &str,
    card: &str,
    n: i64,
) -> Result<Outcome, DomainError> {
    hall.execute(
        &Command::IssueTicket(IssueTicket {
            service: ServiceId::new(service),
            priority: PriorityClass::WalkIn,
            channel: Channel::Kiosk,
            contact: None,
            id_card: Some(id_card(card)),
            kiosk: Some("kiosk-1".into()),
            token: format!("t-card-{service}-{n}"),
            idempotency_key: None,
        }),
        at(n),
    )
}

#[test]
fn a_person_is_counted_by_their_id_card_as_by_their_phone() {
    const CARD: &str = "11010519491231002X";
    let mut hall = hall_at(at(0));
    for n in 0..3 {
        let outcome = issue_with_card(&mut hall, "a", CARD, n).unwrap();
        let ticket = hall.ticket(outcome.ticket.unwrap()).unwrap();
        assert_eq!(
            ticket.id_card.as_ref().unwrap().masked,
            "1101**********002X"
        );
        assert_eq!(ticket.id_card.as_ref().unwrap().sealed, None);
    }
    assert_eq!(
        issue_with_card(&mut hall, "a", CARD, 3).unwrap_err().code(),
        "person_limit_reached"
    );
    // With a phone as well, the card still counts: a tout cannot change phones to get more.
    let with_phone = Command::IssueTicket(IssueTicket {
        service: ServiceId::new("a"),
        priority: PriorityClass::WalkIn,
        channel: Channel::Kiosk,
        contact: Some(contact("13900000009")),
        id_card: Some(id_card(CARD)),
        kiosk: None,
        token: "t-both".into(),
        idempotency_key: None,
    });
    let before = format!("{hall:?}");
    assert_eq!(
        hall.execute(&with_phone, at(4)).unwrap_err().code(),
        "person_limit_reached"
    );
    assert_eq!(format!("{hall:?}"), before);
    // Another service, another card: fine; and the count survives a restart.
    issue_with_card(&mut hall, "b", CARD, 5).unwrap();
    issue_with_card(&mut hall, "a", "440524188001010014", 6).unwrap();
    let mut restored = restore(&hall);
    assert_eq!(
        issue_with_card(&mut restored, "a", CARD, 7)
            .unwrap_err()
            .code(),
        "person_limit_reached"
    );
    restored.check_invariants().unwrap();
}

#[test]
fn an_id_card_checks_in_the_booking_made_with_it() {
    const CARD: &str = "11010519491231002X";
    let thursday = date(2026, 11, 26);
    let friday = date(2026, 11, 27);
    let mut hall = booking_hall(local(thursday, "15:00"));
    let with_card = Command::BookAppointment {
        code: "2CARD".into(),
        service: ServiceId::new("b"),
        start: local(friday, "09:00"),
        channel: BookingChannel::Phone,
        contact: contact("13800000001"),
        name_sealed: None,
        id_card: Some(id_card(CARD)),
    };
    hall.execute(&with_card, local(thursday, "15:00")).unwrap();
    hall.execute(
        &book("2NOCARD", friday, "10:00", "13800000002"),
        local(thursday, "15:01"),
    )
    .unwrap();
    let now = local(friday, "08:45");
    hall.advance_to(now);
    let by_card = |card: &str, token: &str| Command::CheckIn {
        by: CheckInBy::IdCard {
            key: id_card(card).key,
        },
        token: token.into(),
        kiosk: Some("kiosk-1".into()),
    };
    // Another card (or a booking made without one) is not found: nothing changes.
    let before = format!("{hall:?}");
    assert_eq!(
        hall.execute(&by_card("440524188001010014", "t1"), now)
            .unwrap_err()
            .code(),
        "unknown_appointment"
    );
    assert_eq!(format!("{hall:?}"), before);
    let outcome = hall.execute(&by_card(CARD, "t2"), now).unwrap();
    let ticket = hall.ticket(outcome.ticket.unwrap()).unwrap();
    assert_eq!(ticket.priority, PriorityClass::Appointment);
    assert_eq!(ticket.id_card.as_ref().unwrap().key, id_card(CARD).key);
    assert_eq!(
        hall.appointment("2CARD").unwrap().status,
        AppointmentStatus::CheckedIn
    );
    // Once checked in, the card finds nothing more to check in today.
    assert_eq!(
        hall.execute(&by_card(CARD, "t3"), now).unwrap_err().code(),
        "unknown_appointment"
    );
    hall.check_invariants().unwrap();
}
