//! `TestApp`: the real `hallq` binary on a random port with a fresh data directory, and typed
//! helpers that talk to it the way kiosks and window staff do.

#![allow(dead_code)]

pub mod hub;
pub mod postgres;
pub mod sms_gateway;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const KIOSK: &str = "demo-kiosk-token";
pub const DISPLAY: &str = "demo-display-token";

pub fn hallq_binary() -> &'static str {
    env!("CARGO_BIN_EXE_hallq")
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn demo_config() -> PathBuf {
    workspace_root().join("kiosk-config/demo-hall.toml")
}

/// One HTTP answer: status and JSON body (Null when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub struct TestApp {
    child: Option<Child>,
    pub base: String,
    pub data_dir: PathBuf,
    /// The configuration it was started with (for `respawn`).
    pub config: PathBuf,
    _temp: Option<tempfile::TempDir>,
    agent: ureq::Agent,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build()
}

/// Settings for load tests: the demo kiosk may issue and check in as fast as it likes (the
/// per-minute limits have tests of their own).
pub const UNLIMITED_KIOSK: &[(&str, &str)] = &[
    ("tickets_per_kiosk_per_minute", "100000"),
    ("check_ins_per_kiosk_per_minute", "10000"),
];

/// The demo hall with some `key = value` lines changed (each key must be in the demo file
/// once), written into `dir` beside a link to the shipped calendar.
pub fn demo_config_with(dir: &Path, settings: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(demo_config()).expect("the demo hall");
    for (key, value) in settings {
        let start = text
            .lines()
            .find(|line| line.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("the demo hall has no line '{key} = …'"))
            .to_owned();
        text = text.replacen(&start, &format!("{key} = {value}"), 1);
    }
    let path = dir.join("hall.toml");
    std::fs::write(&path, text).expect("write the hall");
    let calendar = dir.join("calendar");
    if !calendar.exists() {
        std::os::unix::fs::symlink(workspace_root().join("kiosk-config/calendar"), calendar)
            .expect("link the calendar");
    }
    path
}

impl TestApp {
    /// The demo hall with some settings changed, on a fresh data directory.
    pub fn spawn_with(settings: &[(&str, &str)]) -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let config = demo_config_with(temp.path(), settings);
        let mut app = Self::spawn_in(&temp.path().join("data"), &config);
        app._temp = Some(temp);
        app
    }

    /// The demo hall with a fresh data directory.
    pub fn spawn() -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let data = temp.path().join("data");
        let mut app = Self::spawn_in(&data, &demo_config());
        app._temp = Some(temp);
        app
    }

    /// A daemon on `data_dir` with `config`, on a random port.
    pub fn spawn_in(data_dir: &Path, config: &Path) -> Self {
        Self::spawn_in_env(data_dir, config, &[])
    }

    /// The demo hall with some settings changed and `extra` TOML appended (a section the demo
    /// file has only in comments), on a fresh data directory.
    pub fn spawn_with_extra(settings: &[(&str, &str)], extra: &str) -> Self {
        let temp = tempfile::tempdir().expect("temp dir");
        let config = demo_config_with(temp.path(), settings);
        let mut text = std::fs::read_to_string(&config).expect("the hall");
        text.push('\n');
        text.push_str(extra);
        std::fs::write(&config, text).expect("write the hall");
        let mut app = Self::spawn_in(&temp.path().join("data"), &config);
        app._temp = Some(temp);
        app
    }

    /// Stops the daemon (SIGKILL if still running) and starts it again on the same data
    /// directory and configuration, on a new port.
    pub fn respawn(&mut self) {
        self.kill9();
        let temp = self._temp.take();
        let mut again = Self::spawn_in(&self.data_dir, &self.config);
        again._temp = temp;
        *self = again;
    }

    /// A daemon on `data_dir` with `config` and environment variables, on a random port.
    pub fn spawn_in_env(data_dir: &Path, config: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(hallq_binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--workers", "2"])
            .arg("--config")
            .arg(config)
            .arg("--data")
            .arg(data_dir)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hallq");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let address = rest.split_whitespace().next().unwrap_or("").to_owned();
                        let _ = address_tx.send(address);
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            });
        }
        let address = match address_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                panic!("hallq did not start:\n{}", log.lock().unwrap().join("\n"));
            }
        };
        let app = Self {
            child: Some(child),
            base: format!("http://{address}"),
            data_dir: data_dir.to_owned(),
            config: config.to_owned(),
            _temp: None,
            agent: agent(),
            log,
        };
        app.wait_ready();
        app
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.get("/healthz").status == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("hallq never answered /healthz");
    }

    /// A handle on a daemon another `TestApp` owns (for use from other threads).
    pub fn attach(base: &str) -> Self {
        Self {
            child: None,
            base: base.to_owned(),
            data_dir: PathBuf::new(),
            config: PathBuf::new(),
            _temp: None,
            agent: agent(),
            log: Default::default(),
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL: the power-cut of processes.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
        }
    }

    /// SIGTERM, then wait at most `limit`; returns the exit status and how long it took.
    pub fn terminate(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let mut child = self.child.take().expect("running");
        let started = Instant::now();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return (status, started.elapsed());
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                panic!(
                    "hallq did not stop within {limit:?} after SIGTERM:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn answer(result: Result<ureq::Response, ureq::Error>) -> Answer {
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("request failed: {error}"),
        };
        let status = response.status();
        let text = response.into_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, body, text }
    }

    /// As `request`, but `None` when the daemon cannot be reached (it is being restarted).
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Option<Answer> {
        let mut request = self.agent.request(method, &self.url(path));
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        if let Some(key) = idempotency_key {
            request = request.set("Idempotency-Key", key);
        }
        let result = match body {
            Some(body) => request.send_json(body.clone()),
            None => request.call(),
        };
        match result {
            Err(ureq::Error::Transport(_)) => None,
            other => Some(Self::answer(other)),
        }
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self.agent.request(method, &self.url(path));
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        Self::answer(match body {
            Some(body) => request.send_json(body.clone()),
            None => request.call(),
        })
    }

    /// Sends raw bytes with the given content type (for malformed input).
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        bytes: &[u8],
    ) -> Answer {
        let mut request = self
            .agent
            .request(method, &self.url(path))
            .set("Content-Type", content_type);
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        Self::answer(request.send_bytes(bytes))
    }

    pub fn get(&self, path: &str) -> Answer {
        self.request("GET", path, None, None)
    }

    pub fn get_as(&self, path: &str, token: &str) -> Answer {
        self.request("GET", path, Some(token), None)
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.request("POST", path, Some(token), Some(&body))
    }

    /// A walk-in ticket from the demo kiosk.
    pub fn issue_ticket(&self, service: &str) -> Value {
        let answer = self.post(
            "/api/v1/tickets",
            KIOSK,
            json!({"service": service, "channel": "kiosk", "priority": "normal"}),
        );
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body
    }

    pub fn issue_with_key(&self, service: &str, key: &str) -> Answer {
        let request = self
            .agent
            .post(&self.url("/api/v1/tickets"))
            .set("Authorization", &format!("Bearer {KIOSK}"))
            .set("Idempotency-Key", key);
        Self::answer(request.send_json(json!({"service": service})))
    }

    pub fn sign_in(&self, staff: &str, pin: &str, window: Option<&str>) -> Answer {
        let mut body = json!({"staff": staff, "pin": pin});
        if let Some(window) = window {
            body["window"] = json!(window);
        }
        self.request("POST", "/api/v1/sessions", None, Some(&body))
    }

    /// A demo-staff session at `window`.
    pub fn staff_token(&self, window: &str) -> String {
        let answer = self.sign_in("demo-staff", "246810", Some(window));
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["token"].as_str().expect("token").to_owned()
    }

    pub fn manager_token(&self) -> String {
        let answer = self.sign_in("demo-manager", "135790", None);
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["token"].as_str().expect("token").to_owned()
    }

    pub fn window_action(
        &self,
        token: &str,
        window: &str,
        action: &str,
        body: Option<Value>,
    ) -> Answer {
        self.request(
            "POST",
            &format!("/api/v1/windows/{window}/{action}"),
            Some(token),
            body.as_ref(),
        )
    }

    pub fn call_next(&self, token: &str, window: &str) -> Answer {
        self.window_action(token, window, "call-next", None)
    }

    /// How many requests `route` has answered (from the request histogram in /metrics).
    pub fn requests_to(&self, route: &str) -> u64 {
        let prefix = format!("hallq_http_request_duration_seconds_count{{route=\"{route}\"");
        self.get("/metrics")
            .text
            .lines()
            .filter(|line| line.starts_with(&prefix))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    /// Asserts that nothing happened to the hall since `seq` but devices reporting their
    /// condition (which they do on their own, at any moment).
    pub fn assert_unchanged_since(&self, seq: u64) {
        let store = hallq_store::Store::open_reader(&self.data_dir.join("hallq.db"))
            .expect("open the database");
        for stored in store.events_after(seq, 10_000).expect("read the log") {
            assert_eq!(
                stored.event.kind(),
                "device_status_changed",
                "the hall changed: {:?}",
                stored.event
            );
        }
    }

    /// The newest event's sequence number.
    pub fn log_seq(&self) -> u64 {
        let line = self.last_seq();
        line.rsplit(' ')
            .next()
            .and_then(|n| n.parse::<f64>().ok())
            .expect("a number") as u64
    }

    /// The newest event's sequence number, from /metrics (the whole line).
    pub fn last_seq(&self) -> String {
        let metrics = self.get("/metrics").text;
        metrics
            .lines()
            .find(|l| l.starts_with("hallq_event_log_last_seq"))
            .expect("hallq_event_log_last_seq in /metrics")
            .to_owned()
    }

    /// The start of the first slot of `service` that has not started yet (today, or tomorrow
    /// just before midnight).
    /// The first slot of `service` that starts at least two hours from now (within a week):
    /// for bookings made where a slot about to start may no longer be offered (the hub's page).
    pub fn slot_well_ahead(&self, service: &str) -> String {
        let today: hallq_core::jiff::civil::Date = self.get("/api/v1/hall").body["service_day"]
            .as_str()
            .expect("service day")
            .parse()
            .expect("date");
        let soonest =
            hallq_core::jiff::Timestamp::now() + hallq_core::jiff::SignedDuration::from_hours(2);
        let mut day = today;
        for _ in 0..8 {
            let answer = self.get(&format!(
                "/api/v1/appointments/slots?service={service}&date={day}"
            ));
            assert_eq!(answer.status, 200, "{}", answer.text);
            let found = answer.body["slots"]
                .as_array()
                .expect("slots")
                .iter()
                .filter_map(|slot| slot["start"].as_str())
                .find(|start| {
                    start
                        .parse::<hallq_core::jiff::Timestamp>()
                        .expect("instant")
                        > soonest
                });
            if let Some(start) = found {
                return start.to_owned();
            }
            day = day.tomorrow().expect("tomorrow");
        }
        panic!("no slot of {service} in the coming week");
    }

    pub fn next_slot(&self, service: &str) -> String {
        let today = self.get("/api/v1/hall").body["service_day"]
            .as_str()
            .expect("service day")
            .to_owned();
        let now = hallq_core::jiff::Timestamp::now();
        let starts = |date: &str| -> Vec<String> {
            let answer = self.get(&format!(
                "/api/v1/appointments/slots?service={service}&date={date}"
            ));
            assert_eq!(answer.status, 200, "{}", answer.text);
            answer.body["slots"]
                .as_array()
                .expect("slots")
                .iter()
                .map(|slot| slot["start"].as_str().expect("start").to_owned())
                .collect()
        };
        let later = starts(&today).into_iter().find(|start| {
            start
                .parse::<hallq_core::jiff::Timestamp>()
                .expect("instant")
                > now
        });
        later.unwrap_or_else(|| {
            let tomorrow = today
                .parse::<hallq_core::jiff::civil::Date>()
                .expect("date")
                .tomorrow()
                .expect("tomorrow");
            starts(&tomorrow.to_string()).remove(0)
        })
    }

    pub fn waiting(&self, service: &str) -> u64 {
        let queues = self.get("/api/v1/queues").body;
        queues["services"]
            .as_array()
            .expect("services")
            .iter()
            .find(|s| s["service"] == service)
            .and_then(|s| s["waiting"].as_u64())
            .expect("service in queues")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A Server-Sent Events reader on a raw TCP connection, so that tests can cut it at will.
pub struct EventStream {
    reader: BufReader<std::net::TcpStream>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub id: Option<u64>,
    pub kind: String,
    pub data: Value,
}

impl EventStream {
    /// The public stream, resuming after `last_event_id`.
    pub fn open(app: &TestApp, last_event_id: Option<u64>) -> Self {
        Self::open_path(app, "/api/v1/events", None, last_event_id)
    }

    /// The stream as a signed-in staff member or manager sees it.
    pub fn open_as(app: &TestApp, token: &str, last_event_id: Option<u64>) -> Self {
        Self::open_path(app, "/api/v1/events", Some(token), last_event_id)
    }

    /// The public stream, or `None` when the daemon cannot be reached (or does not answer 200).
    pub fn try_open(app: &TestApp, last_event_id: Option<u64>) -> Option<Self> {
        Self::try_open_path(app, "/api/v1/events", None, last_event_id)
    }

    /// Any event stream of the daemon.
    pub fn open_path(
        app: &TestApp,
        path: &str,
        token: Option<&str>,
        last_event_id: Option<u64>,
    ) -> Self {
        Self::try_open_path(app, path, token, last_event_id)
            .unwrap_or_else(|| panic!("{path} did not open with 200"))
    }

    fn try_open_path(
        app: &TestApp,
        path: &str,
        token: Option<&str>,
        last_event_id: Option<u64>,
    ) -> Option<Self> {
        let address = app.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let mut request =
            format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n");
        if let Some(id) = last_event_id {
            request.push_str(&format!("Last-Event-ID: {id}\r\n"));
        }
        if let Some(token) = token {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        request.push_str("\r\n");
        std::io::Write::write_all(&mut stream, request.as_bytes()).ok()?;
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).ok()?;
        if !status.contains("200") {
            return None;
        }
        // Skip the headers.
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).ok()?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        Some(Self { reader })
    }

    /// The next event (skipping comments and chunk-size lines), or None at the end.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        let mut id = None;
        let mut kind = String::new();
        let mut data = String::new();
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if let Some(value) = line.strip_prefix("id: ") {
                id = value.parse().ok();
            } else if let Some(value) = line.strip_prefix("event: ") {
                kind = value.to_owned();
            } else if let Some(value) = line.strip_prefix("data: ") {
                data = value.to_owned();
            } else if line.is_empty() && !kind.is_empty() {
                return Some(SseEvent {
                    id,
                    kind,
                    data: serde_json::from_str(&data).unwrap_or(Value::Null),
                });
            }
            // Anything else: chunked-encoding sizes, `retry:`, keep-alive comments.
        }
    }

    /// The next event that is not the `hello` greeting.
    pub fn next_log_event(&mut self) -> Option<SseEvent> {
        loop {
            let event = self.next_event()?;
            if event.kind != "hello" {
                return Some(event);
            }
        }
    }

    /// Events until one of `kind` arrives (inclusive), or None if the stream ends first.
    pub fn until(&mut self, kind: &str) -> Option<Vec<SseEvent>> {
        let mut events = Vec::new();
        loop {
            let event = self.next_event()?;
            let done = event.kind == kind;
            events.push(event);
            if done {
                return Some(events);
            }
        }
    }
}
