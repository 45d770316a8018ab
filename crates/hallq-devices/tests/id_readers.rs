//! The ID card reader protocol against a simulated reader on a pseudo-terminal, as a kiosk's
//! USB reader appears: no card, a card, answers split across reads, a card taken away in the
//! middle of a read, garbage, a wrong check byte, and an unplugged reader.

use hallq_devices::id_card::{Command, FrameError, IdReader, ReadError};
use hallq_devices::id_simulator::{sample_card, IdReaderSimulator};
use hallq_devices::transport::open_stream;
use serialport::{SerialPort, TTYPort};
use std::time::Duration;

const NUMBER: &str = "11010519491231002X";

fn card() -> Vec<u8> {
    sample_card(NUMBER, "19491231", "20350601")
}

/// A reader on a fresh pseudo-terminal, and its simulator on the other side.
fn reader_on_a_pty(timeout: Duration) -> (IdReader, IdReaderSimulator, TTYPort) {
    let (mut master, slave) = TTYPort::pair().unwrap();
    master.set_timeout(Duration::from_millis(20)).unwrap();
    let name = slave.name().unwrap();
    let simulator = IdReaderSimulator::on_stream(master);
    let url = format!("serial://{name}?baud=115200").parse().unwrap();
    let stream = open_stream(&url, Duration::from_secs(2)).unwrap();
    (IdReader::new(stream, timeout), simulator, slave)
}

#[test]
fn a_card_is_read_and_no_card_is_no_card() {
    let (mut reader, simulator, _slave) = reader_on_a_pty(Duration::from_secs(2));
    assert!(reader.read_card().unwrap().is_none());
    simulator.place(card());
    let read = reader.read_card().unwrap().expect("the card");
    assert_eq!(read.number, NUMBER);
    assert_eq!(read.birth.to_string(), "1949-12-31");
    assert_eq!(
        read.valid_until.map(|d| d.to_string()).as_deref(),
        Some("2035-06-01")
    );
    assert_eq!(
        simulator.requests(),
        [
            Command::FindCard,
            Command::FindCard,
            Command::SelectCard,
            Command::ReadBasic
        ]
    );
    // Split across many small writes with pauses: still one whole answer.
    simulator.set(|state| state.split = true);
    assert_eq!(reader.read_card().unwrap().unwrap().number, NUMBER);
}

#[test]
fn a_card_taken_away_mid_read_is_said_so_and_then_there_is_none() {
    let (mut reader, simulator, _slave) = reader_on_a_pty(Duration::from_secs(2));
    simulator.place(card());
    simulator.set(|state| state.pull_away_on_read = true);
    assert!(matches!(reader.read_card(), Err(ReadError::CardLost)));
    assert!(!simulator.has_card());
    assert!(reader.read_card().unwrap().is_none());
}

#[test]
fn garbage_and_wrong_check_bytes_are_errors_not_cards() {
    let (mut reader, simulator, _slave) = reader_on_a_pty(Duration::from_millis(400));
    simulator.place(card());
    simulator.set(|state| state.bad_check = true);
    assert!(matches!(
        reader.read_card(),
        Err(ReadError::Frame(FrameError::Check { .. }))
    ));
    simulator.set(|state| {
        state.bad_check = false;
        state.garbage = true;
    });
    assert!(matches!(reader.read_card(), Err(ReadError::NoAnswer(_))));
    // The line clears: the same reader reads again.
    simulator.set(|state| state.garbage = false);
    assert_eq!(reader.read_card().unwrap().unwrap().number, NUMBER);
    simulator.set(|state| state.mute = true);
    assert!(matches!(reader.card_present(), Err(ReadError::NoAnswer(_))));
}

#[test]
fn an_unplugged_reader_is_an_error() {
    let (mut reader, simulator, slave) = reader_on_a_pty(Duration::from_millis(300));
    assert!(reader.read_card().unwrap().is_none());
    simulator.stop();
    drop(slave);
    // The simulator's side is gone: nothing answers any more.
    let mut failed = false;
    for _ in 0..10 {
        if reader.card_present().is_err() {
            failed = true;
            break;
        }
    }
    assert!(failed, "an unplugged reader kept answering");
    // And a path that is not there cannot be opened.
    let url = "serial:///dev/hallq-no-such-reader?baud=115200"
        .parse()
        .unwrap();
    assert!(open_stream(&url, Duration::from_millis(200)).is_err());
}

#[test]
fn a_reader_behind_a_serial_over_ip_converter() {
    let simulator = IdReaderSimulator::tcp().unwrap();
    simulator.place(card());
    let stream = open_stream(&simulator.url().parse().unwrap(), Duration::from_secs(2)).unwrap();
    let mut reader = IdReader::new(stream, Duration::from_secs(2));
    assert_eq!(
        reader.read_card().unwrap().unwrap().masked(),
        "1101**********002X"
    );
    simulator.stop();
}
