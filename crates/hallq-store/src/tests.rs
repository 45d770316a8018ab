use super::*;
use hallq_core::jiff::civil::date;
use hallq_core::jiff::Timestamp;
use hallq_core::TicketStatus;

fn ticket(id: u64, number: &str, day: Date, status: TicketStatus) -> Ticket {
    Ticket {
        contact: Some(hallq_core::fixtures::contact("13800138000")),
        id_card: Some(hallq_core::fixtures::id_card("11010519491231002X")),
        ..hallq_core::fixtures::ticket(id, number, day, status)
    }
}

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("hall.db"), &StoreOptions::default()).unwrap()
}

#[test]
fn commits_round_trip_and_the_log_is_gap_free() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let day = date(2026, 11, 27);
    let t1 = ticket(1, "A001", day, TicketStatus::Waiting);
    let issued = Event::TicketIssued { ticket: t1.clone() };
    let started = Event::ServiceDayStarted {
        day,
        at: t1.issued_at,
    };
    store
        .commit(&Batch {
            events: vec![(1, &started), (2, &issued)],
            tickets: vec![&t1],
            day: Some(day),
            ..Batch::default()
        })
        .unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(loaded.last_seq, 2);
    assert_eq!(loaded.state.day, Some(day));
    assert_eq!(loaded.state.tickets, vec![t1.clone()]);
    assert_eq!(loaded.state.last_ticket_id, 1);
    assert!(store.check_log().unwrap().is_gap_free());
    let events = store.events_after(1, 10).unwrap();
    assert_eq!(
        events,
        vec![StoredEvent {
            seq: 2,
            event: issued
        }]
    );
    assert_eq!(store.ticket_by_token("token-1").unwrap(), Some(t1));
}

#[test]
fn a_failed_commit_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let day = date(2026, 11, 27);
    let t1 = ticket(1, "A001", day, TicketStatus::Waiting);
    let duplicate_number = ticket(2, "A001", day, TicketStatus::Waiting);
    let e1 = Event::TicketIssued { ticket: t1.clone() };
    let e2 = Event::TicketIssued {
        ticket: duplicate_number.clone(),
    };
    let error = store
        .commit(&Batch {
            events: vec![(1, &e1), (2, &e2)],
            tickets: vec![&t1, &duplicate_number],
            day: Some(day),
            ..Batch::default()
        })
        .unwrap_err();
    assert_eq!(error.kind, StoreErrorKind::Other, "{error}");
    assert_eq!(store.check_log().unwrap().count, 0);
    assert!(store.load().unwrap().state.tickets.is_empty());
}

#[test]
fn read_only_and_full_are_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store.set_read_only_for_testing(true).unwrap();
    let error = store.check_writable().unwrap_err();
    assert_eq!(error.kind, StoreErrorKind::ReadOnly, "{error}");
    store.set_read_only_for_testing(false).unwrap();
    store.check_writable().unwrap();

    let small = dir.path().join("small.db");
    let mut store = Store::open(
        &small,
        &StoreOptions {
            max_size_bytes: Some(64 * 1024),
        },
    )
    .unwrap();
    let day = date(2026, 11, 27);
    let mut error = None;
    for id in 1..10_000u64 {
        let t = ticket(id, &format!("A{id:03}"), day, TicketStatus::Waiting);
        let e = Event::TicketIssued { ticket: t.clone() };
        if let Err(e) = store.commit(&Batch {
            events: vec![(id, &e)],
            tickets: vec![&t],
            ..Batch::default()
        }) {
            error = Some((id, e));
            break;
        }
    }
    let (id, error) = error.expect("a 64 KiB database fills up");
    assert_eq!(error.kind, StoreErrorKind::Full, "{error}");
    assert!(error.message.contains("storage.max_size_mb"));
    // Everything before the failing commit is there, the failing one is not.
    let check = store.check_log().unwrap();
    assert_eq!(check.count, id - 1);
    assert!(check.is_gap_free());
}

#[test]
fn load_reads_today_and_older_open_tickets_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let today = date(2026, 11, 27);
    let yesterday = date(2026, 11, 26);
    let history = vec![
        ticket(1, "A001", yesterday, TicketStatus::Completed),
        ticket(2, "A002", yesterday, TicketStatus::Waiting),
        ticket(3, "A001", today, TicketStatus::Completed),
    ];
    store.bulk_insert_history(&history).unwrap();
    let started = Event::ServiceDayStarted {
        day: today,
        at: history[2].issued_at,
    };
    store
        .commit(&Batch {
            events: vec![(1, &started)],
            expired: vec![(TicketId(2), history[2].issued_at)],
            windows: vec![(&WindowId::new("w1"), WindowStatus::Paused)],
            day: Some(today),
            ..Batch::default()
        })
        .unwrap();
    let loaded = store.load().unwrap();
    let ids: Vec<u64> = loaded.state.tickets.iter().map(|t| t.id.0).collect();
    // Ticket 2 was still waiting from yesterday; the batch expired it.
    assert_eq!(ids, vec![3]);
    assert_eq!(
        store.ticket(TicketId(2)).unwrap().unwrap().status,
        TicketStatus::Expired
    );
    assert_eq!(loaded.state.paused_windows, vec![WindowId::new("w1")]);
    assert_eq!(loaded.state.last_ticket_id, 3);
    assert_eq!(store.tickets_of_day(yesterday).unwrap().len(), 2);
}

#[test]
fn load_reads_the_past_weeks_arrivals_for_the_usual_day() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let today = date(2026, 11, 27);
    let served = ticket(3, "A001", date(2026, 11, 26), TicketStatus::Completed);
    // Transferred to b and served there for seven minutes.
    let transferred = Ticket {
        service: hallq_core::ServiceId::new("b"),
        priority: hallq_core::PriorityClass::Green,
        finished_at: served
            .called_at
            .map(|at| at + hallq_core::jiff::SignedDuration::from_secs(420)),
        ..served
    };
    let history = vec![
        // Seven weeks ago: past what the usual day reads.
        ticket(1, "A001", date(2026, 10, 9), TicketStatus::Completed),
        ticket(2, "A001", date(2026, 10, 16), TicketStatus::Completed),
        transferred.clone(),
        ticket(4, "A001", today, TicketStatus::Waiting),
    ];
    store.bulk_insert_history(&history).unwrap();
    let started = Event::ServiceDayStarted {
        day: today,
        at: history[3].issued_at,
    };
    store
        .commit(&Batch {
            events: vec![(1, &started)],
            day: Some(today),
            ..Batch::default()
        })
        .unwrap();
    let past = store.load().unwrap().state.past_tickets;
    // Counted where it arrived (the service that numbered it), in its class, and served where
    // it was completed; today's tickets are today's, not the past's.
    assert_eq!(
        past,
        vec![
            hallq_core::PastTicket {
                day: date(2026, 10, 16),
                service: hallq_core::ServiceId::new("a"),
                priority: hallq_core::PriorityClass::WalkIn,
                issued_at: history[1].issued_at,
                served: Some(hallq_core::PastService {
                    service: hallq_core::ServiceId::new("a"),
                    finished_at: history[1].finished_at.unwrap(),
                    service_s: 0,
                }),
            },
            hallq_core::PastTicket {
                day: date(2026, 11, 26),
                service: hallq_core::ServiceId::new("a"),
                priority: hallq_core::PriorityClass::Green,
                issued_at: transferred.issued_at,
                served: Some(hallq_core::PastService {
                    service: hallq_core::ServiceId::new("b"),
                    finished_at: transferred.finished_at.unwrap(),
                    service_s: 420,
                }),
            },
        ]
    );
}

#[test]
fn readers_see_commits() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let reader = Store::open_reader(store.path()).unwrap();
    assert_eq!(reader.last_seq().unwrap(), 0);
    let day = date(2026, 11, 27);
    let started = Event::ServiceDayStarted {
        day,
        at: Timestamp::UNIX_EPOCH,
    };
    store
        .commit(&Batch {
            events: vec![(1, &started)],
            day: Some(day),
            ..Batch::default()
        })
        .unwrap();
    assert_eq!(reader.last_seq().unwrap(), 1);
}

#[test]
fn the_audit_log_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let entry = |n: u64| AuditEntry {
        at: Timestamp::from_second(1_800_000_000 + n as i64).unwrap(),
        actor: "demo-staff".into(),
        role: "staff".into(),
        address: Some("10.0.0.7".into()),
        action: "call_next".into(),
        target: Some("window w02".into()),
        outcome: if n == 2 {
            "window_paused".into()
        } else {
            "ok".into()
        },
    };
    store
        .commit(&Batch {
            audit: vec![entry(1), entry(2), entry(3)],
            ..Batch::default()
        })
        .unwrap();
    let newest_first = store.audit(None, 10).unwrap();
    assert_eq!(newest_first.len(), 3);
    assert_eq!(newest_first[0].1, entry(3));
    assert_eq!(
        store.audit(Some(newest_first[0].0), 1).unwrap()[0].1,
        entry(2)
    );
    // Nobody changes or removes a line, not even with SQL of their own.
    for sql in ["UPDATE audit SET outcome = 'ok'", "DELETE FROM audit"] {
        let error = store.conn.execute(sql, []).unwrap_err();
        assert!(error.to_string().contains("append-only"), "{error}");
    }
    assert_eq!(store.audit(None, 10).unwrap().len(), 3);
}

#[test]
fn personal_data_is_purged_after_its_time_from_rows_and_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let old_day = date(2026, 10, 1);
    let today = date(2026, 11, 27);
    let old = ticket(1, "A001", old_day, TicketStatus::Completed);
    let new = ticket(2, "A001", today, TicketStatus::Waiting);
    let issued_old = Event::TicketIssued {
        ticket: old.clone(),
    };
    let issued_new = Event::TicketIssued {
        ticket: new.clone(),
    };
    store
        .commit(&Batch {
            events: vec![(1, &issued_old), (2, &issued_new)],
            tickets: vec![&old, &new],
            ..Batch::default()
        })
        .unwrap();
    let cutoff = hallq_core::fixtures::local(date(2026, 11, 1), 0, 0, 0);
    assert!(store.purge_personal(cutoff).unwrap() >= 2);
    assert_eq!(store.ticket(TicketId(1)).unwrap().unwrap().contact, None);
    assert_eq!(store.ticket(TicketId(1)).unwrap().unwrap().id_card, None);
    assert_eq!(
        store.ticket(TicketId(2)).unwrap().unwrap().contact,
        new.contact,
        "today's contact stays for SMS calling"
    );
    assert_eq!(
        store.ticket(TicketId(2)).unwrap().unwrap().id_card,
        new.id_card,
        "today's card stays for the per-person limit"
    );
    let log = store.events_after(0, 10).unwrap();
    let text: Vec<String> = log
        .iter()
        .map(|stored| format!("{:?}", stored.event))
        .collect();
    assert!(
        !text[0].contains("13800138000")
            && !text[0].contains("key-of")
            && !text[0].contains("002X"),
        "{}",
        text[0]
    );
    assert!(text[1].contains("key-of-13800138000"));
    // Purging twice changes nothing more.
    assert_eq!(store.purge_personal(cutoff).unwrap(), 0);
}

#[test]
fn a_complaints_phone_is_purged_with_the_rest_and_the_case_stays() {
    use hallq_core::{Case, CaseSource, CaseStatus, RatingChannel};
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let opened = hallq_core::fixtures::local(date(2026, 10, 1), 10, 0, 0);
    let case = Case {
        id: 1,
        source: CaseSource::Complaint {
            category: "服务态度".into(),
            text: "等了很久".into(),
            contact: Some(hallq_core::fixtures::contact("13800138000")),
            ticket: None,
        },
        channel: RatingChannel::Kiosk,
        department: "大厅管理办公室".into(),
        service: None,
        window: None,
        staff: None,
        opened_at: opened,
        callback_due: date(2026, 10, 9),
        due: date(2026, 10, 29),
        status: CaseStatus::Open,
        called_back_at: None,
        fed_back_at: None,
        closed_at: None,
        appealed_from: None,
        voided: false,
        notes: vec![],
    };
    let event = Event::CaseOpened { case: case.clone() };
    store
        .commit(&Batch {
            events: vec![(1, &event)],
            cases: vec![&case],
            ..Batch::default()
        })
        .unwrap();
    assert_eq!(store.load().unwrap().state.cases, vec![case.clone()]);
    let cutoff = hallq_core::fixtures::local(date(2026, 11, 1), 0, 0, 0);
    assert_eq!(store.purge_personal(cutoff).unwrap(), 2);
    let kept = store.case(1).unwrap().unwrap();
    assert!(matches!(
        kept.source,
        CaseSource::Complaint { contact: None, ref text, .. } if text == "等了很久"
    ));
    let log = format!("{:?}", store.events_after(0, 10).unwrap());
    assert!(
        !log.contains("13800138000") && !log.contains("key-of"),
        "{log}"
    );
}

#[test]
fn the_boards_notice_and_the_wait_alarms_come_back_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    assert_eq!(store.load().unwrap().state.board_notice, None);
    let at = |s: i64| Timestamp::from_second(1_795_000_000 + s).unwrap();
    let a = hallq_core::ServiceId::new("a");
    let b = hallq_core::ServiceId::new("b");
    let events = [
        Event::BoardNoticeSet {
            text: Some("第一条".into()),
            at: at(0),
        },
        Event::WaitAlarmSet {
            service: a.clone(),
            max_wait_s: Some(1200),
            at: at(1),
        },
        Event::WaitAlarmSet {
            service: b.clone(),
            max_wait_s: Some(600),
            at: at(2),
        },
        Event::BoardNoticeSet {
            text: Some("午间仅开放值班窗口".into()),
            at: at(3),
        },
        Event::WaitAlarmSet {
            service: a.clone(),
            max_wait_s: Some(1800),
            at: at(4),
        },
        Event::WaitAlarmSet {
            service: b.clone(),
            max_wait_s: None,
            at: at(5),
        },
    ];
    store
        .commit(&Batch {
            events: events
                .iter()
                .enumerate()
                .map(|(i, e)| (i as u64 + 1, e))
                .collect(),
            ..Batch::default()
        })
        .unwrap();
    let loaded = store.load().unwrap().state;
    assert_eq!(loaded.board_notice.as_deref(), Some("午间仅开放值班窗口"));
    assert_eq!(loaded.wait_alarms, vec![(a, 1800)]);
    // Given back to the hall file: nothing to restore.
    let back = Event::BoardNoticeSet {
        text: None,
        at: at(6),
    };
    store
        .commit(&Batch {
            events: vec![(7, &back)],
            ..Batch::default()
        })
        .unwrap();
    assert_eq!(store.load().unwrap().state.board_notice, None);
}
