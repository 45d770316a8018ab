//! A printer that lives in a thread: it answers DLE EOT status requests like an Epson-compatible
//! printer, keeps what it was sent, and can be told to run out of paper, open its cover or drop
//! the connection in the middle of a job. Tests use it over TCP (port 9100 style) and over a
//! pseudo-terminal (serial); installers can use it to try a configuration without hardware.

use crate::escpos::{DLE, EOT, GS};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub struct SimulatedState {
    pub paper_out: bool,
    pub paper_near_end: bool,
    pub cover_open: bool,
    /// Close the connection after this many more job bytes (once).
    pub drop_after_bytes: Option<usize>,
    /// Answer no status request (a printer that never talks back).
    pub mute: bool,
}

#[derive(Default)]
struct Shared {
    state: SimulatedState,
    /// Every job byte received, status requests removed.
    received: Vec<u8>,
    status_requests: usize,
    connections: usize,
}

#[derive(Clone)]
pub struct PrinterSimulator {
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl PrinterSimulator {
    /// Listens on 127.0.0.1 on a free port.
    pub fn tcp() -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let simulator = Self {
            shared: shared.clone(),
            stop: stop.clone(),
            port: 0,
        };
        let worker = simulator.clone();
        let port = serve_tcp(stop, move |stream| {
            shared.lock().unwrap().connections += 1;
            worker.serve(TcpConnection(stream));
        })?;
        Ok(Self { port, ..simulator })
    }

    /// Serves one byte stream (the master side of a pseudo-terminal, say) on a new thread.
    pub fn on_stream<S: Read + Write + Send + 'static>(stream: S) -> Self {
        let simulator = Self {
            shared: Arc::new(Mutex::new(Shared::default())),
            stop: Arc::new(AtomicBool::new(false)),
            port: 0,
        };
        let worker = simulator.clone();
        std::thread::spawn(move || worker.serve(stream));
        simulator
    }

    pub fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    pub fn set(&self, change: impl FnOnce(&mut SimulatedState)) {
        change(&mut self.shared.lock().unwrap().state);
    }

    pub fn received(&self) -> Vec<u8> {
        self.shared.lock().unwrap().received.clone()
    }

    pub fn take_received(&self) -> Vec<u8> {
        std::mem::take(&mut self.shared.lock().unwrap().received)
    }

    pub fn status_requests(&self) -> usize {
        self.shared.lock().unwrap().status_requests
    }

    pub fn connections(&self) -> usize {
        self.shared.lock().unwrap().connections
    }

    /// Stops accepting connections (the printer is switched off).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    fn status_byte(state: &SimulatedState, n: u8) -> u8 {
        let offline = state.paper_out || state.cover_open;
        match n {
            1 => 0x12 | if offline { 0x08 } else { 0 },
            2 => {
                0x12 | if state.cover_open { 0x04 } else { 0 }
                    | if state.paper_out { 0x20 } else { 0 }
            }
            4 => {
                0x12 | if state.paper_near_end { 0x0C } else { 0 }
                    | if state.paper_out { 0x60 } else { 0 }
            }
            _ => 0x12,
        }
    }

    /// Reads the stream, answering status requests and keeping job bytes. Raster and QR
    /// payloads are skipped by length, so image data is never mistaken for a status request.
    fn serve<S: Read + Write>(&self, mut stream: S) {
        let mut pending: Vec<u8> = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            match stream.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => pending.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) =>
                {
                    continue
                }
                Err(_) => return,
            }
            let mut at = 0;
            while at < pending.len() {
                let rest = &pending[at..];
                let length = match rest {
                    [DLE, EOT, ..] if rest.len() < 3 => break,
                    [DLE, EOT, n, ..] => {
                        let (answer, mute) = {
                            let mut shared = self.shared.lock().unwrap();
                            shared.status_requests += 1;
                            (Self::status_byte(&shared.state, *n), shared.state.mute)
                        };
                        if !mute
                            && stream
                                .write_all(&[answer])
                                .and_then(|_| stream.flush())
                                .is_err()
                        {
                            return;
                        }
                        at += 3;
                        continue;
                    }
                    [GS, b'v', b'0', ..] if rest.len() < 8 => break,
                    [GS, b'v', b'0', _, x1, x2, y1, y2, ..] => {
                        8 + (usize::from(*x1) + 256 * usize::from(*x2))
                            * (usize::from(*y1) + 256 * usize::from(*y2))
                    }
                    [GS, b'(', b'k', ..] if rest.len() < 5 => break,
                    [GS, b'(', b'k', l1, l2, ..] => 5 + usize::from(*l1) + 256 * usize::from(*l2),
                    _ => 1,
                };
                if rest.len() < length {
                    break;
                }
                let drop_now = {
                    let mut shared = self.shared.lock().unwrap();
                    shared.received.extend_from_slice(&rest[..length]);
                    match shared.state.drop_after_bytes {
                        Some(left) if left <= length => {
                            shared.state.drop_after_bytes = None;
                            true
                        }
                        Some(left) => {
                            shared.state.drop_after_bytes = Some(left - length);
                            false
                        }
                        None => false,
                    }
                };
                at += length;
                if drop_now {
                    return;
                }
            }
            pending.drain(..at);
        }
    }
}

/// Accepts connections on 127.0.0.1 on a free port, one at a time (a device talks to one
/// host), serving each with `serve` on a thread of its own until `stop`. Returns the port.
pub(crate) fn serve_tcp(
    stop: Arc<AtomicBool>,
    serve: impl Fn(TcpStream) + Send + 'static,
) -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    listener.set_nonblocking(true)?;
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
                    serve(stream);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(_) => return,
            }
        }
    });
    Ok(port)
}

struct TcpConnection(TcpStream);

impl Read for TcpConnection {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buffer)
    }
}

impl Write for TcpConnection {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        self.0.write(buffer)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
