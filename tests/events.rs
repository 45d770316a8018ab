//! Server-Sent Events: resume without loss or repetition, public data only, clean shutdown.

mod support;

use serde_json::json;
use std::time::Duration;
use support::{EventStream, TestApp, KIOSK};

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
    let mut seen = Vec::new();
    for _ in 0..3 {
        let event = first.next_log_event().expect("live event");
        assert_eq!(event.kind, "ticket_issued");
        assert_eq!(event.data["seq"].as_u64(), event.id);
        // Public streams never carry phones or status-page tokens.
        let text = event.data.to_string();
        assert!(
            !text.contains("13800138000") && !text.contains("phone") && !text.contains("token"),
            "{text}"
        );
        seen.push(event.id.unwrap());
    }
    assert_eq!(seen, vec![start + 1, start + 2, start + 3]);
    drop(first);

    // Things happen while the client is away.
    let staff = app.staff_token("w02");
    app.issue_ticket("tax-invoice");
    app.call_next(&staff, "w02");
    app.issue_ticket("household");

    let last = *seen.last().unwrap();
    let mut second = EventStream::open(&app, Some(last));
    let mut resumed = Vec::new();
    for _ in 0..3 {
        let event = second.next_log_event().expect("replayed event");
        resumed.push((event.id.unwrap(), event.kind));
    }
    assert_eq!(
        resumed,
        vec![
            (last + 1, "ticket_issued".to_owned()),
            (last + 2, "ticket_called".to_owned()),
            (last + 3, "ticket_issued".to_owned()),
        ]
    );
    // And then live, continuing the same sequence.
    app.issue_ticket("entry-exit");
    let live = second.next_log_event().unwrap();
    assert_eq!(
        (live.id, live.kind.as_str()),
        (Some(last + 4), "ticket_issued")
    );
    assert_eq!(live.data["number"], "H001");

    // From the very beginning: the whole log, in order.
    let mut all = EventStream::open(&app, Some(0));
    let mut ids = Vec::new();
    for _ in 0..(last + 4) {
        ids.push(all.next_log_event().unwrap().id.unwrap());
    }
    assert_eq!(ids, (1..=last + 4).collect::<Vec<_>>());
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
            kinds.push(event.kind);
        }
        assert_eq!(kinds, vec!["ticket_issued"]);
    }
}
