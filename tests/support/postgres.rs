//! A throwaway PostgreSQL for the hub's tests: no external service assumed.
//!
//! `database()` gives each test a fresh, empty database. The server is the one `scripts/test`
//! started (`HALLQ_TEST_DATABASE_URL`, an admin URL), or else a cluster this test process makes
//! in a temporary directory on first use. A test that must stop and start PostgreSQL under the
//! hub makes a cluster of its own (`Cluster::start`).
//!
//! Every cluster made here is watched by a small shell loop that stops it and removes its
//! directory when the test process is gone, however it ended: nothing is left running.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The directory of PostgreSQL's programs (`initdb`, `pg_ctl`, `postgres`).
fn bin_dir() -> PathBuf {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .find(|dir| dir.join("initdb").exists())
        .expect(
            "PostgreSQL is not installed: scripts/test installs it (apt-get install postgresql), \
             or set HALLQ_TEST_DATABASE_URL to a server the tests may create databases in",
        )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command run as the `postgres` user when we are root (initdb refuses root).
fn as_owner(program: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// A PostgreSQL cluster of this test process.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    as_postgres: bool,
}

impl Cluster {
    /// Makes and starts a cluster in a fresh temporary directory.
    pub fn start() -> Self {
        let bin = bin_dir();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("hallq-pg-")
            .tempdir()
            .expect("temp dir")
            .keep();
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown");
            assert!(
                status.success(),
                "cannot give the cluster's directory to postgres"
            );
        }
        let output = as_owner(&bin.join("initdb"), as_postgres)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(dir.join("data"))
            .output()
            .expect("run initdb");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let cluster = Self {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        cluster.start_server();
        cluster.watch();
        cluster
    }

    /// Starts the server (again) and waits until it takes connections.
    pub fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
            self.port,
            self.dir.display()
        );
        let output = as_owner(&self.bin.join("pg_ctl"), self.as_postgres)
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-o", &options, "-l"])
            .arg(self.dir.join("log"))
            .args(["-w", "-t", "60", "start"])
            .stdin(Stdio::null())
            .output()
            .expect("run pg_ctl start");
        assert!(
            output.status.success(),
            "PostgreSQL did not start: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
        );
    }

    /// Stops the server (`fast`: connections are cut, as when an operator restarts it).
    pub fn stop_server(&self) {
        let output = as_owner(&self.bin.join("pg_ctl"), self.as_postgres)
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"])
            .output()
            .expect("run pg_ctl stop");
        assert!(
            output.status.success(),
            "PostgreSQL did not stop: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Stops the cluster and removes it once this test process has gone.
    fn watch(&self) {
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 1; done; \
             '{pg_ctl}' -D '{dir}/data' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            pg_ctl = self.bin.join("pg_ctl").display(),
            dir = self.dir.display(),
        );
        let mut command = as_owner(Path::new("sh"), self.as_postgres);
        command
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // The watcher outlives us: it is not reaped, on purpose.
        std::mem::forget(command.spawn().expect("start the cluster's watcher"));
    }

    /// The URL of a database on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A new, empty database; its URL.
    pub fn create_database(&self) -> String {
        create_database_at(&self.url("postgres"))
    }
}

/// Makes a database with a unique name on the server of `admin_url`; returns its URL.
fn create_database_at(admin_url: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "hallq_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let output = Command::new("psql")
            .arg(admin_url)
            .args(["-v", "ON_ERROR_STOP=1", "-q", "-c"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("psql (PostgreSQL's client) is needed by the hub's tests");
        if output.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "cannot create a test database: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("an admin URL ends with /DATABASE");
    format!("{base}/{name}")
}

/// A fresh database for one test, on the shared server.
pub fn database() -> String {
    static SHARED: OnceLock<Option<Cluster>> = OnceLock::new();
    if let Ok(url) = std::env::var("HALLQ_TEST_DATABASE_URL") {
        if !url.trim().is_empty() {
            return create_database_at(url.trim());
        }
    }
    let cluster = SHARED.get_or_init(|| Some(Cluster::start()));
    cluster
        .as_ref()
        .expect("the shared cluster")
        .create_database()
}

/// Runs one SQL statement; its output rows as text (`|`-separated columns).
pub fn query(url: &str, sql: &str) -> Vec<String> {
    let output = Command::new("psql")
        .arg(url)
        .args(["-v", "ON_ERROR_STOP=1", "-A", "-t", "-q", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}
