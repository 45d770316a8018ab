//! From a call at a window to the citizen seeing it: the event at every connected SSE client
//! (TV boards, phones) and the frame on the window's LED display line.
//!
//! `cargo bench -p hallq --bench calling`
//! Environment: `HALLQ_BENCH_SSE_CLIENTS` (default 1000), `HALLQ_BENCH_CALLS` (default 100).
//! The same run first measures one SSE client as the baseline.
//!
//! The clock starts when the call request is sent: HTTP, the durable commit, the broadcast and
//! the fan-out are all inside the measurement.

use hallq::app::{Application, Settings};
use hallq::config::{HallConfig, DEMO_HALL_TOML};
use hallq_devices::display::{encode, Protocol};
use serialport::SerialPort;
use std::io::Read;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize].as_secs_f64() * 1000.0
}

struct Run {
    sse: Vec<Duration>,
    serial: Vec<Duration>,
    missing: usize,
}

/// Opens `count` SSE streams; every `ticket_called` seen is sent as (number, instant).
async fn open_clients(
    port: u16,
    count: usize,
    seen: tokio::sync::mpsc::UnboundedSender<(String, Instant)>,
) {
    let (ready, mut all_ready) = tokio::sync::mpsc::unbounded_channel::<()>();
    for _ in 0..count {
        let seen = seen.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect");
            stream
                .write_all(b"GET /api/v1/events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
                .await
                .unwrap();
            let mut lines = BufReader::new(stream).lines();
            let mut called = false;
            while let Ok(Some(line)) = lines.next_line().await {
                if line.starts_with("event: hello") {
                    let _ = ready.send(());
                } else if line == "event: ticket_called" {
                    called = true;
                } else if called && line.starts_with("data: ") {
                    called = false;
                    if let Some(rest) = line.split("\"number\":\"").nth(1) {
                        let number = rest.split('"').next().unwrap_or("").to_owned();
                        let _ = seen.send((number, Instant::now()));
                    }
                }
            }
        });
    }
    for _ in 0..count {
        all_ready.recv().await;
    }
}

fn measure(
    port: u16,
    master: &mut serialport::TTYPort,
    manager: &str,
    clients: usize,
    calls: usize,
    runtime: &tokio::runtime::Runtime,
) -> Run {
    let (seen, mut arrivals) = tokio::sync::mpsc::unbounded_channel();
    runtime.block_on(open_clients(port, clients, seen));
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let base = format!("http://127.0.0.1:{port}");
    let mut run = Run {
        sse: Vec::new(),
        serial: Vec::new(),
        missing: 0,
    };
    let (frames_tx, frames) = mpsc::channel::<(Vec<u8>, Instant)>();
    let mut reader = master.try_clone_native().expect("clone pty");
    reader.set_timeout(Duration::from_millis(20)).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_reader = stop.clone();
    let reading = std::thread::spawn(move || {
        let mut buffer = [0u8; 256];
        while !stop_reader.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok(n) = reader.read(&mut buffer) {
                let _ = frames_tx.send((buffer[..n].to_vec(), Instant::now()));
            }
        }
    });
    let mut serial_bytes: Vec<(u8, Instant)> = Vec::new();
    for _ in 0..calls {
        let ticket: serde_json::Value = agent
            .post(&format!("{base}/api/v1/tickets"))
            .set("Authorization", "Bearer demo-kiosk-token")
            .send_json(serde_json::json!({"service": "tax-general"}))
            .unwrap()
            .into_json()
            .unwrap();
        let number = ticket["number"].as_str().unwrap().to_owned();
        let expected_frame = encode(
            Protocol::Framed,
            2,
            0,
            &format!("请{number}号到2号窗口办理"),
        );
        while frames.try_recv().is_ok() {}
        serial_bytes.clear();
        let sent = Instant::now();
        agent
            .post(&format!("{base}/api/v1/windows/w02/call-next"))
            .set("Authorization", &format!("Bearer {manager}"))
            .call()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut received = 0;
        let mut frame_at = None;
        while (received < clients || frame_at.is_none()) && Instant::now() < deadline {
            while let Ok((seen_number, at)) = arrivals.try_recv() {
                if seen_number == number {
                    run.sse.push(at - sent);
                    received += 1;
                }
            }
            while let Ok((bytes, at)) = frames.try_recv() {
                serial_bytes.extend(bytes.into_iter().map(|b| (b, at)));
            }
            if frame_at.is_none() {
                let bytes: Vec<u8> = serial_bytes.iter().map(|(b, _)| *b).collect();
                if let Some(end) = bytes
                    .windows(expected_frame.len())
                    .position(|w| w == expected_frame.as_slice())
                {
                    frame_at = Some(serial_bytes[end + expected_frame.len() - 1].1);
                }
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        run.missing += clients - received;
        if let Some(at) = frame_at {
            run.serial.push(at - sent);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = reading.join();
    run.sse.sort();
    run.serial.sort();
    run
}

fn main() {
    let clients: usize = std::env::var("HALLQ_BENCH_SSE_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let calls: usize = std::env::var("HALLQ_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let (mut master, slave) = serialport::TTYPort::pair().expect("pseudo-terminal");
    let path = slave.name().expect("pty name");
    let text = DEMO_HALL_TOML.replacen(
        "url = \"file:spool/led-line-1.frames\"\nprotocol = \"framed\"\naddress = 2",
        &format!("url = \"serial://{path}?baud=115200\"\nprotocol = \"framed\"\naddress = 2"),
        1,
    );
    let config = HallConfig::parse(&text, "bench").expect("config");
    let directory = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data_dir = directory.path().join("data");
    let (port_tx, port_rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let application = Application::build(Settings {
                config,
                data_dir,
                listen: "127.0.0.1:0".into(),
                workers: 2,
            })
            .expect("start");
            port_tx.send(application.port()).unwrap();
            let _ = application.run_until_stopped().await;
        })
    });
    let port = port_rx.recv().unwrap();
    let manager: serde_json::Value =
        ureq::post(&format!("http://127.0.0.1:{port}/api/v1/sessions"))
            .send_json(serde_json::json!({"staff": "demo-manager", "pin": "135790"}))
            .unwrap()
            .into_json()
            .unwrap();
    let manager = manager["token"].as_str().unwrap().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let baseline = measure(port, &mut master, &manager, 1, calls, &runtime);
    let loaded = measure(port, &mut master, &manager, clients, calls, &runtime);
    println!(
        "From a call (request sent) to the citizen seeing it; {calls} calls per row, 2-core box."
    );
    println!(
        "| path | SSE clients | samples | p50 ms | p99 ms | max ms | missed | p99 × baseline |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (label, run, count) in [("SSE event", &baseline, 1), ("SSE event", &loaded, clients)] {
        println!(
            "| {label} | {count} | {} | {:.2} | {:.2} | {:.2} | {} | {:.2} |",
            run.sse.len(),
            percentile(&run.sse, 0.5),
            percentile(&run.sse, 0.99),
            percentile(&run.sse, 1.0),
            run.missing,
            percentile(&run.sse, 0.99) / percentile(&baseline.sse, 0.99)
        );
    }
    for (label, run, count) in [
        ("LED frame on the serial line", &baseline, 1),
        ("LED frame on the serial line", &loaded, clients),
    ] {
        println!(
            "| {label} | {count} | {} | {:.2} | {:.2} | {:.2} | {} | {:.2} |",
            run.serial.len(),
            percentile(&run.serial, 0.5),
            percentile(&run.serial, 0.99),
            percentile(&run.serial, 1.0),
            calls - run.serial.len(),
            percentile(&run.serial, 0.99) / percentile(&baseline.serial, 0.99)
        );
    }
    drop(slave);
}
