//! Printer supervisors against simulated printers over TCP, a pseudo-terminal and a file.

use hallq_devices::decode::printed_lines;
use hallq_devices::printer::{
    print_with_retry, PrintOutcome, Printer, PrinterConfig, PrinterHealth,
};
use hallq_devices::simulator::PrinterSimulator;
use hallq_devices::{render_ticket, DeviceUrl, PrinterCondition, TicketContent, TicketLayout};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn ticket(number: &str) -> Vec<u8> {
    render_ticket(
        &TicketContent {
            hall_name: "江州市政务服务中心".into(),
            service_name: "出入境证件办理".into(),
            number: number.into(),
            priority_label: None,
            ahead: Some(2),
            wait_minutes: Some((10, 15)),
            issued_at: "2026-11-27 09:00".into(),
            status_url: Some("http://127.0.0.1:8080/t/abc".into()),
        },
        &TicketLayout::default(),
    )
}

type Changes = Arc<Mutex<Vec<PrinterCondition>>>;

fn start(url: &str) -> (Printer, Changes) {
    let changes: Changes = Arc::default();
    let seen = changes.clone();
    let printer = Printer::start(
        PrinterConfig {
            id: "p1".into(),
            url: url.parse().unwrap(),
            layout: TicketLayout::default(),
            status_interval: Duration::from_secs(1),
        },
        Box::new(move |_, health: &PrinterHealth| seen.lock().unwrap().push(health.condition)),
    );
    (printer, changes)
}

fn print(printer: &Printer, bytes: Vec<u8>) -> PrintOutcome {
    printer
        .submit(bytes, Duration::from_secs(5))
        .blocking_recv()
        .unwrap()
}

#[test]
fn a_network_printer_prints_and_reports_its_faults() {
    let simulator = PrinterSimulator::tcp().unwrap();
    let (printer, changes) = start(&simulator.url());

    assert_eq!(print(&printer, ticket("H001")), PrintOutcome::Printed);
    let lines = printed_lines(&simulator.take_received()).unwrap();
    assert!(
        lines.contains(&"H001".to_owned()) && lines.contains(&"出入境证件办理".to_owned()),
        "{lines:?}"
    );
    assert!(
        simulator.status_requests() >= 2,
        "status was checked before the job"
    );

    simulator.set(|s| s.paper_out = true);
    match print(&printer, ticket("H002")) {
        PrintOutcome::Failed { condition, reason } => {
            assert_eq!(condition, PrinterCondition::PaperOut);
            assert!(reason.contains("paper"), "{reason}");
        }
        other => panic!("printed without paper: {other:?}"),
    }
    assert!(
        simulator.take_received().is_empty(),
        "nothing is sent to a printer without paper"
    );
    assert_eq!(printer.health().condition, PrinterCondition::PaperOut);

    simulator.set(|s| {
        s.paper_out = false;
        s.cover_open = true;
    });
    assert!(matches!(
        print(&printer, ticket("H003")),
        PrintOutcome::Failed {
            condition: PrinterCondition::CoverOpen,
            ..
        }
    ));

    // A nearly empty roll still prints, and managers are warned.
    simulator.set(|s| {
        s.cover_open = false;
        s.paper_near_end = true;
    });
    assert_eq!(print(&printer, ticket("H004")), PrintOutcome::Printed);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(printer.health().condition, PrinterCondition::PaperNearEnd);
    let seen = changes.lock().unwrap().clone();
    for expected in [
        PrinterCondition::PaperOut,
        PrinterCondition::CoverOpen,
        PrinterCondition::PaperNearEnd,
    ] {
        assert!(
            seen.contains(&expected),
            "{expected:?} not reported in {seen:?}"
        );
    }
    let health = printer.health();
    assert_eq!((health.printed, health.failed), (2, 2));
}

#[test]
fn a_connection_dropped_mid_job_is_retried_on_a_new_one() {
    let simulator = PrinterSimulator::tcp().unwrap();
    simulator.set(|s| s.drop_after_bytes = Some(20));
    let url: DeviceUrl = simulator.url().parse().unwrap();
    let mut connection = None;
    assert_eq!(
        print_with_retry(&mut connection, &url, &ticket("J001")),
        PrintOutcome::Printed
    );
    assert_eq!(simulator.connections(), 2);
    // The first 20 bytes of the cut-short job, then the whole job.
    let received = simulator.received();
    let whole = ticket("J001");
    assert!(received.ends_with(&whole));
}

#[test]
fn an_unreachable_printer_fails_fast_and_says_so() {
    let simulator = PrinterSimulator::tcp().unwrap();
    let url = simulator.url();
    simulator.stop();
    std::thread::sleep(Duration::from_millis(100));
    let (printer, _) = start(&url);
    match print(&printer, ticket("A001")) {
        PrintOutcome::Failed { condition, reason } => {
            assert!(
                matches!(
                    condition,
                    PrinterCondition::Unreachable | PrinterCondition::Offline
                ),
                "{condition:?}"
            );
            assert!(!reason.is_empty());
        }
        PrintOutcome::Printed => panic!("printed to nothing"),
    }
}

#[test]
fn a_mute_printer_counts_as_offline() {
    let simulator = PrinterSimulator::tcp().unwrap();
    simulator.set(|s| s.mute = true);
    let (printer, _) = start(&simulator.url());
    assert!(matches!(
        print(&printer, ticket("A001")),
        PrintOutcome::Failed {
            condition: PrinterCondition::Offline,
            ..
        }
    ));
}

#[test]
fn a_serial_printer_on_a_pseudo_terminal() {
    let (master, slave) = serialport::TTYPort::pair().expect("pseudo-terminal pair");
    let path = serialport::SerialPort::name(&slave).expect("pty name");
    let simulator = PrinterSimulator::on_stream(master);
    let (printer, _) = start(&format!("serial://{path}?baud=19200"));
    assert_eq!(print(&printer, ticket("K007")), PrintOutcome::Printed);
    let lines = printed_lines(&simulator.received()).unwrap();
    assert!(lines.contains(&"K007".to_owned()), "{lines:?}");
    simulator.set(|s| s.paper_out = true);
    assert!(matches!(
        print(&printer, ticket("K008")),
        PrintOutcome::Failed {
            condition: PrinterCondition::PaperOut,
            ..
        }
    ));
    drop(slave);
}

#[test]
fn a_file_printer_keeps_the_bytes_for_development() {
    let dir = std::env::temp_dir().join(format!("hallq-file-printer-{}", std::process::id()));
    let path = dir.join("spool/lobby.escpos");
    let (printer, _) = start(&format!("file://{}", path.display()));
    assert_eq!(print(&printer, ticket("G001")), PrintOutcome::Printed);
    assert_eq!(print(&printer, ticket("G002")), PrintOutcome::Printed);
    let bytes = std::fs::read(&path).unwrap();
    let lines = printed_lines(&bytes).unwrap();
    assert!(lines.contains(&"G001".to_owned()) && lines.contains(&"G002".to_owned()));
    assert_eq!(printer.health().condition, PrinterCondition::Unknown);
    let _ = std::fs::remove_dir_all(dir);
}
