//! Durable ticket issuance through the engine, with group commit against a baseline of one
//! fsync'd transaction per ticket (the same engine with `batch_max = 1`), measured in one run;
//! then the restart time of a hall with a year of history.
//!
//! `cargo bench -p hallq-engine --bench group_commit`
//! Environment: `HALLQ_BENCH_SECONDS` (per measurement, default 3),
//! `HALLQ_BENCH_HISTORY` (tickets of history for the restart measurement, default 1000000).

use hallq_core::jiff::civil::Date;
use hallq_core::jiff::tz::{self, TimeZone};
use hallq_core::jiff::{Timestamp, ToSpan};
use hallq_core::{
    Channel, Command, HallSpec, IssueTicket, ItemType, Policy, PriorityClass, ServiceId,
    ServiceSpec, TargetGroup, Ticket, TicketId, TicketStatus, WindowId, WindowSpec,
};
use hallq_engine::{Engine, EngineConfig, SystemClock};
use hallq_store::{Store, StoreOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SERVICES: usize = 12;

fn spec() -> HallSpec {
    let services: Vec<ServiceSpec> = (0..SERVICES)
        .map(|i| ServiceSpec {
            id: ServiceId::new(format!("s{i}")),
            name: format!("事项{i}"),
            name_en: None,
            prefix: ((b'A' + i as u8) as char).to_string(),
            target_group: TargetGroup::Both,
            item_type: ItemType::Immediate,
            department: "综合".into(),
            prior_service_s: 300,
            materials: Vec::new(),
        })
        .collect();
    let windows = (0..SERVICES)
        .map(|i| WindowSpec {
            id: WindowId::new(format!("w{i}")),
            name: format!("{i}号窗口"),
            services: vec![services[i].id.clone()],
            call_name: None,
            green_channel: false,
            duty: false,
            department: None,
            breaks: Vec::new(),
        })
        .collect();
    HallSpec {
        name: "压测大厅".into(),
        level: "市本级".into(),
        services,
        windows,
        policy: Policy::default(),
        schedule: Default::default(),
        calendar: Default::default(),
        appointment_plans: Default::default(),
        appointment_rules: Default::default(),
        ratings: Default::default(),
    }
}

struct Measurement {
    tickets: usize,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    batches: u64,
}

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn measure(
    runtime: &tokio::runtime::Runtime,
    directory: &std::path::Path,
    clients: usize,
    batch_max: usize,
    seconds: f64,
) -> Measurement {
    let path = directory.join(format!("issue-{clients}-{batch_max}.db"));
    let store = Store::open(&path, &StoreOptions::default()).expect("open store");
    let config = EngineConfig {
        batch_max,
        ..EngineConfig::default()
    };
    let (engine, handle) = Engine::start(
        store,
        spec(),
        TimeZone::fixed(tz::offset(8)),
        Arc::new(SystemClock),
        config,
    )
    .expect("start engine");
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let latencies: Vec<Duration> = runtime.block_on(async {
        let tasks: Vec<_> = (0..clients)
            .map(|client| {
                let handle = handle.clone();
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut serial = 0usize;
                    while Instant::now() < deadline {
                        let command = Command::IssueTicket(IssueTicket {
                            service: ServiceId::new(format!("s{}", (client + serial) % SERVICES)),
                            priority: PriorityClass::WalkIn,
                            channel: Channel::Kiosk,
                            contact: None,
                            id_card: None,
                            kiosk: None,
                            token: format!("c{client}-{serial}"),
                            idempotency_key: None,
                        });
                        let sent = Instant::now();
                        handle.execute(command).await.expect("issue");
                        latencies.push(sent.elapsed());
                        serial += 1;
                    }
                    latencies
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("client"));
        }
        all
    });
    let elapsed = started.elapsed().as_secs_f64();
    let batches = handle.stats().batches;
    drop(handle);
    engine.join();
    let mut sorted = latencies;
    sorted.sort();
    Measurement {
        tickets: sorted.len(),
        per_second: sorted.len() as f64 / elapsed,
        p50_ms: percentile(&sorted, 0.50),
        p99_ms: percentile(&sorted, 0.99),
        batches,
    }
}

fn history_ticket(
    id: u64,
    day: Date,
    sequence: u32,
    at: Timestamp,
    status: TicketStatus,
) -> Ticket {
    let service = (id % SERVICES as u64) as usize;
    Ticket {
        id: TicketId(id),
        number: format!("{}{:03}", (b'A' + service as u8) as char, sequence),
        number_service: ServiceId::new(format!("s{service}")),
        service: ServiceId::new(format!("s{service}")),
        service_day: day,
        priority: PriorityClass::WalkIn,
        channel: Channel::Kiosk,
        status,
        issued_at: at,
        queued_at: at,
        called_at: (status == TicketStatus::Completed).then_some(at),
        finished_at: status.is_final().then_some(at + 300.seconds()),
        window: None,
        recalls: 0,
        requeues: 0,
        transfers: 0,
        token: format!("history-{id}"),
        contact: None,
        id_card: None,
        kiosk: None,
        idempotency_key: None,
    }
}

/// Builds a year of history (final tickets) plus a busy day in progress, then times what a
/// restart does: open, read the open and today's tickets, rebuild the hall.
fn measure_restart(directory: &std::path::Path, history: u64) {
    let path = directory.join("restart.db");
    let zone = TimeZone::fixed(tz::offset(8));
    // "Today" is a fixed day, and the engines below run on a clock at noon of it, so that the
    // open tickets are today's (not yesterday's, expired at start) whenever the bench runs.
    let today: Date = "2026-11-27".parse().unwrap();
    let noon = Arc::new(hallq_engine::ManualClock::new(
        today
            .at(12, 0, 0, 0)
            .to_zoned(zone.clone())
            .unwrap()
            .timestamp(),
    ));
    let mut store = Store::open(&path, &StoreOptions::default()).expect("open");
    let per_day = 2_800u64;
    let days = history.div_ceil(per_day);
    let build_started = Instant::now();
    let mut id = 0u64;
    let mut chunk = Vec::with_capacity(50_000);
    for day_offset in (1..=days as i64).rev() {
        let day = today - day_offset.days();
        let opening = day
            .at(9, 0, 0, 0)
            .to_zoned(zone.clone())
            .unwrap()
            .timestamp();
        let mut sequences = [0u32; SERVICES];
        for n in 0..per_day {
            id += 1;
            let sequence = &mut sequences[(id % SERVICES as u64) as usize];
            *sequence += 1;
            let at = opening + (n as i64 * 10).seconds();
            chunk.push(history_ticket(
                id,
                day,
                *sequence,
                at,
                TicketStatus::Completed,
            ));
            if chunk.len() == chunk.capacity() {
                store.bulk_insert_history(&chunk).expect("history");
                chunk.clear();
            }
        }
    }
    // Today: 1,000 completed and `HALLQ_BENCH_OPEN` (default 100,000) still waiting.
    let open: u64 = std::env::var("HALLQ_BENCH_OPEN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let opening = today
        .at(9, 0, 0, 0)
        .to_zoned(zone.clone())
        .unwrap()
        .timestamp();
    let mut sequences = [0u32; SERVICES];
    for n in 0..1_000 + open {
        id += 1;
        let sequence = &mut sequences[(id % SERVICES as u64) as usize];
        *sequence += 1;
        let status = if n < 1_000 {
            TicketStatus::Completed
        } else {
            TicketStatus::Waiting
        };
        let at = opening + (n as i64 / 10).seconds();
        chunk.push(history_ticket(id, today, *sequence, at, status));
        if chunk.len() == chunk.capacity() {
            store.bulk_insert_history(&chunk).expect("today");
            chunk.clear();
        }
    }
    store.bulk_insert_history(&chunk).expect("today");
    drop(store);
    // The service day marker, as the engine would have left it.
    let store = Store::open(&path, &StoreOptions::default()).expect("open");
    let (engine, handle) = Engine::start(
        store,
        spec(),
        zone.clone(),
        noon.clone(),
        EngineConfig::default(),
    )
    .expect("start");
    drop(handle);
    engine.join();
    let built = build_started.elapsed();

    // A whole engine start: open, load, rebuild the hall and its read model, start the day.
    let mut timings = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let store = Store::open(&path, &StoreOptions::default()).expect("open");
        let (engine, handle) = Engine::start(
            store,
            spec(),
            zone.clone(),
            noon.clone(),
            EngineConfig::default(),
        )
        .expect("start");
        let waiting: usize = handle.view(|hall| {
            hall.queue_stats(Timestamp::now())
                .iter()
                .map(|q| q.waiting)
                .sum()
        });
        timings.push(started.elapsed());
        assert_eq!(waiting as u64, open, "the open tickets are loaded");
        drop(handle);
        engine.join();
    }
    timings.sort();
    println!();
    println!(
        "Restart with {id} tickets of history ({days} days, built in {:.1} s):",
        built.as_secs_f64()
    );
    println!("| measurement | median | worst of 5 |");
    println!("|---|---|---|");
    println!(
        "| engine start (open, load, rebuild hall and read model), {open} waiting today | {:.1} ms | {:.1} ms |",
        timings[2].as_secs_f64() * 1000.0,
        timings[4].as_secs_f64() * 1000.0
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let seconds: f64 = std::env::var("HALLQ_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.0);
    let history: u64 = std::env::var("HALLQ_BENCH_HISTORY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let directory = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "Durable ticket issuance, {seconds} s per cell, database in {}",
        directory.path().display()
    );
    println!("| clients | mode | tickets/s | p50 ms | p99 ms | tickets per commit | × baseline |");
    println!("|---|---|---|---|---|---|---|");
    for clients in [1usize, 8, 64] {
        let baseline = measure(&runtime, directory.path(), clients, 1, seconds);
        let group = measure(&runtime, directory.path(), clients, 512, seconds);
        for (mode, m) in [
            ("baseline: 1 fsync per ticket", &baseline),
            ("group commit", &group),
        ] {
            println!(
                "| {clients} | {mode} | {:.0} | {:.2} | {:.2} | {:.1} | {:.2} |",
                m.per_second,
                m.p50_ms,
                m.p99_ms,
                m.tickets as f64 / m.batches.max(1) as f64,
                m.per_second / baseline.per_second
            );
        }
    }
    if history > 0 {
        measure_restart(directory.path(), history);
    }
}
