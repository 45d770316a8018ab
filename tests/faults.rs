//! Faults: the box loses power (kill -9) while kiosks and windows are busy; the disk fills up.

mod support;

use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{TestApp, KIOSK};

#[derive(Clone, Debug)]
struct Acknowledged {
    id: u64,
    number: String,
    service: String,
}

const SERVICES: [&str; 4] = ["tax-general", "tax-invoice", "social-insurance", "vehicle"];

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(5))
        .build()
}

/// Kiosks issuing as fast as they can; each acknowledged (201) ticket is recorded.
fn issuer(
    base: String,
    client: usize,
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<Acknowledged>>>,
) {
    let agent = agent();
    let mut serial = 0;
    while !stop.load(Ordering::SeqCst) {
        let service = SERVICES[(client + serial) % SERVICES.len()];
        serial += 1;
        let result = agent
            .post(&format!("{base}/api/v1/tickets"))
            .set("Authorization", &format!("Bearer {KIOSK}"))
            .send_json(json!({"service": service}));
        match result {
            Ok(response) if response.status() == 201 => {
                let body: serde_json::Value = response.into_json().expect("ticket json");
                acknowledged.lock().unwrap().push(Acknowledged {
                    id: body["id"].as_u64().unwrap(),
                    number: body["number"].as_str().unwrap().to_owned(),
                    service: body["service"].as_str().unwrap().to_owned(),
                });
            }
            // The daemon died under us: no answer, no promise.
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// A window calling the next ticket over and over; acknowledged calls are recorded.
fn caller(
    base: String,
    token: String,
    window: &'static str,
    stop: Arc<AtomicBool>,
    called: Arc<Mutex<Vec<u64>>>,
) {
    let agent = agent();
    while !stop.load(Ordering::SeqCst) {
        let result = agent
            .post(&format!("{base}/api/v1/windows/{window}/call-next"))
            .set("Authorization", &format!("Bearer {token}"))
            .call();
        match result {
            Ok(response) if response.status() == 200 => {
                let body: serde_json::Value = response.into_json().expect("call json");
                called
                    .lock()
                    .unwrap()
                    .push(body["ticket"]["id"].as_u64().unwrap());
            }
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_ticket() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let config = support::demo_config_with(temp.path(), support::UNLIMITED_KIOSK);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let called = Arc::new(Mutex::new(Vec::new()));
    for round in 0..5u64 {
        let mut app = TestApp::spawn_in(&data, &config);
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for client in 0..8 {
            let (base, stop, acknowledged) = (app.base.clone(), stop.clone(), acknowledged.clone());
            threads.push(std::thread::spawn(move || {
                issuer(base, client, stop, acknowledged)
            }));
        }
        for window in ["w02", "w04"] {
            let token = app.staff_token(window);
            let (base, stop, called) = (app.base.clone(), stop.clone(), called.clone());
            threads.push(std::thread::spawn(move || {
                caller(base, token, window, stop, called)
            }));
        }
        // Let the load run, then pull the plug at a different moment each round.
        std::thread::sleep(Duration::from_millis(400 + 150 * round));
        app.kill9();
        stop.store(true, Ordering::SeqCst);
        for thread in threads {
            thread.join().unwrap();
        }
    }

    let app = TestApp::spawn_in(&data, &config);
    let manager = app.manager_token();
    let acknowledged = acknowledged.lock().unwrap().clone();
    let called = called.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 100,
        "too little load to mean anything: {}",
        acknowledged.len()
    );
    for ticket in &acknowledged {
        let found = app.get_as(&format!("/api/v1/tickets/{}", ticket.id), &manager);
        assert_eq!(
            found.status, 200,
            "acknowledged ticket {} {} vanished",
            ticket.id, ticket.number
        );
        assert_eq!(found.body["number"], ticket.number.as_str());
        assert_eq!(found.body["service"], ticket.service.as_str());
    }
    for id in &called {
        let found = app.get_as(&format!("/api/v1/tickets/{id}"), &manager);
        assert_ne!(
            found.body["status"], "waiting",
            "acknowledged call of ticket {id} was lost"
        );
    }
    let numbers: HashSet<(&str, &str)> = acknowledged
        .iter()
        .map(|t| (t.service.as_str(), t.number.as_str()))
        .collect();
    assert_eq!(
        numbers.len(),
        acknowledged.len(),
        "a number was handed out twice"
    );

    // The database's own view: every ticket of the day has a unique number, the log no gap.
    let day: jiff_day::Day = app.get("/api/v1/hall").body["service_day"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let store = hallq_store::Store::open_reader(&data.join("hallq.db")).unwrap();
    let tickets = store.tickets_of_day(day.0).unwrap();
    assert!(tickets.len() >= acknowledged.len());
    let mut per_service: HashMap<String, HashSet<String>> = HashMap::new();
    for ticket in &tickets {
        assert!(
            per_service
                .entry(ticket.number_service.0.clone())
                .or_default()
                .insert(ticket.number.clone()),
            "number {} issued twice",
            ticket.number
        );
    }
    let log = store.check_log().unwrap();
    assert!(log.is_gap_free(), "event log has a gap: {log:?}");
    // Numbering continues after the last number, whatever was lost in flight.
    let next = app.issue_ticket("vehicle");
    let highest = tickets
        .iter()
        .filter(|t| t.number_service.0 == "vehicle")
        .map(|t| t.number[1..].parse::<u32>().unwrap())
        .max()
        .unwrap();
    assert_eq!(next["number"], format!("J{:03}", highest + 1));
}

/// Parses the service day for the store query without a jiff dependency in the tests.
mod jiff_day {
    pub struct Day(pub hallq_core::jiff::civil::Date);
    impl std::str::FromStr for Day {
        type Err = String;
        fn from_str(text: &str) -> Result<Self, String> {
            text.parse().map(Day).map_err(|e| format!("{e}"))
        }
    }
}

#[test]
fn a_full_disk_fails_requests_clearly_and_keeps_nothing_half_written() {
    let temp = tempfile::tempdir().unwrap();
    let mut settings = support::UNLIMITED_KIOSK.to_vec();
    settings.push(("max_size_mb", "1"));
    let config = support::demo_config_with(temp.path(), &settings);
    let data = temp.path().join("data");
    let mut app = TestApp::spawn_in(&data, &config);

    let mut acknowledged = 0u64;
    let refused = loop {
        let answer = app.post("/api/v1/tickets", KIOSK, json!({"service": "entry-exit"}));
        match answer.status {
            201 => acknowledged += 1,
            _ => break answer,
        }
        assert!(acknowledged < 50_000, "a 1 MB database never filled up");
    };
    assert_eq!(
        (refused.status, refused.code()),
        (507, "storage_full"),
        "{}",
        refused.text
    );
    assert!(refused.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("max_size_mb"));
    let ready = app.get("/readyz");
    assert_eq!(
        (ready.status, ready.code()),
        (507, "storage_full"),
        "{}",
        ready.text
    );
    // Reads keep working, and show exactly what was acknowledged.
    assert_eq!(app.get("/api/v1/hall").status, 200);
    assert_eq!(app.waiting("entry-exit"), acknowledged);
    assert_eq!(app.get("/healthz").status, 200);

    // After a restart the same holds: nothing half-written survived.
    let (status, _) = app.terminate(Duration::from_secs(5));
    assert!(status.success());
    let app = TestApp::spawn_in(&data, &config);
    assert_eq!(app.waiting("entry-exit"), acknowledged);
    let store = hallq_store::Store::open_reader(&data.join("hallq.db")).unwrap();
    assert!(store.check_log().unwrap().is_gap_free());

    // With room again (a bigger limit), the hall goes on numbering where it stopped.
    drop(app);
    settings.pop();
    settings.push(("max_size_mb", "64"));
    let config = support::demo_config_with(temp.path(), &settings);
    let app = TestApp::spawn_in(&data, &config);
    assert_eq!(app.get("/readyz").status, 200);
    let next = app.issue_ticket("entry-exit");
    assert_eq!(next["number"], format!("H{:03}", acknowledged + 1));
}
