//! SMS calling against a real HTTP gateway on 127.0.0.1: who is told when, once, and that
//! phone numbers never leak into logs or events.

mod support;

use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use support::sms_gateway::Gateway;
use support::{EventStream, TestApp, KIOSK};

const P2: &str = "13800000002";
const P4: &str = "13900000004";
const P6: &str = "15000000006";

fn issue(app: &TestApp, phone: Option<&str>) -> Value {
    let mut body = json!({"service": "entry-exit"});
    if let Some(phone) = phone {
        body["phone"] = json!(phone);
    }
    let answer = app.post("/api/v1/tickets", KIOSK, body);
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.body
}

#[test]
fn citizens_are_told_when_they_are_near_the_front_and_when_called_once_each() {
    let gateway = Gateway::start();
    let temp = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(support::demo_config()).unwrap();
    let config = temp.path().join("hall.toml");
    std::fs::write(
        &config,
        format!("{demo}\n[sms]\ngateway_url = \"http://127.0.0.1:{}/send\"\ngateway_token = \"gateway-secret\"\nnotify_ahead = 2\n", gateway.port),
    )
    .unwrap();
    let data = temp.path().join("data");
    let mut app = TestApp::spawn_in(&data, &config);
    let staff = app.staff_token("w08");
    for _ in 0..3 {
        issue(&app, None); // H001-H003
    }
    issue(&app, Some(P2)); // H004
    issue(&app, Some(P4)); // H005

    app.call_next(&staff, "w08"); // H001: H004 has 2 ahead, not yet near.
    app.call_next(&staff, "w08"); // H002: H004 has 1 ahead.
    let messages = gateway.wait_for(1);
    assert_eq!(
        (messages[0].0.as_str(), messages[0].1.as_str()),
        (P2, "approaching")
    );
    assert!(
        messages[0].2.contains("H004") && messages[0].2.contains("前面还有1人"),
        "{}",
        messages[0].2
    );
    assert_eq!(
        gateway.received.lock().unwrap()[0].0.as_deref(),
        Some("Bearer gateway-secret")
    );

    app.call_next(&staff, "w08"); // H003: H005 has 1 ahead.
    app.call_next(&staff, "w08"); // H004 called.
    let messages = gateway.wait_for(3);
    let summary: Vec<(&str, &str)> = messages
        .iter()
        .map(|(p, k, _)| (p.as_str(), k.as_str()))
        .collect();
    assert_eq!(
        summary,
        [(P2, "approaching"), (P4, "approaching"), (P2, "called")]
    );
    let called = &messages[2].2;
    assert!(
        called.contains("H004") && called.contains("8号窗口"),
        "{called}"
    );

    // A restart forgets nothing: H005 is not told again that it is near.
    let (status, _) = app.terminate(Duration::from_secs(5));
    assert!(status.success());
    let mut app = TestApp::spawn_in(&data, &config);
    let staff = app.staff_token("w08");
    app.call_next(&staff, "w08"); // H005 called
    let messages = gateway.wait_for(4);
    std::thread::sleep(Duration::from_millis(300));
    let messages_after = gateway.messages();
    assert_eq!(messages_after.len(), 4, "{messages_after:?}");
    assert_eq!(
        (messages[3].0.as_str(), messages[3].1.as_str()),
        (P4, "called")
    );

    // Taken with nobody ahead: no "near the front" message, the holder is at the kiosk.
    // The gateway is down when it is called: recorded as not delivered, the queue goes on.
    gateway.failing.store(true, Ordering::SeqCst);
    let manager = app.manager_token();
    let mut stream = EventStream::open_as(&app, &manager, None);
    issue(&app, Some(P6)); // H006
    app.call_next(&staff, "w08");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut outcomes = Vec::new();
    while Instant::now() < deadline {
        let Some(event) = stream.next_log_event() else {
            break;
        };
        if event.kind == "sms_notified" {
            let text = event.data.to_string();
            assert!(
                !text.contains("1380000") && !text.contains("phone"),
                "{text}"
            );
            outcomes.push((
                event.data["number"].as_str().unwrap().to_owned(),
                event.data["purpose"].as_str().unwrap().to_owned(),
                event.data["delivered"].as_bool().unwrap(),
            ));
            if outcomes.iter().any(|o| o.0 == "H006") {
                break;
            }
        }
    }
    assert_eq!(
        outcomes.last(),
        Some(&("H006".to_owned(), "called".to_owned(), false)),
        "{outcomes:?}"
    );
    assert_eq!(gateway.messages().len(), 4, "nothing else was sent");

    // Phones never appear whole in the daemon's log.
    let (_, _) = app.terminate(Duration::from_secs(5));
    let log = app.log();
    for phone in [P2, P4, P6] {
        assert!(!log.contains(phone), "the log shows {phone}:\n{log}");
    }
    assert!(
        log.contains("139****0004"),
        "SMS are logged with masked numbers"
    );
}
