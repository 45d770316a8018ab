//! Resident ID card readers (二代身份证阅读器): the module protocol of the GA 467 family that
//! kiosk readers speak over a serial line (USB readers appear as serial ports), written down in
//! firmware-notes/id-readers.md.
//!
//! A request is `AA AA AA 96 69`, a two-byte big-endian length (of what follows it), a
//! command, a parameter and an XOR check byte over the length, command and parameter. An
//! answer is the same preamble and length, three status bytes (SW1 SW2 SW3; SW3 is the
//! verdict), the data and the check byte. Find card (`20 01`) answers SW3 `9F` when a card is
//! on the reader and `80` when none; select (`20 02`) answers `90`; read the basic information
//! (`30 01`) answers `90` with the text's and the photo's lengths (two bytes each, big-endian),
//! a 256-byte text block in UCS-2 little-endian, and the photo.
//!
//! Only what the hall needs is read out of the text: the ID number, the birth date and the
//! card's validity. The name, the address and the issuer are never decoded, and the photo is
//! neither decoded, kept nor passed on. Nothing here prints a whole ID number: `IdCard`'s
//! `Debug` shows the masked form.

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::time::{Duration, Instant};

/// Every frame begins with these five bytes.
pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];
/// The longest answer a module sends: the basic information with its photo (1,295 bytes),
/// with room for the fingerprint variant of the read. Anything claiming more is garbage.
pub const MAX_FRAME: usize = 4096;
/// The text block's length, and the photo's, in a basic-information answer.
pub const TEXT_BYTES: usize = 256;
pub const PHOTO_BYTES: usize = 1024;

/// The three commands a kiosk needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    FindCard,
    SelectCard,
    ReadBasic,
}

impl Command {
    pub fn code(self) -> (u8, u8) {
        match self {
            Command::FindCard => (0x20, 0x01),
            Command::SelectCard => (0x20, 0x02),
            Command::ReadBasic => (0x30, 0x01),
        }
    }

    pub fn from_code(command: u8, parameter: u8) -> Option<Self> {
        match (command, parameter) {
            (0x20, 0x01) => Some(Command::FindCard),
            (0x20, 0x02) => Some(Command::SelectCard),
            (0x30, 0x01) => Some(Command::ReadBasic),
            _ => None,
        }
    }
}

/// SW3 values the module answers with.
pub mod status {
    pub const SUCCESS: u8 = 0x90;
    pub const CARD_FOUND: u8 = 0x9F;
    pub const NO_CARD: u8 = 0x80;
    pub const SELECT_FAILED: u8 = 0x81;
    pub const READ_FAILED: u8 = 0x41;
    pub const CARD_EMPTY: u8 = 0x91;
    pub const BAD_CHECK: u8 = 0x10;
    pub const BAD_LENGTH: u8 = 0x11;
    pub const BAD_COMMAND: u8 = 0x21;

    /// What a status means, for installers (`hallq id-test`) and the device's health.
    pub fn describe(sw3: u8) -> &'static str {
        match sw3 {
            SUCCESS => "success",
            CARD_FOUND => "card found",
            NO_CARD => "no card on the reader",
            SELECT_FAILED => "the card could not be selected (taken away?)",
            READ_FAILED => "the card could not be read (taken away during the read?)",
            CARD_EMPTY => "the card holds nothing",
            BAD_CHECK => "the module saw a wrong check byte in our request",
            BAD_LENGTH => "the module saw a wrong length in our request",
            BAD_COMMAND => "the module does not know the command",
            0x23 => "the module refused the operation (not authorised)",
            0x24 => "the module reports an error it cannot name",
            0x31 => "the card failed to authenticate the module",
            0x32 => "the module failed to authenticate the card",
            0x33 => "the card's information did not verify",
            0x40 => "the card is not a resident ID card",
            0x47 => "the module could not get a random number",
            0x60 => "the module's self-test failed",
            0x66 => "the module is not authorised",
            _ => "unknown status",
        }
    }
}

fn check_byte(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |check, byte| check ^ byte)
}

/// A whole frame: preamble, length, `body`, check byte (`body` is command and parameter for a
/// request, status bytes and data for an answer).
pub fn frame(body: &[u8]) -> Vec<u8> {
    let length = u16::try_from(body.len() + 1).unwrap_or(u16::MAX);
    let mut bytes = Vec::with_capacity(body.len() + 8);
    bytes.extend_from_slice(&PREAMBLE);
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(body);
    let check = check_byte(&bytes[PREAMBLE.len()..]);
    bytes.push(check);
    bytes
}

/// The request for `command`.
pub fn request(command: Command) -> Vec<u8> {
    let (code, parameter) = command.code();
    frame(&[code, parameter])
}

/// A frame's body once its preamble, length and check byte are known to be right.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub body: Vec<u8>,
}

impl fmt::Debug for Frame {
    // An answer carries a card's text and photo: its bytes are not for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Frame({} bytes)", self.body.len())
    }
}

/// Why bytes from the line were not a frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("wrong check byte (expected {expected:02X}, got {got:02X})")]
    Check { expected: u8, got: u8 },
    #[error("a frame claims {0} bytes, more than a reader ever sends")]
    TooLong(usize),
}

/// Frames out of a byte stream that may split them across reads, put garbage between them
/// or corrupt them: bytes before a preamble are dropped, a frame with a wrong check byte is
/// reported and skipped. Holds at most one frame's worth of bytes.
#[derive(Default)]
pub struct Decoder {
    buffer: Vec<u8>,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() > 2 * MAX_FRAME {
            // Nothing but garbage for a long while: keep only what could start a frame.
            let keep = self.buffer.len() - PREAMBLE.len();
            self.buffer.drain(..keep);
        }
    }

    /// The next complete frame, an error for a broken one, or `None` until more bytes come.
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        loop {
            let start = find(&self.buffer, &PREAMBLE);
            match start {
                Some(start) => {
                    self.buffer.drain(..start);
                }
                None => {
                    // Keep a possible preamble's beginning at the end.
                    let keep = self.buffer.len().min(PREAMBLE.len() - 1);
                    let drop = self.buffer.len() - keep;
                    self.buffer.drain(..drop);
                    return None;
                }
            }
            if self.buffer.len() < PREAMBLE.len() + 2 {
                return None;
            }
            let length = usize::from(u16::from_be_bytes([self.buffer[5], self.buffer[6]]));
            if length == 0 || PREAMBLE.len() + 2 + length > MAX_FRAME {
                // Not a real length: this preamble was garbage; look for the next.
                self.buffer.drain(..1);
                if length > 0 {
                    return Some(Err(FrameError::TooLong(length)));
                }
                continue;
            }
            let total = PREAMBLE.len() + 2 + length;
            if self.buffer.len() < total {
                return None;
            }
            let frame: Vec<u8> = self.buffer.drain(..total).collect();
            let expected = check_byte(&frame[PREAMBLE.len()..total - 1]);
            let got = frame[total - 1];
            if expected != got {
                return Some(Err(FrameError::Check { expected, got }));
            }
            return Some(Ok(Frame {
                body: frame[PREAMBLE.len() + 2..total - 1].to_vec(),
            }));
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// A date as the card writes it (YYYYMMDD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CardDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl CardDate {
    fn parse(text: &str) -> Option<Self> {
        if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let date = Self {
            year: text[..4].parse().ok()?,
            month: text[4..6].parse().ok()?,
            day: text[6..8].parse().ok()?,
        };
        ((1..=12).contains(&date.month) && (1..=31).contains(&date.day)).then_some(date)
    }

    /// Whole years from this date to `on` (an age).
    pub fn years_until(self, on: CardDate) -> u16 {
        let before_birthday = (on.month, on.day) < (self.month, self.day);
        on.year
            .saturating_sub(self.year)
            .saturating_sub(u16::from(before_birthday))
    }
}

impl fmt::Display for CardDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// What the hall takes from a card: never the name, the address or the photo.
#[derive(Clone, PartialEq, Eq)]
pub struct IdCard {
    /// The 18-character 公民身份号码. Hash it (for limits and check-in) and mask it (to show);
    /// never keep, log or send it as it is.
    pub number: String,
    pub birth: CardDate,
    pub valid_from: CardDate,
    /// `None`: 长期 (valid for life).
    pub valid_until: Option<CardDate>,
}

impl IdCard {
    pub fn masked(&self) -> String {
        mask_id_number(&self.number)
    }

    /// Whether the card is past its validity on `today` (it still identifies the citizen; the
    /// kiosk says so gently).
    pub fn expired_on(&self, today: CardDate) -> bool {
        self.valid_until.is_some_and(|until| until < today)
    }
}

impl fmt::Debug for IdCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdCard")
            .field("number", &self.masked())
            .field("birth", &self.birth)
            .field("valid_from", &self.valid_from)
            .field("valid_until", &self.valid_until)
            .finish()
    }
}

pub use hallq_privacy::{check_character, is_valid_id_number, mask_id_number};

/// Where each field sits in the text block, in UCS-2 characters (two bytes each): name 0–14,
/// sex 15, ethnic group 16–17, birth 18–25, address 26–60, number 61–78, issuer 79–93,
/// validity from 94–101 and until 102–109, the rest reserved.
const BIRTH: std::ops::Range<usize> = 18..26;
const NUMBER: std::ops::Range<usize> = 61..79;
const VALID_FROM: std::ops::Range<usize> = 94..102;
const VALID_UNTIL: std::ops::Range<usize> = 102..110;

/// Characters `range` of a UCS-2 LE text block, trimmed.
fn text_field(text: &[u8], range: std::ops::Range<usize>) -> String {
    let units: Vec<u16> = text[range.start * 2..range.end * 2]
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    String::from_utf16_lossy(&units)
        .trim_matches(|c: char| c == ' ' || c == '\0')
        .to_owned()
}

/// Why an answer was not a card.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("the answer is {0} bytes, too short for a card's text")]
    Short(usize),
    #[error("the card's {0} does not read as one")]
    Field(&'static str),
}

/// The card in a basic-information answer's data (after the status bytes): the lengths, the
/// text block (only its number, birth and validity are read) and the photo (skipped).
pub fn parse_basic_information(data: &[u8]) -> Result<IdCard, CardError> {
    if data.len() < 4 {
        return Err(CardError::Short(data.len()));
    }
    let text_length = usize::from(u16::from_be_bytes([data[0], data[1]]));
    if text_length < TEXT_BYTES.min(VALID_UNTIL.end * 2) || data.len() < 4 + text_length {
        return Err(CardError::Short(data.len()));
    }
    let text = &data[4..4 + text_length];
    let number = text_field(text, NUMBER).to_ascii_uppercase();
    if !is_valid_id_number(&number) {
        return Err(CardError::Field("ID number"));
    }
    let birth = CardDate::parse(&text_field(text, BIRTH)).ok_or(CardError::Field("birth date"))?;
    let valid_from =
        CardDate::parse(&text_field(text, VALID_FROM)).ok_or(CardError::Field("validity"))?;
    let until = text_field(text, VALID_UNTIL);
    let valid_until = if until == "长期" {
        None
    } else {
        Some(CardDate::parse(&until).ok_or(CardError::Field("validity"))?)
    };
    Ok(IdCard {
        number,
        birth,
        valid_from,
        valid_until,
    })
}

/// A connection a reader answers on: bytes both ways, reads that time out.
pub trait ByteStream: Send {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Reads what has arrived, waiting at most `timeout`; `Ok(0)` when nothing came.
    fn read_some(&mut self, buffer: &mut [u8], timeout: Duration) -> io::Result<usize>;
}

impl<S: Read + Write + Send> ByteStream for TimedStream<S> {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        // No flush: on a serial port that is tcdrain(), which waits for the line to drain and
        // can wait for ever on an unplugged adapter. Written is in the kernel's buffer; the
        // answer's timeout tells whether the reader heard it.
        self.stream.write_all(bytes)
    }

    fn read_some(&mut self, buffer: &mut [u8], timeout: Duration) -> io::Result<usize> {
        (self.set_timeout)(&mut self.stream, timeout)?;
        match self.stream.read(buffer) {
            Ok(0) => Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                "the reader closed the connection",
            )),
            Ok(n) => Ok(n),
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => Ok(0),
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }
}

/// A stream with its way of setting a read timeout (serial ports and sockets differ).
pub struct TimedStream<S> {
    pub stream: S,
    pub set_timeout: fn(&mut S, Duration) -> io::Result<()>,
}

/// Why a read did not give a card.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the reader cannot be reached: {0}")]
    Io(#[from] io::Error),
    #[error("the reader did not answer within {0:?}")]
    NoAnswer(Duration),
    #[error("the reader sent a broken frame: {0}")]
    Frame(#[from] FrameError),
    #[error("the reader's answer is not what was asked for")]
    Unexpected,
    #[error("the card was taken away before it could be read")]
    CardLost,
    #[error("the reader reports {code:02X}: {}", status::describe(*code))]
    Module { code: u8 },
    #[error("the card could not be read: {0}")]
    Card(#[from] CardError),
}

/// The answer to one request: SW3 and the data after the status bytes.
pub struct Answer {
    pub status: u8,
    pub data: Vec<u8>,
}

/// A reader on an open connection.
pub struct IdReader {
    stream: Box<dyn ByteStream>,
    decoder: Decoder,
    /// How long one answer may take (the basic information takes a module about a second).
    timeout: Duration,
}

impl IdReader {
    pub fn new(stream: Box<dyn ByteStream>, timeout: Duration) -> Self {
        Self {
            stream,
            decoder: Decoder::default(),
            timeout,
        }
    }

    /// Sends one request and waits for its answer.
    pub fn exchange(&mut self, command: Command) -> Result<Answer, ReadError> {
        // An answer to an earlier question that came too late is not this one's.
        self.decoder = Decoder::default();
        self.stream.write_all(&request(command))?;
        let deadline = Instant::now() + self.timeout;
        let mut buffer = [0u8; 1400];
        loop {
            if let Some(frame) = self.decoder.next_frame() {
                let body = frame?.body;
                if body.len() < 3 {
                    return Err(ReadError::Unexpected);
                }
                return Ok(Answer {
                    status: body[2],
                    data: body[3..].to_vec(),
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReadError::NoAnswer(self.timeout));
            }
            let n = self
                .stream
                .read_some(&mut buffer, left.min(Duration::from_millis(100)))?;
            self.decoder.push(&buffer[..n]);
        }
    }

    /// Whether a card lies on the reader.
    pub fn card_present(&mut self) -> Result<bool, ReadError> {
        let answer = self.exchange(Command::FindCard)?;
        match answer.status {
            status::CARD_FOUND | status::SUCCESS => Ok(true),
            status::NO_CARD => Ok(false),
            code => Err(ReadError::Module { code }),
        }
    }

    /// Finds, selects and reads the card on the reader; `Ok(None)` when there is none. A card
    /// found but gone before its information came is `CardLost`.
    pub fn read_card(&mut self) -> Result<Option<IdCard>, ReadError> {
        if !self.card_present()? {
            return Ok(None);
        }
        let lost = |error: ReadError| match error {
            ReadError::NoAnswer(_) => ReadError::CardLost,
            ReadError::Module {
                code: status::SELECT_FAILED | status::READ_FAILED | status::NO_CARD,
            } => ReadError::CardLost,
            other => other,
        };
        let selected = self.exchange(Command::SelectCard).map_err(lost)?;
        if selected.status != status::SUCCESS {
            return Err(lost(ReadError::Module {
                code: selected.status,
            }));
        }
        let read = self.exchange(Command::ReadBasic).map_err(lost)?;
        if read.status != status::SUCCESS {
            return Err(lost(ReadError::Module { code: read.status }));
        }
        // The photo is in `read.data` after the text: it is dropped with it, unread.
        Ok(Some(parse_basic_information(&read.data)?))
    }
}

/// A basic-information answer's data for a card (for the simulator and tests): the lengths,
/// the text block with every field where the module puts it, and a photo of zeros.
pub fn basic_information_data(fields: &CardFields<'_>) -> Vec<u8> {
    let mut text = String::new();
    for (value, width) in [
        (fields.name, 15),
        (fields.sex, 1),
        (fields.ethnic, 2),
        (fields.birth, 8),
        (fields.address, 35),
        (fields.number, 18),
        (fields.issuer, 15),
        (fields.valid_from, 8),
        (fields.valid_until, 8),
        ("", 18),
    ] {
        let mut field: Vec<char> = value.chars().take(width).collect();
        field.resize(width, ' ');
        text.extend(field);
    }
    let mut data = Vec::with_capacity(4 + TEXT_BYTES + PHOTO_BYTES);
    data.extend_from_slice(&(TEXT_BYTES as u16).to_be_bytes());
    data.extend_from_slice(&(PHOTO_BYTES as u16).to_be_bytes());
    for unit in text.encode_utf16() {
        data.extend_from_slice(&unit.to_le_bytes());
    }
    data.resize(4 + TEXT_BYTES, 0);
    data.resize(4 + TEXT_BYTES + PHOTO_BYTES, 0);
    data
}

/// A card's printed fields, as a test or the simulator writes them.
#[derive(Clone, Copy, Debug)]
pub struct CardFields<'a> {
    pub name: &'a str,
    pub sex: &'a str,
    pub ethnic: &'a str,
    pub birth: &'a str,
    pub address: &'a str,
    pub number: &'a str,
    pub issuer: &'a str,
    pub valid_from: &'a str,
    pub valid_until: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    const NUMBER: &str = "11010519491231002X";

    fn fields() -> CardFields<'static> {
        CardFields {
            name: "张三",
            sex: "1",
            ethnic: "01",
            birth: "19491231",
            address: "北京市朝阳区某某路1号",
            number: NUMBER,
            issuer: "北京市公安局朝阳分局",
            valid_from: "20160101",
            valid_until: "长期",
        }
    }

    #[test]
    fn requests_are_framed_as_the_module_expects() {
        // The three requests, byte for byte as readers' manuals print them.
        assert_eq!(
            request(Command::FindCard),
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x22]
        );
        assert_eq!(
            request(Command::SelectCard),
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x02, 0x21]
        );
        assert_eq!(
            request(Command::ReadBasic),
            [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x30, 0x01, 0x32]
        );
    }

    #[test]
    fn the_decoder_survives_split_frames_garbage_and_wrong_check_bytes() {
        let answer = frame(&[0x00, 0x00, status::CARD_FOUND]);
        let mut decoder = Decoder::default();
        // Garbage first, then the frame a byte at a time.
        decoder.push(&[0x13, 0xAA, 0x00, 0xAA, 0xAA]);
        assert!(decoder.next_frame().is_none());
        for byte in &answer {
            assert!(decoder.next_frame().is_none());
            decoder.push(&[*byte]);
        }
        assert_eq!(
            decoder.next_frame().unwrap().unwrap().body,
            [0x00, 0x00, 0x9F]
        );
        // A corrupted frame is reported, and the next one still comes through.
        let mut broken = answer.clone();
        *broken.last_mut().unwrap() ^= 0xFF;
        decoder.push(&broken);
        decoder.push(&answer);
        assert!(matches!(
            decoder.next_frame(),
            Some(Err(FrameError::Check { .. }))
        ));
        assert!(decoder.next_frame().unwrap().is_ok());
        // A length no reader sends: skipped, not waited for.
        decoder.push(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF, 0xFF]);
        decoder.push(&answer);
        assert!(matches!(
            decoder.next_frame(),
            Some(Err(FrameError::TooLong(0xFFFF)))
        ));
        assert!(decoder.next_frame().unwrap().is_ok());
        // Endless garbage never grows the buffer past two frames.
        for _ in 0..100 {
            decoder.push(&[0x55; 1000]);
            assert!(decoder.next_frame().is_none());
        }
        assert!(decoder.buffer.len() <= 2 * MAX_FRAME);
    }

    #[test]
    fn a_card_gives_its_number_birth_and_validity_and_nothing_else() {
        let card = parse_basic_information(&basic_information_data(&fields())).unwrap();
        assert_eq!(card.number, NUMBER);
        assert_eq!(card.birth.to_string(), "1949-12-31");
        assert_eq!(card.valid_from.to_string(), "2016-01-01");
        assert_eq!(card.valid_until, None, "长期");
        assert_eq!(card.masked(), "1101**********002X");
        // Its Debug form never shows the number whole.
        let debug = format!("{card:?}");
        assert!(!debug.contains(NUMBER) && debug.contains("1101**********002X"));
        let on = |y, m, d| CardDate {
            year: y,
            month: m,
            day: d,
        };
        assert_eq!(card.birth.years_until(on(2026, 12, 30)), 76);
        assert_eq!(card.birth.years_until(on(2026, 12, 31)), 77);
        let dated = CardFields {
            valid_until: "20260101",
            ..fields()
        };
        let card = parse_basic_information(&basic_information_data(&dated)).unwrap();
        assert!(card.expired_on(on(2026, 12, 4)));
        assert!(!card.expired_on(on(2025, 12, 31)));
    }

    #[test]
    fn a_garbled_card_is_refused() {
        for (field, broken) in [
            (
                "ID number",
                CardFields {
                    number: "110105194912310021",
                    ..fields()
                },
            ),
            (
                "ID number",
                CardFields {
                    number: "1101051949",
                    ..fields()
                },
            ),
            (
                "birth date",
                CardFields {
                    birth: "1949-12-3",
                    ..fields()
                },
            ),
            (
                "validity",
                CardFields {
                    valid_until: "20261332",
                    ..fields()
                },
            ),
        ] {
            assert_eq!(
                parse_basic_information(&basic_information_data(&broken)),
                Err(CardError::Field(field))
            );
        }
        assert!(matches!(
            parse_basic_information(&[0x01, 0x00, 0x04]),
            Err(CardError::Short(_))
        ));
    }

    #[test]
    fn check_characters_follow_gb_11643() {
        // The standard's own examples.
        assert!(is_valid_id_number("11010519491231002X"));
        assert!(is_valid_id_number("440524188001010014"));
        assert!(is_valid_id_number("11010519491231002x"));
        assert!(!is_valid_id_number("110105194912310020"));
        assert!(!is_valid_id_number("1101051949123100XX"));
        assert_eq!(check_character("11010519491231002"), Some('X'));
        assert_eq!(mask_id_number("1234567"), "*******");
    }
}
