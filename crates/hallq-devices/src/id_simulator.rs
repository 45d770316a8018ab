//! An ID card reader that lives in a thread: it answers the module protocol (`id_card`) like a
//! kiosk's reader, with or without a card on it, and can be told to lose the card in the middle
//! of a read, to talk garbage, to send a wrong check byte or to split its answers across
//! writes. Tests use it on a pseudo-terminal (serial) or over TCP; installers can point
//! `hallq id-test` at it to try a configuration without hardware.

use crate::id_card::{basic_information_data, frame, status, CardFields, Command, Decoder};
use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A card to lay on the simulated reader: its number, birth date (YYYYMMDD) and end of validity
/// (YYYYMMDD or 长期), with a made-up name and address the hall must never read.
pub fn sample_card(number: &str, birth: &str, valid_until: &str) -> Vec<u8> {
    basic_information_data(&CardFields {
        name: "王五",
        sex: "1",
        ethnic: "01",
        birth,
        address: "江州市滨江大道88号",
        number,
        issuer: "江州市公安局",
        valid_from: "20150601",
        valid_until,
    })
}

#[derive(Clone, Debug, Default)]
pub struct ReaderState {
    /// The basic-information data of the card on the reader (`id_card::basic_information_data`).
    pub card: Option<Vec<u8>>,
    /// The card leaves after it has been selected: the read fails (SW3 41) and it is gone.
    pub pull_away_on_read: bool,
    /// Every answer is noise.
    pub garbage: bool,
    /// Every answer has a wrong check byte.
    pub bad_check: bool,
    /// Answers go out in pieces, with pauses between them.
    pub split: bool,
    /// No answer at all.
    pub mute: bool,
}

#[derive(Default)]
struct Shared {
    state: ReaderState,
    requests: Vec<Command>,
    connections: usize,
}

#[derive(Clone)]
pub struct IdReaderSimulator {
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl IdReaderSimulator {
    /// Serves one byte stream (the master side of a pseudo-terminal) on a new thread.
    pub fn on_stream<S: Read + Write + Send + 'static>(stream: S) -> Self {
        let simulator = Self {
            shared: Arc::default(),
            stop: Arc::default(),
            port: 0,
        };
        let worker = simulator.clone();
        std::thread::spawn(move || worker.serve(stream));
        simulator
    }

    /// Listens on 127.0.0.1 on a free port (a reader behind a serial-over-IP converter).
    pub fn tcp() -> std::io::Result<Self> {
        let simulator = Self {
            shared: Arc::default(),
            stop: Arc::default(),
            port: 0,
        };
        let worker = simulator.clone();
        let port = crate::simulator::serve_tcp(simulator.stop.clone(), move |stream| {
            worker.serve(stream)
        })?;
        Ok(Self { port, ..simulator })
    }

    pub fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, change: impl FnOnce(&mut ReaderState)) {
        change(&mut self.lock().state);
    }

    /// Lays a card on the reader.
    pub fn place(&self, card: Vec<u8>) {
        self.set(|state| state.card = Some(card));
    }

    /// Takes the card away.
    pub fn take_away(&self) {
        self.set(|state| state.card = None);
    }

    pub fn has_card(&self) -> bool {
        self.lock().state.card.is_some()
    }

    /// Every request understood so far, in order.
    pub fn requests(&self) -> Vec<Command> {
        self.lock().requests.clone()
    }

    pub fn connections(&self) -> usize {
        self.lock().connections
    }

    /// Stops serving (the reader is unplugged).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn serve<S: Read + Write>(&self, mut stream: S) {
        self.lock().connections += 1;
        let mut decoder = Decoder::default();
        let mut buffer = [0u8; 256];
        while !self.stop.load(Ordering::SeqCst) {
            match stream.read(&mut buffer) {
                Ok(0) => return,
                Ok(n) => decoder.push(&buffer[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {
                    continue
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return,
            }
            while let Some(request) = decoder.next_frame() {
                let answer = match request {
                    Ok(request) => match request.body.as_slice() {
                        [code, parameter] => match Command::from_code(*code, *parameter) {
                            Some(command) => self.answer(command),
                            None => Some(frame(&[0x00, 0x00, status::BAD_COMMAND])),
                        },
                        _ => Some(frame(&[0x00, 0x00, status::BAD_LENGTH])),
                    },
                    Err(_) => Some(frame(&[0x00, 0x00, status::BAD_CHECK])),
                };
                let Some(mut answer) = answer else { continue };
                let state = self.lock().state.clone();
                if state.garbage {
                    answer = answer
                        .iter()
                        .enumerate()
                        .map(|(i, b)| b.wrapping_mul(31).wrapping_add(i as u8) ^ 0x5A)
                        .collect();
                }
                if state.bad_check {
                    if let Some(last) = answer.last_mut() {
                        *last ^= 0xFF;
                    }
                }
                let written = if state.split {
                    answer.chunks(7).try_for_each(|piece| {
                        stream.write_all(piece)?;
                        stream.flush()?;
                        std::thread::sleep(Duration::from_millis(5));
                        Ok::<(), std::io::Error>(())
                    })
                } else {
                    stream.write_all(&answer).and_then(|_| stream.flush())
                };
                if written.is_err() {
                    return;
                }
            }
        }
    }

    /// What the module says to `command` in the current state (`None`: nothing).
    fn answer(&self, command: Command) -> Option<Vec<u8>> {
        let mut shared = self.lock();
        shared.requests.push(command);
        if shared.requests.len() > 10_000 {
            shared.requests.drain(..5_000);
        }
        let state = &mut shared.state;
        if state.mute {
            return None;
        }
        let sw3 = |code: u8| frame(&[0x00, 0x00, code]);
        Some(match (command, &state.card) {
            (Command::FindCard, Some(_)) => sw3(status::CARD_FOUND),
            (Command::FindCard, None) => sw3(status::NO_CARD),
            (Command::SelectCard, Some(_)) => sw3(status::SUCCESS),
            (Command::SelectCard, None) => sw3(status::SELECT_FAILED),
            (Command::ReadBasic, Some(_)) if state.pull_away_on_read => {
                state.card = None;
                sw3(status::READ_FAILED)
            }
            (Command::ReadBasic, Some(card)) => {
                let mut body = vec![0x00, 0x00, status::SUCCESS];
                body.extend_from_slice(card);
                frame(&body)
            }
            (Command::ReadBasic, None) => sw3(status::READ_FAILED),
        })
    }
}
