//! `TestHub`: the real `hallq-hub` binary on a random port over a test database, and helpers
//! that talk to it the way halls and the city's managers do.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The hub's binary: cargo's own path in the hub's package. Elsewhere (the hall's tests) it is
/// `HALLQ_TEST_HUB_BINARY` when set — `scripts/test` sets it to the hub that its
/// `cargo test --workspace` has just built for the hub's own tests — or else cargo builds it once
/// per test process first, so that a test never runs a hub older than its source. That build is
/// not a no-op after `cargo test --workspace`: the hub alone resolves other features than the
/// workspace with its dev-dependencies, so it compiles a second copy of most of the tree.
pub fn hub_binary() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_hallq-hub") {
        return PathBuf::from(path);
    }
    if let Some(path) = std::env::var_os("HALLQ_TEST_HUB_BINARY") {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "HALLQ_TEST_HUB_BINARY={} does not exist: build it (cargo build -p hallq-hub) or unset it",
            path.display()
        );
        return path;
    }
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("the test's path");
            let target = exe
                .parent()
                .and_then(|deps| deps.parent())
                .expect("target/<profile>/deps")
                .to_owned();
            let cargo = option_env!("CARGO").unwrap_or("cargo");
            let mut build = Command::new(cargo);
            build.args(["build", "--quiet", "-p", "hallq-hub", "--bin", "hallq-hub"]);
            if target.file_name().is_some_and(|name| name == "release") {
                build.arg("--release");
            }
            let status = build
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo to build hallq-hub");
            assert!(status.success(), "cargo build -p hallq-hub failed");
            let path = target.join("hallq-hub");
            assert!(
                path.exists(),
                "{} is missing after the build",
                path.display()
            );
            path
        })
        .clone()
}

/// One HTTP answer from the hub.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub struct TestHub {
    child: Option<Child>,
    pub base: String,
    pub port: u16,
    pub database_url: String,
    /// More arguments for `serve` (an SMS gateway …).
    extra: Vec<String>,
    data: tempfile::TempDir,
    log: Arc<Mutex<Vec<String>>>,
    agent: ureq::Agent,
}

impl TestHub {
    /// A hub over `database_url` on a random port.
    pub fn start(database_url: &str) -> Self {
        Self::start_on(database_url, 0)
    }

    /// A hub with more `serve` arguments (`--sms-gateway-url …`), on a random port.
    pub fn start_with(database_url: &str, extra: &[&str]) -> Self {
        let mut hub = Self::unstarted(database_url, 0);
        hub.extra = extra.iter().map(|a| a.to_string()).collect();
        hub.restart();
        hub
    }

    /// A hub over `database_url` on a given port (a hall was told of it before it existed).
    pub fn start_on(database_url: &str, port: u16) -> Self {
        let mut hub = Self::unstarted(database_url, port);
        hub.restart();
        hub
    }

    fn unstarted(database_url: &str, port: u16) -> Self {
        Self {
            child: None,
            base: String::new(),
            port,
            database_url: database_url.to_owned(),
            extra: Vec::new(),
            data: tempfile::tempdir().expect("temp dir"),
            log: Default::default(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(20))
                .build(),
        }
    }

    /// Starts the hub again on the same port and database (after `kill9`).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the hub is still running");
        let address = format!("127.0.0.1:{}", self.port);
        let deadline = Instant::now() + Duration::from_secs(20);
        // The port is free again once the old process is gone; retry briefly if not yet.
        loop {
            if std::net::TcpListener::bind(&address).is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "port {} stays taken", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
        self.launch(&address);
    }

    fn launch(&mut self, listen: &str) {
        let mut child = Command::new(hub_binary())
            .args(["serve", "--listen", listen, "--workers", "2"])
            .arg("--database-url")
            .arg(&self.database_url)
            .arg("--data")
            .arg(self.data.path())
            .args(&self.extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hallq-hub");
        let stderr = child.stderr.take().expect("stderr");
        let (address_tx, address_rx) = mpsc::channel();
        let log = self.log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("hub listening on http://").nth(1) {
                    let address = rest.split_whitespace().next().unwrap_or("").to_owned();
                    let _ = address_tx.send(address);
                }
                log.lock().unwrap().push(line);
            }
        });
        let address: String = match address_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                panic!("hallq-hub did not start:\n{}", self.log());
            }
        };
        self.port = address
            .rsplit(':')
            .next()
            .and_then(|p| {
                p.trim_end_matches(|c: char| !c.is_ascii_digit())
                    .parse()
                    .ok()
            })
            .expect("the hub's port");
        self.base = format!("http://127.0.0.1:{}", self.port);
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.get("/healthz").status != 200 {
            assert!(Instant::now() < deadline, "the hub never answered /healthz");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// SIGKILL.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Runs the hub's command line against this hub's database; (success, stdout, stderr).
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        cli(&self.database_url, args, stdin)
    }

    /// Registers a hall; its token.
    pub fn add_hall(&self, id: &str, name: &str) -> String {
        let (ok, out, err) = self.cli(&["add-hall", id, "--name", name], None);
        assert!(ok, "add-hall failed: {err}");
        out.lines()
            .last()
            .expect("the token line")
            .trim()
            .to_owned()
    }

    /// A manager signed in; the session token.
    pub fn manager_token(&self) -> String {
        let (ok, _, err) = self.cli(
            &["add-manager", "city", "--name", "市政务服务管理局"],
            Some("24681357\n"),
        );
        assert!(ok, "add-manager failed: {err}");
        let reply = self.send(
            "POST",
            "/v1/sessions",
            None,
            Some(serde_json::json!({"manager": "city", "pin": "24681357"})),
        );
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.body["token"].as_str().unwrap().to_owned()
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.agent.request(method, &format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        reply(match body {
            Some(body) => request.send_json(body),
            None => request.call(),
        })
    }

    /// A request with a body sent as it is (a calendar file).
    pub fn send_text(&self, method: &str, path: &str, token: Option<&str>, text: &str) -> Reply {
        let mut request = self.agent.request(method, &format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        reply(request.send_string(text))
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, None)
    }

    pub fn get_as(&self, path: &str, token: &str) -> Reply {
        self.send("GET", path, Some(token), None)
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send("POST", path, Some(token), Some(body))
    }

    /// The hall's summary as its token sees it.
    pub fn summary(&self, hall: &str, token: &str) -> Value {
        let reply = self.get_as(&format!("/v1/halls/{hall}/summary"), token);
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.body
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs `hallq-hub ARGS --database-url URL`; (success, stdout, stderr).
pub fn cli(database_url: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(hub_binary())
        .args(args)
        .arg("--database-url")
        .arg(database_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hallq-hub");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    let output = child.wait_with_output().expect("hallq-hub output");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Waits until `check` holds, or panics with `what` after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "waited {limit:?} for: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The status and body of an answer, whatever its status.
fn reply(result: Result<ureq::Response, ureq::Error>) -> Reply {
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => {
            return Reply {
                status: 0,
                body: Value::Null,
                text: error.to_string(),
            }
        }
    };
    let status = response.status();
    let text = response.into_string().unwrap_or_default();
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}
