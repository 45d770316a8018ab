//! Turns our ESC/POS bytes back into readable tokens: the test oracle for rendering, and a tool
//! for anyone who captured what a kiosk sent (`file://` printers write exactly these bytes).
//! It knows the commands `escpos::Encoder` emits and refuses anything else.

use crate::escpos::{Align, DLE, EOT, ESC, FS, GS, LF};
use encoding_rs::GB18030;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Initialise,
    ChineseMode,
    Align(Align),
    Bold(bool),
    Size(u8, u8),
    /// A printed line (ended by LF) or a run of text (not yet ended).
    Text {
        text: String,
        line_feed: bool,
    },
    Feed(u8),
    Cut,
    QrModel(u8),
    QrModule(u8),
    QrCorrection(char),
    QrStore(String),
    QrPrint,
    Raster {
        width_dots: usize,
        height: usize,
        black_dots: usize,
    },
    StatusRequest(u8),
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Initialise => write!(f, "[initialise]"),
            Token::ChineseMode => write!(f, "[chinese mode]"),
            Token::Align(align) => write!(f, "[align {align:?}]"),
            Token::Bold(on) => write!(f, "[bold {}]", if *on { "on" } else { "off" }),
            Token::Size(w, h) => write!(f, "[size {w}x{h}]"),
            Token::Text { text, line_feed } => {
                write!(f, "{text}{}", if *line_feed { "⏎" } else { "" })
            }
            Token::Feed(n) => write!(f, "[feed {n}]"),
            Token::Cut => write!(f, "[cut]"),
            Token::QrModel(m) => write!(f, "[qr model {m}]"),
            Token::QrModule(d) => write!(f, "[qr module {d} dots]"),
            Token::QrCorrection(c) => write!(f, "[qr correction {c}]"),
            Token::QrStore(data) => write!(f, "[qr data {data}]"),
            Token::QrPrint => write!(f, "[qr print]"),
            Token::Raster {
                width_dots,
                height,
                black_dots,
            } => {
                write!(f, "[raster {width_dots}x{height}, {black_dots} black dots]")
            }
            Token::StatusRequest(n) => write!(f, "[status request {n}]"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.message)
    }
}

pub fn decode(bytes: &[u8]) -> Result<Vec<Token>, DecodeError> {
    let mut tokens = Vec::new();
    let mut at = 0;
    let mut text: Vec<u8> = Vec::new();
    let error = |offset: usize, message: String| DecodeError { offset, message };
    let need = |at: usize, n: usize| -> Result<&[u8], DecodeError> {
        bytes
            .get(at..at + n)
            .ok_or_else(|| error(at, format!("command cut short: needs {n} more bytes")))
    };
    let flush = |text: &mut Vec<u8>, tokens: &mut Vec<Token>, line_feed: bool| {
        if !text.is_empty() || line_feed {
            let (decoded, _, _) = GB18030.decode(text);
            tokens.push(Token::Text {
                text: decoded.into_owned(),
                line_feed,
            });
            text.clear();
        }
    };
    while at < bytes.len() {
        let byte = bytes[at];
        match byte {
            LF => {
                flush(&mut text, &mut tokens, true);
                at += 1;
            }
            ESC | GS | FS | DLE => {
                flush(&mut text, &mut tokens, false);
                let command = need(at, 2)?;
                let (token, length) = match (command[0], command[1]) {
                    (ESC, b'@') => (Token::Initialise, 2),
                    (FS, b'&') => (Token::ChineseMode, 2),
                    (ESC, b'a') => {
                        let n = need(at, 3)?[2];
                        let align = match n {
                            0 | 48 => Align::Left,
                            1 | 49 => Align::Centre,
                            2 | 50 => Align::Right,
                            _ => return Err(error(at, format!("bad alignment {n}"))),
                        };
                        (Token::Align(align), 3)
                    }
                    (ESC, b'E') => (Token::Bold(need(at, 3)?[2] & 1 == 1), 3),
                    (GS, b'!') => {
                        let n = need(at, 3)?[2];
                        (Token::Size((n >> 4) + 1, (n & 0x0F) + 1), 3)
                    }
                    (ESC, b'd') => (Token::Feed(need(at, 3)?[2]), 3),
                    (GS, b'V') => {
                        let mode = need(at, 3)?[2];
                        (Token::Cut, if mode >= 65 { 4 } else { 3 })
                    }
                    (DLE, EOT) => (Token::StatusRequest(need(at, 3)?[2]), 3),
                    (GS, b'(') => {
                        let header = need(at, 5)?;
                        if header[2] != b'k' {
                            return Err(error(at, "unknown GS ( command".into()));
                        }
                        let length = usize::from(header[3]) + 256 * usize::from(header[4]);
                        let body = need(at + 5, length)?;
                        if length < 3 || body[0] != 49 {
                            return Err(error(at, "not a QR (cn 49) command".into()));
                        }
                        let token = match body[1] {
                            65 => Token::QrModel(body[2] - 48),
                            67 => Token::QrModule(body[2]),
                            69 => Token::QrCorrection(match body[2] {
                                48 => 'L',
                                49 => 'M',
                                50 => 'Q',
                                _ => 'H',
                            }),
                            80 => Token::QrStore(String::from_utf8_lossy(&body[3..]).into_owned()),
                            81 => Token::QrPrint,
                            other => return Err(error(at, format!("unknown QR function {other}"))),
                        };
                        (token, 5 + length)
                    }
                    (GS, b'v') => {
                        let header = need(at, 8)?;
                        let bytes_per_row = usize::from(header[4]) + 256 * usize::from(header[5]);
                        let height = usize::from(header[6]) + 256 * usize::from(header[7]);
                        let image = need(at + 8, bytes_per_row * height)?;
                        let black_dots = image.iter().map(|b| b.count_ones() as usize).sum();
                        (
                            Token::Raster {
                                width_dots: bytes_per_row * 8,
                                height,
                                black_dots,
                            },
                            8 + bytes_per_row * height,
                        )
                    }
                    (a, b) => return Err(error(at, format!("unknown command {a:#04x} {b:#04x}"))),
                };
                tokens.push(token);
                at += length;
            }
            other if other < 0x20 => {
                return Err(error(at, format!("stray control byte {other:#04x}")));
            }
            _ => {
                text.push(byte);
                at += 1;
            }
        }
    }
    flush(&mut text, &mut tokens, false);
    Ok(tokens)
}

/// One token per line: readable snapshots.
pub fn describe(bytes: &[u8]) -> Result<String, DecodeError> {
    Ok(decode(bytes)?
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Just the printed lines, as a person would read them off the paper.
pub fn printed_lines(bytes: &[u8]) -> Result<Vec<String>, DecodeError> {
    Ok(decode(bytes)?
        .into_iter()
        .filter_map(|t| match t {
            Token::Text { text, .. } => Some(text),
            _ => None,
        })
        .collect())
}
