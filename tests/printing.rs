//! Tickets on paper: a kiosk issues, the printer (simulated over TCP, a pseudo-terminal or a
//! file) gets Chinese ESC/POS with a QR code; every printer fault reaches the kiosk and the
//! manager while the ticket stays valid.

mod support;

use hallq_devices::decode::{decode, printed_lines, Token};
use hallq_devices::simulator::PrinterSimulator;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::{EventStream, TestApp, KIOSK};

/// The demo hall with the lobby kiosk printing to `url`, its status read every second.
fn hall_with_printer(dir: &std::path::Path, url: &str) -> PathBuf {
    let demo = std::fs::read_to_string(support::demo_config()).unwrap();
    let text = demo
        .replace(
            "url = \"file:spool/printer-lobby.escpos\"",
            &format!("url = \"{url}\""),
        )
        .replace("status_interval_s = 10", "status_interval_s = 1");
    assert_ne!(text, demo);
    let path = dir.join("hall.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn qr_data(bytes: &[u8]) -> Vec<String> {
    decode(bytes)
        .unwrap()
        .into_iter()
        .filter_map(|t| match t {
            Token::QrStore(data) => Some(data),
            _ => None,
        })
        .collect()
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

fn printer_condition(app: &TestApp) -> String {
    let devices = app.get_as("/api/v1/devices", &app.manager_token());
    devices.body["printers"][0]["condition"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[test]
fn the_demo_hall_prints_to_a_file_in_its_data_directory() {
    let app = TestApp::spawn();
    let ticket = app.issue_ticket("social-insurance");
    assert_eq!(ticket["print"]["status"], "printed", "{ticket}");
    let bytes = std::fs::read(app.data_dir.join("spool/printer-lobby.escpos")).unwrap();
    let lines = printed_lines(&bytes).unwrap();
    assert!(
        lines.contains(&"江州市政务服务中心".to_owned()),
        "{lines:?}"
    );
    assert!(lines.contains(&"C001".to_owned()));
    assert!(lines.contains(&"社保参保登记".to_owned()));
    assert!(lines.iter().any(|l| l.starts_with("取号时间 ")));
    let token = ticket["token"].as_str().unwrap();
    assert_eq!(
        qr_data(&bytes),
        vec![format!("http://127.0.0.1:8080/t/{token}")]
    );
    // Tickets issued by staff (no kiosk) are not printed.
    let manager = app.manager_token();
    let staff_issued = app.post(
        "/api/v1/tickets",
        &manager,
        json!({"service": "vehicle", "channel": "staff"}),
    );
    assert_eq!(staff_issued.status, 201);
    assert!(staff_issued.body.get("print").is_none());
}

#[test]
fn a_network_printer_prints_and_every_fault_reaches_kiosk_and_manager() {
    let temp = tempfile::tempdir().unwrap();
    let printer = PrinterSimulator::tcp().unwrap();
    let config = hall_with_printer(temp.path(), &printer.url());
    let app = TestApp::spawn_in(&temp.path().join("data"), &config);
    let manager = app.manager_token();
    let start = app.log_seq();

    let ticket = app.issue_ticket("entry-exit");
    assert_eq!(ticket["print"]["status"], "printed", "{ticket}");
    let lines = printed_lines(&printer.take_received()).unwrap();
    assert!(
        lines.contains(&"H001".to_owned()) && lines.contains(&"出入境证件办理".to_owned()),
        "{lines:?}"
    );
    wait_for("the printer to report ready", || {
        printer_condition(&app) == "ready"
    });

    // Paper running low: still prints, the manager is warned first.
    printer.set(|s| s.paper_near_end = true);
    wait_for("paper_near_end", || {
        printer_condition(&app) == "paper_near_end"
    });
    assert_eq!(app.issue_ticket("entry-exit")["print"]["status"], "printed");

    // Paper out: the ticket is issued and valid, the kiosk is told why it did not print.
    printer.set(|s| s.paper_out = true);
    let unprinted = app.issue_ticket("entry-exit");
    assert_eq!(unprinted["status"], "waiting");
    assert_eq!(unprinted["print"]["status"], "failed");
    assert_eq!(unprinted["print"]["condition"], "paper_out");
    assert!(unprinted["print"]["message"]
        .as_str()
        .unwrap()
        .contains("paper"));
    let id = unprinted["id"].as_u64().unwrap();
    assert_eq!(
        app.get_as(&format!("/api/v1/tickets/{id}"), &manager).body["status"],
        "waiting"
    );
    assert_eq!(printer_condition(&app), "paper_out");
    let metrics = app.get("/metrics").text;
    assert!(
        metrics.contains(
            "hallq_printer_condition{printer=\"printer-lobby\",condition=\"paper_out\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics
        .contains("hallq_printer_jobs_total{printer=\"printer-lobby\",outcome=\"failed\"} 1"));

    // The manager's stream shows the fault and the unprinted ticket.
    let mut stream = EventStream::open_as(&app, &manager, Some(start));
    let mut kinds = Vec::new();
    while let Some(event) = stream.next_log_event() {
        let done = event.kind == "ticket_print_failed";
        if event.kind == "ticket_print_failed" {
            assert_eq!(event.data["number"], unprinted["number"]);
            assert_eq!(event.data["condition"], "paper_out");
        }
        kinds.push((
            event.kind,
            event.data["condition"].as_str().unwrap_or("").to_owned(),
        ));
        if done {
            break;
        }
    }
    assert!(
        kinds.contains(&("device_status_changed".into(), "paper_near_end".into())),
        "{kinds:?}"
    );

    // Cover open, then fixed: reprint the ticket that did not come out.
    printer.set(|s| {
        s.paper_out = false;
        s.paper_near_end = false;
        s.cover_open = true;
    });
    let reprint = app.post(&format!("/api/v1/tickets/{id}/reprint"), KIOSK, json!({}));
    assert_eq!(
        reprint.body["print"]["condition"], "cover_open",
        "{}",
        reprint.text
    );
    printer.set(|s| s.cover_open = false);
    let reprint = app.post(&format!("/api/v1/tickets/{id}/reprint"), KIOSK, json!({}));
    assert_eq!(reprint.status, 200);
    assert_eq!(
        reprint.body["print"]["status"], "printed",
        "{}",
        reprint.text
    );
    let lines = printed_lines(&printer.take_received()).unwrap();
    assert!(
        lines.contains(&unprinted["number"].as_str().unwrap().to_owned()),
        "{lines:?}"
    );

    // Unplugged: the kiosk hears so within seconds, the manager sees it unreachable.
    printer.stop();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let offline = app.issue_ticket("entry-exit");
    assert!(started.elapsed() < Duration::from_secs(6));
    assert_ne!(offline["print"]["status"], "printed", "{offline}");
    assert_eq!(offline["status"], "waiting");

    // Bad reprint requests.
    let unknown = app.post(
        &format!("/api/v1/tickets/{id}/reprint"),
        KIOSK,
        json!({"printer": "nope"}),
    );
    assert_eq!(unknown.status, 404);
    let staff = app.staff_token("w08");
    app.call_next(&staff, "w08");
    app.window_action(&staff, "w08", "complete", None);
    let done = app.post(
        &format!("/api/v1/tickets/{}/reprint", ticket["id"]),
        KIOSK,
        json!({}),
    );
    assert_eq!((done.status, done.code()), (409, "invalid_state"));
}

#[test]
fn a_serial_printer_on_a_pseudo_terminal() {
    let (master, slave) = serialport::TTYPort::pair().expect("pseudo-terminal pair");
    let path = serialport::SerialPort::name(&slave).expect("pty name");
    let printer = PrinterSimulator::on_stream(master);
    let temp = tempfile::tempdir().unwrap();
    let config = hall_with_printer(
        temp.path(),
        &format!("serial://{path}?baud=9600&framing=8N1"),
    );
    let app = TestApp::spawn_in(&temp.path().join("data"), &config);
    let ticket = app.issue_ticket("vehicle");
    assert_eq!(ticket["print"]["status"], "printed", "{ticket}");
    let lines = printed_lines(&printer.received()).unwrap();
    assert!(lines.contains(&"J001".to_owned()), "{lines:?}");
    drop(slave);
}

#[test]
fn print_test_prints_chinese_and_a_qr_code_or_names_the_fault() {
    let printer = PrinterSimulator::tcp().unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(support::hallq_binary())
            .args(args)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let url = printer.url();
    let (ok, stdout, stderr) = run(&["print-test", "--to", &url, "--paper", "58mm"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("printed"));
    let bytes = printer.take_received();
    let lines = printed_lines(&bytes).unwrap();
    assert!(lines.iter().any(|l| l.contains("打印测试")), "{lines:?}");
    assert_eq!(qr_data(&bytes).len(), 1);

    for (fault, word) in [("paper", "paper_out"), ("cover", "cover_open")] {
        printer.set(|s| {
            s.paper_out = fault == "paper";
            s.cover_open = fault == "cover";
        });
        let (ok, _, stderr) = run(&["print-test", "--to", &url]);
        assert!(!ok, "printing with {fault} fault succeeded");
        assert!(stderr.contains(word), "{stderr}");
    }
    let (ok, _, stderr) = run(&["print-test", "--to", "tcp://127.0.0.1:1"]);
    assert!(!ok);
    assert!(stderr.contains("unreachable"), "{stderr}");
    let (ok, _, stderr) = run(&["print-test", "--to", "lpt1"]);
    assert!(!ok);
    assert!(stderr.contains("tcp://"), "{stderr}");
}

#[test]
fn the_ticket_promises_a_band_that_narrows_on_the_citizens_page_as_the_queue_moves() {
    let app = TestApp::spawn();
    // One window (w13) serves construction permits: six citizens queue.
    let mut tickets = Vec::new();
    for _ in 0..6 {
        tickets.push(app.issue_ticket("construction-permit"));
    }
    let last = tickets.last().unwrap();
    let band = |value: &Value| -> (u64, u64) {
        let pair = value["wait_minutes"].as_array().expect("a band");
        (pair[0].as_u64().unwrap(), pair[1].as_u64().unwrap())
    };
    let (low, high) = band(last);
    assert!(low < high && high > 10, "{last}");
    // Printed as a band too.
    let bytes = std::fs::read(app.data_dir.join("spool/printer-lobby.escpos")).unwrap();
    let lines = printed_lines(&bytes).unwrap();
    let said = format!("预计等候约 {low}–{high} 分钟");
    assert!(lines.contains(&said), "{said} not in {lines:?}");
    // The citizen's page shows it, and narrows it as people ahead are served.
    let page = format!("/api/v1/t/{}", last["token"].as_str().unwrap());
    assert_eq!(band(&app.get(&page).body), (low, high));
    let staff = app.staff_token("w13");
    for _ in 0..4 {
        assert_eq!(app.call_next(&staff, "w13").status, 200);
    }
    let (near_low, near_high) = band(&app.get(&page).body);
    assert!(
        near_high - near_low < high - low,
        "{near_low}–{near_high} is not narrower than {low}–{high}"
    );
    assert!(near_high < high);
}
