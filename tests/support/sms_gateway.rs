//! A real SMS gateway on 127.0.0.1 for the tests: it takes `POST {"phone", "text", "purpose"}`
//! as a hall's or the hub's gateway client sends it, and keeps what it received.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the gateway received: the Authorization header and the JSON body.
pub type Received = Arc<Mutex<Vec<(Option<String>, Value)>>>;

#[derive(Clone)]
pub struct Gateway {
    pub port: u16,
    pub received: Received,
    pub failing: Arc<AtomicBool>,
}

impl Gateway {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let gateway = Gateway {
            port: listener.local_addr().unwrap().port(),
            received: Arc::default(),
            failing: Arc::default(),
        };
        let worker = gateway.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                let mut authorization = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(value) = lower.strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("authorization:") {
                        authorization = Some(line[14..].trim().to_owned());
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                let status = if worker.failing.load(Ordering::SeqCst) {
                    "503 Service Unavailable"
                } else {
                    worker.received.lock().unwrap().push((
                        authorization,
                        serde_json::from_slice(&body).unwrap_or(Value::Null),
                    ));
                    "200 OK"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        gateway
    }

    /// (phone, purpose, text) of every message, in arrival order.
    pub fn messages(&self) -> Vec<(String, String, String)> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| {
                (
                    body["phone"].as_str().unwrap_or("").to_owned(),
                    body["purpose"].as_str().unwrap_or("").to_owned(),
                    body["text"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    pub fn wait_for(&self, count: usize) -> Vec<(String, String, String)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {count} messages: {messages:?}",
                messages.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
