//! A minimal HTTP/1.1 keep-alive client over a plain TCP stream: the daemon under test is on
//! 127.0.0.1 and speaks plain HTTP, and a load tool must add as little of its own cost as it
//! can. Bodies are read by Content-Length or chunked encoding.

use std::io;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Connects, retrying a few times: a thousand screens connecting at once may find the
/// listen queue full for a moment, as real screens would (they retry too).
async fn connect(address: &str) -> io::Result<TcpStream> {
    let mut attempt = 0;
    loop {
        match TcpStream::connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(error) if attempt < 20 => {
                attempt += 1;
                let _ = error;
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
            }
            Err(error) => return Err(error),
        }
    }
}

pub struct Connection {
    stream: BufReader<TcpStream>,
    host: String,
}

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl Connection {
    /// A connection from another loopback address (127.0.0.2 …), as a different device on the
    /// hall's network would have.
    pub async fn open_from(address: &str, source: std::net::IpAddr) -> io::Result<Self> {
        let target: std::net::SocketAddr = address
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "an IP:port address"))?;
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(std::net::SocketAddr::new(source, 0))?;
        let stream = socket.connect(target).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(stream),
            host: address.to_owned(),
        })
    }

    pub async fn open(address: &str) -> io::Result<Self> {
        let stream = connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(stream),
            host: address.to_owned(),
        })
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> io::Result<Response> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = body {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes()).await?;
        if let Some(body) = body {
            stream.write_all(body).await?;
        }
        self.read_response().await
    }

    async fn read_response(&mut self) -> io::Result<Response> {
        let mut line = String::new();
        if self.stream.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, line.clone()))?;
        let mut length = None;
        let mut chunked = false;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            if let Some((name, value)) = trimmed.split_once(':') {
                let name = name.trim().to_ascii_lowercase();
                if name == "content-length" {
                    length = value.trim().parse::<usize>().ok();
                } else if name == "transfer-encoding" && value.contains("chunked") {
                    chunked = true;
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.stream.read_line(&mut line).await?;
                let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; size + 2];
                self.stream.read_exact(&mut chunk).await?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(length) = length {
            body.resize(length, 0);
            self.stream.read_exact(&mut body).await?;
        }
        Ok(Response { status, body })
    }
}

/// An open Server-Sent Events stream, read line by line.
pub struct EventStream {
    lines: tokio::io::Lines<BufReader<TcpStream>>,
}

/// One event: its kind and its data line.
pub struct Event {
    pub kind: String,
    pub data: String,
}

impl EventStream {
    pub async fn open(address: &str, path: &str) -> io::Result<Self> {
        let mut stream = connect(address).await?;
        stream
            .write_all(
                format!(
                    "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\r\n"
                )
                .as_bytes(),
            )
            .await?;
        let mut lines = BufReader::new(stream).lines();
        while let Some(line) = lines.next_line().await? {
            if line.is_empty() {
                break;
            }
        }
        Ok(Self { lines })
    }

    /// The next event, or `None` when the stream ends.
    pub async fn next(&mut self) -> Option<Event> {
        let mut kind = String::new();
        let mut data = String::new();
        while let Ok(Some(line)) = self.lines.next_line().await {
            if let Some(value) = line.strip_prefix("event: ") {
                kind = value.to_owned();
            } else if let Some(value) = line.strip_prefix("data: ") {
                data = value.to_owned();
            } else if line.is_empty() && !kind.is_empty() {
                return Some(Event { kind, data });
            }
        }
        None
    }
}
