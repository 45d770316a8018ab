//! The JSON API as kiosks, window staff and managers use it, and its answers to bad input.

mod support;

use serde_json::{json, Value};
use support::{TestApp, DISPLAY, KIOSK};

#[test]
fn a_citizen_takes_a_ticket_and_a_window_calls_it() {
    let app = TestApp::spawn();
    let hall = app.get("/api/v1/hall");
    assert_eq!(hall.status, 200);
    assert!(hall.body["services"].as_array().unwrap().len() >= 12);
    assert!(hall.body["windows"].as_array().unwrap().len() >= 10);
    assert!(hall.body["services"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["open"] == true));

    let first = app.issue_ticket("tax-general");
    assert_eq!(first["number"], "A001");
    assert_eq!(first["status"], "waiting");
    assert_eq!(first["ahead"], 0);
    assert_eq!(first["kiosk"], "kiosk-lobby");
    assert_eq!(first["token"].as_str().unwrap().len(), 44);
    assert!(first["issued_at"].as_str().unwrap().ends_with('Z'));
    let second = app.issue_ticket("tax-general");
    assert_eq!(
        (second["number"].as_str(), second["ahead"].as_u64()),
        (Some("A002"), Some(1))
    );
    // Two windows serve tax-general (w02 primary, w03 and w01 secondary): 420 s × 1 / 2.
    assert!(second["wait_s_estimate"].as_u64().unwrap() > 0);
    assert_eq!(app.waiting("tax-general"), 2);

    let staff = app.staff_token("w02");
    let called = app.call_next(&staff, "w02");
    assert_eq!(called.status, 200, "{}", called.text);
    assert_eq!(called.body["ticket"]["number"], "A001");
    assert_eq!(called.body["ticket"]["status"], "called");
    assert_eq!(called.body["ticket"]["window"], "w02");
    assert_eq!(app.waiting("tax-general"), 1);

    // Call-next again completes A001 and calls A002.
    let next = app.call_next(&staff, "w02");
    assert_eq!(next.body["ticket"]["number"], "A002");
    assert_eq!(next.body["completed"]["number"], "A001");
    assert_eq!(next.body["completed"]["status"], "completed");
    let id = first["id"].as_u64().unwrap();
    let fetched = app.get_as(&format!("/api/v1/tickets/{id}"), KIOSK);
    assert_eq!(fetched.body["status"], "completed");

    // Nobody waits: 204.
    let done = app.window_action(&staff, "w02", "complete", None);
    assert_eq!(done.status, 200);
    assert_eq!(app.call_next(&staff, "w02").status, 204);

    let window = app.get("/api/v1/windows/w02");
    assert_eq!(window.body["window"]["status"], "open");
    assert_eq!(window.body["window"]["current"], Value::Null);
}

#[test]
fn every_window_action_follows_the_ticket_rules() {
    let app = TestApp::spawn();
    let staff = app.staff_token("w08");
    let ticket = app.issue_ticket("entry-exit");
    let id = ticket["id"].as_u64().unwrap();

    // Nothing called yet: each needs a current ticket.
    for action in ["recall", "no-show", "complete"] {
        let answer = app.window_action(&staff, "w08", action, None);
        assert_eq!(
            (answer.status, answer.code()),
            (409, "no_current_ticket"),
            "{action}"
        );
    }
    let transfer = app.window_action(
        &staff,
        "w08",
        "transfer",
        Some(json!({"service": "vehicle"})),
    );
    assert_eq!(transfer.code(), "no_current_ticket");

    assert_eq!(app.call_next(&staff, "w08").status, 200);
    let recalled = app.window_action(&staff, "w08", "recall", None);
    assert_eq!(recalled.body["ticket"]["recalls"], 1);
    let no_show = app.window_action(&staff, "w08", "no-show", None);
    assert_eq!(no_show.body["ticket"]["status"], "no_show");

    let requeued = app.window_action(&staff, "w08", "requeue", Some(json!({"ticket": id})));
    assert_eq!(requeued.status, 200, "{}", requeued.text);
    assert_eq!(requeued.body["ticket"]["status"], "waiting");
    assert_eq!(app.call_next(&staff, "w08").body["ticket"]["id"], id);
    assert_eq!(
        app.window_action(&staff, "w08", "no-show", None).status,
        200
    );
    let again = app.window_action(&staff, "w08", "requeue", Some(json!({"ticket": id})));
    assert_eq!((again.status, again.code()), (409, "requeue_limit_reached"));

    // Transfer keeps the number and moves the queue.
    let other = app.issue_ticket("entry-exit");
    app.call_next(&staff, "w08");
    let same = app.window_action(
        &staff,
        "w08",
        "transfer",
        Some(json!({"service": "entry-exit"})),
    );
    assert_eq!(
        (same.status, same.code()),
        (422, "transfer_to_same_service")
    );
    let moved = app.window_action(
        &staff,
        "w08",
        "transfer",
        Some(json!({"service": "vehicle"})),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.body["ticket"]["number"], other["number"]);
    assert_eq!(moved.body["ticket"]["service"], "vehicle");
    let vehicle_staff = app.staff_token("w09");
    let at_vehicle = app.call_next(&vehicle_staff, "w09");
    assert_eq!(at_vehicle.body["ticket"]["number"], other["number"]);
    assert_eq!(at_vehicle.body["ticket"]["transfers"], 1);

    // Pause and resume.
    let paused = app.window_action(&staff, "w08", "pause", None);
    assert_eq!(paused.body["window"]["status"], "paused");
    app.issue_ticket("entry-exit");
    assert_eq!(app.call_next(&staff, "w08").code(), "window_paused");
    assert_eq!(
        app.window_action(&staff, "w08", "pause", None).code(),
        "window_paused"
    );
    assert_eq!(
        app.window_action(&staff, "w08", "resume", None).body["window"]["status"],
        "open"
    );
    assert_eq!(
        app.window_action(&staff, "w08", "resume", None).code(),
        "window_not_paused"
    );
    assert_eq!(app.call_next(&staff, "w08").status, 200);

    // Cancel a waiting ticket, not a called one.
    let leaving = app.issue_ticket("entry-exit");
    let cancelled = app.post(
        &format!("/api/v1/tickets/{}/cancel", leaving["id"]),
        KIOSK,
        json!({}),
    );
    assert_eq!(cancelled.body["status"], "cancelled");
    let twice = app.post(
        &format!("/api/v1/tickets/{}/cancel", leaving["id"]),
        KIOSK,
        json!({}),
    );
    assert_eq!((twice.status, twice.code()), (409, "invalid_state"));
}

#[test]
fn green_channel_goes_first() {
    let app = TestApp::spawn();
    app.issue_ticket("pension");
    let green = app.post(
        "/api/v1/tickets",
        KIOSK,
        json!({"service": "pension", "priority": "green"}),
    );
    assert_eq!(green.status, 201);
    assert_eq!(green.body["priority"], "green");
    assert_eq!(green.body["ahead"], 0);
    let staff = app.staff_token("w04");
    assert_eq!(
        app.call_next(&staff, "w04").body["ticket"]["number"],
        green.body["number"]
    );
}

#[test]
fn a_retry_with_the_same_idempotency_key_gets_the_same_ticket() {
    let app = TestApp::spawn();
    let first = app.issue_with_key("vehicle", "kiosk-lobby-0001");
    let retry = app.issue_with_key("vehicle", "kiosk-lobby-0001");
    assert_eq!((first.status, retry.status), (201, 200));
    assert_eq!(first.body["id"], retry.body["id"]);
    assert_eq!(first.body["number"], retry.body["number"]);
    assert_eq!(app.waiting("vehicle"), 1);
    let other_service = app.issue_with_key("household", "kiosk-lobby-0001");
    assert_eq!(
        (other_service.status, other_service.code()),
        (422, "idempotency_key_reused")
    );
    let blank = app.issue_with_key("vehicle", " ");
    assert_eq!(blank.code(), "invalid_idempotency_key");
    let long = app.issue_with_key("vehicle", &"k".repeat(101));
    assert_eq!(long.code(), "invalid_idempotency_key");
}

#[test]
fn credentials_and_roles_are_checked_on_every_call() {
    let app = TestApp::spawn();
    let body = json!({"service": "tax-general"});
    let anonymous = app.request("POST", "/api/v1/tickets", None, Some(&body));
    assert_eq!((anonymous.status, anonymous.code()), (401, "unauthorized"));
    let wrong = app.post("/api/v1/tickets", "not-a-token", body.clone());
    assert_eq!(wrong.status, 401);
    // A display may watch, not issue.
    assert_eq!(
        app.post("/api/v1/tickets", DISPLAY, body.clone()).status,
        403
    );
    // A kiosk may issue, not call.
    assert_eq!(app.call_next(KIOSK, "w01").status, 403);

    assert_eq!(
        app.sign_in("demo-staff", "000000", Some("w01")).code(),
        "invalid_credentials"
    );
    assert_eq!(
        app.sign_in("nobody", "246810", Some("w01")).code(),
        "invalid_credentials"
    );
    assert_eq!(
        app.sign_in("demo-staff", "246810", None).code(),
        "window_required"
    );
    assert_eq!(app.sign_in("demo-staff", "246810", Some("w99")).status, 404);

    let staff = app.staff_token("w01");
    let elsewhere = app.call_next(&staff, "w02");
    assert_eq!((elsewhere.status, elsewhere.code()), (403, "forbidden"));
    let manager = app.manager_token();
    app.issue_ticket("tax-invoice");
    assert_eq!(app.call_next(&manager, "w03").status, 200);

    // Stats are for staff and managers.
    assert_eq!(app.get_as("/api/v1/stats/today", KIOSK).status, 403);
    let stats = app.get_as("/api/v1/stats/today", &manager);
    assert_eq!(stats.status, 200);
    assert_eq!(stats.body["totals"]["issued"], 1);
    assert_eq!(stats.body["totals"]["called"], 1);

    // Signing out ends the session.
    let out = app.request("DELETE", "/api/v1/sessions/current", Some(&staff), None);
    assert_eq!(out.status, 204);
    assert_eq!(app.call_next(&staff, "w01").status, 401);
}

#[test]
fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let app = TestApp::spawn();
    let staff = app.staff_token("w02");
    app.issue_ticket("tax-general");
    let events_before = app.log_seq();

    // (method, path, content type, body, expected status, expected error code)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        Vec<u8>,
        u16,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/api/v1/tickets",
            "application/json",
            b"{not json".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "POST",
            "/api/v1/tickets",
            "application/json",
            br#"{"service": 42}"#.to_vec(),
            400,
            "invalid_json",
        ),
        (
            "POST",
            "/api/v1/tickets",
            "application/json",
            br#"{"service": "tax-general", "extra": true}"#.to_vec(),
            400,
            "invalid_json",
        ),
        (
            "POST",
            "/api/v1/tickets",
            "application/json",
            br#"{"service": "no-such-service"}"#.to_vec(),
            404,
            "unknown_service",
        ),
        (
            "POST",
            "/api/v1/tickets",
            "application/json",
            br#"{"service": "tax-general", "priority": "vip"}"#.to_vec(),
            400,
            "invalid_priority",
        ),
        (
            "POST",
            "/api/v1/tickets",
            "application/json",
            br#"{"service": "tax-general", "channel": "fax"}"#.to_vec(),
            400,
            "invalid_channel",
        ),
        (
            "POST",
            "/api/v1/tickets",
            "application/json",
            br#"{"service": "tax-general", "phone": "12345"}"#.to_vec(),
            400,
            "invalid_phone",
        ),
        (
            "POST",
            "/api/v1/tickets",
            "application/json",
            br#"{"service": "tax-general", "kiosk": "../etc"}"#.to_vec(),
            400,
            "invalid_kiosk",
        ),
        (
            "POST",
            "/api/v1/tickets",
            "text/plain",
            br#"{"service": "tax-general"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/api/v1/tickets",
            "application/json",
            format!(r#"{{"service": "{}"}}"#, "x".repeat(40_000)).into_bytes(),
            413,
            "payload_too_large",
        ),
        (
            "POST",
            "/api/v1/windows/w02/transfer",
            "application/json",
            br#"{"service": []}"#.to_vec(),
            400,
            "invalid_json",
        ),
        (
            "POST",
            "/api/v1/windows/w02/requeue",
            "application/json",
            b"".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "POST",
            "/api/v1/windows/w02/explode",
            "application/json",
            b"".to_vec(),
            404,
            "not_found",
        ),
        (
            "POST",
            "/api/v1/windows/w99/call-next",
            "application/json",
            b"".to_vec(),
            404,
            "not_found",
        ),
        (
            "POST",
            "/api/v1/windows/w02/complete",
            "application/json",
            b"".to_vec(),
            409,
            "no_current_ticket",
        ),
        (
            "POST",
            "/api/v1/windows/w02/recall",
            "application/json",
            b"".to_vec(),
            409,
            "no_current_ticket",
        ),
        (
            "GET",
            "/api/v1/tickets/99999",
            "application/json",
            b"".to_vec(),
            404,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/tickets/-1",
            "application/json",
            b"".to_vec(),
            404,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/tickets/18446744073709551616",
            "application/json",
            b"".to_vec(),
            404,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/%2e%2e/%2e%2e/etc/passwd",
            "application/json",
            b"".to_vec(),
            404,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/events?last_event_id=abc",
            "application/json",
            b"".to_vec(),
            400,
            "invalid_last_event_id",
        ),
        (
            "GET",
            "/api/v1/events?bogus=1",
            "application/json",
            b"".to_vec(),
            400,
            "invalid_query",
        ),
        (
            "DELETE",
            "/api/v1/tickets",
            "application/json",
            b"".to_vec(),
            405,
            "method_not_allowed",
        ),
    ];
    for (method, path, content_type, body, status, code) in cases {
        let answer = app.raw(method, path, Some(&staff), content_type, &body);
        // Ticket issue needs a kiosk or staff token; staff is fine for both.
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{method} {path}: {}",
            answer.text
        );
        assert!(answer.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    // A 32 KiB header of garbage, binary bodies: still an answer, never a crash.
    let binary = app.raw(
        "POST",
        "/api/v1/tickets",
        Some(KIOSK),
        "application/json",
        &[0xff, 0xfe, 0x00, 0x01],
    );
    assert_eq!(binary.status, 400);
    let utf8 = app.raw(
        "POST",
        "/api/v1/sessions",
        None,
        "application/json",
        "{\"staff\": \"王\", \"pin\": \"〇〇〇\"}".as_bytes(),
    );
    assert_eq!(utf8.status, 401);

    assert_eq!(app.waiting("tax-general"), 1, "nothing changed");
    app.assert_unchanged_since(events_before);
    assert_eq!(app.get("/healthz").status, 200);
    assert!(!app.log().contains("panicked"), "{}", app.log());
}

#[test]
fn operations_endpoints() {
    let app = TestApp::spawn();
    assert_eq!(app.get("/healthz").body["status"], "ok");
    assert_eq!(app.get("/readyz").body["status"], "ready");
    app.issue_ticket("medical-insurance");
    let metrics = app.get("/metrics").text;
    for name in [
        "hallq_queue_waiting{service=\"medical-insurance\"} 1",
        "hallq_queue_oldest_wait_seconds",
        "hallq_tickets_issued_today{service=\"medical-insurance\"} 1",
        "hallq_engine_batch_size_bucket",
        "hallq_http_request_duration_seconds_bucket{route=\"/api/v1/tickets\",method=\"POST\",status=\"2xx\"",
        "hallq_device_last_seen_seconds{device=\"kiosk-lobby\",kind=\"kiosk\"}",
        "hallq_sse_clients 0",
    ] {
        assert!(metrics.contains(name), "missing {name} in\n{metrics}");
    }
    let openapi = app.get("/api/v1/openapi.json").body;
    assert_eq!(openapi["info"]["title"], "hallq");
    for path in [
        "/api/v1/hall",
        "/api/v1/tickets",
        "/api/v1/tickets/{id}",
        "/api/v1/queues",
        "/api/v1/windows/{id}/{action}",
        "/api/v1/events",
        "/api/v1/sessions",
    ] {
        assert!(openapi["paths"][path].is_object(), "OpenAPI lacks {path}");
    }
    let queues = app.get("/api/v1/queues").body;
    let entry = &queues["services"].as_array().unwrap()[0];
    for key in ["service", "waiting", "oldest_wait_s", "wait_s_estimate"] {
        assert!(!entry[key].is_null(), "queues entry lacks {key}");
    }
    let index = app.get("/");
    assert_eq!(index.status, 200);
    assert!(index.text.contains("hallq"));
}

#[test]
fn state_survives_a_clean_restart() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let mut app = TestApp::spawn_in(&data, &support::demo_config());
    let staff = app.staff_token("w06");
    app.issue_ticket("property-transfer");
    app.issue_ticket("property-transfer");
    app.call_next(&staff, "w06");
    app.window_action(&staff, "w06", "pause", None);
    let (status, _) = app.terminate(std::time::Duration::from_secs(5));
    assert!(status.success(), "exit status {status}");

    let app = TestApp::spawn_in(&data, &support::demo_config());
    let window = app.get("/api/v1/windows/w06").body;
    assert_eq!(window["window"]["status"], "paused");
    assert_eq!(window["window"]["current"]["number"], "F001");
    assert_eq!(app.waiting("property-transfer"), 1);
    assert_eq!(app.issue_ticket("property-transfer")["number"], "F003");
    // Sessions do not survive a restart: staff sign in again.
    assert_eq!(app.call_next(&staff, "w06").status, 401);
}

/// 特呼 and the waiting list: a window lists who it would call, in order, with class and wait
/// and nothing personal; it calls a given number out of turn; every wrong call is refused with
/// its code and changes nothing.
#[test]
fn a_window_lists_who_waits_and_calls_a_given_number_out_of_turn() {
    let app = TestApp::spawn();
    let staff = app.staff_token("w02");
    let walk_in = app.issue_ticket("tax-general");
    let invoice = app.issue_ticket("tax-invoice");
    let green = app.post(
        "/api/v1/tickets",
        &staff,
        json!({"service": "tax-general", "channel": "staff", "priority": "green",
               "phone": "13912345678"}),
    );
    assert_eq!(green.status, 201, "{}", green.text);
    let elsewhere = app.issue_ticket("vehicle");
    let number = |ticket: &Value| ticket["number"].as_str().unwrap().to_owned();

    let list = app.get_as("/api/v1/windows/w02/waiting", &staff);
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["total"], 3);
    let listed: Vec<(String, String)> = list.body["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["number"].as_str().unwrap().to_owned(),
                t["priority"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // The green channel first, then the walk-ins in their turn (w02 serves tax-general first).
    assert_eq!(
        listed,
        [
            (number(&green.body), "green".to_owned()),
            (number(&walk_in), "walk_in".to_owned()),
            (number(&invoice), "walk_in".to_owned()),
        ]
    );
    for private in ["13912345678", "5678", "token", "phone"] {
        assert!(!list.text.contains(private), "{private} in {}", list.text);
    }
    let limited = app.get_as("/api/v1/windows/w02/waiting?limit=1", &staff);
    assert_eq!(limited.body["waiting"].as_array().unwrap().len(), 1);
    assert_eq!(limited.body["total"], 3);

    // 特呼 the last in line, typed as staff type it.
    let typed = format!(" {} ", number(&invoice).to_lowercase());
    let called = app.window_action(&staff, "w02", "call", Some(json!({ "number": typed })));
    assert_eq!(called.status, 200, "{}", called.text);
    assert_eq!(called.body["ticket"]["number"], number(&invoice).as_str());
    assert_eq!(called.body["ticket"]["status"], "called");
    assert_eq!(
        app.get_as("/api/v1/windows/w02/waiting", &staff).body["total"],
        2
    );
    // By id, as the console's list does: the current one is completed first.
    let by_id = app.window_action(
        &staff,
        "w02",
        "call",
        Some(json!({ "ticket": walk_in["id"] })),
    );
    assert_eq!(by_id.status, 200, "{}", by_id.text);
    assert_eq!(by_id.body["completed"]["number"], number(&invoice).as_str());

    let state = |app: &TestApp| {
        (
            app.get("/api/v1/windows/w02").text,
            app.get_as("/api/v1/windows/w02/waiting", &staff).text,
        )
    };
    let before = state(&app);
    for (body, status, code) in [
        (json!({"number": "A-1"}), 400, "invalid_ticket_number"),
        (json!({"number": ""}), 400, "invalid_ticket_number"),
        (json!({}), 400, "invalid_ticket_number"),
        (
            json!({"number": "A001", "ticket": 1}),
            400,
            "invalid_ticket_number",
        ),
        (json!({"number": "Z999"}), 404, "unknown_ticket"),
        (json!({"ticket": 99999}), 404, "unknown_ticket"),
        (
            json!({"number": number(&elsewhere)}),
            409,
            "service_not_served",
        ),
        (json!({"number": number(&invoice)}), 409, "invalid_state"),
        (json!({"numbr": "A001"}), 400, "invalid_json"),
    ] {
        let answer = app.window_action(&staff, "w02", "call", Some(body.clone()));
        assert_eq!((answer.status, answer.code()), (status, code), "{body}");
        assert_eq!(state(&app), before, "{body} changed something");
    }
    app.window_action(&staff, "w02", "pause", None);
    let paused = app.window_action(
        &staff,
        "w02",
        "call",
        Some(json!({"number": number(&green.body)})),
    );
    assert_eq!((paused.status, paused.code()), (409, "window_paused"));
    for query in ["limit=0", "limit=201", "limit=abc", "colour=red"] {
        let answer = app.get_as(&format!("/api/v1/windows/w02/waiting?{query}"), &staff);
        assert_eq!(answer.status, 400, "{query}: {}", answer.text);
    }
    assert_eq!(
        app.get_as("/api/v1/windows/w99/waiting", &staff).status,
        404
    );
}

/// The manager's notice for the boards and the services' wait alarms: set, refused when
/// wrong (nothing changes), audited, and kept through a kill -9.
#[test]
fn a_managers_notice_and_wait_alarms_are_checked_audited_and_survive_a_crash() {
    let mut app = TestApp::spawn();
    let manager = app.manager_token();
    let hall_file_notice = app.get("/api/v1/board").body["notice"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!hall_file_notice.is_empty());
    let put = |app: &TestApp, token: &str, path: &str, body: Value| {
        app.request("PUT", path, Some(token), Some(&body))
    };
    let set = put(
        &app,
        &manager,
        "/api/v1/board/notice",
        json!({"text": "午间 12:00–13:30\n仅开放值班窗口"}),
    );
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["notice"], "午间 12:00–13:30 仅开放值班窗口");
    assert_eq!(set.body["set_by_manager"], true);
    let alarm = put(
        &app,
        &manager,
        "/api/v1/services/vehicle/wait-alarm",
        json!({"max_wait_minutes": 25}),
    );
    assert_eq!(alarm.status, 200, "{}", alarm.text);
    assert_eq!(alarm.body["max_wait_minutes"], 25);

    let state = |app: &TestApp, manager: &str| {
        let stats = app.get_as("/api/v1/stats/today", manager).body;
        let alarms: Vec<(String, Value)> = stats["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["service"].as_str().unwrap().to_owned(),
                    s["wait_alarm_s"].clone(),
                )
            })
            .filter(|(_, limit)| !limit.is_null())
            .collect();
        (app.get("/api/v1/board").body["notice"].clone(), alarms)
    };
    let before = state(&app, &manager);
    assert_eq!(
        before,
        (
            json!("午间 12:00–13:30 仅开放值班窗口"),
            vec![("vehicle".to_owned(), json!(1500))]
        )
    );
    for (path, body, status, code) in [
        (
            "/api/v1/board/notice",
            json!({"text": "长".repeat(201)}),
            422,
            "invalid_notice",
        ),
        (
            "/api/v1/board/notice",
            json!({"text": "a\u{0}b"}),
            422,
            "invalid_notice",
        ),
        (
            "/api/v1/board/notice",
            json!({"words": "x"}),
            400,
            "invalid_json",
        ),
        (
            "/api/v1/services/vehicle/wait-alarm",
            json!({"max_wait_minutes": 0}),
            422,
            "invalid_wait_alarm",
        ),
        (
            "/api/v1/services/vehicle/wait-alarm",
            json!({"max_wait_minutes": 481}),
            422,
            "invalid_wait_alarm",
        ),
        (
            "/api/v1/services/vehicle/wait-alarm",
            json!({"max_wait_minutes": "ten"}),
            400,
            "invalid_json",
        ),
        (
            "/api/v1/services/vehicle/wait-alarm",
            json!({"max_wait_minutes": -1}),
            400,
            "invalid_json",
        ),
        (
            "/api/v1/services/nope/wait-alarm",
            json!({"max_wait_minutes": 10}),
            404,
            "unknown_service",
        ),
    ] {
        let answer = put(&app, &manager, path, body.clone());
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{path} {body}"
        );
        assert_eq!(
            state(&app, &manager),
            before,
            "{path} {body} changed something"
        );
    }
    // Who changed what is in the audit log.
    let audit = app.get_as("/api/v1/audit", &manager).text;
    assert!(
        audit.contains("set_board_notice") && audit.contains("set_wait_alarm"),
        "{audit}"
    );

    app.respawn();
    let manager = app.manager_token();
    assert_eq!(
        state(&app, &manager),
        before,
        "a crash lost the manager's settings"
    );
    // Given back to the hall file, and the alarm cleared.
    put(
        &app,
        &manager,
        "/api/v1/board/notice",
        json!({"text": null}),
    );
    put(
        &app,
        &manager,
        "/api/v1/services/vehicle/wait-alarm",
        json!({"max_wait_minutes": null}),
    );
    assert_eq!(state(&app, &manager), (json!(hall_file_notice), vec![]));
}
