//! Printing as a follower of the log. A ticket issued at a kiosk with a printer (walk-in or
//! appointment check-in alike) and a reprint request are events; this follower prints them on
//! the printer's own thread and records the outcome as an event (`ticket_printed` or
//! `ticket_print_failed`). One print path for all three.
//!
//! The kiosk's request does not print: it commits the ticket, then waits a short, configured
//! time for the outcome of its print job (keyed by the sequence number of the event that asked
//! for it), and answers `pending` if the printer is slower than that. A dead printer costs a
//! kiosk at most that wait, and never the ticket.

use super::device_reports::DeviceReports;
use super::{FollowError, LogFollower};
use crate::app::state::ReaderPool;
use crate::config::{HallConfig, PrinterSettings};
use hallq_core::{Command, Event, PriorityClass, Ticket};
use hallq_devices::printer::PrintOutcome;
use hallq_devices::{
    render_ticket, Printer, PrinterConfig, PrinterHealth, TicketContent, TicketLayout,
    TicketPrinter,
};
use hallq_engine::{Clock, EngineHandle};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// How long a printer may take for one job before it counts as failed.
const JOB_DEADLINE: Duration = Duration::from_secs(8);
/// A job whose event is older than this when the follower reaches it is not printed: the
/// citizen has long gone, and a stray ticket would confuse the next one.
const STALE_AFTER_S: i64 = 60;
/// Outcomes kept for requests that ask after the job finished.
const RECENT_OUTCOMES: usize = 256;

/// What happened to a print job, as the kiosk and the API see it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PrintReport {
    pub printer: String,
    /// printed, failed, or pending (still being tried: show the ticket on screen too)
    pub status: String,
    /// The printer's condition when it failed: paper_out, cover_open, offline, unreachable …
    pub condition: Option<String>,
    /// What to tell the citizen or the staff.
    pub message: Option<String>,
}

impl PrintReport {
    fn pending(printer: &str) -> Self {
        Self {
            printer: printer.to_owned(),
            status: "pending".into(),
            condition: None,
            message: Some("the printer is slow to answer; the ticket may still print".into()),
        }
    }

    fn from_outcome(printer: &str, outcome: &PrintOutcome) -> Self {
        let (status, condition, message) = match outcome {
            PrintOutcome::Printed => ("printed", None, None),
            PrintOutcome::Failed { condition, reason } => (
                "failed",
                Some(condition.as_str().to_owned()),
                Some(reason.clone()),
            ),
        };
        Self {
            printer: printer.to_owned(),
            status: status.into(),
            condition,
            message,
        }
    }
}

/// A printer as `GET /api/v1/devices` shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PrinterView {
    pub id: String,
    pub name: String,
    pub url: String,
    pub condition: String,
    pub detail: Option<String>,
    pub checked_at: Option<String>,
    pub printed: u64,
    pub failed: u64,
    pub kiosks: Vec<String>,
}

#[derive(Default)]
struct Outcomes {
    /// Requests waiting for a job's outcome, by the job's event sequence number.
    waiting: HashMap<u64, Vec<oneshot::Sender<PrintReport>>>,
    /// Outcomes nobody was waiting for yet.
    recent: VecDeque<(u64, PrintReport)>,
}

pub struct Printing {
    printers: HashMap<String, Arc<dyn TicketPrinter>>,
    config: Arc<HallConfig>,
    outcomes: Mutex<Outcomes>,
}

impl Printing {
    /// Starts a supervisor per configured printer; condition changes go to `reports`.
    pub fn start(config: Arc<HallConfig>, data_dir: &Path, reports: Arc<DeviceReports>) -> Self {
        let printers = config
            .printers
            .iter()
            .map(|settings| {
                let reports = reports.clone();
                let printer: Arc<dyn TicketPrinter> = Arc::new(Printer::start(
                    printer_config(settings, &config, data_dir),
                    Box::new(move |id: &str, health: &PrinterHealth| {
                        reports.report(id, health.condition.as_str(), health.detail.clone());
                    }),
                ));
                (settings.id.clone(), printer)
            })
            .collect();
        Self {
            printers,
            config,
            outcomes: Mutex::default(),
        }
    }

    /// The printer a kiosk device prints on.
    pub fn for_kiosk(&self, kiosk: &str) -> Option<&str> {
        self.config
            .devices
            .iter()
            .find(|d| d.id == kiosk)
            .and_then(|d| d.printer.as_deref())
    }

    pub fn exists(&self, printer: &str) -> bool {
        self.printers.contains_key(printer)
    }

    /// Waits at most `within` for the outcome of the job asked for by event `job`.
    pub async fn wait(&self, job: u64, printer: &str, within: Duration) -> PrintReport {
        let answer = {
            let Ok(mut outcomes) = self.outcomes.lock() else {
                return PrintReport::pending(printer);
            };
            if let Some((_, report)) = outcomes.recent.iter().find(|(seq, _)| *seq == job) {
                return report.clone();
            }
            let (reply, answer) = oneshot::channel();
            outcomes.waiting.entry(job).or_default().push(reply);
            answer
        };
        let report = tokio::time::timeout(within, answer).await;
        if let Ok(mut outcomes) = self.outcomes.lock() {
            // A waiter that timed out leaves nothing behind.
            if let Some(waiters) = outcomes.waiting.get_mut(&job) {
                waiters.retain(|waiter| !waiter.is_closed());
                if waiters.is_empty() {
                    outcomes.waiting.remove(&job);
                }
            }
        }
        match report {
            Ok(Ok(report)) => report,
            _ => PrintReport::pending(printer),
        }
    }

    fn finish(&self, job: u64, report: PrintReport) {
        let Ok(mut outcomes) = self.outcomes.lock() else {
            return;
        };
        match outcomes.waiting.remove(&job) {
            Some(waiters) => {
                for waiter in waiters {
                    let _ = waiter.send(report.clone());
                }
            }
            None => {
                if outcomes.recent.len() == RECENT_OUTCOMES {
                    outcomes.recent.pop_front();
                }
                outcomes.recent.push_back((job, report));
            }
        }
    }

    pub fn views(&self) -> Vec<PrinterView> {
        self.config
            .printers
            .iter()
            .filter_map(|settings| {
                let health = self.printers.get(&settings.id)?.health();
                Some(PrinterView {
                    id: settings.id.clone(),
                    name: settings.name.clone(),
                    url: settings.url.to_string(),
                    condition: health.condition.as_str().to_owned(),
                    detail: health.detail,
                    checked_at: health
                        .checked_at
                        .and_then(|t| hallq_core::jiff::Timestamp::try_from(t).ok())
                        .map(|t| t.to_string()),
                    printed: health.printed,
                    failed: health.failed,
                    kiosks: self
                        .config
                        .devices
                        .iter()
                        .filter(|d| d.printer.as_deref() == Some(settings.id.as_str()))
                        .map(|d| d.id.clone())
                        .collect(),
                })
            })
            .collect()
    }

    /// Renders and queues one job; the outcome is reported and recorded when it comes.
    fn submit(
        self: &Arc<Self>,
        engine: &EngineHandle,
        job: u64,
        printer_id: &str,
        ticket: &Ticket,
        position: Option<(usize, hallq_core::WaitForecast)>,
    ) {
        let Some(printer) = self.printers.get(printer_id) else {
            tracing::warn!(printer = printer_id, "a print job names an unknown printer");
            return;
        };
        let bytes = render_ticket(
            &ticket_content(&self.config, ticket, position),
            printer.layout(),
        );
        let answer = printer.submit(bytes, JOB_DEADLINE);
        let printing = self.clone();
        let engine = engine.clone();
        let (ticket, printer_id) = (ticket.id, printer_id.to_owned());
        actix_web::rt::spawn(async move {
            let outcome = tokio::time::timeout(JOB_DEADLINE + Duration::from_secs(1), answer)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or(PrintOutcome::Failed {
                    condition: hallq_devices::PrinterCondition::Offline,
                    reason: "the printer supervisor did not answer".into(),
                });
            // Recorded first: whoever hears the outcome finds it in the log too.
            record(&engine, ticket, printer_id.clone(), &outcome).await;
            printing.finish(job, PrintReport::from_outcome(&printer_id, &outcome));
        });
    }
}

async fn record(
    engine: &EngineHandle,
    ticket: hallq_core::TicketId,
    printer: String,
    outcome: &PrintOutcome,
) {
    let failure = match outcome {
        PrintOutcome::Printed => None,
        PrintOutcome::Failed { condition, reason } => {
            Some((condition.as_str().to_owned(), reason.clone()))
        }
    };
    let failed = failure.is_some();
    if let Err(error) = engine
        .execute(Command::RecordPrintOutcome {
            ticket,
            printer: printer.clone(),
            failure,
        })
        .await
    {
        tracing::warn!(%error, %printer, "cannot record a print outcome");
    } else if failed {
        tracing::warn!(%printer, %ticket, "a ticket could not be printed");
    }
}

/// Prints what the log asks for until the daemon shuts down.
pub async fn run(
    engine: EngineHandle,
    readers: ReaderPool,
    printing: Arc<Printing>,
    clock: Arc<dyn Clock>,
    mut shutdown: watch::Receiver<bool>,
) {
    if printing.printers.is_empty() {
        return;
    }
    let mut follower = LogFollower::from_now(&engine, readers);
    loop {
        let next = tokio::select! {
            next = follower.next() => next,
            _ = shutdown.changed() => return,
        };
        let published = match next {
            Ok(published) => published,
            Err(FollowError::Stopped) => return,
            Err(FollowError::Store(error)) => {
                tracing::error!(%error, "printing cannot read the log; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let (ticket_id, printer) = match &published.event {
            Event::TicketIssued { ticket } => {
                match ticket.kiosk.as_deref().and_then(|k| printing.for_kiosk(k)) {
                    Some(printer) => (ticket.id, printer.to_owned()),
                    None => continue,
                }
            }
            Event::TicketReprintRequested {
                ticket, printer, ..
            } => (*ticket, printer.clone()),
            _ => continue,
        };
        let now = clock.now();
        if now.as_second() - published.event.at().as_second() > STALE_AFTER_S {
            let outcome = PrintOutcome::Failed {
                condition: hallq_devices::PrinterCondition::Unknown,
                reason: "not printed: the request is too old to print now".into(),
            };
            record(&engine, ticket_id, printer.clone(), &outcome).await;
            printing.finish(published.seq, PrintReport::from_outcome(&printer, &outcome));
            continue;
        }
        let found = engine.view(|hall| {
            hall.ticket(ticket_id).cloned().map(|t| {
                let plan = hall.forecast_plan_for(ticket_id, now);
                (hall.position(ticket_id, now), plan, t)
            })
        });
        // The futures are drawn after the engine's read lock is let go.
        let found = found.map(|(position, plan, ticket)| {
            let promised = position
                .zip(plan.forecast(ticket_id))
                .map(|((ahead, _), forecast)| (ahead, forecast));
            (promised, ticket)
        });
        if let Some((position, ticket)) = found {
            printing.submit(&engine, published.seq, &printer, &ticket, position);
        }
    }
}

fn printer_config(
    settings: &PrinterSettings,
    config: &HallConfig,
    data_dir: &Path,
) -> PrinterConfig {
    let mut layout = TicketLayout {
        paper: settings.paper,
        qr: settings.qr,
        footer: config.ticket.footer.clone(),
        ..TicketLayout::default()
    };
    if let Some(caption) = &config.ticket.qr_caption {
        layout.qr_caption = caption.clone();
    }
    PrinterConfig {
        id: settings.id.clone(),
        url: settings.url.clone().resolve(data_dir),
        layout,
        status_interval: Duration::from_secs(settings.status_interval_s),
    }
}

/// The words on a ticket: service name, local time, the status page's full address.
pub fn ticket_content(
    config: &HallConfig,
    ticket: &Ticket,
    position: Option<(usize, hallq_core::WaitForecast)>,
) -> TicketContent {
    let service_name = config
        .spec
        .services
        .iter()
        .find(|s| s.id == ticket.service)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| ticket.service.0.clone());
    TicketContent {
        hall_name: config.spec.name.clone(),
        service_name,
        number: ticket.number.clone(),
        priority_label: match ticket.priority {
            PriorityClass::Green => Some("绿色通道".into()),
            PriorityClass::Appointment => Some("预约".into()),
            PriorityClass::WalkIn => None,
        },
        ahead: position.map(|(ahead, _)| ahead),
        wait_minutes: position.map(|(_, forecast)| forecast.minutes()),
        issued_at: ticket
            .issued_at
            .to_zoned(config.time_zone.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        status_url: Some(format!(
            "{}/t/{}",
            config.ticket.public_base_url, ticket.token
        )),
    }
}
