//! LED window displays (窗口屏) on serial lines, usually RS-485 through a USB adapter, several
//! displays on one line told apart by their address.
//!
//! Vendors differ, so the frame format is chosen per display: `plain` (text in GBK, CR LF),
//! `framed` (STX, address, command, length, GBK text, XOR checksum, ETX) and `modbus`
//! (Modbus-RTU "write multiple registers" with CRC-16/MODBUS). firmware-notes/displays.md has the
//! layouts. One [`DisplayLine`] thread per line keeps the latest text of every address on it and
//! writes only that: a display that is slow or unplugged never builds up a backlog, and after a
//! reconnect every address gets its current text again.

use crate::transport::{self, DeviceUrl, Transport};
use encoding_rs::GBK;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Plain,
    Framed,
    Modbus,
}

impl Protocol {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "plain" => Some(Protocol::Plain),
            "framed" => Some(Protocol::Framed),
            "modbus" => Some(Protocol::Modbus),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Plain => "plain",
            Protocol::Framed => "framed",
            Protocol::Modbus => "modbus",
        }
    }
}

/// Longest text a frame carries, in GBK bytes (Modbus: 123 registers).
pub const TEXT_BYTES_MAX: usize = 200;

/// GBK bytes of `text` without control characters, cut at a character boundary.
fn gbk(text: &str, limit: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4];
    for c in text.chars().filter(|c| !c.is_control()) {
        let (encoded, _, _) = GBK.encode(c.encode_utf8(&mut buffer));
        if bytes.len() + encoded.len() > limit {
            break;
        }
        bytes.extend_from_slice(&encoded);
    }
    bytes
}

/// CRC-16/MODBUS: polynomial 0xA001 (reflected 0x8005), initial 0xFFFF.
pub fn crc16_modbus(bytes: &[u8]) -> u16 {
    let mut crc = 0xFFFFu16;
    for byte in bytes {
        crc ^= u16::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

pub const STX: u8 = 0x02;
pub const ETX: u8 = 0x03;
/// The `framed` command "show this text".
pub const FRAMED_SHOW_TEXT: u8 = 0x31;
/// Modbus function 16: write multiple registers.
pub const MODBUS_WRITE_REGISTERS: u8 = 0x10;

/// One frame that makes the display at `address` show `text`.
pub fn encode(protocol: Protocol, address: u8, register: u16, text: &str) -> Vec<u8> {
    match protocol {
        Protocol::Plain => {
            let mut frame = gbk(text, TEXT_BYTES_MAX);
            frame.extend_from_slice(b"\r\n");
            frame
        }
        Protocol::Framed => {
            let body = gbk(text, TEXT_BYTES_MAX);
            let mut frame = vec![STX, address, FRAMED_SHOW_TEXT, body.len() as u8];
            frame.extend_from_slice(&body);
            let checksum = frame[1..].iter().fold(0u8, |sum, b| sum ^ b);
            frame.push(checksum);
            frame.push(ETX);
            frame
        }
        Protocol::Modbus => {
            let mut body = gbk(text, 246);
            if body.len() % 2 == 1 {
                body.push(0);
            }
            let registers = (body.len() / 2) as u16;
            let mut frame = vec![address, MODBUS_WRITE_REGISTERS];
            frame.extend_from_slice(&register.to_be_bytes());
            frame.extend_from_slice(&registers.to_be_bytes());
            frame.push(body.len() as u8);
            frame.extend_from_slice(&body);
            let crc = crc16_modbus(&frame);
            frame.extend_from_slice(&crc.to_le_bytes());
            frame
        }
    }
}

#[derive(Clone, Debug)]
pub struct DisplayLineConfig {
    /// Names the line in logs and reports (the URL is a fine name).
    pub id: String,
    pub url: DeviceUrl,
    pub protocol: Protocol,
    /// First register for `modbus` displays.
    pub register: u16,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DisplayHealth {
    pub connected: bool,
    pub detail: Option<String>,
    pub frames_written: u64,
    /// When the last frame left (for latency measurements).
    pub last_write: Option<Instant>,
}

#[derive(Default)]
struct LineState {
    texts: BTreeMap<u8, String>,
    dirty: BTreeSet<u8>,
    stopping: bool,
    health: DisplayHealth,
}

/// Called on the line's thread when it connects or loses its connection.
pub type LineListener = Box<dyn Fn(&str, &DisplayHealth) + Send>;

const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// A serial line with one or more displays on it. Dropping it stops its thread.
pub struct DisplayLine {
    shared: Arc<(Mutex<LineState>, Condvar)>,
    config: DisplayLineConfig,
}

impl DisplayLine {
    pub fn start(config: DisplayLineConfig, listener: LineListener) -> Self {
        let shared = Arc::new((Mutex::new(LineState::default()), Condvar::new()));
        let worker = shared.clone();
        let line = config.clone();
        std::thread::Builder::new()
            .name(format!("display-{}", config.id))
            .spawn(move || run(line, worker, listener))
            .expect("spawn a display thread");
        Self { shared, config }
    }

    pub fn config(&self) -> &DisplayLineConfig {
        &self.config
    }

    /// Sets what the display at `address` shows. Returns at once; an unchanged text is not
    /// sent again.
    pub fn show(&self, address: u8, text: &str) {
        let (state, wake) = &*self.shared;
        let Ok(mut state) = state.lock() else { return };
        if state.texts.get(&address).map(String::as_str) != Some(text) {
            state.texts.insert(address, text.to_owned());
            state.dirty.insert(address);
            wake.notify_one();
        }
    }

    /// Sends `text` even if the display already shows it (a recall flashes it again).
    pub fn refresh(&self, address: u8, text: &str) {
        let (state, wake) = &*self.shared;
        let Ok(mut state) = state.lock() else { return };
        state.texts.insert(address, text.to_owned());
        state.dirty.insert(address);
        wake.notify_one();
    }

    pub fn text(&self, address: u8) -> Option<String> {
        self.shared.0.lock().ok()?.texts.get(&address).cloned()
    }

    pub fn health(&self) -> DisplayHealth {
        self.shared
            .0
            .lock()
            .map(|s| s.health.clone())
            .unwrap_or_default()
    }
}

impl Drop for DisplayLine {
    fn drop(&mut self) {
        let (state, wake) = &*self.shared;
        if let Ok(mut state) = state.lock() {
            state.stopping = true;
        }
        wake.notify_all();
    }
}

fn set_health(
    shared: &(Mutex<LineState>, Condvar),
    id: &str,
    listener: &LineListener,
    connected: bool,
    detail: Option<String>,
) {
    let snapshot = {
        let Ok(mut state) = shared.0.lock() else {
            return;
        };
        let changed =
            state.health.connected != connected || (!connected && state.health.detail.is_none());
        state.health.connected = connected;
        state.health.detail = detail;
        changed.then(|| state.health.clone())
    };
    if let Some(health) = snapshot {
        tracing::info!(line = id, connected, "display line changed");
        listener(id, &health);
    }
}

fn run(
    config: DisplayLineConfig,
    shared: Arc<(Mutex<LineState>, Condvar)>,
    listener: LineListener,
) {
    let mut connection: Option<Box<dyn Transport>> = None;
    let mut backoff = BACKOFF_MIN;
    loop {
        if connection.is_none() {
            match transport::open(&config.url, WRITE_TIMEOUT) {
                Ok(opened) => {
                    connection = Some(opened);
                    backoff = BACKOFF_MIN;
                    if let Ok(mut state) = shared.0.lock() {
                        // A display that was away shows whatever it last got: send it all again.
                        let all: Vec<u8> = state.texts.keys().copied().collect();
                        state.dirty.extend(all);
                    }
                    set_health(&shared, &config.id, &listener, true, None);
                }
                Err(error) => {
                    set_health(
                        &shared,
                        &config.id,
                        &listener,
                        false,
                        Some(format!("cannot open {}: {error}", config.url)),
                    );
                    let Ok(state) = shared.0.lock() else { return };
                    let (state, _) = shared
                        .1
                        .wait_timeout(state, backoff)
                        .unwrap_or_else(|e| e.into_inner());
                    if state.stopping {
                        return;
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
            }
        }
        // Wait for something to show.
        let work: Vec<(u8, String)> = {
            let Ok(mut state) = shared.0.lock() else {
                return;
            };
            while state.dirty.is_empty() && !state.stopping {
                state = match shared.1.wait_timeout(state, Duration::from_secs(30)) {
                    Ok((state, _)) => state,
                    Err(_) => return,
                };
            }
            if state.stopping {
                return;
            }
            let dirty = std::mem::take(&mut state.dirty);
            dirty
                .into_iter()
                .filter_map(|address| state.texts.get(&address).map(|t| (address, t.clone())))
                .collect()
        };
        let Some(transport) = connection.as_mut() else {
            continue;
        };
        for (index, (address, text)) in work.iter().enumerate() {
            let frame = encode(config.protocol, *address, config.register, text);
            if let Err(error) = transport.write_all(&frame) {
                connection = None;
                if let Ok(mut state) = shared.0.lock() {
                    state.dirty.extend(work[index..].iter().map(|(a, _)| *a));
                }
                set_health(
                    &shared,
                    &config.id,
                    &listener,
                    false,
                    Some(format!("writing to {} failed: {error}", config.url)),
                );
                break;
            }
            if let Ok(mut state) = shared.0.lock() {
                state.health.frames_written += 1;
                state.health.last_write = Some(Instant::now());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn crc16_modbus_check_value() {
        // The catalogue check value of CRC-16/MODBUS.
        assert_eq!(crc16_modbus(b"123456789"), 0x4B37);
        // A textbook frame: read holding registers 0-1 of slave 1.
        assert_eq!(
            crc16_modbus(&[0x01, 0x03, 0x00, 0x00, 0x00, 0x02]).to_le_bytes(),
            [0xC4, 0x0B]
        );
    }

    #[test]
    fn golden_frames() {
        // 请A001号到3号窗口 in GBK; checksum and CRC computed independently (Python codecs).
        let text = "请A001号到3号窗口";
        let gbk_text = "C7 EB 41 30 30 31 BA C5 B5 BD 33 BA C5 B4 B0 BF DA";
        assert_eq!(
            hex(&encode(Protocol::Plain, 3, 0, text)),
            format!("{gbk_text} 0D 0A")
        );
        assert_eq!(
            hex(&encode(Protocol::Framed, 3, 0, text)),
            format!("02 03 31 11 {gbk_text} 25 03")
        );
        assert_eq!(
            hex(&encode(Protocol::Modbus, 3, 0x0010, text)),
            format!("03 10 00 10 00 09 12 {gbk_text} 00 4C 13")
        );
    }

    #[test]
    fn framed_checksum_is_the_xor_of_address_to_text() {
        let frame = encode(Protocol::Framed, 7, 0, "A");
        assert_eq!(
            frame,
            vec![STX, 7, FRAMED_SHOW_TEXT, 1, b'A', 7 ^ 0x31 ^ 1 ^ b'A', ETX]
        );
    }

    #[test]
    fn modbus_frames_check_out() {
        for text in ["", "欢迎光临", "请G012号到7号窗口办理", &"长".repeat(200)] {
            let frame = encode(Protocol::Modbus, 1, 0, text);
            let (body, crc) = frame.split_at(frame.len() - 2);
            assert_eq!(crc16_modbus(body).to_le_bytes(), crc);
            let registers = u16::from_be_bytes([body[4], body[5]]) as usize;
            assert_eq!(usize::from(body[6]), registers * 2);
            assert_eq!(body.len(), 7 + registers * 2);
            assert!(registers <= 123);
        }
    }

    #[test]
    fn long_text_is_cut_at_a_character_and_controls_dropped() {
        let frame = encode(Protocol::Plain, 1, 0, &"窗".repeat(150));
        assert_eq!(frame.len(), TEXT_BYTES_MAX + 2);
        let frame = encode(Protocol::Plain, 1, 0, "A\u{2}\u{3}B");
        assert_eq!(frame, b"AB\r\n");
    }
}
