//! The soak: mixed load on the real daemon — kiosks issuing (with idempotency keys, retried
//! through outages), windows calling, recalling, transferring, marking no-shows and
//! completing, bookings checked in, a live event stream — while the daemon is killed with
//! SIGKILL every so often and the ticket printer keeps running out of paper. Afterwards:
//! nothing acknowledged was lost or duplicated, numbers are unique, the log is gap-free, and the
//! stream never repeated or reordered an event.
//!
//! Two minutes in the suite (`scripts/test`); `scripts/soak` runs it for 30 minutes
//! (`HALLQ_SOAK_SECONDS`, `HALLQ_SOAK_KILL_EVERY_S`).

mod support;

use hallq_devices::simulator::PrinterSimulator;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use support::{EventStream, TestApp, KIOSK, UNLIMITED_KIOSK};

fn env_seconds(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What the load saw acknowledged, to be checked against the database afterwards.
#[derive(Default)]
struct Acknowledged {
    /// Ticket id → (number, service day).
    tickets: Mutex<HashMap<u64, (String, String)>>,
    calls: Mutex<HashSet<u64>>,
    problems: Mutex<Vec<String>>,
    retries: AtomicU64,
    stream_events: AtomicU64,
}

impl Acknowledged {
    fn ticket(&self, body: &Value) {
        let (Some(id), Some(number), Some(day)) = (
            body["id"].as_u64(),
            body["number"].as_str(),
            body["service_day"].as_str(),
        ) else {
            self.problem(format!(
                "an acknowledged ticket without id or number: {body}"
            ));
            return;
        };
        let mut tickets = self.tickets.lock().unwrap();
        if let Some((known, _)) = tickets.get(&id) {
            if known != number {
                self.problem(format!("ticket {id} was {known}, now {number}"));
            }
        }
        tickets.insert(id, (number.to_owned(), day.to_owned()));
    }

    fn problem(&self, text: String) {
        self.problems.lock().unwrap().push(text);
    }
}

struct Load {
    base: RwLock<String>,
    stop: AtomicBool,
    acked: Acknowledged,
}

impl Load {
    fn app(&self) -> TestApp {
        TestApp::attach(&self.base.read().unwrap())
    }

    fn running(&self) -> bool {
        !self.stop.load(Ordering::SeqCst)
    }

    /// Sends until the daemon answers (it may be down for a restart); `None` once stopping.
    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Option<support::Answer> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.app().try_request(method, path, token, body, None) {
                Some(answer) if answer.status != 503 => return Some(answer),
                _ => {
                    self.acked.retries.fetch_add(1, Ordering::Relaxed);
                    if Instant::now() > deadline {
                        self.acked
                            .problem(format!("{method} {path}: no answer for a minute"));
                        return None;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }
}

const SERVICES: &[&str] = &[
    "tax-general",
    "tax-invoice",
    "social-insurance",
    "medical-insurance",
    "vehicle",
    "household",
];

fn kiosk(load: Arc<Load>, seed: u64) {
    let mut n = seed;
    while load.running() {
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let service = SERVICES[(n >> 33) as usize % SERVICES.len()];
        // One key per touch: a retry after an outage returns the first ticket, never a second.
        let key = format!("soak-{seed}-{n:x}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let body = json!({"service": service});
            let attempt = load.app().try_request(
                "POST",
                "/api/v1/tickets",
                Some(KIOSK),
                Some(&body),
                Some(&key),
            );
            match attempt {
                Some(answer) if answer.status == 201 || answer.status == 200 => {
                    load.acked.ticket(&answer.body);
                    break;
                }
                Some(answer) if answer.status != 503 => {
                    load.acked.problem(format!(
                        "issuing refused: {} {}",
                        answer.status, answer.text
                    ));
                    break;
                }
                _ => {
                    load.acked.retries.fetch_add(1, Ordering::Relaxed);
                    if Instant::now() > deadline {
                        load.acked
                            .problem("issuing got no answer for a minute".into());
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(40));
    }
}

fn window(load: Arc<Load>, window: &'static str, seed: u64) {
    let mut n = seed;
    let mut token: Option<String> = None;
    while load.running() {
        let session = match &token {
            Some(token) => token.clone(),
            None => {
                let Some(answer) = load.send(
                    "POST",
                    "/api/v1/sessions",
                    None,
                    Some(&json!({"staff": "demo-staff", "pin": "246810", "window": window})),
                ) else {
                    return;
                };
                match answer.body["token"].as_str() {
                    Some(t) => {
                        token = Some(t.to_owned());
                        continue;
                    }
                    None => {
                        std::thread::sleep(Duration::from_millis(200));
                        continue;
                    }
                }
            }
        };
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let roll = (n >> 33) % 100;
        let path = |action: &str| format!("/api/v1/windows/{window}/{action}");
        let Some(called) = load.send("POST", &path("call-next"), Some(&session), None) else {
            return;
        };
        match called.status {
            // Sessions live in memory: after a restart, sign in again.
            401 => {
                token = None;
                continue;
            }
            200 => {
                if let Some(id) = called.body["ticket"]["id"].as_u64() {
                    load.acked.calls.lock().unwrap().insert(id);
                }
            }
            _ => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        }
        let action = match roll {
            0..=9 => "recall",
            10..=14 => "no-show",
            15..=19 => "transfer",
            _ => "complete",
        };
        let body = (action == "transfer").then(|| {
            let to = SERVICES[(n >> 40) as usize % SERVICES.len()];
            json!({"service": to})
        });
        if let Some(answer) = load.send("POST", &path(action), Some(&session), body.as_ref()) {
            if answer.status == 401 {
                token = None;
            }
        }
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn bookings(load: Arc<Load>) {
    let mut token: Option<String> = None;
    while load.running() {
        let manager = match &token {
            Some(t) => t.clone(),
            None => {
                let Some(answer) = load.send(
                    "POST",
                    "/api/v1/sessions",
                    None,
                    Some(&json!({"staff": "demo-manager", "pin": "135790"})),
                ) else {
                    return;
                };
                token = answer.body["token"].as_str().map(str::to_owned);
                continue;
            }
        };
        let Some(slots) = load.send(
            "GET",
            "/api/v1/appointments/slots?service=property-transfer",
            None,
            None,
        ) else {
            return;
        };
        let free = slots.body["slots"].as_array().and_then(|slots| {
            slots
                .iter()
                .find(|s| s["booked"].as_u64() < s["capacity"].as_u64())
                .and_then(|s| s["start"].as_str().map(str::to_owned))
        });
        if let Some(start) = free {
            let booked = load.send(
                "POST",
                "/api/v1/appointments",
                Some(&manager),
                Some(&json!({"service": "property-transfer", "start": start, "channel": "phone", "phone": "13800138000"})),
            );
            match booked {
                Some(answer) if answer.status == 401 => token = None,
                Some(answer) if answer.status == 201 => {
                    let code = answer.body["code"].as_str().unwrap_or_default().to_owned();
                    let checked = load.send(
                        "POST",
                        &format!("/api/v1/appointments/{code}/check-in"),
                        Some(KIOSK),
                        None,
                    );
                    if let Some(answer) = checked {
                        if answer.status == 201 {
                            load.acked.ticket(&answer.body);
                        }
                    }
                }
                _ => {}
            }
        }
        std::thread::sleep(Duration::from_millis(1500));
    }
}

/// Follows the public stream across restarts with Last-Event-ID: never a repeat, never out of
/// order.
fn stream(load: Arc<Load>) {
    let mut last: Option<u64> = None;
    while load.running() {
        let Some(mut events) = EventStream::try_open(&load.app(), last) else {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        while load.running() {
            let Some(event) = events.next_event() else {
                break;
            };
            match event.kind.as_str() {
                "hello" | "resync" => {
                    if let Some(id) = event.id {
                        if event.kind == "resync" {
                            last = Some(id);
                        }
                    }
                }
                _ => {
                    if let Some(id) = event.id {
                        if last.is_some_and(|last| id <= last) {
                            load.acked
                                .problem(format!("the stream sent {id} after {last:?}"));
                        }
                        last = Some(id);
                        load.acked.stream_events.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }
}

#[test]
fn mixed_load_with_kill_9_and_a_failing_printer_loses_and_repeats_nothing() {
    let seconds = env_seconds("HALLQ_SOAK_SECONDS", 120);
    let kill_every = env_seconds("HALLQ_SOAK_KILL_EVERY_S", 25);
    let printer = PrinterSimulator::tcp().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let config = support::demo_config_with(temp.path(), UNLIMITED_KIOSK);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(
            "url = \"file:spool/printer-lobby.escpos\"",
            &format!("url = \"{}\"", printer.url()),
        )
        .replace(
            "tickets_per_person_per_service_per_day = 3",
            "tickets_per_person_per_service_per_day = 0",
        );
    std::fs::write(&config, text).unwrap();
    let data = temp.path().join("data");
    let mut app = TestApp::spawn_in(&data, &config);
    let load = Arc::new(Load {
        base: RwLock::new(app.base.clone()),
        stop: AtomicBool::new(false),
        acked: Acknowledged::default(),
    });
    let mut workers = Vec::new();
    for seed in 1..=2 {
        let load = load.clone();
        workers.push(std::thread::spawn(move || kiosk(load, seed)));
    }
    for (index, name) in ["w02", "w04", "w09", "w15"].into_iter().enumerate() {
        let load = load.clone();
        workers.push(std::thread::spawn(move || {
            window(load, name, 100 + index as u64)
        }));
    }
    {
        let load = load.clone();
        workers.push(std::thread::spawn(move || bookings(load)));
    }
    // The stream's reader blocks until the next event (keep-alives in between): it is left to
    // end with the test rather than joined.
    {
        let load = load.clone();
        std::thread::spawn(move || stream(load));
    }
    let started = Instant::now();
    let mut kills = 0;
    let mut next_kill = Duration::from_secs(kill_every);
    let mut paper = false;
    while started.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_millis(500));
        // The printer runs out of paper for a while every ten seconds or so.
        let flip = (started.elapsed().as_secs() / 10) % 2 == 1;
        if flip != paper {
            paper = flip;
            printer.set(|state| state.paper_out = flip);
        }
        if started.elapsed() >= next_kill {
            let before = Instant::now();
            app.respawn();
            eprintln!("soak: killed and restarted in {:?}", before.elapsed());
            *load.base.write().unwrap() = app.base.clone();
            kills += 1;
            next_kill += Duration::from_secs(kill_every);
        }
    }
    load.stop.store(true, Ordering::SeqCst);
    eprintln!("soak: load stopped after {:?}", started.elapsed());
    for worker in workers {
        worker.join().expect("a load thread panicked");
    }
    eprintln!("soak: workers joined after {:?}", started.elapsed());
    // One more power cut at rest, then check everything against the database.
    app.respawn();
    eprintln!("soak: restarted after {:?}", started.elapsed());
    let acked = &load.acked;
    let problems = acked.problems.lock().unwrap().clone();
    assert!(problems.is_empty(), "{problems:#?}");
    let tickets = acked.tickets.lock().unwrap().clone();
    let calls = acked.calls.lock().unwrap().clone();
    assert!(kills >= 2, "the daemon was killed only {kills} times");
    assert!(
        tickets.len() > 100,
        "only {} tickets acknowledged",
        tickets.len()
    );
    assert!(!calls.is_empty());
    assert!(acked.stream_events.load(Ordering::Relaxed) > 100);

    let verify = std::process::Command::new(support::hallq_binary())
        .args(["verify-log", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let store = hallq_store::Store::open_reader(&data.join("hallq.db")).unwrap();
    assert!(store.check_log().unwrap().is_gap_free());
    let days: HashSet<String> = tickets.values().map(|(_, day)| day.clone()).collect();
    let mut stored: BTreeMap<u64, hallq_core::Ticket> = BTreeMap::new();
    for day in days {
        for ticket in store.tickets_of_day(day.parse().unwrap()).unwrap() {
            stored.insert(ticket.id.0, ticket);
        }
    }
    // Every acknowledged ticket is there, with the number the citizen was given.
    for (id, (number, _)) in &tickets {
        let found = stored
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged ticket {id} ({number}) was lost"));
        assert_eq!(&found.number, number, "ticket {id}");
    }
    // No number twice for one service on one day.
    let mut numbers = HashSet::new();
    for ticket in stored.values() {
        assert!(
            numbers.insert((
                ticket.service_day,
                ticket.number_service.clone(),
                ticket.number.clone()
            )),
            "number {} issued twice",
            ticket.number
        );
    }
    // Every acknowledged call is in the log.
    let logged: HashSet<u64> = store
        .events_of_kind_since(
            "ticket_called",
            hallq_core::jiff::Timestamp::UNIX_EPOCH,
            1_000_000,
        )
        .unwrap()
        .iter()
        .filter_map(|stored| stored.event.ticket().map(|t| t.0))
        .collect();
    for id in &calls {
        assert!(
            logged.contains(id),
            "acknowledged call of ticket {id} is not in the log"
        );
    }
    // The printer's trouble is on record, and tickets were issued through it.
    let failures = store
        .events_of_kind_since(
            "ticket_print_failed",
            hallq_core::jiff::Timestamp::UNIX_EPOCH,
            1_000_000,
        )
        .unwrap()
        .len();
    assert!(failures > 0, "the printer never failed");
    eprintln!(
        "soak: {seconds} s, {kills} kills, {} tickets and {} calls acknowledged, {} retries, {} stream events, {failures} print failures",
        tickets.len(),
        calls.len(),
        acked.retries.load(Ordering::Relaxed),
        acked.stream_events.load(Ordering::Relaxed),
    );
}
