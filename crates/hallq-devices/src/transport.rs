//! Device connections, written as URLs in the configuration and on the command line:
//! `tcp://10.0.0.5:9100`, `serial:///dev/ttyUSB0?baud=9600&framing=8N1`, `usb:///dev/usb/lp0`,
//! `file:///var/spool/hallq/printer-1` (or `file:NAME`, relative to the data directory).

use crate::status::is_status_byte;
use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceUrl {
    Tcp {
        host: String,
        port: u16,
    },
    Serial {
        path: PathBuf,
        baud: u32,
        framing: Framing,
    },
    Usb {
        path: PathBuf,
    },
    File {
        path: PathBuf,
    },
}

/// Data bits, parity and stop bits, written as `8N1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framing {
    pub data_bits: u8,
    pub parity: char,
    pub stop_bits: u8,
}

impl Default for Framing {
    fn default() -> Self {
        Self {
            data_bits: 8,
            parity: 'N',
            stop_bits: 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{url}': {message}")]
pub struct UrlError {
    pub url: String,
    pub message: String,
}

impl FromStr for DeviceUrl {
    type Err = UrlError;

    fn from_str(url: &str) -> Result<Self, UrlError> {
        let fail = |message: &str| UrlError {
            url: url.to_owned(),
            message: message.to_owned(),
        };
        let (scheme, rest) = url
            .split_once(':')
            .ok_or_else(|| fail("use tcp://, serial://, usb:// or file:"))?;
        let (location, query) = match rest.split_once('?') {
            Some((location, query)) => (location, Some(query)),
            None => (rest, None),
        };
        let absolute_path = |location: &str| -> Result<PathBuf, UrlError> {
            let path = location
                .strip_prefix("//")
                .ok_or_else(|| fail("the path must follow // (serial:///dev/ttyUSB0)"))?;
            if !path.starts_with('/') {
                return Err(fail("the device path must be absolute (three slashes)"));
            }
            Ok(PathBuf::from(path))
        };
        match scheme {
            "tcp" => {
                let address = location
                    .strip_prefix("//")
                    .ok_or_else(|| fail("write tcp://HOST:PORT"))?
                    .trim_end_matches('/');
                let (host, port) = address
                    .rsplit_once(':')
                    .ok_or_else(|| fail("the port is missing (raw printers use 9100)"))?;
                let port = port
                    .parse()
                    .map_err(|_| fail("the port must be a number"))?;
                let host = host.trim_start_matches('[').trim_end_matches(']');
                if host.is_empty() {
                    return Err(fail("the host is missing"));
                }
                Ok(DeviceUrl::Tcp {
                    host: host.to_owned(),
                    port,
                })
            }
            "serial" => {
                let path = absolute_path(location)?;
                let mut baud = 9600;
                let mut framing = Framing::default();
                for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
                    match pair.split_once('=') {
                        Some(("baud", value)) => {
                            baud = value
                                .parse()
                                .ok()
                                .filter(|b| (300..=921_600).contains(b))
                                .ok_or_else(|| {
                                    fail("baud must be a rate such as 9600 or 115200")
                                })?;
                        }
                        Some(("framing", value)) => {
                            let bytes = value.as_bytes();
                            let valid = bytes.len() == 3
                                && (b'5'..=b'8').contains(&bytes[0])
                                && matches!(bytes[1], b'N' | b'E' | b'O')
                                && matches!(bytes[2], b'1' | b'2');
                            if !valid {
                                return Err(fail(
                                    "framing is like 8N1 (data bits, N/E/O parity, stop bits)",
                                ));
                            }
                            framing = Framing {
                                data_bits: bytes[0] - b'0',
                                parity: bytes[1] as char,
                                stop_bits: bytes[2] - b'0',
                            };
                        }
                        _ => return Err(fail("serial options are baud= and framing=")),
                    }
                }
                Ok(DeviceUrl::Serial {
                    path,
                    baud,
                    framing,
                })
            }
            "usb" => Ok(DeviceUrl::Usb {
                path: absolute_path(location)?,
            }),
            "file" => {
                if let Some(path) = location.strip_prefix("//") {
                    if !path.starts_with('/') {
                        return Err(fail("write file:///absolute/path or file:relative/path"));
                    }
                    Ok(DeviceUrl::File {
                        path: PathBuf::from(path),
                    })
                } else if location.is_empty() || location.contains("..") {
                    Err(fail(
                        "a relative file path must be non-empty and stay inside the data directory",
                    ))
                } else {
                    Ok(DeviceUrl::File {
                        path: PathBuf::from(location),
                    })
                }
            }
            _ => Err(fail(
                "unknown scheme: use tcp://, serial://, usb:// or file:",
            )),
        }
    }
}

impl fmt::Display for DeviceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceUrl::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            DeviceUrl::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            DeviceUrl::Serial {
                path,
                baud,
                framing,
            } => write!(
                f,
                "serial://{}?baud={baud}&framing={}{}{}",
                path.display(),
                framing.data_bits,
                framing.parity,
                framing.stop_bits
            ),
            DeviceUrl::Usb { path } => write!(f, "usb://{}", path.display()),
            DeviceUrl::File { path } if path.is_absolute() => {
                write!(f, "file://{}", path.display())
            }
            DeviceUrl::File { path } => write!(f, "file:{}", path.display()),
        }
    }
}

impl DeviceUrl {
    /// Resolves a relative `file:` path against `base` (the data directory).
    pub fn resolve(self, base: &Path) -> Self {
        match self {
            DeviceUrl::File { path } if path.is_relative() => DeviceUrl::File {
                path: base.join(path),
            },
            other => other,
        }
    }
}

/// An open connection to a device.
pub trait Transport: Send {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Whether `query` can read an answer on this connection.
    fn can_read(&self) -> bool;
    /// Sends `request` and returns the first status byte that comes back within `timeout`
    /// (stale input is drained first). `Ok(None)`: no answer in time.
    fn query(&mut self, request: &[u8], timeout: Duration) -> io::Result<Option<u8>>;
}

/// Opens a connection; `timeout` bounds connecting and every write.
pub fn open(url: &DeviceUrl, timeout: Duration) -> io::Result<Box<dyn Transport>> {
    match url {
        DeviceUrl::Tcp { host, port } => Ok(Box::new(TcpTransport {
            stream: connect_tcp(host, *port, timeout)?,
        })),
        DeviceUrl::Serial {
            path,
            baud,
            framing,
        } => {
            let port = serialport::new(path.to_string_lossy(), *baud)
                .data_bits(match framing.data_bits {
                    5 => serialport::DataBits::Five,
                    6 => serialport::DataBits::Six,
                    7 => serialport::DataBits::Seven,
                    _ => serialport::DataBits::Eight,
                })
                .parity(match framing.parity {
                    'E' => serialport::Parity::Even,
                    'O' => serialport::Parity::Odd,
                    _ => serialport::Parity::None,
                })
                .stop_bits(if framing.stop_bits == 2 {
                    serialport::StopBits::Two
                } else {
                    serialport::StopBits::One
                })
                .flow_control(serialport::FlowControl::None)
                .timeout(timeout)
                .open()
                .map_err(io::Error::other)?;
            Ok(Box::new(SerialTransport { port }))
        }
        DeviceUrl::Usb { path } => {
            let file = std::fs::OpenOptions::new().write(true).open(path)?;
            Ok(Box::new(WriteOnly { file }))
        }
        DeviceUrl::File { path } => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            Ok(Box::new(WriteOnly { file }))
        }
    }
}

/// A TCP connection to a device: `timeout` bounds connecting and every write; no Nagle delay
/// (devices answer small requests).
fn connect_tcp(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let address = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(ErrorKind::NotFound, format!("{host} has no address")))?;
    let stream = TcpStream::connect_timeout(&address, timeout)?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Opens a connection that carries bytes both ways, for devices that answer in frames (ID card
/// readers): a serial port, or TCP to a serial-over-IP converter. `timeout` bounds connecting.
pub fn open_stream(
    url: &DeviceUrl,
    timeout: Duration,
) -> io::Result<Box<dyn crate::id_card::ByteStream>> {
    use crate::id_card::TimedStream;
    match url {
        DeviceUrl::Tcp { host, port } => {
            let stream = connect_tcp(host, *port, timeout)?;
            Ok(Box::new(TimedStream {
                stream,
                set_timeout: |stream: &mut TcpStream, timeout| {
                    stream.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
                },
            }))
        }
        DeviceUrl::Serial { path, baud, .. } => {
            // The module's line is 8N1 without flow control, whatever else is configured.
            let port = serialport::new(path.to_string_lossy(), *baud)
                .flow_control(serialport::FlowControl::None)
                .timeout(timeout)
                .open()
                .map_err(io::Error::other)?;
            Ok(Box::new(TimedStream {
                stream: port,
                set_timeout: |port: &mut Box<dyn serialport::SerialPort>, timeout| {
                    port.set_timeout(timeout.max(Duration::from_millis(1)))
                        .map_err(io::Error::other)
                },
            }))
        }
        DeviceUrl::Usb { .. } | DeviceUrl::File { .. } => Err(io::Error::new(
            ErrorKind::InvalidInput,
            "an ID card reader is a serial port (serial:///dev/ttyUSB0?baud=115200) or a \
             serial-over-IP converter (tcp://HOST:PORT)",
        )),
    }
}

/// Reads single bytes until one looks like a status byte or the time is up.
fn read_status_byte(
    reader: &mut dyn FnMut(&mut [u8]) -> io::Result<usize>,
    timeout: Duration,
) -> io::Result<Option<u8>> {
    let deadline = Instant::now() + timeout;
    let mut byte = [0u8; 1];
    while Instant::now() < deadline {
        match reader(&mut byte) {
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "the device closed the connection",
                ))
            }
            Ok(_) if is_status_byte(byte[0]) => return Ok(Some(byte[0])),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(None)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

struct TcpTransport {
    stream: TcpStream,
}

impl Transport for TcpTransport {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    fn can_read(&self) -> bool {
        true
    }

    fn query(&mut self, request: &[u8], timeout: Duration) -> io::Result<Option<u8>> {
        // Drain answers to earlier questions that came too late.
        self.stream.set_nonblocking(true)?;
        let mut stale = [0u8; 64];
        loop {
            match self.stream.read(&mut stale) {
                Ok(0) => {
                    self.stream.set_nonblocking(false)?;
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "the printer closed the connection",
                    ));
                }
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    self.stream.set_nonblocking(false)?;
                    return Err(e);
                }
            }
        }
        self.stream.set_nonblocking(false)?;
        self.write_all(request)?;
        self.stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        let stream = &mut self.stream;
        read_status_byte(&mut |buffer| stream.read(buffer), timeout)
    }
}

struct SerialTransport {
    port: Box<dyn serialport::SerialPort>,
}

impl Transport for SerialTransport {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.port.write_all(bytes)?;
        self.port.flush()
    }

    fn can_read(&self) -> bool {
        true
    }

    fn query(&mut self, request: &[u8], timeout: Duration) -> io::Result<Option<u8>> {
        let _ = self.port.clear(serialport::ClearBuffer::Input);
        self.write_all(request)?;
        self.port.set_timeout(timeout).map_err(io::Error::other)?;
        let port = &mut self.port;
        read_status_byte(&mut |buffer| port.read(buffer), timeout)
    }
}

/// USB printer-class device files and plain files: written, never read. (A read on
/// /dev/usb/lp* blocks without a timeout on many printers, which a supervisor cannot afford.)
struct WriteOnly {
    file: std::fs::File,
}

impl Transport for WriteOnly {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.file.flush()
    }

    fn can_read(&self) -> bool {
        false
    }

    fn query(&mut self, _request: &[u8], _timeout: Duration) -> io::Result<Option<u8>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_table() {
        let ok: &[(&str, DeviceUrl)] = &[
            (
                "tcp://10.0.0.5:9100",
                DeviceUrl::Tcp {
                    host: "10.0.0.5".into(),
                    port: 9100,
                },
            ),
            (
                "tcp://[::1]:9100",
                DeviceUrl::Tcp {
                    host: "::1".into(),
                    port: 9100,
                },
            ),
            (
                "tcp://printer-1.hall:9100/",
                DeviceUrl::Tcp {
                    host: "printer-1.hall".into(),
                    port: 9100,
                },
            ),
            (
                "serial:///dev/ttyUSB0",
                DeviceUrl::Serial {
                    path: "/dev/ttyUSB0".into(),
                    baud: 9600,
                    framing: Framing::default(),
                },
            ),
            (
                "serial:///dev/ttyS1?baud=115200&framing=7E2",
                DeviceUrl::Serial {
                    path: "/dev/ttyS1".into(),
                    baud: 115200,
                    framing: Framing {
                        data_bits: 7,
                        parity: 'E',
                        stop_bits: 2,
                    },
                },
            ),
            (
                "usb:///dev/usb/lp0",
                DeviceUrl::Usb {
                    path: "/dev/usb/lp0".into(),
                },
            ),
            (
                "file:///var/spool/hallq/p1",
                DeviceUrl::File {
                    path: "/var/spool/hallq/p1".into(),
                },
            ),
            (
                "file:spool/lobby.escpos",
                DeviceUrl::File {
                    path: "spool/lobby.escpos".into(),
                },
            ),
        ];
        for (text, expected) in ok {
            let parsed: DeviceUrl = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(&parsed, expected);
            assert_eq!(
                parsed.to_string().parse::<DeviceUrl>().unwrap(),
                parsed,
                "round trip {text}"
            );
        }
        for bad in [
            "10.0.0.5:9100",
            "tcp://10.0.0.5",
            "tcp://:9100",
            "tcp://host:port",
            "serial://dev/ttyUSB0",
            "serial:///dev/ttyUSB0?baud=12",
            "serial:///dev/ttyUSB0?framing=9X1",
            "serial:///dev/ttyUSB0?speed=9600",
            "usb:/dev/usb/lp0",
            "file:../../etc/passwd",
            "file:",
            "http://printer",
        ] {
            assert!(bad.parse::<DeviceUrl>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn relative_files_resolve_against_the_data_directory() {
        let url: DeviceUrl = "file:spool/p.escpos".parse().unwrap();
        assert_eq!(
            url.resolve(Path::new("/var/lib/hallq")),
            DeviceUrl::File {
                path: "/var/lib/hallq/spool/p.escpos".into()
            }
        );
    }
}
