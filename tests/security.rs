//! Who may do what, and what a hostile client cannot do: the authorization matrix walked cell by
//! cell against the real daemon, sign-in lockout, per-device limits, a kiosk's reach, scoped
//! idempotency keys, headers, and citizens' numbers never at rest or in a log.

mod support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::Duration;
use support::{Answer, TestApp, DISPLAY, KIOSK};

/// The callers of the matrix, in its column order.
const ROLES: [&str; 7] = [
    "anonymous",
    "forged",
    "kiosk",
    "display",
    "staff_here",
    "staff_other",
    "manager",
];

struct Callers {
    tokens: Vec<Option<String>>,
}

impl Callers {
    fn new(app: &TestApp) -> Self {
        Self {
            tokens: vec![
                None,
                Some("forged-0123456789abcdef0123456789abcdef".into()),
                Some(KIOSK.into()),
                Some(DISPLAY.into()),
                Some(app.staff_token("w02")),
                Some(app.staff_token("w03")),
                Some(app.manager_token()),
            ],
        }
    }

    fn manager(&self) -> &str {
        self.tokens[6].as_deref().unwrap()
    }
}

/// A fresh waiting ticket issued by the demo kiosk (for cells that use one up).
fn kiosk_ticket(app: &TestApp, service: &str) -> Value {
    app.post(
        "/api/v1/tickets",
        KIOSK,
        json!({"service": service, "priority": "normal"}),
    )
    .body
}

/// A request a cell makes: method, path and body, made fresh for each caller.
type Request = (String, String, Option<Value>);
type MakeRequest = Box<dyn Fn(&TestApp, &Callers) -> Request>;

/// A row of the matrix: its name, its request, the status expected from each caller.
type Row = (&'static str, MakeRequest, [u16; 7]);

fn get(path: &'static str) -> MakeRequest {
    Box::new(move |_, _| ("GET".into(), path.into(), None))
}

/// The authorization matrix: endpoint × caller → status. One test walks all of it; a cell
/// that answers anything else fails with its row and column named.
#[test]
fn the_authorization_matrix_holds_cell_by_cell() {
    let app = TestApp::spawn_with(support::UNLIMITED_KIOSK);
    let callers = Callers::new(&app);
    let slot = app.next_slot("housing-fund-loan");
    let rows: Vec<Row> = vec![
        (
            "GET hall",
            get("/api/v1/hall"),
            [200, 200, 200, 200, 200, 200, 200],
        ),
        ("GET queues", get("/api/v1/queues"), [200; 7]),
        ("GET board", get("/api/v1/board"), [200; 7]),
        ("GET window", get("/api/v1/windows/w02"), [200; 7]),
        (
            "GET slots",
            get("/api/v1/appointments/slots?service=housing-fund-loan&date=2026-11-28"),
            [0; 7],
        ),
        (
            "GET stats",
            get("/api/v1/stats/today"),
            [401, 401, 403, 403, 200, 200, 200],
        ),
        (
            "GET audit",
            get("/api/v1/audit"),
            [401, 401, 403, 403, 403, 403, 200],
        ),
        (
            "GET devices",
            get("/api/v1/devices"),
            [401, 401, 403, 403, 200, 200, 200],
        ),
        (
            "GET alerts",
            get("/api/v1/alerts"),
            [401, 401, 200, 200, 200, 200, 200],
        ),
        (
            "POST tickets",
            Box::new(|_, _| {
                (
                    "POST".into(),
                    "/api/v1/tickets".into(),
                    Some(json!({"service": "vehicle"})),
                )
            }),
            [401, 401, 201, 403, 201, 201, 201],
        ),
        (
            "GET a kiosk's own ticket",
            Box::new(|app, _| {
                let id = kiosk_ticket(app, "vehicle")["id"].as_u64().unwrap();
                ("GET".into(), format!("/api/v1/tickets/{id}"), None)
            }),
            [401, 401, 200, 403, 200, 200, 200],
        ),
        (
            "GET a ticket staff issued (not the kiosk's)",
            Box::new(|app, callers| {
                let id = app
                    .post(
                        "/api/v1/tickets",
                        callers.manager(),
                        json!({"service": "vehicle", "channel": "staff"}),
                    )
                    .body["id"]
                    .as_u64()
                    .unwrap();
                ("GET".into(), format!("/api/v1/tickets/{id}"), None)
            }),
            [401, 401, 404, 403, 200, 200, 200],
        ),
        (
            "POST cancel a kiosk's ticket",
            Box::new(|app, _| {
                let id = kiosk_ticket(app, "vehicle")["id"].as_u64().unwrap();
                ("POST".into(), format!("/api/v1/tickets/{id}/cancel"), None)
            }),
            [401, 401, 200, 403, 200, 200, 200],
        ),
        (
            "POST reprint a kiosk's ticket",
            Box::new(|app, _| {
                let id = kiosk_ticket(app, "vehicle")["id"].as_u64().unwrap();
                ("POST".into(), format!("/api/v1/tickets/{id}/reprint"), None)
            }),
            [401, 401, 200, 403, 200, 200, 200],
        ),
        (
            "POST call-next at window 2",
            Box::new(|app, _| {
                kiosk_ticket(app, "tax-general");
                ("POST".into(), "/api/v1/windows/w02/call-next".into(), None)
            }),
            [401, 401, 403, 403, 200, 403, 200],
        ),
        (
            "GET window 2's waiting list",
            get("/api/v1/windows/w02/waiting"),
            [401, 401, 403, 403, 200, 403, 200],
        ),
        (
            "POST call a given number at window 2 (特呼)",
            Box::new(|app, callers| {
                app.window_action(callers.manager(), "w02", "resume", None);
                let number = kiosk_ticket(app, "tax-general")["number"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                (
                    "POST".into(),
                    "/api/v1/windows/w02/call".into(),
                    Some(json!({ "number": number })),
                )
            }),
            [401, 401, 403, 403, 200, 403, 200],
        ),
        (
            "GET the boards' notice",
            get("/api/v1/board/notice"),
            [401, 401, 403, 403, 403, 403, 200],
        ),
        (
            "PUT the boards' notice",
            Box::new(|_, _| {
                (
                    "PUT".into(),
                    "/api/v1/board/notice".into(),
                    Some(json!({"text": "午间仅开放值班窗口"})),
                )
            }),
            [401, 401, 403, 403, 403, 403, 200],
        ),
        (
            "PUT a service's wait alarm",
            Box::new(|_, _| {
                (
                    "PUT".into(),
                    "/api/v1/services/vehicle/wait-alarm".into(),
                    Some(json!({"max_wait_minutes": 30})),
                )
            }),
            [401, 401, 403, 403, 403, 403, 200],
        ),
        (
            "POST pause window 2",
            Box::new(|app, callers| {
                // Open it first, whoever paused it last.
                app.window_action(callers.manager(), "w02", "resume", None);
                ("POST".into(), "/api/v1/windows/w02/pause".into(), None)
            }),
            [401, 401, 403, 403, 200, 403, 200],
        ),
        (
            "POST book (a kiosk must confirm the phone by SMS first)",
            Box::new(move |_, _| {
                let slot = slot.clone();
                (
                    "POST".into(),
                    "/api/v1/appointments".into(),
                    Some(
                        json!({"service": "housing-fund-loan", "start": slot, "channel": "onsite",
                        "phone": format!("1390000{:04}", rand_suffix())}),
                    ),
                )
            }),
            [401, 401, 403, 403, 201, 201, 201],
        ),
        (
            "POST phone check (this hall sends no SMS)",
            Box::new(|_, _| {
                (
                    "POST".into(),
                    "/api/v1/phone-checks".into(),
                    Some(json!({"phone": "13900001111"})),
                )
            }),
            [401, 401, 409, 403, 409, 409, 409],
        ),
        (
            "GET a citizen's ticket by its token",
            Box::new(|app, _| {
                let token = kiosk_ticket(app, "vehicle")["token"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                ("GET".into(), format!("/api/v1/t/{token}"), None)
            }),
            [200; 7],
        ),
        (
            "POST a citizen cancels by token",
            Box::new(|app, _| {
                let token = kiosk_ticket(app, "vehicle")["token"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                ("POST".into(), format!("/api/v1/t/{token}/cancel"), None)
            }),
            [200; 7],
        ),
        ("GET metrics", get("/metrics"), [200; 7]),
        ("GET healthz", get("/healthz"), [200; 7]),
    ];
    let mut failures = Vec::new();
    for (name, make, expected) in &rows {
        for (column, role) in ROLES.iter().enumerate() {
            let (method, path, body) = make(&app, &callers);
            let answer = app.request(
                &method,
                &path,
                callers.tokens[column].as_deref(),
                body.as_ref(),
            );
            let want = expected[column];
            // 0: anyone's answer is fine as long as it is not an authorization refusal.
            let ok = if want == 0 {
                ![401, 403].contains(&answer.status)
            } else {
                answer.status == want
            };
            if !ok {
                failures.push(format!(
                    "{name} as {role}: {} (expected {want}) {}",
                    answer.status, answer.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "cells that do not hold:\n{}",
        failures.join("\n")
    );
    // The streams: anyone may follow the public stream and a board's; a forged token is refused.
    for (column, role) in ROLES.iter().enumerate() {
        let status = stream_status(&app, "/api/v1/events", callers.tokens[column].as_deref());
        let want = if *role == "forged" { 401 } else { 200 };
        assert_eq!(status, want, "GET /api/v1/events as {role}");
    }
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The status of a stream request, read from its first line only.
fn stream_status(app: &TestApp, path: &str, token: Option<&str>) -> u16 {
    let address = app.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    String::from_utf8_lossy(&head[9..12]).parse().unwrap()
}

fn sign_in(app: &TestApp, staff: &str, pin: &str) -> Answer {
    app.sign_in(staff, pin, Some("w01"))
}

#[test]
fn wrong_pins_lock_the_account_out_with_a_growing_wait_and_the_audit_says_so() {
    let app = TestApp::spawn_with(&[("sign_in_failures_before_lockout", "3")]);
    for _ in 0..2 {
        assert_eq!(sign_in(&app, "demo-staff", "000000").status, 401);
    }
    // The third wrong PIN starts the lock.
    assert_eq!(sign_in(&app, "demo-staff", "000000").status, 401);
    let locked = sign_in(&app, "demo-staff", "246810");
    assert_eq!(
        (locked.status, locked.code()),
        (429, "sign_in_locked"),
        "{}",
        locked.text
    );
    // Even the right PIN waits: guessing gains nothing. The wait is said in Retry-After.
    let retry_after = retry_after(&app, "demo-staff");
    assert!(
        (20..=30).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    // The address is locked too: another account from the same device waits as well.
    assert_eq!(app.sign_in("demo-manager", "135790", None).status, 429);
    // The refusals name account and address in the log; the lock is in the audit log.
    let log = app.log();
    assert!(
        log.contains("demo-staff") && log.contains("127.0.0.1"),
        "{log}"
    );
    let app2 = TestApp::spawn();
    let manager = app2.manager_token();
    app2.call_next(&app2.staff_token("w02"), "w02");
    let audit = app2.get_as("/api/v1/audit", &manager);
    assert_eq!(audit.status, 200);
    let actions: Vec<(String, String)> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("demo-staff".into(), "call_next".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("demo-staff".into(), "sign_in".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("demo-manager".into(), "sign_in".into())),
        "{actions:?}"
    );
}

fn retry_after(app: &TestApp, staff: &str) -> u64 {
    let response = ureq::post(&app.url("/api/v1/sessions"))
        .send_json(json!({"staff": staff, "pin": "246810", "window": "w01"}));
    match response {
        Err(ureq::Error::Status(429, response)) => response
            .header("Retry-After")
            .and_then(|v| v.parse().ok())
            .expect("Retry-After"),
        other => panic!("expected 429, got {other:?}"),
    }
}

#[test]
fn a_kiosk_cannot_flood_the_hall_with_tickets_and_is_told_plainly() {
    let app = TestApp::spawn_with(&[("tickets_per_kiosk_per_minute", "5")]);
    for _ in 0..5 {
        app.issue_ticket("vehicle");
    }
    let sixth = app.post("/api/v1/tickets", KIOSK, json!({"service": "vehicle"}));
    assert_eq!(
        (sixth.status, sixth.code()),
        (429, "kiosk_busy"),
        "{}",
        sixth.text
    );
    assert_eq!(
        app.waiting("vehicle"),
        5,
        "the refused request changed nothing"
    );
    // Staff at a window are not limited by the kiosk's budget.
    let manager = app.manager_token();
    let staff_issued = app.post(
        "/api/v1/tickets",
        &manager,
        json!({"service": "vehicle", "channel": "staff"}),
    );
    assert_eq!(staff_issued.status, 201);
    // A kiosk may not issue in another kiosk's name, nor staff in a kiosk's that does not exist.
    let other = app.post(
        "/api/v1/tickets",
        &manager,
        json!({"service": "vehicle", "kiosk": "no-such-kiosk"}),
    );
    assert_eq!((other.status, other.code()), (400, "invalid_kiosk"));
}

#[test]
fn one_address_cannot_take_every_event_stream() {
    let app = TestApp::spawn_with(&[("streams_per_address", "3")]);
    let open: Vec<support::EventStream> = (0..3)
        .map(|_| support::EventStream::open(&app, None))
        .collect();
    assert_eq!(stream_status(&app, "/api/v1/events", None), 429);
    assert_eq!(stream_status(&app, "/api/v1/board/events", None), 429);
    drop(open);
    // Closed streams give their places back: at once when the client resets the connection,
    // at the next keep-alive (10 s) when it closes cleanly, since HTTP lets a client close its
    // side and still read.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while stream_status(&app, "/api/v1/board/events", None) != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "places never came back: {}",
            app.get("/metrics")
                .text
                .lines()
                .filter(|l| l.contains("sse"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn idempotency_keys_belong_to_their_caller_and_a_different_body_is_refused() {
    let app = TestApp::spawn();
    let manager = app.manager_token();
    let kiosk = app.issue_with_key("vehicle", "shared-key");
    assert_eq!(kiosk.status, 201);
    // The same key from the manager is the manager's own: a new ticket, not the kiosk's.
    let answer = ureq::post(&app.url("/api/v1/tickets"))
        .set("Authorization", &format!("Bearer {manager}"))
        .set("Idempotency-Key", "shared-key")
        .send_json(json!({"service": "vehicle", "channel": "staff"}))
        .unwrap();
    assert_eq!(answer.status(), 201);
    let body: Value = answer.into_json().unwrap();
    assert_ne!(body["id"], kiosk.body["id"]);
    // A retry with the same body gets the same ticket; a different body under the key, 422.
    assert_eq!(app.issue_with_key("vehicle", "shared-key").status, 200);
    let different = app.issue_with_key("household", "shared-key");
    assert_eq!(
        (different.status, different.code()),
        (422, "idempotency_key_reused")
    );
}

#[test]
fn staff_at_one_window_cannot_requeue_another_windows_no_show() {
    let app = TestApp::spawn();
    let here = app.staff_token("w09");
    let other = app.staff_token("w10");
    let ticket = app.issue_ticket("vehicle");
    app.call_next(&here, "w09");
    app.window_action(&here, "w09", "no-show", None);
    let id = ticket["id"].as_u64().unwrap();
    let refused = app.window_action(&other, "w10", "requeue", Some(json!({"ticket": id})));
    assert_eq!(
        (refused.status, refused.code()),
        (409, "marked_at_another_window")
    );
    assert_eq!(
        app.window_action(&here, "w09", "requeue", Some(json!({"ticket": id})))
            .status,
        200
    );
}

#[test]
fn every_answer_has_the_security_headers_head_works_and_errors_are_json() {
    let app = TestApp::spawn();
    for path in [
        "/",
        "/staff",
        "/manage",
        "/board",
        "/api/v1/hall",
        "/nowhere",
    ] {
        let response = match ureq::get(&app.url(path)).call() {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("{path}: {error}"),
        };
        assert_eq!(
            response.header("X-Content-Type-Options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(response.header("X-Frame-Options"), Some("DENY"), "{path}");
        assert_eq!(
            response.header("Referrer-Policy"),
            Some("no-referrer"),
            "{path}"
        );
        let policy = response
            .header("Content-Security-Policy")
            .unwrap_or("")
            .to_owned();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        if path == "/" {
            assert!(
                policy.contains("'sha256-")
                    && !policy.contains("script-src 'self' 'unsafe-inline'"),
                "pages run only their own scripts: {policy}"
            );
        }
    }
    // HEAD where GET is, as monitors probe.
    for path in ["/healthz", "/readyz", "/api/v1/hall", "/board"] {
        let head = ureq::head(&app.url(path)).call().unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert!(head.into_string().unwrap().is_empty());
    }
    // Ids out of range are simply not found; a raw body too large is a JSON 413.
    let manager = app.manager_token();
    let huge = app.get_as("/api/v1/tickets/9223372036854775808", &manager);
    assert_eq!(
        (huge.status, huge.code()),
        (404, "not_found"),
        "{}",
        huge.text
    );
    let too_big = app.raw(
        "POST",
        "/api/v1/windows/w02/transfer",
        Some(&manager),
        "application/json",
        &vec![b' '; 64 * 1024],
    );
    assert_eq!(too_big.status, 413, "{}", too_big.text);
    assert_eq!(too_big.code(), "payload_too_large", "{}", too_big.text);
    // A lowercase bearer signs out too.
    let token = app.staff_token("w02");
    let signed_out = app.request("DELETE", "/api/v1/sessions/current", None, None);
    assert_eq!(signed_out.status, 401);
    let response = ureq::delete(&app.url("/api/v1/sessions/current"))
        .set("Authorization", &format!("bearer {token}"))
        .call()
        .unwrap();
    assert_eq!(response.status(), 204);
}

#[test]
fn citizens_numbers_are_never_at_rest_nor_whole_in_a_log() {
    let app = TestApp::spawn();
    let manager = app.manager_token();
    let phone = "13912348765";
    let ticket = app.post(
        "/api/v1/tickets",
        KIOSK,
        json!({"service": "vehicle", "phone": phone}),
    );
    assert_eq!(ticket.status, 201);
    assert_eq!(ticket.body["phone_masked"], "139****8765");
    let slot = app.next_slot("housing-fund-loan");
    let booked = app.post(
        "/api/v1/appointments",
        &manager,
        json!({"service": "housing-fund-loan", "start": slot, "channel": "phone", "phone": phone, "name": "王小明"}),
    );
    assert_eq!(booked.status, 201, "{}", booked.text);
    let code = booked.body["code"].as_str().unwrap().to_owned();
    // The manager sees the name (opened for staff); a kiosk with the code does not.
    assert_eq!(booked.body["name"], "王小明");
    let by_kiosk = app.get_as(&format!("/api/v1/appointments/{code}"), KIOSK);
    assert_eq!(by_kiosk.body["name"], Value::Null);
    assert_eq!(by_kiosk.body["phone_masked"], "139****8765");
    // At rest: neither the number, nor the name, nor the booking code's whole in the log's data.
    let mut database = Vec::new();
    for file in ["hallq.db", "hallq.db-wal"] {
        if let Ok(bytes) = std::fs::read(app.data_dir.join(file)) {
            database.extend(bytes);
        }
    }
    let text = String::from_utf8_lossy(&database);
    assert!(!text.contains(phone), "the database holds the phone number");
    assert!(!text.contains("王小明"), "the database holds the name");
    // In the daemon's log: masked numbers and codes only. The booking's line is written as the
    // answer leaves; wait for it (with a deadline) rather than race it.
    let masked = format!("{}****{}", &code[..2], &code[6..]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut log = app.log();
    while !log.contains(&masked) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        log = app.log();
    }
    assert!(!log.contains(phone), "{log}");
    assert!(
        !log.contains(&code),
        "the log shows a whole booking code:\n{log}"
    );
    assert!(log.contains(&masked), "{log}");
    // The key is beside the database, readable by its owner only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(app.data_dir.join("secret.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0);
}
