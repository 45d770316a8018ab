//! A hall and its city hub, both real binaries, over a real PostgreSQL: the log goes up once and
//! in order through every fault (the hub away for a long outage, answering 500s and timing out,
//! the hall or the hub killed mid-batch, a wrong token); the hub's bookings come down and are
//! checked in at the kiosk; calendars come down and clear the alert; waits and device health go
//! up every interval; no citizen's number leaves the hall.

mod support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::hub::{wait_until, TestHub};
use support::{postgres, TestApp, KIOSK, UNLIMITED_KIOSK};

const HALL: &str = "jiangzhou-demo";

/// The `[upstream]` section of a test hall: quick intervals and retries.
fn upstream_section(url: &str, token: &str, extra: &str) -> String {
    format!(
        "[upstream]\nurl = \"{url}\"\ntoken = \"{token}\"\nsnapshot_interval_s = 1\n\
         pull_interval_s = 1\ntimeout_s = 2\nlag_alert_s = 1\nretry_max_s = 1\n{extra}"
    )
}

fn hall_reporting_to(url: &str, token: &str, extra: &str) -> TestApp {
    TestApp::spawn_with_extra(UNLIMITED_KIOSK, &upstream_section(url, token, extra))
}

/// A port where nothing listens (yet).
fn unused_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn sync(app: &TestApp, manager: &str) -> Value {
    let answer = app.get_as("/api/v1/sync", manager);
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body
}

/// The hub's copy of the hall's log: every sequence number, in order.
fn hub_seqs(hub: &TestHub) -> Vec<u64> {
    postgres::query(
        &hub.database_url,
        &format!("SELECT seq FROM hall_events WHERE hall = '{HALL}' ORDER BY seq"),
    )
    .iter()
    .map(|s| s.parse().unwrap())
    .collect()
}

/// Waits until the hub holds the hall's whole log, then checks it holds each event once.
fn assert_hub_has_everything(app: &TestApp, hub: &TestHub, token: &str, limit: Duration) {
    let mut log_seq = 0;
    wait_until(limit, "the hub to hold the hall's whole log", || {
        log_seq = app.log_seq();
        hub.summary(HALL, token)["last_seq"].as_u64() == Some(log_seq)
    });
    let seqs = hub_seqs(hub);
    assert_eq!(seqs.len() as u64, log_seq);
    assert!(
        seqs.iter().enumerate().all(|(i, seq)| *seq == i as u64 + 1),
        "the hub's copy has a hole or a repeat"
    );
    let summary = hub.summary(HALL, token);
    assert_eq!(summary["events_received"].as_u64(), Some(log_seq));
}

fn issue_many(app: &TestApp, count: usize) {
    static ISSUED: AtomicU64 = AtomicU64::new(0);
    let services = ["tax-general", "tax-invoice", "social-insurance", "pension"];
    for nth in 0..count {
        // The counter is shared by the tests running at once, so it only keeps the phones
        // apart; which tickets leave one follows this call's own count, so each hall gets
        // exactly one in ten.
        let index = ISSUED.fetch_add(1, Ordering::SeqCst) as usize;
        let service = services[nth % services.len()];
        let body = if nth.is_multiple_of(10) {
            // Some citizens leave a phone (a different one each, under the per-person limit).
            json!({"service": service, "phone": format!("139{:08}", index)})
        } else {
            json!({"service": service})
        };
        let answer = app.post("/api/v1/tickets", KIOSK, body);
        assert_eq!(answer.status, 201, "{}", answer.text);
    }
}

#[test]
fn the_hub_away_for_a_long_outage_then_every_event_arrives_once_in_order() {
    let database = postgres::database();
    let port = unused_port();
    let token = support::hub::cli(&database, &["add-hall", HALL, "--name", "演示大厅"], None)
        .1
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    let app = hall_reporting_to(&format!("http://127.0.0.1:{port}"), &token, "");
    let manager = app.manager_token();
    // The hub is away while the hall works through its morning.
    issue_many(&app, 1500);
    let staff = app.staff_token("w01");
    for _ in 0..50 {
        app.call_next(&staff, "w01");
    }
    wait_until(Duration::from_secs(20), "the lag to be reported", || {
        let link = sync(&app, &manager);
        link["lag_events"].as_u64() == Some(app.log_seq())
            && link["lag_seconds"].as_u64() >= Some(1)
            && link["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("cannot be reached"))
    });
    let alerts = app.get_as("/api/v1/alerts", &manager).body;
    assert!(
        alerts["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "upstream"),
        "{alerts}"
    );
    let metrics = app.get("/metrics").text;
    assert!(metrics.contains("hallq_upstream_up 0"), "{metrics}");
    // The hub comes back: the backlog drains, each event once, in order.
    let hub = TestHub::start_on(&database, port);
    assert_hub_has_everything(&app, &hub, &token, Duration::from_secs(90));
    wait_until(Duration::from_secs(10), "the lag to clear", || {
        let link = sync(&app, &manager);
        link["lag_events"] == 0 && link["last_error"].is_null() && link["confirmed"] == true
    });
    let alerts = app.get_as("/api/v1/alerts", &manager).body;
    assert!(
        !alerts["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "upstream"),
        "{alerts}"
    );
    // No citizen's number, sealed number, hash or ticket token left the hall.
    let leaked = postgres::query(
        &database,
        "SELECT count(*) FROM hall_events WHERE data::text ~ '139[0-9]{8}' \
         OR data::text LIKE '%sealed%' OR data::text LIKE '%\"token\"%' OR data::text LIKE '%\"key\"%'",
    );
    assert_eq!(leaked, ["0"]);
    let masked = postgres::query(
        &database,
        "SELECT count(*) FROM hall_events WHERE data->'ticket'->'contact'->>'masked' LIKE '139****%'",
    );
    let with_phone: u64 = masked[0].parse().unwrap();
    assert!(with_phone >= 150, "{with_phone}");
    // Waits and device health arrived too.
    wait_until(Duration::from_secs(10), "a snapshot", || {
        hub.summary(HALL, &token)["snapshots_received"].as_u64() >= Some(1)
    });
    let waiting = postgres::query(
        &database,
        &format!("SELECT waiting FROM wait_snapshots WHERE hall = '{HALL}' AND service = 'tax-general' ORDER BY at DESC LIMIT 1"),
    );
    assert_eq!(waiting, [app.waiting("tax-general").to_string()]);
    let devices = postgres::query(&database, "SELECT count(*) FROM device_health");
    assert_ne!(devices, ["0"]);
}

/// A proxy before the hub that answers 500 now and then, and now and then passes a call on
/// but answers only after the hall has given up waiting (the hub did the work: a duplicate
/// follows).
struct FlakyProxy {
    port: u16,
    failures: Arc<AtomicU64>,
}

impl FlakyProxy {
    fn start(hub_port: u16, stall: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let counts = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
        let failures = Arc::new(AtomicU64::new(0));
        let seen = failures.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (failures, counts) = (seen.clone(), counts.clone());
                std::thread::spawn(move || {
                    let _ = relay(stream, hub_port, &counts, stall, &failures);
                });
            }
        });
        Self { port, failures }
    }
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            return Ok(buffer);
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                return Ok(buffer);
            }
        }
    }
}

/// Puts `Connection: close` after the first line, so each exchange has its own connection.
fn closing(message: &[u8]) -> Vec<u8> {
    let first = message.windows(2).position(|w| w == b"\r\n").unwrap_or(0) + 2;
    let mut out = message[..first].to_vec();
    out.extend_from_slice(b"Connection: close\r\n");
    out.extend_from_slice(&message[first..]);
    out
}

/// Every fifth call gets a 500; every third push of events is stored by the hub but answered
/// too late, so the hall sends it again.
fn relay(
    mut hall: TcpStream,
    hub_port: u16,
    counts: &[AtomicU64; 2],
    stall: Duration,
    failures: &AtomicU64,
) -> std::io::Result<()> {
    let request = read_request(&mut hall)?;
    let is_push = request.starts_with(b"POST /v1/halls/")
        && String::from_utf8_lossy(&request[..request.len().min(200)])
            .lines()
            .next()
            .is_some_and(|line| line.contains("/events "));
    let n = counts[0].fetch_add(1, Ordering::SeqCst);
    if n % 5 == 1 {
        failures.fetch_add(1, Ordering::SeqCst);
        let body = r#"{"error":{"code":"internal","message":"proxy says no"}}"#;
        write!(
            hall,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        return Ok(());
    }
    let mut hub = TcpStream::connect(("127.0.0.1", hub_port))?;
    hub.write_all(&closing(&request))?;
    let mut response = Vec::new();
    hub.read_to_end(&mut response)?;
    if is_push && counts[1].fetch_add(1, Ordering::SeqCst) % 3 == 1 {
        failures.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(stall);
    }
    hall.write_all(&closing(&response))
}

#[test]
fn a_hub_that_fails_and_times_out_now_and_then_still_gets_every_event_once() {
    let database = postgres::database();
    let hub = TestHub::start(&database);
    let token = hub.add_hall(HALL, "演示大厅");
    let proxy = FlakyProxy::start(hub.port, Duration::from_secs(3));
    let app = hall_reporting_to(
        &format!("http://127.0.0.1:{}", proxy.port),
        &token,
        "batch_events = 100\n",
    );
    for _ in 0..6 {
        issue_many(&app, 100);
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_hub_has_everything(&app, &hub, &token, Duration::from_secs(120));
    assert!(proxy.failures.load(Ordering::SeqCst) > 0);
    // Answers lost after the hub stored a batch came back as duplicates, and were dropped.
    let summary = hub.summary(HALL, &token);
    assert!(
        summary["duplicates_dropped"].as_u64() > Some(0),
        "{summary}"
    );
}

#[test]
fn the_hall_killed_mid_batch_resumes_from_the_hubs_cursor() {
    let database = postgres::database();
    let port = unused_port();
    let token = support::hub::cli(&database, &["add-hall", HALL, "--name", "演示大厅"], None)
        .1
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    let mut app = hall_reporting_to(
        &format!("http://127.0.0.1:{port}"),
        &token,
        "batch_events = 20\n",
    );
    issue_many(&app, 1200);
    let hub = TestHub::start_on(&database, port);
    // Kill the hall while it is draining its backlog into the hub.
    wait_until(
        Duration::from_secs(60),
        "the first batches to arrive",
        || hub.summary(HALL, &token)["last_seq"].as_u64() > Some(0),
    );
    app.kill9();
    let arrived = hub.summary(HALL, &token)["last_seq"].as_u64().unwrap();
    assert!(
        arrived < 2400,
        "the hall finished before it was killed ({arrived})"
    );
    app.respawn();
    issue_many(&app, 50);
    assert_hub_has_everything(&app, &hub, &token, Duration::from_secs(90));
}

#[test]
fn the_hub_killed_mid_batch_and_restarted_loses_nothing() {
    let database = postgres::database();
    let port = unused_port();
    let token = support::hub::cli(&database, &["add-hall", HALL, "--name", "演示大厅"], None)
        .1
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned();
    let app = hall_reporting_to(
        &format!("http://127.0.0.1:{port}"),
        &token,
        "batch_events = 20\n",
    );
    issue_many(&app, 1200);
    let mut hub = TestHub::start_on(&database, port);
    wait_until(
        Duration::from_secs(60),
        "the first batches to arrive",
        || hub.summary(HALL, &token)["last_seq"].as_u64() > Some(0),
    );
    hub.kill9();
    issue_many(&app, 50);
    hub.restart();
    assert_hub_has_everything(&app, &hub, &token, Duration::from_secs(90));
}

#[test]
fn a_wrong_token_is_refused_and_nothing_is_stored() {
    let database = postgres::database();
    let hub = TestHub::start(&database);
    let token = hub.add_hall(HALL, "演示大厅");
    let app = hall_reporting_to(&hub.base, "hall-not-the-right-one", "");
    let manager = app.manager_token();
    issue_many(&app, 5);
    wait_until(
        Duration::from_secs(20),
        "the refusal to be reported",
        || {
            sync(&app, &manager)["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("token") && e.contains("401"))
        },
    );
    assert!(hub_seqs(&hub).is_empty());
    assert_eq!(hub.summary(HALL, &token)["events_received"], 0);
    assert!(hub
        .get("/metrics")
        .text
        .contains("hallq_hub_unauthorized_total"));
    // The hall works on regardless.
    issue_many(&app, 5);
}

#[test]
fn a_booking_taken_at_the_hub_is_checked_in_at_the_kiosk_and_cancellations_travel_both_ways() {
    let database = postgres::database();
    let hub = TestHub::start(&database);
    let token = hub.add_hall(HALL, "演示大厅");
    let city = hub.manager_token();
    let app = hall_reporting_to(&hub.base, &token, "");
    let manager = app.manager_token();
    // The hall told the hub its plans: the hub offers its share of the next slot.
    let start = app.next_slot("property-transfer");
    let date = &start[..10];
    let path = format!("/v1/halls/{HALL}/slots?service=property-transfer&date={date}");
    wait_until(
        Duration::from_secs(20),
        "the hall's profile at the hub",
        || hub.get(&path).status == 200,
    );
    let offered = hub.get(&path).body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["start"] == start.as_str())
        .cloned()
        .expect("the hub offers the hall's next slot");
    assert_eq!(offered["hub_capacity"], 2);
    let book = |phone: &str, id_number: Option<&str>| {
        let reply = hub.post(
            &format!("/v1/halls/{HALL}/appointments"),
            &city,
            json!({"service": "property-transfer", "start": start, "channel": "online", "phone": phone,
                   "name": "王五", "id_number": id_number}),
        );
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.body["code"].as_str().unwrap().to_owned()
    };
    // A wrong ID number is refused at the hub, plainly.
    let wrong = hub.post(
        &format!("/v1/halls/{HALL}/appointments"),
        &city,
        json!({"service": "property-transfer", "start": start, "channel": "online",
               "phone": "13700003333", "id_number": "110105194912310021"}),
    );
    assert_eq!((wrong.status, wrong.code()), (400, "invalid_id_number"));
    let code = book("13700001111", None);
    // With the citizen's ID number, so that their card checks them in at the hall.
    let other = book("13700002222", Some("11010519491231002x"));
    // Within a pull interval the hall has both, from the hub's share (its own share is free).
    wait_until(
        Duration::from_secs(20),
        "the hall to have the hub's bookings",
        || {
            app.get_as(&format!("/api/v1/appointments/{other}"), &manager)
                .status
                == 200
        },
    );
    let booking = app
        .get_as(&format!("/api/v1/appointments/{code}"), &manager)
        .body;
    assert_eq!(booking["channel"], "online");
    assert_eq!(booking["phone_masked"], "137****1111");
    assert_eq!(booking["name"], "王五");
    assert!(booking.get("id_masked").is_none());
    let with_card = app
        .get_as(&format!("/api/v1/appointments/{other}"), &manager)
        .body;
    assert_eq!(with_card["id_masked"], "1101**********002X");
    // Once the hall has it, the hub keeps no copy of the number, sealed or not.
    wait_until(
        Duration::from_secs(20),
        "the hub to drop the delivered ID number",
        || {
            postgres::query(
                &database,
                &format!("SELECT count(*) FROM hub_bookings WHERE id_sealed IS NOT NULL AND code = '{other}'"),
            ) == ["0"]
        },
    );
    let slot = app
        .get(&format!(
            "/api/v1/appointments/slots?service=property-transfer&date={date}"
        ))
        .body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["start"] == start.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (slot["hub_booked"].as_u64(), slot["booked"].as_u64()),
        (Some(2), Some(0))
    );
    // The citizen checks in at the kiosk with the code the hub sent them.
    let checked = app.post(
        &format!("/api/v1/appointments/{code}/check-in"),
        KIOSK,
        json!({}),
    );
    assert_eq!(checked.status, 201, "{}", checked.text);
    assert_eq!(checked.body["priority"], "appointment");
    // The check-in goes up with the log; the hub's booking follows.
    wait_until(
        Duration::from_secs(20),
        "the hub to see the check-in",
        || {
            hub.get_as(&format!("/v1/halls/{HALL}/appointments/{code}"), &city)
                .body["status"]
                == "checked_in"
        },
    );
    // Cancelled at the hall's window: the hub hears of it and its place is free again.
    let cancelled = app.request(
        "DELETE",
        &format!("/api/v1/appointments/{other}"),
        Some(&manager),
        None,
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    wait_until(
        Duration::from_secs(20),
        "the hub to see the cancellation",
        || {
            hub.get_as(&format!("/v1/halls/{HALL}/appointments/{other}"), &city)
                .body["status"]
                == "cancelled"
        },
    );
    // Cancelled at the hub: the hall hears of it.
    let third = book("13700004444", None);
    wait_until(
        Duration::from_secs(20),
        "the third booking at the hall",
        || {
            app.get_as(&format!("/api/v1/appointments/{third}"), &manager)
                .status
                == 200
        },
    );
    let reply = hub.send(
        "DELETE",
        &format!("/v1/halls/{HALL}/appointments/{third}"),
        Some(&city),
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    wait_until(
        Duration::from_secs(20),
        "the hall to see the hub's cancellation",
        || {
            app.get_as(&format!("/api/v1/appointments/{third}"), &manager)
                .body["status"]
                == "cancelled"
        },
    );
    // The hall's own API takes no online bookings: those are the hub's.
    let refused = app.post(
        "/api/v1/appointments",
        &manager,
        json!({"service": "property-transfer", "start": start, "channel": "online", "phone": "13700004444"}),
    );
    assert_eq!((refused.status, refused.code()), (422, "booked_at_hub"));
    // The count is the pull's, made once the pull has acknowledged: a moment after the hall
    // shows the booking.
    wait_until(Duration::from_secs(10), "four bookings counted", || {
        sync(&app, &manager)["bookings_applied"].as_u64() == Some(4)
    });
    let link = sync(&app, &manager);
    assert_eq!(link["bookings_applied"].as_u64(), Some(4), "{link}");
}

#[test]
fn calendar_years_come_from_the_hub_and_clear_the_alert() {
    let database = postgres::database();
    let hub = TestHub::start(&database);
    let token = hub.add_hall(HALL, "演示大厅");
    let shipped = support::workspace_root().join("kiosk-config/calendar/2026.json");
    let (ok, _, err) = hub.cli(&["add-calendar", shipped.to_str().unwrap()], None);
    assert!(ok, "{err}");
    // A hall whose calendar folder is empty: it knows no holiday.
    let temp = tempfile::tempdir().unwrap();
    let config = support::demo_config_with(temp.path(), UNLIMITED_KIOSK);
    std::fs::remove_file(temp.path().join("calendar")).unwrap();
    std::fs::create_dir(temp.path().join("calendar")).unwrap();
    let dead = format!("http://127.0.0.1:{}", unused_port());
    let with_upstream = |url: &str| {
        let mut text = std::fs::read_to_string(&config).unwrap();
        if let Some(at) = text.find("\n[upstream]") {
            text.truncate(at);
        }
        text.push('\n');
        text.push_str(&upstream_section(url, &token, ""));
        std::fs::write(&config, text).unwrap();
    };
    with_upstream(&dead);
    let data = temp.path().join("data");
    let mut app = TestApp::spawn_in(&data, &config);
    let manager = app.manager_token();
    let national_day = "/api/v1/calendar/2026-10-01";
    assert_eq!(app.get(national_day).body["known"], false);
    let calendar_alert = |app: &TestApp| {
        app.get_as("/api/v1/alerts", &manager).body["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "calendar" && a["subject"] == "2026")
    };
    assert!(calendar_alert(&app));
    // The hub is reachable: the year comes down, the alert clears at once.
    app.kill9();
    with_upstream(&hub.base);
    app = TestApp::spawn_in(&data, &config);
    let manager = app.manager_token();
    wait_until(Duration::from_secs(20), "the year from the hub", || {
        app.get(national_day).body["known"] == true
    });
    assert_eq!(app.get(national_day).body["day_type"], "holiday");
    assert!(!app.get_as("/api/v1/alerts", &manager).body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["kind"] == "calendar" && a["subject"] == "2026"));
    assert!(data.join("calendar/2026.json").exists());
    // Kept: a restart without the hub still knows the year.
    app.kill9();
    with_upstream(&dead);
    let app = TestApp::spawn_in(&data, &config);
    assert_eq!(app.get(national_day).body["known"], true);
}

#[test]
fn ratings_reach_the_hub_as_table_9_records_in_the_provinces_numbering() {
    let database = postgres::database();
    let hub = TestHub::start(&database);
    let token = hub.add_hall(HALL, "演示大厅");
    let app = hall_reporting_to(
        &hub.base,
        &token,
        "region_code = \"320102\"\nlevel_numbering = \"reversed\"\n",
    );
    let staff = app.staff_token("w02");
    let ticket = app.issue_ticket("tax-general");
    assert_eq!(app.call_next(&staff, "w02").status, 200);
    assert_eq!(
        app.window_action(&staff, "w02", "complete", None).status,
        200
    );
    let rated = app.request(
        "POST",
        "/api/v1/ratings",
        None,
        Some(&json!({"ticket": ticket["token"], "level": "satisfied", "reasons": ["办事高效"], "comment": "很快"})),
    );
    assert_eq!(rated.status, 201, "{}", rated.text);
    assert_hub_has_everything(&app, &hub, &token, Duration::from_secs(20));
    let manager = hub.manager_token();
    let records = hub.get_as("/v1/city/evaluations", &manager);
    assert_eq!(records.status, 200, "{:?}", records.body);
    let record = &records.body["records"][0];
    let day = ticket["service_day"].as_str().unwrap().replace('-', "");
    assert_eq!(record["hall"], HALL);
    assert_eq!(record["办件编号"], format!("{HALL}-{day}-A001"));
    assert_eq!(record["评价渠道"], "2");
    assert_eq!(record["评价次数"], 1);
    // 满意 is 2 nationally, 4 where the province numbers the other way round.
    assert_eq!(record["满意度代码"], "4");
    assert_eq!(record["文字评价"], "办事高效；很快");
    assert_eq!(record["行政区划"], "320102");
    assert_eq!(record["评价时间"].as_str().unwrap().len(), 19);
    let csv = hub.get_as("/v1/city/evaluations?format=csv", &manager);
    assert!(csv.text.contains("满意度代码"), "{}", csv.text);
    // The hall's token, the ticket's token: nothing of the citizen's went up.
    let stored = postgres::query(
        &hub.database_url,
        "SELECT data::text FROM hall_events WHERE kind = 'service_rated'",
    );
    assert!(!stored[0].contains(ticket["token"].as_str().unwrap()));
}
