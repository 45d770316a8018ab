//! Appointments through the real daemon: slots, booking with its limits, a race for the last
//! place, check-in by code and by phone, and bad input.

mod support;

use serde_json::{json, Value};
use std::sync::{Arc, Barrier};
use support::{TestApp, KIOSK};

fn today(app: &TestApp) -> String {
    app.get("/api/v1/hall").body["service_day"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn slots(app: &TestApp, service: &str, date: &str) -> Vec<Value> {
    let answer = app.get(&format!(
        "/api/v1/appointments/slots?service={service}&date={date}"
    ));
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body["slots"].as_array().unwrap().clone()
}

/// The first slot that has not started yet, as the slots API gives it.
fn next_slot(app: &TestApp, service: &str) -> Value {
    let start = app.next_slot(service);
    let slots = slots(app, service, &start[..10]);
    slots
        .into_iter()
        .find(|slot| slot["start"] == start.as_str())
        .expect("the slot")
}

fn book(app: &TestApp, token: &str, service: &str, start: &str, phone: &str) -> support::Answer {
    app.post("/api/v1/appointments", token, json!({"service": service, "start": start, "channel": "phone", "phone": phone, "name": "张三"}))
}

#[test]
fn book_then_check_in_by_code_and_by_phone() {
    let app = TestApp::spawn();
    let manager = app.manager_token();
    let slot = next_slot(&app, "property-transfer");
    let start = slot["start"].as_str().unwrap();
    assert_eq!(slot["capacity"], 4);

    let booked = book(&app, &manager, "property-transfer", start, "13800001111");
    assert_eq!(booked.status, 201, "{}", booked.text);
    let code = booked.body["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 8);
    assert_eq!(booked.body["status"], "booked");
    assert_eq!(booked.body["phone_masked"], "138****1111");
    assert_eq!(booked.body["start"], start);
    let date = &start[..10];
    let again = slots(&app, "property-transfer", date);
    assert_eq!(
        again.iter().find(|s| s["start"] == start).unwrap()["booked"],
        1
    );

    // The next slot starts within 30 minutes: check-in is open.
    app.issue_ticket("property-transfer");
    let ticket = app.post(
        &format!("/api/v1/appointments/{code}/check-in"),
        KIOSK,
        json!({}),
    );
    assert_eq!(ticket.status, 201, "{}", ticket.text);
    assert_eq!(ticket.body["priority"], "appointment");
    assert_eq!(ticket.body["channel"], "appointment");
    assert_eq!(
        ticket.body["ahead"], 0,
        "a checked-in appointment goes before walk-ins"
    );
    assert_eq!(ticket.body["print"]["status"], "printed");
    let twice = app.post(
        &format!("/api/v1/appointments/{code}/check-in"),
        KIOSK,
        json!({}),
    );
    assert_eq!((twice.status, twice.code()), (409, "invalid_state"));
    assert_eq!(
        app.get_as(&format!("/api/v1/appointments/{code}"), &manager)
            .body["status"],
        "checked_in"
    );

    // By phone number.
    let second = book(
        &app,
        &manager,
        "housing-fund-loan",
        next_slot(&app, "housing-fund-loan")["start"]
            .as_str()
            .unwrap(),
        "13900002222",
    );
    assert_eq!(second.status, 201, "{}", second.text);
    let code = second.body["code"].as_str().unwrap().to_owned();
    let suffix = &code[code.len() - 4..];
    // At a kiosk a phone number alone checks nothing in, and tells nothing either: a booked
    // number and an unbooked one get the same answer without the code's end.
    let bare = app.post(
        "/api/v1/appointments/check-in",
        KIOSK,
        json!({"phone": "13900002222"}),
    );
    assert_eq!((bare.status, bare.code()), (400, "code_suffix_required"));
    let wrong = app.post(
        "/api/v1/appointments/check-in",
        KIOSK,
        json!({"phone": "13900002222", "code_suffix": "ZZZZ"}),
    );
    let nobody = app.post(
        "/api/v1/appointments/check-in",
        KIOSK,
        json!({"phone": "13700000000", "code_suffix": suffix}),
    );
    for answer in [&wrong, &nobody] {
        assert_eq!((answer.status, answer.code()), (404, "unknown_appointment"));
    }
    assert_eq!(
        wrong.body["error"]["message"],
        nobody.body["error"]["message"]
    );
    let by_phone = app.post(
        "/api/v1/appointments/check-in",
        KIOSK,
        json!({"phone": "13900002222", "code_suffix": suffix.to_lowercase()}),
    );
    assert_eq!(by_phone.status, 201, "{}", by_phone.text);
    assert_eq!(by_phone.body["service"], "housing-fund-loan");
}

#[test]
fn two_kiosks_race_for_the_last_place_and_exactly_one_wins() {
    let app = TestApp::spawn();
    let manager = app.manager_token();
    let slot = next_slot(&app, "housing-fund-loan");
    let start = slot["start"].as_str().unwrap().to_owned();
    for phone in ["13800000001", "13800000002", "13800000003"] {
        assert_eq!(
            book(&app, &manager, "housing-fund-loan", &start, phone).status,
            201
        );
    }
    let barrier = Arc::new(Barrier::new(2));
    let racers: Vec<_> = ["13800000004", "13800000005"]
        .into_iter()
        .map(|phone| {
            let (base, start, manager, barrier) = (
                app.base.clone(),
                start.clone(),
                manager.clone(),
                barrier.clone(),
            );
            std::thread::spawn(move || {
                let app = TestApp::attach(&base);
                barrier.wait();
                book(&app, &manager, "housing-fund-loan", &start, phone)
            })
        })
        .collect();
    let mut outcomes: Vec<(u16, String)> = racers
        .into_iter()
        .map(|r| r.join().unwrap())
        .map(|a| (a.status, a.code().to_owned()))
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [(201, String::new()), (409, "slot_full".to_owned())]
    );
    let date = &start[..10];
    let full = slots(&app, "housing-fund-loan", date)
        .into_iter()
        .find(|s| s["start"] == start.as_str())
        .unwrap();
    assert_eq!(
        (full["booked"].as_u64(), full["capacity"].as_u64()),
        (Some(4), Some(4))
    );
}

#[test]
fn booking_rules_and_bad_input() {
    let app = TestApp::spawn();
    let manager = app.manager_token();
    let today = today(&app);
    let later: Vec<Value> = slots(&app, "property-transfer", &today);
    let tomorrow: hallq_core::jiff::civil::Date = today.parse().unwrap();
    let tomorrow_slots = slots(
        &app,
        "property-transfer",
        &tomorrow.tomorrow().unwrap().to_string(),
    );
    let far_slot = tomorrow_slots.last().unwrap()["start"]
        .as_str()
        .unwrap()
        .to_owned();
    let past_slot = later.first().unwrap()["start"].as_str().unwrap().to_owned();

    // A slot tomorrow evening: check-in is too early now.
    let booked = book(
        &app,
        &manager,
        "property-transfer",
        &far_slot,
        "13600000001",
    );
    assert_eq!(booked.status, 201, "{}", booked.text);
    let code = booked.body["code"].as_str().unwrap();
    let early = app.post(
        &format!("/api/v1/appointments/{code}/check-in"),
        KIOSK,
        json!({}),
    );
    assert_eq!((early.status, early.code()), (409, "too_early"));
    // Two bookings per phone per day.
    let second_slot = tomorrow_slots[tomorrow_slots.len() - 2]["start"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        book(
            &app,
            &manager,
            "property-transfer",
            &second_slot,
            "13600000001"
        )
        .status,
        201
    );
    let third_slot = tomorrow_slots[tomorrow_slots.len() - 3]["start"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        book(
            &app,
            &manager,
            "property-transfer",
            &third_slot,
            "13600000001"
        )
        .code(),
        "booking_limit_reached"
    );
    // Cancelling frees the place and cannot be done twice.
    let cancelled = app.request(
        "DELETE",
        &format!("/api/v1/appointments/{code}"),
        Some(&manager),
        None,
    );
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.text);
    assert_eq!(
        app.request(
            "DELETE",
            &format!("/api/v1/appointments/{code}"),
            Some(&manager),
            None
        )
        .code(),
        "invalid_state"
    );

    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"service": "property-transfer", "start": far_slot, "channel": "phone", "phone": "12345"}),
            400,
            "invalid_phone",
        ),
        (
            json!({"service": "property-transfer", "start": "tomorrow at nine", "channel": "phone", "phone": "13600000009"}),
            400,
            "invalid_start",
        ),
        (
            json!({"service": "property-transfer", "start": far_slot, "channel": "fax", "phone": "13600000009"}),
            400,
            "invalid_channel",
        ),
        (
            json!({"service": "property-transfer", "start": past_slot, "channel": "phone", "phone": "13600000009"}),
            409,
            "slot_in_past",
        ),
        (
            json!({"service": "property-transfer", "start": "2026-11-30T09:10:00+08:00", "channel": "phone", "phone": "13600000009"}),
            422,
            "slot_not_offered",
        ),
        (
            json!({"service": "tax-general", "start": far_slot, "channel": "phone", "phone": "13600000009"}),
            422,
            "not_bookable",
        ),
        (
            json!({"service": "nope", "start": far_slot, "channel": "phone", "phone": "13600000009"}),
            404,
            "unknown_service",
        ),
        (
            json!({"service": "property-transfer", "start": far_slot, "channel": "phone", "phone": "13600000009", "vip": true}),
            400,
            "invalid_json",
        ),
    ];
    for (body, status, code) in cases {
        let answer = app.post("/api/v1/appointments", &manager, body.clone());
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{body}: {}",
            answer.text
        );
    }
    // Kiosks book on site only.
    assert_eq!(
        book(
            &app,
            KIOSK,
            "property-transfer",
            &second_slot,
            "13600000002"
        )
        .status,
        403
    );
    for (query, code) in [
        (
            "service=property-transfer&date=2020-01-01",
            "date_out_of_range",
        ),
        (
            "service=property-transfer&date=2099-01-01",
            "date_out_of_range",
        ),
        ("service=property-transfer&date=30/11/2026", "invalid_date"),
    ] {
        assert_eq!(
            app.get(&format!("/api/v1/appointments/slots?{query}"))
                .code(),
            code,
            "{query}"
        );
    }
    assert_eq!(
        app.get(&format!(
            "/api/v1/appointments/slots?service=nope&date={today}"
        ))
        .status,
        404
    );
    assert_eq!(
        app.post("/api/v1/appointments/NOSUCHCD/check-in", KIOSK, json!({}))
            .status,
        404
    );
    assert_eq!(
        app.get(&format!(
            "/api/v1/appointments/slots?service=tax-general&date={today}"
        ))
        .body["slots"],
        json!([])
    );
}

#[test]
fn bookings_survive_a_restart() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let mut app = TestApp::spawn_in(&data, &support::demo_config());
    let manager = app.manager_token();
    let slot = next_slot(&app, "housing-fund-loan");
    let start = slot["start"].as_str().unwrap().to_owned();
    let code = book(&app, &manager, "housing-fund-loan", &start, "13500000000").body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = app.terminate(std::time::Duration::from_secs(5));
    assert!(status.success());
    let app = TestApp::spawn_in(&data, &support::demo_config());
    let slot = slots(&app, "housing-fund-loan", &start[..10])
        .into_iter()
        .find(|s| s["start"] == start.as_str())
        .unwrap();
    assert_eq!(slot["booked"], 1);
    assert_eq!(
        app.post(
            &format!("/api/v1/appointments/{code}/check-in"),
            KIOSK,
            json!({})
        )
        .status,
        201
    );
}
