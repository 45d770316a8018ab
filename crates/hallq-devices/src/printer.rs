//! One supervisor thread per printer: a bounded job queue, status polling, reconnection.
//!
//! Jobs come with a deadline; a job that cannot be printed in time, or not at all (paper out,
//! cover open, unreachable), is answered with the reason so the kiosk can say so and show the
//! ticket on screen instead. Health changes are reported through a callback.

use crate::escpos::status_request;
use crate::status::{PrinterCondition, PrinterStatus};
use crate::ticket::TicketLayout;
use crate::transport::{self, DeviceUrl, Transport};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::oneshot;

/// Jobs waiting per printer; beyond this, kiosks are told the printer is busy.
pub const QUEUE_CAPACITY: usize = 16;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const STATUS_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Clone, Debug)]
pub struct PrinterConfig {
    pub id: String,
    pub url: DeviceUrl,
    pub layout: TicketLayout,
    /// How often an idle printer's status is read (when the transport can read).
    pub status_interval: Duration,
}

/// A printer's health as the last job or poll found it.
#[derive(Clone, Debug, PartialEq)]
pub struct PrinterHealth {
    pub condition: PrinterCondition,
    /// What went wrong, for people.
    pub detail: Option<String>,
    pub checked_at: Option<SystemTime>,
    pub printed: u64,
    pub failed: u64,
}

impl Default for PrinterHealth {
    fn default() -> Self {
        Self {
            condition: PrinterCondition::Unknown,
            detail: None,
            checked_at: None,
            printed: 0,
            failed: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrintOutcome {
    Printed,
    Failed {
        condition: PrinterCondition,
        reason: String,
    },
}

impl PrintOutcome {
    fn failed(condition: PrinterCondition, reason: impl Into<String>) -> Self {
        PrintOutcome::Failed {
            condition,
            reason: reason.into(),
        }
    }
}

struct Job {
    bytes: Vec<u8>,
    deadline: Instant,
    reply: oneshot::Sender<PrintOutcome>,
}

/// Called on the printer's thread whenever its condition changes.
pub type HealthListener = Box<dyn Fn(&str, &PrinterHealth) + Send>;

/// The handle to a running printer supervisor. Dropping it stops the thread.
pub struct Printer {
    config: PrinterConfig,
    jobs: SyncSender<Job>,
    health: Arc<Mutex<PrinterHealth>>,
}

impl Printer {
    pub fn start(config: PrinterConfig, listener: HealthListener) -> Self {
        let (jobs, receiver) = mpsc::sync_channel(QUEUE_CAPACITY);
        let health = Arc::new(Mutex::new(PrinterHealth::default()));
        let mut supervisor = Supervisor {
            id: config.id.clone(),
            url: config.url.clone(),
            interval: config.status_interval.max(Duration::from_secs(1)),
            connection: None,
            health: health.clone(),
            listener,
        };
        std::thread::Builder::new()
            .name(format!("printer-{}", config.id))
            .spawn(move || supervisor.run(receiver))
            .expect("spawn a printer thread");
        Self {
            config,
            jobs,
            health,
        }
    }

    pub fn id(&self) -> &str {
        &self.config.id
    }

    pub fn config(&self) -> &PrinterConfig {
        &self.config
    }

    pub fn health(&self) -> PrinterHealth {
        self.health.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Queues a job; the answer comes when it printed or failed, by `deadline` at the latest.
    pub fn submit(&self, bytes: Vec<u8>, within: Duration) -> oneshot::Receiver<PrintOutcome> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            bytes,
            deadline: Instant::now() + within,
            reply,
        };
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(job)) => {
                let _ = job.reply.send(PrintOutcome::failed(
                    PrinterCondition::Offline,
                    "the printer has too many jobs waiting; it may be stuck",
                ));
            }
            Err(TrySendError::Disconnected(job)) => {
                let _ = job.reply.send(PrintOutcome::failed(
                    PrinterCondition::Unreachable,
                    "the printer supervisor stopped",
                ));
            }
        }
        answer
    }
}

struct Supervisor {
    id: String,
    url: DeviceUrl,
    interval: Duration,
    connection: Option<Box<dyn Transport>>,
    health: Arc<Mutex<PrinterHealth>>,
    listener: HealthListener,
}

impl Supervisor {
    fn run(&mut self, receiver: mpsc::Receiver<Job>) {
        self.poll();
        loop {
            match receiver.recv_timeout(self.interval) {
                Ok(job) => {
                    let outcome = if Instant::now() > job.deadline {
                        PrintOutcome::failed(PrinterCondition::Offline, "the job waited too long")
                    } else {
                        print_with_retry(&mut self.connection, &self.url, &job.bytes)
                    };
                    self.record(&outcome);
                    let _ = job.reply.send(outcome);
                }
                Err(RecvTimeoutError::Timeout) => self.poll(),
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Reads the status of an idle printer (reconnecting if needed).
    fn poll(&mut self) {
        let condition = match connect(&mut self.connection, &self.url) {
            Err(reason) => Err((PrinterCondition::Unreachable, reason)),
            Ok(transport) => match read_status(transport) {
                Ok(condition) => Ok(condition),
                Err(error) => {
                    self.connection = None;
                    Err((PrinterCondition::Unreachable, error))
                }
            },
        };
        match condition {
            Ok(condition) => self.update(condition, None, None),
            Err((condition, reason)) => self.update(condition, Some(reason), None),
        }
    }

    fn record(&mut self, outcome: &PrintOutcome) {
        match outcome {
            PrintOutcome::Printed => {
                // A successful job proves the printer works; keep a near-end warning.
                let condition = match self.health.lock().map(|h| h.condition) {
                    Ok(PrinterCondition::PaperNearEnd) => PrinterCondition::PaperNearEnd,
                    _ if self.connection.as_ref().is_some_and(|c| c.can_read()) => {
                        PrinterCondition::Ready
                    }
                    _ => PrinterCondition::Unknown,
                };
                self.update(condition, None, Some(true));
            }
            PrintOutcome::Failed { condition, reason } => {
                self.update(*condition, Some(reason.clone()), Some(false));
            }
        }
    }

    fn update(
        &mut self,
        condition: PrinterCondition,
        detail: Option<String>,
        printed: Option<bool>,
    ) {
        let snapshot = {
            let Ok(mut health) = self.health.lock() else {
                return;
            };
            let changed = health.condition != condition;
            health.condition = condition;
            health.detail = detail;
            health.checked_at = Some(SystemTime::now());
            match printed {
                Some(true) => health.printed += 1,
                Some(false) => health.failed += 1,
                None => {}
            }
            changed.then(|| health.clone())
        };
        if let Some(health) = snapshot {
            tracing::info!(printer = %self.id, condition = condition.as_str(), "printer condition changed");
            (self.listener)(&self.id, &health);
        }
    }
}

fn connect<'a>(
    connection: &'a mut Option<Box<dyn Transport>>,
    url: &DeviceUrl,
) -> Result<&'a mut Box<dyn Transport>, String> {
    if connection.is_none() {
        *connection = Some(
            transport::open(url, CONNECT_TIMEOUT)
                .map_err(|e| format!("cannot connect to {url}: {e}"))?,
        );
    }
    connection
        .as_mut()
        .ok_or_else(|| "no connection".to_owned())
}

/// Asks DLE EOT 1, then 2 when offline, then 4. `Unknown` when the transport cannot read.
pub fn read_status(transport: &mut Box<dyn Transport>) -> Result<PrinterCondition, String> {
    if !transport.can_read() {
        return Ok(PrinterCondition::Unknown);
    }
    let ask = |transport: &mut Box<dyn Transport>, n: u8| {
        transport
            .query(&status_request(n), STATUS_TIMEOUT)
            .map_err(|e| format!("status request failed: {e}"))
    };
    let Some(printer) = ask(transport, 1)? else {
        return Ok(PrinterCondition::Offline);
    };
    let cause = if printer & 0x08 != 0 {
        ask(transport, 2)?
    } else {
        None
    };
    let paper = ask(transport, 4)?;
    Ok(PrinterStatus::from_bytes(printer, cause, paper).condition())
}

/// Checks, then prints; one reconnect and retry on a broken connection.
pub fn print_with_retry(
    connection: &mut Option<Box<dyn Transport>>,
    url: &DeviceUrl,
    bytes: &[u8],
) -> PrintOutcome {
    let mut last = PrintOutcome::failed(PrinterCondition::Unreachable, "not attempted");
    for _attempt in 0..2 {
        let transport = match connect(connection, url) {
            Ok(transport) => transport,
            Err(reason) => {
                last = PrintOutcome::failed(PrinterCondition::Unreachable, reason);
                continue;
            }
        };
        let condition = match read_status(transport) {
            Ok(condition) => condition,
            Err(reason) => {
                *connection = None;
                last = PrintOutcome::failed(PrinterCondition::Unreachable, reason);
                continue;
            }
        };
        if !condition.can_print() {
            return PrintOutcome::failed(condition, condition.advice());
        }
        if let Err(error) = transport.write_all(bytes) {
            *connection = None;
            last = PrintOutcome::failed(
                PrinterCondition::Unreachable,
                format!("writing to {url} failed: {error}"),
            );
            continue;
        }
        // A write only reached the kernel's buffer: asking again proves the printer still has
        // the connection (and paper). A printer that dropped it gets the job again, whole.
        match read_status(transport) {
            Ok(condition) if condition.can_print() => return PrintOutcome::Printed,
            Ok(condition) => {
                return PrintOutcome::failed(
                    condition,
                    format!("the job may be incomplete: {}", condition.advice()),
                )
            }
            Err(reason) => {
                *connection = None;
                last = PrintOutcome::failed(PrinterCondition::Unreachable, reason);
            }
        }
    }
    last
}
