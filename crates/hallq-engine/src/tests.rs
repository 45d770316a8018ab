use super::*;
use hallq_core::fixtures;
use hallq_core::jiff::civil::date;
use hallq_core::jiff::tz;
use hallq_core::{Channel, IssueTicket, PriorityClass, ServiceId, TicketStatus, WindowId};
use hallq_store::StoreOptions;
use std::collections::BTreeSet;

/// A clock tests move by hand, starting at `hour` on 2026-11-27 in the hall.
fn clock_at(hour: i8) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(fixtures::local(
        date(2026, 11, 27),
        hour,
        0,
        0,
    )))
}

fn spec() -> HallSpec {
    fixtures::one_window_hall()
}

fn start(
    path: &std::path::Path,
    clock: Arc<ManualClock>,
    options: StoreOptions,
) -> (Engine, EngineHandle) {
    let store = Store::open(path, &options).unwrap();
    Engine::start(
        store,
        spec(),
        TimeZone::fixed(tz::offset(8)),
        clock,
        EngineConfig::default(),
    )
    .unwrap()
}

fn issue(token: String) -> Command {
    Command::IssueTicket(IssueTicket {
        service: ServiceId::new("a"),
        priority: PriorityClass::WalkIn,
        channel: Channel::Kiosk,
        contact: None,
        id_card: None,
        kiosk: None,
        token,
        idempotency_key: None,
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn answers_come_after_the_commit_and_groups_share_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hall.db");
    let (engine, handle) = start(&path, clock_at(9), StoreOptions::default());
    let reader = Store::open_reader(&path).unwrap();
    let mut subscriber = handle.subscribe();
    runtime().block_on(async {
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let handle = handle.clone();
                tokio::spawn(async move { handle.execute(issue(format!("t{i}"))).await })
            })
            .collect();
        let mut numbers = BTreeSet::new();
        for task in tasks {
            let executed = task.await.unwrap().unwrap();
            let ticket = executed.ticket.unwrap();
            // Durable before answered: a separate connection sees it.
            assert_eq!(
                reader.ticket(ticket.id).unwrap().unwrap().number,
                ticket.number
            );
            numbers.insert(ticket.number);
        }
        assert_eq!(numbers.len(), 200);
        assert!(numbers.contains("A001") && numbers.contains("A200"));
    });
    let stats = handle.stats();
    assert_eq!(stats.commands, 200);
    assert!(stats.batches < 200, "commands were grouped: {stats:?}");
    // Published in sequence order (the day start, seq 1, was committed before we subscribed).
    // The engine answers before it publishes, so the last events may still be on their way.
    let mut last = 1;
    runtime().block_on(async {
        for _ in 0..200 {
            let published =
                tokio::time::timeout(std::time::Duration::from_secs(10), subscriber.recv())
                    .await
                    .expect("published within 10 s")
                    .unwrap();
            assert_eq!(published.seq, last + 1);
            last = published.seq;
        }
    });
    assert!(reader.check_log().unwrap().is_gap_free());
    drop(handle);
    engine.join();
}

#[test]
fn restart_continues_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hall.db");
    let clock = clock_at(9);
    let (engine, handle) = start(&path, clock.clone(), StoreOptions::default());
    let rt = runtime();
    rt.block_on(async {
        for i in 0..3 {
            handle.execute(issue(format!("t{i}"))).await.unwrap();
        }
        let called = handle
            .execute(Command::CallNext {
                window: WindowId::new("w1"),
                staff: None,
            })
            .await
            .unwrap();
        assert_eq!(called.ticket.unwrap().status, TicketStatus::Called);
        handle
            .execute(Command::Pause {
                window: WindowId::new("w1"),
            })
            .await
            .unwrap();
    });
    drop(handle);
    engine.join();

    let (engine, handle) = start(&path, clock.clone(), StoreOptions::default());
    rt.block_on(async {
        let (window, next_number) = handle.view(|hall| {
            (
                hall.window(&WindowId::new("w1")).cloned().unwrap(),
                hall.tickets().count(),
            )
        });
        assert_eq!(window.status, hallq_core::WindowStatus::Paused);
        assert!(window.current.is_some());
        assert_eq!(next_number, 3);
        let fourth = handle.execute(issue("t3".into())).await.unwrap();
        assert_eq!(fourth.ticket.unwrap().number, "A004");
        assert_eq!(fourth.position, Some((2, 600)));
    });
    drop(handle);
    engine.join();

    // The next morning: numbering restarts, yesterday's open tickets expired in the store.
    clock.advance_s(24 * 3600);
    let (engine, handle) = start(&path, clock, StoreOptions::default());
    rt.block_on(async {
        let first = handle.execute(issue("t4".into())).await.unwrap();
        assert_eq!(first.ticket.unwrap().number, "A001");
    });
    let reader = Store::open_reader(&path).unwrap();
    let yesterday = reader.tickets_of_day(date(2026, 11, 27)).unwrap();
    assert_eq!(yesterday.len(), 4);
    assert!(yesterday.iter().all(|t| t.status == TicketStatus::Expired));
    assert!(reader.check_log().unwrap().is_gap_free());
    drop(handle);
    engine.join();
}

#[test]
fn midnight_passes_without_requests() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hall.db");
    let clock = clock_at(23);
    let (engine, handle) = start(&path, clock.clone(), StoreOptions::default());
    let rt = runtime();
    let mut subscriber = handle.subscribe();
    rt.block_on(async {
        handle.execute(issue("late".into())).await.unwrap();
        clock.advance_s(3600);
        // The tick thread wakes the engine within its interval.
        let expired = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            loop {
                let published = subscriber.recv().await.unwrap();
                if let Event::TicketExpired { number, .. } = &published.event {
                    return number.clone();
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(expired, "A001");
    });
    drop(handle);
    engine.join();
}

#[test]
fn a_full_database_fails_requests_and_keeps_nothing_unwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hall.db");
    let options = StoreOptions {
        max_size_bytes: Some(96 * 1024),
    };
    let (engine, handle) = start(&path, clock_at(9), options);
    let rt = runtime();
    rt.block_on(async {
        let mut acknowledged = Vec::new();
        let mut failure = None;
        for i in 0..5000 {
            match handle.execute(issue(format!("token-{i}"))).await {
                Ok(executed) => acknowledged.push(executed.ticket.unwrap().number),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        let failure = failure.expect("the capped database fills up");
        assert_eq!(
            failure.storage_kind(),
            Some(StoreErrorKind::Full),
            "{failure}"
        );
        assert!(handle.check_writable().await.is_err());
        // The engine's state is what the disk has: exactly the acknowledged tickets.
        let live = handle
            .read_on_writer(|hall, _| hall.tickets().count())
            .await
            .unwrap();
        assert_eq!(live, acknowledged.len());
        // Readers never saw the failed batch either.
        assert_eq!(
            handle.view(|hall| hall.tickets().count()),
            acknowledged.len()
        );
        // Reads keep working while writes fail.
        let again = handle.execute(issue("after".into())).await.unwrap_err();
        assert!(again.is_storage());
    });
    drop(handle);
    engine.join();
}

#[test]
fn a_caller_told_issued_finds_the_ticket_in_the_next_view() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock_at(9);
    let (engine, handle) = start(&dir.path().join("h.db"), clock, StoreOptions::default());
    let rt = runtime();
    rt.block_on(async {
        for n in 0..50 {
            let executed = handle.execute(issue(format!("t{n}"))).await.unwrap();
            let id = executed.ticket.unwrap().id;
            let seen = handle.view(|hall| hall.ticket(id).map(|t| t.number.clone()));
            assert!(seen.is_some(), "ticket {id} missing from the read model");
            assert!(handle.committed_seq() >= executed.log_seq);
        }
    });
    assert_eq!(handle.stats().writer_reads, 0);
    drop(handle);
    engine.join();
}

#[test]
fn a_stuck_engine_answers_timeout_not_silence_and_liveness_tells() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("h.db"), &StoreOptions::default()).unwrap();
    let config = EngineConfig {
        execute_deadline: std::time::Duration::from_millis(200),
        ..EngineConfig::default()
    };
    let (engine, handle) =
        Engine::start(store, spec(), fixtures::shanghai(), clock_at(9), config).unwrap();
    let rt = runtime();
    rt.block_on(async {
        // A job that holds the writer for a second, as a stuck disk would.
        let stuck = handle.clone();
        let held = tokio::spawn(async move {
            stuck
                .read_on_writer(|_, _| std::thread::sleep(std::time::Duration::from_secs(1)))
                .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let error = handle.execute(issue("late".into())).await.unwrap_err();
        assert!(matches!(error, EngineError::Timeout(_)), "{error}");
        assert!(handle.liveness().since_last_turn >= std::time::Duration::from_millis(50));
        held.await.unwrap().unwrap();
        assert_eq!(handle.stats().timeouts, 1);
        // A panic on the writer thread is a dead engine, and liveness says so.
        let _ = handle
            .read_on_writer(|_, _| panic!("a bug on the writer thread"))
            .await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while handle.liveness().running && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(!handle.liveness().running);
    });
    drop(handle);
    engine.join();
}

#[test]
fn ratings_visits_and_cases_survive_restarts_and_count_in_the_figures() {
    use hallq_core::{CaseAction, CaseStatus, RatingChannel, RatingLevel};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hall.db");
    let clock = clock_at(9);
    let rt = runtime();
    let w1 = || WindowId::new("w1");
    let rate = |ticket, level| Command::Rate {
        ticket,
        level,
        reasons: vec![],
        comment: None,
        channel: RatingChannel::Pad,
    };
    let (engine, handle) = start(&path, clock.clone(), StoreOptions::default());
    let (good, bad, unrated, case) = rt.block_on(async {
        let mut served = Vec::new();
        for i in 0..3 {
            handle.execute(issue(format!("t{i}"))).await.unwrap();
            let called = handle
                .execute(Command::CallNext {
                    window: w1(),
                    staff: Some("1001".into()),
                })
                .await
                .unwrap();
            served.push(called.ticket.unwrap().id);
            handle
                .execute(Command::Complete {
                    window: w1(),
                    staff: Some("1001".into()),
                })
                .await
                .unwrap();
        }
        handle
            .execute(rate(served[0], RatingLevel::VerySatisfied))
            .await
            .unwrap();
        let bad = handle
            .execute(rate(served[1], RatingLevel::Dissatisfied))
            .await
            .unwrap();
        let case = bad
            .events
            .iter()
            .find_map(|p| match &p.event {
                Event::CaseOpened { case } => Some(case.id),
                _ => None,
            })
            .unwrap();
        (served[0], served[1], served[2], case)
    });
    drop(handle);
    engine.join();

    // After a restart: the second rating is still refused, the case still open.
    let (engine, handle) = start(&path, clock.clone(), StoreOptions::default());
    rt.block_on(async {
        let again = handle
            .execute(rate(good, RatingLevel::Satisfied))
            .await
            .unwrap_err();
        assert!(matches!(again, EngineError::Domain(e) if e.code() == "already_rated"));
        assert_eq!(
            handle.view(|hall| hall.case(case).map(|c| c.status)),
            Some(CaseStatus::Open)
        );
        for action in [CaseAction::CallBack, CaseAction::Rectify] {
            handle
                .execute(Command::ProgressCase {
                    case,
                    action,
                    note: None,
                    by: "m01".into(),
                })
                .await
                .unwrap();
        }
    });
    drop(handle);
    engine.join();

    // Eight days later: the follow-up is still open, the unrated visit got the default.
    clock.advance_s(8 * 24 * 3600);
    let (engine, handle) = start(&path, clock.clone(), StoreOptions::default());
    rt.block_on(async {
        handle
            .execute(rate(bad, RatingLevel::Satisfied))
            .await
            .unwrap();
        assert!(handle.view(|hall| hall.visit(unrated).is_none()));
    });
    drop(handle);
    engine.join();
    let reader = Store::open_reader(&path).unwrap();
    let day = date(2026, 11, 27);
    let ratings = reader.ratings(day, day, 100).unwrap();
    let summary: Vec<(u64, u8, RatingLevel, &str)> = ratings
        .iter()
        .map(|r| (r.ticket.0, r.round, r.level, r.channel.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (good.0, 1, RatingLevel::VerySatisfied, "pad"),
            (bad.0, 1, RatingLevel::Dissatisfied, "pad"),
            // The default and the follow-up came at the same instant: by ticket then.
            (bad.0, 2, RatingLevel::Satisfied, "pad"),
            (
                unrated.0,
                1,
                RatingLevel::BasicallySatisfied,
                "system_default"
            ),
        ]
    );
    let figures = reader
        .rating_figures(
            day,
            day,
            hallq_store::FigureKey::Staff,
            false,
            date(2026, 12, 5),
            &TimeZone::fixed(tz::offset(8)),
        )
        .unwrap();
    assert_eq!(figures.len(), 1);
    let staff = &figures[0];
    assert_eq!(
        (staff.key.as_str(), staff.ratings, staff.bad()),
        ("1001", 3, 1)
    );
    assert_eq!((staff.cases, staff.called_back), (1, 1));
    assert!((staff.satisfaction().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    // The database itself refuses to rewrite a rating.
    let writer = rusqlite::Connection::open(&path).unwrap();
    assert!(writer
        .execute("UPDATE ratings SET level = 1 WHERE round = 1", [])
        .is_err());
    assert!(writer.execute("DELETE FROM ratings", []).is_err());
}
