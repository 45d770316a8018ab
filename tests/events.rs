//! Server-Sent Events: resume without loss or repetition, public data only, clean shutdown.

mod support;

use serde_json::json;
use std::time::Duration;
use support::{EventStream, TestApp, KIOSK};

/// Reads events (any kind but `hello`) until `ticket_events` ticket events have arrived.
fn read_until_tickets(stream: &mut EventStream, ticket_events: usize) -> Vec<support::SseEvent> {
    let mut events = Vec::new();
    let mut tickets = 0;
    while tickets < ticket_events {
        let event = stream.next_log_event().expect("an event");
        if event.kind.starts_with("ticket_") {
            tickets += 1;
        }
        events.push(event);
    }
    events
}

#[test]
fn a_client_that_reconnects_with_last_event_id_gets_every_event_exactly_once() {
    let app = TestApp::spawn();
    let mut first = EventStream::open(&app, None);
    let hello = first.next_event().expect("hello");
    assert_eq!(hello.kind, "hello");
    let start = hello.id.expect("hello carries the resume point");

    let with_phone = app.post(
        "/api/v1/tickets",
        KIOSK,
        json!({"service": "tax-general", "phone": "13800138000"}),
    );
    assert_eq!(with_phone.status, 201);
    app.issue_ticket("tax-general");
    app.issue_ticket("vehicle");
    let seen = read_until_tickets(&mut first, 3);
    for event in &seen {
        assert_eq!(event.data["seq"].as_u64(), event.id);
        // Public streams never carry phones or status-page tokens.
        let text = event.data.to_string();
        assert!(
            !text.contains("13800138000") && !text.contains("phone") && !text.contains("token"),
            "{text}"
        );
    }
    let issued: Vec<&str> = seen
        .iter()
        .filter(|e| e.kind == "ticket_issued")
        .map(|e| e.data["number"].as_str().unwrap())
        .collect();
    assert_eq!(issued, ["A001", "A002", "J001"]);
    drop(first);

    // Things happen while the client is away.
    let staff = app.staff_token("w02");
    app.issue_ticket("tax-invoice");
    app.call_next(&staff, "w02");
    app.issue_ticket("household");

    let last = seen.last().unwrap().id.unwrap();
    let mut second = EventStream::open(&app, Some(last));
    let mut resumed = read_until_tickets(&mut second, 3);
    let kinds: Vec<&str> = resumed
        .iter()
        .map(|e| e.kind.as_str())
        .filter(|k| k.starts_with("ticket_"))
        .collect();
    assert_eq!(kinds, ["ticket_issued", "ticket_called", "ticket_issued"]);
    // And then live, continuing the same sequence.
    app.issue_ticket("entry-exit");
    resumed.extend(read_until_tickets(&mut second, 1));
    assert_eq!(resumed.last().unwrap().data["number"], "H001");

    // Exactly once: what the client got before and after reconnecting is every public event
    // from its start, in order, without a repeat; the staff stream has the whole log.
    let received: Vec<u64> = seen.iter().chain(&resumed).map(|e| e.id.unwrap()).collect();
    let end = *received.last().unwrap();
    assert!(
        received.windows(2).all(|pair| pair[0] < pair[1]),
        "{received:?}"
    );
    assert!(received[0] > start);
    let manager = app.manager_token();
    let mut staff = EventStream::open_as(&app, &manager, Some(start));
    assert_eq!(staff.next_event().unwrap().kind, "hello");
    let mut everything = Vec::new();
    while everything.last().is_none_or(|&seq| seq < end) {
        everything.push(staff.next_event().unwrap().id.unwrap());
    }
    assert_eq!(everything, (start + 1..=end).collect::<Vec<_>>());
    let public: Vec<u64> = everything
        .iter()
        .copied()
        .filter(|seq| received.contains(seq))
        .collect();
    assert_eq!(public, received, "the public stream is a subset, in order");

    // A resume point the ring cannot reach (the log's very beginning here, since the daemon
    // started after seq 1), or one from the future, is answered with resync, never a replay
    // of the whole log and never silence.
    for resume in [0, end + 1000] {
        let mut stream = EventStream::open(&app, Some(resume));
        let first = stream.next_event().unwrap();
        assert_eq!(first.kind, "resync", "resume after {resume}");
        assert_eq!(first.id, Some(app.log_seq().min(first.id.unwrap())));
    }
    // ?last_event_id= does the same for clients that cannot set headers; nonsense is a 400.
    let bad = app.get("/api/v1/events?last_event_id=zero");
    assert_eq!(bad.status, 400);
    assert_eq!(bad.code(), "invalid_last_event_id");
}

#[test]
fn shutdown_with_streams_open_finishes_within_five_seconds() {
    let mut app = TestApp::spawn();
    let mut streams: Vec<EventStream> = (0..3).map(|_| EventStream::open(&app, None)).collect();
    for stream in &mut streams {
        assert_eq!(stream.next_event().unwrap().kind, "hello");
    }
    app.issue_ticket("tax-general");
    let (status, took) = app.terminate(Duration::from_secs(5));
    assert!(status.success(), "exit status {status}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    for stream in &mut streams {
        // The issued ticket arrives, then the stream ends.
        let mut kinds = Vec::new();
        while let Some(event) = stream.next_event() {
            if event.kind.starts_with("ticket_") {
                kinds.push(event.kind);
            }
        }
        assert_eq!(kinds, vec!["ticket_issued"]);
    }
}

#[test]
fn a_client_that_stops_reading_holds_up_nobody() {
    use std::io::Write;
    let app = TestApp::spawn_with(support::UNLIMITED_KIOSK);
    // A screen that connects and then never reads again (hung browser, dead Wi-Fi).
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut stuck = std::net::TcpStream::connect(&address).unwrap();
    write!(
        stuck,
        "GET /api/v1/events HTTP/1.1\r\nHost: {address}\r\n\r\n"
    )
    .unwrap();
    let mut healthy = EventStream::open(&app, None);
    assert_eq!(healthy.next_event().unwrap().kind, "hello");

    let issuers: Vec<_> = (0..8)
        .map(|client| {
            let base = app.base.clone();
            std::thread::spawn(move || {
                let app = TestApp::attach(&base);
                (0..250)
                    .filter(|i| {
                        let service = ["tax-general", "vehicle", "entry-exit", "social-insurance"]
                            [(client + i) % 4];
                        app.post("/api/v1/tickets", KIOSK, json!({"service": service}))
                            .status
                            == 201
                    })
                    .count()
            })
        })
        .collect();
    let issued: usize = issuers.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(
        issued, 2000,
        "every ticket was issued while a client was stuck"
    );

    // The healthy client gets every one of them.
    let mut tickets = 0;
    while tickets < 2000 {
        let event = healthy
            .next_log_event()
            .expect("the healthy stream keeps flowing");
        if event.kind == "ticket_issued" {
            tickets += 1;
        }
    }
    assert_eq!(app.get("/healthz").status, 200);
    drop(stuck);
}
