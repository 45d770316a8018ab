//! `hallq-load`: drives a running hallq the way a hall does — kiosks issuing, windows calling,
//! TV boards and citizens' phones watching — and prints what it measured as rows of the
//! tables in docs/benchmarks.md. `scripts/bench` runs every row.
//!
//! Screens behave as the real pages do: a board follows `/api/v1/board/events`, reads
//! `/api/v1/board` once when the stream greets it, and then applies events; a citizen's page
//! only reads its ticket's own stream. Latencies are taken from the moment a request is written to the
//! moment its answer (or, for screens, the event) is read.

mod http;

use clap::{Parser, Subcommand};
use http::{Connection, EventStream};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KIOSK: &str = "Bearer demo-kiosk-token";

#[derive(Parser)]
#[command(
    name = "hallq-load",
    about = "Load and latency measurements of a running hallq"
)]
struct Cli {
    #[command(subcommand)]
    command: Scenario,
}

#[derive(clap::Args, Clone)]
struct Screens {
    /// TV boards to keep open during the measurement.
    #[arg(long, default_value_t = 0)]
    boards: usize,
    /// Citizens' pages (one waiting ticket each) to keep open during the measurement.
    #[arg(long, default_value_t = 0)]
    citizens: usize,
}

#[derive(Subcommand)]
enum Scenario {
    /// The reference: a plain loop of one fsync'd SQLite commit per insert, on the same disk.
    Naive {
        #[arg(long)]
        dir: std::path::PathBuf,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// Kiosks issuing tickets as fast as the daemon answers, on keep-alive connections.
    Issue {
        #[arg(long)]
        address: String,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[command(flatten)]
        screens: Screens,
        /// Process id of the daemon, to report its resident memory.
        #[arg(long)]
        pid: Option<u32>,
    },
    /// Windows calling the next ticket as fast as the daemon answers (queues filled first).
    Call {
        #[arg(long)]
        address: String,
        #[arg(long, default_value_t = 15)]
        windows: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Each window calls once every this many milliseconds (0: as fast as answered).
        #[arg(long, default_value_t = 0)]
        interval_ms: u64,
        #[command(flatten)]
        screens: Screens,
        #[arg(long)]
        pid: Option<u32>,
    },
    /// From a call at a window to the number on every board and the citizen's own page.
    CallToScreen {
        #[arg(long)]
        address: String,
        #[arg(long, default_value_t = 1000)]
        boards: usize,
        #[arg(long, default_value_t = 300)]
        citizens: usize,
        /// Calls made, one every `interval_ms`.
        #[arg(long, default_value_t = 100)]
        calls: usize,
        #[arg(long, default_value_t = 100)]
        interval_ms: u64,
        #[arg(long)]
        pid: Option<u32>,
    },
    /// Wrong-PIN sign-ins from `connections` clients at once, while a genuine sign-in is timed
    /// every half second and the daemon's resident memory is sampled.
    SignInFlood {
        #[arg(long)]
        address: String,
        #[arg(long, default_value_t = 128)]
        connections: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[arg(long)]
        pid: Option<u32>,
    },
    /// Hold screens open and staff signed in, and report the daemon's resident memory.
    Hold {
        #[arg(long)]
        address: String,
        #[command(flatten)]
        screens: Screens,
        #[arg(long, default_value_t = 16)]
        staff: usize,
        #[arg(long)]
        pid: Option<u32>,
    },
    /// Sign `count` window staff in (as a hall does at opening) and report resident memory.
    SignIns {
        #[arg(long)]
        address: String,
        #[arg(long, default_value_t = 16)]
        count: usize,
        #[arg(long)]
        pid: Option<u32>,
    },
    /// Halls pushing their logs into a city hub at once (hallq-hub), each as fast as the hub
    /// answers: events stored per second and the latency of a push. The halls must be
    /// registered with tokens `{token_prefix}{n}` for ids `{hall_prefix}{n}`, n from 1.
    HubIngest {
        /// The hub, HOST:PORT.
        #[arg(long)]
        hub: String,
        #[arg(long, default_value_t = 200)]
        halls: usize,
        /// Events per push (the hub takes at most 1000).
        #[arg(long, default_value_t = 500)]
        batch: usize,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[arg(long, default_value = "bench-")]
        hall_prefix: String,
        #[arg(long, default_value = "bench-token-")]
        token_prefix: String,
        /// Process id of the hub, to report its resident memory.
        #[arg(long)]
        pid: Option<u32>,
    },
    /// Fill today's queues with `tickets` waiting tickets (for the "full hall" rows).
    Fill {
        #[arg(long)]
        address: String,
        #[arg(long)]
        tickets: usize,
    },
}

fn main() {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    match cli.command {
        Scenario::Naive { dir, seconds } => naive(&dir, seconds),
        Scenario::Issue {
            address,
            connections,
            seconds,
            screens,
            pid,
        } => runtime.block_on(issue(address, connections, seconds, screens, pid)),
        Scenario::Call {
            address,
            windows,
            seconds,
            interval_ms,
            screens,
            pid,
        } => runtime.block_on(call(address, windows, seconds, interval_ms, screens, pid)),
        Scenario::CallToScreen {
            address,
            boards,
            citizens,
            calls,
            interval_ms,
            pid,
        } => runtime.block_on(call_to_screen(
            address,
            boards,
            citizens,
            calls,
            interval_ms,
            pid,
        )),
        Scenario::Fill { address, tickets } => runtime.block_on(fill(address, tickets)),
        Scenario::HubIngest {
            hub,
            halls,
            batch,
            seconds,
            hall_prefix,
            token_prefix,
            pid,
        } => runtime.block_on(hub_ingest(
            hub,
            halls,
            batch,
            seconds,
            hall_prefix,
            token_prefix,
            pid,
        )),
        Scenario::SignInFlood {
            address,
            connections,
            seconds,
            pid,
        } => runtime.block_on(sign_in_flood(address, connections, seconds, pid)),
        Scenario::Hold {
            address,
            screens,
            staff,
            pid,
        } => runtime.block_on(hold(address, screens, staff, pid)),
        Scenario::SignIns {
            address,
            count,
            pid,
        } => runtime.block_on(sign_ins(address, count, pid)),
    }
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize].as_secs_f64() * 1000.0
}

/// Resident memory of a process in MB, from /proc.
fn resident_mb(pid: Option<u32>) -> String {
    let Some(pid) = pid else {
        return "—".into();
    };
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.1}", kb / 1024.0))
        .unwrap_or_else(|| "—".into())
}

fn row(cells: &[String]) {
    println!("| {} |", cells.join(" | "));
}

/// The services of the demo hall's walk-in queues, from `/api/v1/hall`.
async fn services(address: &str) -> Vec<String> {
    let mut connection = Connection::open(address).await.expect("connect");
    let hall = connection
        .request("GET", "/api/v1/hall", &[], None)
        .await
        .expect("hall")
        .json();
    hall["services"]
        .as_array()
        .expect("services")
        .iter()
        .filter(|s| s["open"] == true)
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect()
}

async fn issue_one(connection: &mut Connection, service: &str) -> std::io::Result<Value> {
    let body = json!({"service": service, "channel": "kiosk", "priority": "normal"}).to_string();
    let answer = connection
        .request(
            "POST",
            "/api/v1/tickets",
            &[("Authorization", KIOSK)],
            Some(body.as_bytes()),
        )
        .await?;
    if answer.status != 201 {
        return Err(std::io::Error::other(format!(
            "issue answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        )));
    }
    Ok(answer.json())
}

/// One ticket, on a fresh connection, retrying a reset (many kiosks at once).
async fn issue_retrying(address: &str, service: &str) -> Value {
    for _ in 0..20 {
        if let Ok(mut connection) = Connection::open(address).await {
            if let Ok(ticket) = issue_one(&mut connection, service).await {
                return ticket;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no ticket could be issued for a citizen's page");
}

/// Screens that stay open while something else is measured. Returns when all are connected.
async fn open_screens(address: &str, screens: &Screens, stop: Arc<AtomicBool>) -> Arc<AtomicU64> {
    let events = Arc::new(AtomicU64::new(0));
    let (ready, mut all_ready) = tokio::sync::mpsc::unbounded_channel::<()>();
    let services = services(address).await;
    for index in 0..screens.boards {
        let (address, ready, events, stop) = (
            address.to_owned(),
            ready.clone(),
            events.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut stream = EventStream::open(&address, "/api/v1/board/events")
                .await
                .expect("board");
            let mut loaded = false;
            while let Some(event) = stream.next().await {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                match event.kind.as_str() {
                    "hello" if !loaded => {
                        // The page reads the board once, as the real one does.
                        let mut connection = Connection::open(&address).await.expect("board load");
                        let _ = connection.request("GET", "/api/v1/board", &[], None).await;
                        if !loaded {
                            loaded = true;
                            let _ = ready.send(());
                        }
                    }
                    // A real board renders the event; the load tool only counts it, so as to
                    // take as little CPU from the daemon on the same two cores as it can.
                    _ => {
                        events.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            let _ = index;
        });
    }
    for index in 0..screens.citizens {
        let (address, ready, events, stop) = (
            address.to_owned(),
            ready.clone(),
            events.clone(),
            stop.clone(),
        );
        let service = services[index % services.len()].clone();
        tokio::spawn(async move {
            let ticket = issue_retrying(&address, &service).await;
            let token = ticket["token"].as_str().expect("token").to_owned();
            let mut stream = EventStream::open(&address, &format!("/api/v1/t/{token}/events"))
                .await
                .expect("citizen page");
            let mut first = true;
            while let Some(event) = stream.next().await {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                if first {
                    first = false;
                    let _ = ready.send(());
                } else {
                    events.fetch_add(1, Ordering::Relaxed);
                }
                let _ = event.data.len();
            }
        });
    }
    for _ in 0..screens.boards + screens.citizens {
        all_ready.recv().await;
    }
    events
}

fn naive(dir: &std::path::Path, seconds: f64) {
    std::fs::create_dir_all(dir).expect("directory");
    let path = dir.join("naive.db");
    let _ = std::fs::remove_file(&path);
    let connection = rusqlite::Connection::open(&path).expect("open");
    connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
        .expect("wal");
    connection
        .pragma_update(None, "synchronous", "FULL")
        .expect("full");
    connection
        .execute(
            "CREATE TABLE tickets (id INTEGER PRIMARY KEY, number TEXT, data TEXT)",
            [],
        )
        .expect("table");
    let payload = "x".repeat(400);
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut count = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        let one = Instant::now();
        connection
            .execute(
                "INSERT INTO tickets (number, data) VALUES (?1, ?2)",
                rusqlite::params![format!("A{count:03}"), payload],
            )
            .expect("insert");
        latencies.push(one.elapsed());
        count += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    row(&[
        "naive: 1 fsync'd commit per insert".into(),
        "1".into(),
        "—".into(),
        format!("{:.0}", count as f64 / elapsed),
        format!("{:.2}", percentile(&latencies, 0.5)),
        format!("{:.2}", percentile(&latencies, 0.99)),
        "0".into(),
        "—".into(),
    ]);
    let _ = std::fs::remove_file(&path);
}

async fn issue(
    address: String,
    connections: usize,
    seconds: f64,
    screens: Screens,
    pid: Option<u32>,
) {
    let stop_screens = Arc::new(AtomicBool::new(false));
    let screen_events = open_screens(&address, &screens, stop_screens.clone()).await;
    let services = Arc::new(services(&address).await);
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..connections {
        let (address, services, latencies, errors) = (
            address.clone(),
            services.clone(),
            latencies.clone(),
            errors.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(&address).await.expect("connect");
            let mut mine = Vec::new();
            let mut n = worker;
            while Instant::now() < deadline {
                let service = &services[n % services.len()];
                n += 1;
                let sent = Instant::now();
                match issue_one(&mut connection, service).await {
                    Ok(_) => mine.push(sent.elapsed()),
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        connection = Connection::open(&address).await.expect("reconnect");
                    }
                }
            }
            latencies.lock().unwrap().extend(mine);
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let memory = resident_mb(pid);
    stop_screens.store(true, Ordering::Relaxed);
    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort();
    row(&[
        "issue (POST /api/v1/tickets)".into(),
        connections.to_string(),
        format!("{} boards + {} citizens", screens.boards, screens.citizens),
        format!("{:.0}", latencies.len() as f64 / elapsed),
        format!("{:.2}", percentile(&latencies, 0.5)),
        format!("{:.2}", percentile(&latencies, 0.99)),
        format!(
            "{} errors, {} screen events",
            errors.load(Ordering::Relaxed),
            screen_events.load(Ordering::Relaxed)
        ),
        memory,
    ]);
}

async fn sign_in(address: &str, window: &str) -> String {
    let mut connection = Connection::open(address).await.expect("connect");
    let body = json!({"staff": "demo-staff", "pin": "246810", "window": window}).to_string();
    let answer = connection
        .request("POST", "/api/v1/sessions", &[], Some(body.as_bytes()))
        .await
        .expect("sign in");
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    format!("Bearer {}", answer.json()["token"].as_str().expect("token"))
}

async fn windows(address: &str, count: usize) -> Vec<String> {
    let mut connection = Connection::open(address).await.expect("connect");
    let hall = connection
        .request("GET", "/api/v1/hall", &[], None)
        .await
        .expect("hall")
        .json();
    hall["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .filter_map(|w| w["id"].as_str().map(str::to_owned))
        .take(count)
        .collect()
}

async fn fill(address: String, tickets: usize) {
    let services = Arc::new(services(&address).await);
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..32 {
        let (address, services, next) = (address.clone(), services.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(&address).await.expect("connect");
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                if n >= tickets {
                    return;
                }
                issue_one(&mut connection, &services[n % services.len()])
                    .await
                    .expect("fill");
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    eprintln!("{tickets} tickets issued");
}

/// One event as a hall's upstream follower sends it (a ticket issued, personal fields removed):
/// the size and shape the hub stores at a morning's peak.
fn upstream_event(seq: u64, at_ms: i64) -> String {
    format!(
        r#"{{"seq":{seq},"kind":"ticket_issued","at_ms":{at_ms},"data":{{"kind":"ticket_issued","ticket":{{"id":{seq},"number":"A{n:03}","number_service":"tax-general","service":"tax-general","service_day":"2026-11-30","priority":"walk_in","channel":"kiosk","status":"waiting","issued_at":"2026-11-30T01:00:00Z","queued_at":"2026-11-30T01:00:00Z","called_at":null,"finished_at":null,"window":null,"recalls":0,"requeues":0,"transfers":0,"contact":null,"kiosk":"kiosk-lobby"}}}}}}"#,
        n = seq % 1000
    )
}

#[allow(clippy::too_many_arguments)]
async fn hub_ingest(
    hub: String,
    halls: usize,
    batch: usize,
    seconds: f64,
    hall_prefix: String,
    token_prefix: String,
    pid: Option<u32>,
) {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let stored = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for n in 1..=halls {
        let (hub, stored, latencies) = (hub.clone(), stored.clone(), latencies.clone());
        let path = format!("/v1/halls/{hall_prefix}{n}/events");
        let authorization = format!("Bearer {token_prefix}{n}");
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(&hub).await.expect("connect to the hub");
            let headers = [("Authorization", authorization.as_str())];
            let summary_path = path.replace("/events", "/summary");
            let mut after = connection
                .request("GET", &summary_path, &headers, None)
                .await
                .expect("summary")
                .json()["last_seq"]
                .as_u64()
                .expect("the hall is registered (scripts/bench registers them)");
            let at_ms = 1_796_000_000_000i64;
            while Instant::now() < deadline {
                let events: Vec<String> = (after + 1..=after + batch as u64)
                    .map(|seq| upstream_event(seq, at_ms + seq as i64))
                    .collect();
                let body = format!(
                    r#"{{"after":{after},"log_seq":{},"events":[{}]}}"#,
                    after + batch as u64,
                    events.join(",")
                );
                let sent = Instant::now();
                let answer = connection
                    .request("POST", &path, &headers, Some(body.as_bytes()))
                    .await
                    .expect("push");
                let took = sent.elapsed();
                assert_eq!(
                    answer.status,
                    200,
                    "{}",
                    String::from_utf8_lossy(&answer.body)
                );
                let accepted = answer.json();
                after = accepted["last_seq"].as_u64().expect("last_seq");
                stored.fetch_add(accepted["stored"].as_u64().unwrap_or(0), Ordering::Relaxed);
                latencies.lock().unwrap().push(took);
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort();
    let events = stored.load(Ordering::Relaxed) as f64;
    row(&[
        "hub ingest".into(),
        halls.to_string(),
        batch.to_string(),
        format!("{:.0}", events / elapsed),
        format!("{:.0}", latencies.len() as f64 / elapsed),
        format!("{:.1}", percentile(&latencies, 0.5)),
        format!("{:.1}", percentile(&latencies, 0.99)),
        resident_mb(pid),
    ]);
}

async fn call(
    address: String,
    count: usize,
    seconds: f64,
    interval_ms: u64,
    screens: Screens,
    pid: Option<u32>,
) {
    let stop_screens = Arc::new(AtomicBool::new(false));
    let screen_events = open_screens(&address, &screens, stop_screens.clone()).await;
    let windows = windows(&address, count).await;
    let mut tokens = Vec::new();
    for window in &windows {
        tokens.push((window.clone(), sign_in(&address, window).await));
    }
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let (errors, empty) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    let windows_count = tokens.len().max(1) as u64;
    for (index, (window, token)) in tokens.into_iter().enumerate() {
        let (address, latencies, errors, empty) = (
            address.clone(),
            latencies.clone(),
            errors.clone(),
            empty.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut connection = Connection::open(&address).await.expect("connect");
            let path = format!("/api/v1/windows/{window}/call-next");
            let mut mine = Vec::new();
            // Staff do not press in step: each window's rhythm starts at its own offset.
            let offset = Duration::from_millis(interval_ms * index as u64 / windows_count);
            let mut pace = (interval_ms > 0).then(|| {
                tokio::time::interval_at(
                    tokio::time::Instant::now() + offset,
                    Duration::from_millis(interval_ms),
                )
            });
            while Instant::now() < deadline {
                if let Some(pace) = pace.as_mut() {
                    pace.tick().await;
                }
                let sent = Instant::now();
                match connection
                    .request("POST", &path, &[("Authorization", &token)], Some(b"{}"))
                    .await
                {
                    Ok(answer) if answer.status == 200 => mine.push(sent.elapsed()),
                    Ok(answer) if answer.status == 204 => {
                        empty.fetch_add(1, Ordering::Relaxed);
                        mine.push(sent.elapsed());
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        connection = Connection::open(&address).await.expect("reconnect");
                    }
                }
            }
            latencies.lock().unwrap().extend(mine);
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let memory = resident_mb(pid);
    stop_screens.store(true, Ordering::Relaxed);
    let mut latencies = latencies.lock().unwrap().clone();
    latencies.sort();
    row(&[
        "call-next (POST /api/v1/windows/{id}/call-next)".into(),
        if interval_ms > 0 {
            format!("{count} windows, each every {interval_ms} ms")
        } else {
            format!("{count} windows")
        },
        format!("{} boards + {} citizens", screens.boards, screens.citizens),
        format!("{:.0}", latencies.len() as f64 / elapsed),
        format!("{:.2}", percentile(&latencies, 0.5)),
        format!("{:.2}", percentile(&latencies, 0.99)),
        format!(
            "{} errors, {} found nobody, {} screen events",
            errors.load(Ordering::Relaxed),
            empty.load(Ordering::Relaxed),
            screen_events.load(Ordering::Relaxed)
        ),
        memory,
    ]);
}

/// A string field of a JSON object, found without parsing the whole object (cheap for the
/// load tool, which shares the CPU with the daemon it measures).
fn field(data: &str, name: &str) -> String {
    data.split(&format!("\"{name}\":\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("")
        .to_owned()
}

/// A call that was made: its number and when the request left.
type Calls = Arc<Mutex<std::collections::HashMap<String, Instant>>>;
/// A number as it reached a screen.
type Arrivals = Arc<Mutex<Vec<(String, Instant)>>>;

fn latencies(made: &Calls, arrivals: &Arrivals) -> Vec<Duration> {
    let made = made.lock().unwrap();
    let mut latencies: Vec<Duration> = arrivals
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(number, at)| Some(at.saturating_duration_since(*made.get(number)?)))
        .collect();
    latencies.sort();
    latencies
}

async fn call_to_screen(
    address: String,
    boards: usize,
    citizens: usize,
    calls: usize,
    interval_ms: u64,
    pid: Option<u32>,
) {
    // The citizens all wait for one service, so that the calls reach their pages in turn.
    let service = "tax-general";
    let window = "w02";
    let made: Calls = Arc::default();
    // Arrivals (number, instant) at the screens, matched with the calls afterwards.
    let board_latencies: Arrivals = Arc::default();
    let citizen_latencies: Arrivals = Arc::default();
    let (ready, mut all_ready) = tokio::sync::mpsc::unbounded_channel::<()>();
    for _ in 0..boards {
        let (address, ready, latencies) = (address.clone(), ready.clone(), board_latencies.clone());
        tokio::spawn(async move {
            let mut stream = EventStream::open(&address, "/api/v1/board/events")
                .await
                .expect("board");
            let mut loaded = false;
            while let Some(event) = stream.next().await {
                match event.kind.as_str() {
                    "hello" if !loaded => {
                        let mut connection = Connection::open(&address).await.expect("board load");
                        let _ = connection.request("GET", "/api/v1/board", &[], None).await;
                        if !loaded {
                            loaded = true;
                            let _ = ready.send(());
                        }
                    }
                    "ticket_called" => {
                        let now = Instant::now();
                        latencies
                            .lock()
                            .unwrap()
                            .push((field(&event.data, "number"), now));
                    }
                    _ => {}
                }
            }
        });
    }
    for _ in 0..citizens {
        let (address, ready, latencies) =
            (address.clone(), ready.clone(), citizen_latencies.clone());
        tokio::spawn(async move {
            let ticket = issue_retrying(&address, service).await;
            let token = ticket["token"].as_str().expect("token").to_owned();
            let number = ticket["number"].as_str().expect("number").to_owned();
            let mut stream = EventStream::open(&address, &format!("/api/v1/t/{token}/events"))
                .await
                .expect("citizen page");
            let mut first = true;
            while let Some(event) = stream.next().await {
                if first {
                    first = false;
                    let _ = ready.send(());
                    continue;
                }
                if field(&event.data, "status") == "called" {
                    latencies.lock().unwrap().push((number, Instant::now()));
                    return;
                }
            }
        });
    }
    for _ in 0..boards + citizens {
        all_ready.recv().await;
    }
    // Enough tickets behind the citizens' for every call to call someone.
    let mut kiosk = Connection::open(&address).await.expect("kiosk");
    for _ in citizens..calls {
        issue_one(&mut kiosk, service).await.expect("a ticket");
    }
    let token = sign_in(&address, window).await;
    let mut connection = Connection::open(&address).await.expect("connect");
    let path = format!("/api/v1/windows/{window}/call-next");
    let mut next = tokio::time::interval(Duration::from_millis(interval_ms));
    let mut number_of = std::collections::HashMap::new();
    for index in 0..calls {
        next.tick().await;
        // Which number is called is known from the answer; the clock starts before sending.
        let sent = Instant::now();
        let answer = connection
            .request("POST", &path, &[("Authorization", &token)], Some(b"{}"))
            .await
            .expect("call");
        if answer.status != 200 {
            eprintln!(
                "call {index} answered {}: nobody was waiting",
                answer.status
            );
            continue;
        }
        let number = answer.json()["ticket"]["number"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        made.lock().unwrap().insert(number.clone(), sent);
        number_of.insert(index, number);
    }
    // Let the last events arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let memory = resident_mb(pid);
    let boards_seen = latencies(&made, &board_latencies);
    let citizens_seen = latencies(&made, &citizen_latencies);
    let expected_board = number_of.len() * boards;
    row(&[
        "call → board (ticket_called at each open board)".into(),
        format!("{boards} boards + {citizens} citizens"),
        format!("{} of {expected_board}", boards_seen.len()),
        format!("{:.2}", percentile(&boards_seen, 0.5)),
        format!("{:.2}", percentile(&boards_seen, 0.99)),
        format!("{:.2}", percentile(&boards_seen, 1.0)),
        memory.clone(),
    ]);
    let expected_citizens = number_of.len().min(citizens);
    row(&[
        "call → citizen's page (status called)".into(),
        format!("{boards} boards + {citizens} citizens"),
        format!("{} of {expected_citizens}", citizens_seen.len()),
        format!("{:.2}", percentile(&citizens_seen, 0.5)),
        format!("{:.2}", percentile(&citizens_seen, 0.99)),
        format!("{:.2}", percentile(&citizens_seen, 1.0)),
        memory,
    ]);
}

fn resident_kb(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn sign_ins(address: String, count: usize, pid: Option<u32>) {
    let before = resident_mb(pid);
    let windows = windows(&address, count).await;
    let started = Instant::now();
    for index in 0..count {
        let window = &windows[index % windows.len()];
        sign_in(&address, window).await;
    }
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    row(&[
        format!("{count} staff sign in, one after another"),
        before,
        resident_mb(pid),
        format!("{:.0} ms each", took.as_secs_f64() * 1000.0 / count as f64),
    ]);
}

async fn sign_in_flood(address: String, connections: usize, seconds: f64, pid: Option<u32>) {
    let idle = resident_mb(pid);
    // The baseline: a genuine sign-in on the idle daemon, five times.
    let mut idle_sign_ins = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        sign_in(&address, "w01").await;
        idle_sign_ins.push(started.elapsed());
    }
    idle_sign_ins.sort();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let refused = Arc::new(AtomicU64::new(0));
    let busy = Arc::new(AtomicU64::new(0));
    let mut flood = Vec::new();
    for index in 0..connections {
        let (address, refused, busy) = (address.clone(), refused.clone(), busy.clone());
        flood.push(tokio::spawn(async move {
            // The attacker is another device: its own address, so that locking it out does not
            // lock out the genuine staff member's tablet.
            let attacker: std::net::IpAddr = [127, 0, 0, 2].into();
            let mut connection = Connection::open_from(&address, attacker)
                .await
                .expect("connect");
            let body = json!({"staff": "demo-manager", "pin": format!("{:06}", 100000 + index)})
                .to_string();
            while Instant::now() < deadline {
                match connection
                    .request("POST", "/api/v1/sessions", &[], Some(body.as_bytes()))
                    .await
                {
                    Ok(answer) if answer.status == 429 => {
                        busy.fetch_add(1, Ordering::Relaxed);
                        // A well-behaved client waits as told; a hostile one would not, and
                        // gets the same 429 at once.
                    }
                    Ok(_) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        connection = Connection::open_from(&address, attacker)
                            .await
                            .expect("reconnect");
                    }
                }
            }
        }));
    }
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            while Instant::now() < deadline {
                if let Some(kb) = pid.and_then(resident_kb) {
                    peak.fetch_max(kb, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    // The genuine one: the staff member at window 1, retrying on 429 as the console does.
    let mut genuine = Vec::new();
    let mut connection = Connection::open(&address).await.expect("connect");
    let body = json!({"staff": "demo-staff", "pin": "246810", "window": "w01"}).to_string();
    tokio::time::sleep(Duration::from_millis(500)).await;
    while Instant::now() + Duration::from_secs(1) < deadline {
        let started = Instant::now();
        loop {
            let answer = connection
                .request("POST", "/api/v1/sessions", &[], Some(body.as_bytes()))
                .await
                .expect("genuine sign-in");
            if answer.status == 201 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        genuine.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for task in flood {
        let _ = task.await;
    }
    let _ = sampler.await;
    genuine.sort();
    row(&[
        "idle daemon".into(),
        idle.clone(),
        idle.clone(),
        idle.clone(),
        format!(
            "{:.0} / {:.0}",
            percentile(&idle_sign_ins, 0.5),
            percentile(&idle_sign_ins, 0.99)
        ),
        "—".into(),
    ]);
    row(&[
        format!("{connections}-wide wrong-PIN flood from another address, {seconds:.0} s"),
        idle,
        format!("{:.1}", peak.load(Ordering::Relaxed) as f64 / 1024.0),
        resident_mb(pid),
        format!(
            "{:.0} / {:.0}",
            percentile(&genuine, 0.5),
            percentile(&genuine, 0.99)
        ),
        format!(
            "{} refused (401/403), {} refused without a PIN check (429: locked or busy)",
            refused.load(Ordering::Relaxed),
            busy.load(Ordering::Relaxed)
        ),
    ]);
}

async fn hold(address: String, screens: Screens, staff: usize, pid: Option<u32>) {
    let idle = resident_mb(pid);
    let stop = Arc::new(AtomicBool::new(false));
    open_screens(&address, &screens, stop.clone()).await;
    let windows = windows(&address, staff).await;
    for index in 0..staff {
        sign_in(&address, &windows[index % windows.len()]).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    row(&[
        format!(
            "{} boards + {} citizens' pages open, {staff} staff signed in",
            screens.boards, screens.citizens
        ),
        idle,
        resident_mb(pid),
    ]);
    stop.store(true, Ordering::Relaxed);
}
