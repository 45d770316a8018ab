//! The city hub on its own, against a real PostgreSQL: halls registered with a token, pushes
//! stored once and in order, bad and hostile input refused without a trace, managers, the
//! hub's share of bookings and its feed, calendars, and PostgreSQL restarted under the hub.

#[path = "support/hub.rs"]
mod hub;
#[path = "support/postgres.rs"]
mod postgres;

use hub::{cli, wait_until, TestHub};
use serde_json::{json, Value};
use std::time::Duration;

fn event(seq: u64) -> Value {
    json!({"seq": seq, "kind": "ticket_called", "at_ms": 1_795_000_000_000i64 + seq as i64,
           "data": {"kind": "ticket_called", "number": format!("A{seq:03}")}})
}

fn push(
    hub: &TestHub,
    hall: &str,
    token: &str,
    after: u64,
    seqs: std::ops::RangeInclusive<u64>,
) -> hub::Reply {
    let events: Vec<Value> = seqs.map(event).collect();
    hub.post(
        &format!("/v1/halls/{hall}/events"),
        token,
        json!({"after": after, "events": events, "log_seq": after + 100}),
    )
}

fn stored_seqs(hub: &TestHub, hall: &str) -> Vec<u64> {
    postgres::query(
        &hub.database_url,
        &format!("SELECT seq FROM hall_events WHERE hall = '{hall}' ORDER BY seq"),
    )
    .iter()
    .map(|s| s.parse().unwrap())
    .collect()
}

#[test]
fn a_hall_is_registered_and_its_pushes_are_stored_once_in_order() {
    let database = postgres::database();
    let hub = TestHub::start(&database);
    let (ok, out, _) = hub.cli(&["add-hall", "north", "--name", "北区政务服务中心"], None);
    assert!(ok);
    let token = out.lines().last().unwrap().trim().to_owned();
    assert!(token.starts_with("hall-") && token.len() > 60, "{out}");
    // The token is shown once and kept only as a hash.
    let kept = postgres::query(
        &database,
        "SELECT token_sha256 FROM halls WHERE id = 'north'",
    );
    assert_eq!(kept.len(), 1);
    assert!(!kept[0].contains(&token[5..]));
    // Registering again is refused and says what to do instead.
    let (ok, _, err) = hub.cli(&["add-hall", "north", "--name", "x"], None);
    assert!(!ok && err.contains("new-token"), "{err}");

    let first = push(&hub, "north", &token, 0, 1..=3);
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(
        first.body,
        json!({"last_seq": 3, "stored": 3, "duplicates": 0})
    );
    // A retry after a lost answer, overlapping: the known events are dropped.
    let retry = push(&hub, "north", &token, 1, 2..=5);
    assert_eq!(
        retry.body,
        json!({"last_seq": 5, "stored": 2, "duplicates": 2})
    );
    // A push past the hub's copy would leave a hole: refused, with where to start.
    let ahead = push(&hub, "north", &token, 9, 10..=10);
    assert_eq!((ahead.status, ahead.code()), (409, "sequence_gap"));
    assert_eq!(ahead.body["last_seq"], 5);
    assert_eq!(stored_seqs(&hub, "north"), [1, 2, 3, 4, 5]);
    let summary = hub.summary("north", &token);
    assert_eq!(summary["hall"], "north");
    assert_eq!(summary["events_received"], 5);
    assert_eq!(summary["last_seq"], 5);
    assert_eq!(summary["duplicates_dropped"], 2);
    assert_eq!(summary["snapshots_received"], 0);
    // The stored event keeps what the hall sent.
    let data = postgres::query(&database, "SELECT data->>'number', kind, extract(epoch FROM at)::int8 FROM hall_events WHERE hall = 'north' AND seq = 4");
    assert_eq!(data, ["A004|ticket_called|1795000000"]);
}

#[test]
fn wrong_tokens_and_bad_pushes_are_refused_and_store_nothing() {
    let database = postgres::database();
    let hub = TestHub::start(&database);
    let north = hub.add_hall("north", "北区");
    let south = hub.add_hall("south", "南区");
    // No token, a wrong one, and another hall's token: 401 and nothing stored.
    for token in ["", "hall-wrong", south.as_str()] {
        let reply = push(&hub, "north", token, 0, 1..=2);
        assert_eq!(
            (reply.status, reply.code()),
            (401, "unauthorized"),
            "{token}"
        );
        let summary = hub.get_as("/v1/halls/north/summary", token);
        assert_eq!(summary.status, 401);
    }
    assert!(stored_seqs(&hub, "north").is_empty());
    let bad: Vec<(Value, &str)> = vec![
        (json!({"after": 0}), "invalid_body"),
        (
            json!({"after": 0, "log_seq": 5, "events": [event(2)]}),
            "events_out_of_order",
        ),
        (
            json!({"after": 0, "log_seq": 5, "events": [event(1), event(3)]}),
            "events_out_of_order",
        ),
        (
            json!({"after": 0, "log_seq": 1, "events": [event(1), event(2)]}),
            "invalid_log_seq",
        ),
        (
            json!({"after": 0, "log_seq": 5, "events": [{"seq": 1, "kind": "DROP TABLE", "at_ms": 0, "data": {}}]}),
            "invalid_kind",
        ),
        (
            json!({"after": -1, "log_seq": 5, "events": []}),
            "invalid_body",
        ),
        (json!("not an object"), "invalid_body"),
    ];
    for (body, code) in bad {
        let reply = hub.post("/v1/halls/north/events", &north, body.clone());
        assert_eq!(
            (reply.status, reply.code()),
            (400, code),
            "{body}: {}",
            reply.text
        );
    }
    let too_many: Vec<Value> = (1..=1001).map(event).collect();
    let reply = hub.post(
        "/v1/halls/north/events",
        &north,
        json!({"after": 0, "log_seq": 2000, "events": too_many}),
    );
    assert_eq!((reply.status, reply.code()), (413, "too_many_events"));
    // An unknown hall and a hostile id are plain 404s (or 401: the token fits no hall).
    let reply = push(&hub, "nowhere", &north, 0, 1..=1);
    assert_eq!(reply.status, 401);
    let reply = hub.get_as("/v1/halls/..%2F..%2Fetc/summary", &north);
    assert!(matches!(reply.status, 404 | 401), "{}", reply.text);
    assert!(stored_seqs(&hub, "north").is_empty());
    let unknown = hub.get("/v2/anything");
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    // Nothing of it made the hub fall over.
    assert_eq!(hub.get("/readyz").status, 200);
}

#[test]
fn managers_sign_in_with_a_pin_from_stdin_and_are_locked_out_after_failures() {
    let database = postgres::database();
    let hub = TestHub::start(&database);
    let (ok, _, err) = hub.cli(&["add-manager", "city", "--name", "管理员"], None);
    assert!(!ok && err.contains("standard input"), "{err}");
    let (ok, _, err) = hub.cli(&["add-manager", "city", "--name", "管理员"], Some("123\n"));
    assert!(!ok && err.contains("6 characters"), "{err}");
    let token = hub.manager_token();
    hub.add_hall("north", "北区");
    let list = hub.get_as("/v1/halls", &token);
    assert_eq!(list.status, 200);
    assert_eq!(list.body["halls"][0]["id"], "north");
    assert_eq!(hub.get_as("/v1/halls/north/summary", &token).status, 200);
    // A hall's token is not a manager's.
    let hall = hub.add_hall("south", "南区");
    assert_eq!(hub.get_as("/v1/halls", &hall).status, 401);
    for _ in 0..5 {
        let wrong = hub.send(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"manager": "city", "pin": "00000000"})),
        );
        assert_eq!(wrong.status, 401);
    }
    let locked = hub.send(
        "POST",
        "/v1/sessions",
        None,
        Some(json!({"manager": "city", "pin": "24681357"})),
    );
    assert_eq!((locked.status, locked.code()), (429, "locked_out"));
    let nobody = hub.send(
        "POST",
        "/v1/sessions",
        None,
        Some(json!({"manager": "nobody", "pin": "24681357"})),
    );
    assert_eq!(nobody.status, 401);
}

fn profile(hub_share: u32) -> Value {
    json!({
        "name": "北区政务服务中心", "level": "区级", "time_zone": "Asia/Shanghai",
        "services": [{"id": "property-transfer", "name": "不动产转移登记"}],
        "plans": [{"service": "property-transfer",
                   "days": ["workday", "makeup_workday", "weekend", "holiday"],
                   "slots": [["00:00:00", "12:00:00"], ["12:00:00", "23:00:00"]],
                   "capacity": 4, "hub_share": hub_share}],
        "rules": {"check_in_before_min": 30, "check_in_after_min": 15,
                  "per_person_per_day": 2, "book_ahead_days": 3},
        "calendar_years": [2026]
    })
}

fn tomorrow() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Shanghai is UTC+8 all year.
    let day = (now + 8 * 3600) / 86_400 + 1;
    let (y, m, d) = civil_from_days(day as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[test]
fn the_hub_books_only_its_share_and_feeds_the_hall() {
    let database = postgres::database();
    let hub = TestHub::start(&database);
    let hall = hub.add_hall("north", "北区");
    let manager = hub.manager_token();
    let date = tomorrow();
    let slots_path = format!("/v1/halls/north/slots?service=property-transfer&date={date}");
    // Before the hall has told the hub its plans, nothing can be booked.
    let early = hub.get(&slots_path);
    assert_eq!((early.status, early.code()), (409, "hall_profile_missing"));
    let put = hub.send(
        "PUT",
        "/v1/halls/north/profile",
        Some(&hall),
        Some(profile(2)),
    );
    assert_eq!(put.status, 204, "{}", put.text);
    let slots = hub.get(&slots_path);
    assert_eq!(slots.status, 200, "{}", slots.text);
    let first = &slots.body["slots"][0];
    assert_eq!(
        (first["hub_capacity"].as_u64(), first["available"].as_u64()),
        (Some(2), Some(2))
    );
    let start = first["start"].as_str().unwrap().to_owned();
    let book = |phone: &str| {
        hub.post(
            "/v1/halls/north/appointments",
            &manager,
            json!({"service": "property-transfer", "start": start, "channel": "online", "phone": phone, "name": "李四"}),
        )
    };
    let one = book("13900000001");
    assert_eq!(one.status, 201, "{}", one.text);
    let code = one.body["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with(|c: char| c.is_ascii_uppercase()) && code.len() == 8);
    assert_eq!(one.body["phone_masked"], "139****0001");
    assert_eq!(book("13900000002").status, 201);
    // The hub's two places are gone; the hall's two are not the hub's to give.
    let full = book("13900000003");
    assert_eq!((full.status, full.code()), (409, "slot_full"));
    // Hostile and wrong bookings.
    for (body, code) in [
        (
            json!({"service": "property-transfer", "start": start, "channel": "onsite", "phone": "13900000004"}),
            "invalid_channel",
        ),
        (
            json!({"service": "property-transfer", "start": start, "channel": "online", "phone": "12345"}),
            "invalid_phone",
        ),
        (
            json!({"service": "property-transfer", "start": "yesterday", "channel": "online", "phone": "13900000004"}),
            "invalid_start",
        ),
        (
            json!({"service": "property-transfer", "start": "2020-01-01T09:00:00+08:00", "channel": "online", "phone": "13900000004"}),
            "slot_not_offered",
        ),
    ] {
        let reply = hub.post("/v1/halls/north/appointments", &manager, body.clone());
        assert_eq!(reply.code(), code, "{body}: {}", reply.text);
        assert!(reply.status >= 400 && reply.status < 500);
    }
    // Citizens' numbers are kept hashed and sealed, never as such.
    let kept = postgres::query(
        &database,
        "SELECT phone_key || phone_sealed || phone_masked FROM hub_bookings",
    );
    assert!(
        kept.iter().all(|row| !row.contains("13900000001")),
        "{kept:?}"
    );

    // The hall's feed: both bookings, with the numbers the hall needs to check them in by phone.
    let feed = hub.get_as("/v1/halls/north/appointments", &hall);
    assert_eq!(feed.status, 200, "{}", feed.text);
    let bookings = feed.body["bookings"].as_array().unwrap().clone();
    assert_eq!(bookings.len(), 2);
    assert_eq!(bookings[0]["code"], code.as_str());
    assert_eq!(bookings[0]["phone"], "13900000001");
    assert_eq!(bookings[0]["change"], "booked");
    // Only the hall itself reads its feed.
    assert_eq!(
        hub.get_as("/v1/halls/north/appointments", &manager).status,
        401
    );
    // The hall applied the first and refused the second.
    let second = bookings[1]["code"].as_str().unwrap().to_owned();
    let ack = hub.post(
        "/v1/halls/north/appointments/ack",
        &hall,
        json!({"through": bookings[1]["id"], "refused": [{"code": second, "reason": "slot_full"}]}),
    );
    assert_eq!(ack.status, 204, "{}", ack.text);
    let refused = hub.get_as(&format!("/v1/halls/north/appointments/{second}"), &manager);
    assert_eq!(refused.body["status"], "refused");
    assert_eq!(refused.body["refused_reason"], "slot_full");
    // Acknowledged changes are not fed again; a cancellation is.
    assert_eq!(
        hub.get_as("/v1/halls/north/appointments", &hall).body["bookings"],
        json!([])
    );
    let cancelled = hub.send(
        "DELETE",
        &format!("/v1/halls/north/appointments/{code}"),
        Some(&manager),
        None,
    );
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.text);
    let again = hub.send(
        "DELETE",
        &format!("/v1/halls/north/appointments/{code}"),
        Some(&manager),
        None,
    );
    assert_eq!((again.status, again.code()), (409, "invalid_state"));
    let feed = hub.get_as("/v1/halls/north/appointments", &hall);
    let changes = feed.body["bookings"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["change"], "cancelled");
    assert!(changes[0].get("phone").is_none_or(Value::is_null));
    // A place freed by a cancellation (or a refusal) can be booked again.
    assert_eq!(book("13900000005").status, 201);
    let beyond = hub.post(
        "/v1/halls/north/appointments/ack",
        &hall,
        json!({"through": 1_000_000}),
    );
    assert_eq!((beyond.status, beyond.code()), (422, "ack_beyond_feed"));
    // The hall's check-in, pushed with its log, reaches the hub's booking.
    let fresh = hub.get_as("/v1/halls/north/appointments", &hall).body["bookings"][1]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let pushed = hub.post(
        "/v1/halls/north/events",
        &hall,
        json!({"after": 0, "log_seq": 1, "events": [{"seq": 1, "kind": "appointment_checked_in", "at_ms": 1_795_000_000_000i64,
               "data": {"kind": "appointment_checked_in", "code": fresh, "ticket": 7, "number": "Y007"}}]}),
    );
    assert_eq!(pushed.status, 200, "{}", pushed.text);
    let checked = hub.get_as(&format!("/v1/halls/north/appointments/{fresh}"), &manager);
    assert_eq!(checked.body["status"], "checked_in");
}

#[test]
fn calendars_are_loaded_once_and_handed_to_every_hall() {
    let database = postgres::database();
    let hub = TestHub::start(&database);
    let manager = hub.manager_token();
    let not_a_calendar = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let (ok, _, err) = hub.cli(&["add-calendar", not_a_calendar.to_str().unwrap()], None);
    assert!(!ok && err.contains("calendar"), "{err}");
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../kiosk-config/calendar/2026.json");
    let (ok, out, err) = hub.cli(&["add-calendar", shipped.to_str().unwrap()], None);
    assert!(ok, "{err}");
    assert!(out.contains("2026"));
    assert_eq!(hub.get("/v1/calendars").body, json!({"years": [2026]}));
    let year = hub.get("/v1/calendars/2026");
    assert_eq!(year.status, 200);
    assert_eq!(year.body["year"], 2026);
    assert_eq!(hub.get("/v1/calendars/2031").status, 404);
    assert_eq!(hub.get("/v1/calendars/abc").code(), "invalid_year");
    // A manager uploads the next year; a wrong file is refused with the entry at fault.
    let wrong =
        r#"{"year": 2027, "days": [{"name": "元旦", "date": "2026-01-01", "isOffDay": true}]}"#;
    let put =
        |body: &str, token: Option<&str>| hub.send_text("PUT", "/v1/calendars/2027", token, body);
    let refused = put(wrong, Some(&manager));
    assert_eq!((refused.status, refused.code()), (400, "invalid_calendar"));
    assert!(refused.text.contains("days[0]"), "{}", refused.text);
    let good =
        r#"{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}"#;
    // Without a manager's session nobody uploads.
    assert_eq!(put(good, None).status, 401);
    assert_eq!(put(good, Some(&manager)).status, 204);
    assert_eq!(
        hub.get("/v1/calendars").body,
        json!({"years": [2026, 2027]})
    );
}

#[test]
fn postgresql_restarted_under_the_hub_costs_only_the_requests_in_between() {
    let cluster = postgres::Cluster::start();
    let database = cluster.create_database();
    let hub = TestHub::start(&database);
    let token = hub.add_hall("north", "北区");
    assert_eq!(push(&hub, "north", &token, 0, 1..=10).status, 200);
    cluster.stop_server();
    let down = push(&hub, "north", &token, 10, 11..=20);
    assert_eq!(
        (down.status, down.code()),
        (503, "database_unavailable"),
        "{}",
        down.text
    );
    assert_eq!(hub.get("/readyz").status, 503);
    assert_eq!(hub.get("/healthz").status, 200);
    cluster.start_server();
    // The pool replaces its broken connections: the same push succeeds without restarting.
    let mut last = None;
    wait_until(Duration::from_secs(30), "the hub to store again", || {
        let reply = push(&hub, "north", &token, 10, 11..=20);
        last = Some(reply.text.clone());
        reply.status == 200
    });
    assert_eq!(stored_seqs(&hub, "north"), (1..=20).collect::<Vec<u64>>());
    assert_eq!(hub.get("/readyz").status, 200);
    let metrics = hub.get("/metrics").text;
    assert!(
        metrics.contains("hallq_hub_events_stored_total 20"),
        "{metrics}"
    );
}

#[test]
fn a_wrong_database_url_is_refused_with_what_to_do() {
    let (ok, _, err) = cli("not a url at all", &["migrate"], None);
    assert!(!ok);
    assert!(err.contains("database URL"), "{err}");
}
