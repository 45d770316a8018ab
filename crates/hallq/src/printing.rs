//! Printing tickets from the daemon: one supervised printer per `[[printers]]` entry, the
//! ticket's words in the hall's language and time zone, and the answer the kiosk shows.
//!
//! Printing never blocks issuing: the ticket is committed first, then printed; whatever the
//! printer says, the ticket stays valid and the kiosk can show its number and QR code instead.

use crate::config::{HallConfig, PrinterSettings};
use hallq_core::{Command, PriorityClass, Ticket};
use hallq_devices::printer::PrintOutcome;
use hallq_devices::{
    render_ticket, Printer, PrinterConfig, PrinterHealth, TicketContent, TicketLayout,
};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long an issue request waits for its ticket to come out before answering "pending".
const PRINT_WAIT: Duration = Duration::from_secs(4);

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

pub struct Printers {
    printers: HashMap<String, Arc<Printer>>,
    config: Arc<HallConfig>,
}

impl Printers {
    /// Starts a supervisor per configured printer; their condition changes are sent on
    /// `reports` as commands for the engine (so they reach the log, the stream and managers).
    pub fn start(
        config: Arc<HallConfig>,
        data_dir: &Path,
        reports: mpsc::UnboundedSender<Command>,
    ) -> Self {
        let printers = config
            .printers
            .iter()
            .map(|settings| {
                let reports = reports.clone();
                let printer = Printer::start(
                    printer_config(settings, &config, data_dir),
                    Box::new(move |id: &str, health: &PrinterHealth| {
                        let _ = reports.send(Command::RecordDeviceStatus {
                            device: id.to_owned(),
                            condition: health.condition.as_str().to_owned(),
                            detail: health.detail.clone(),
                        });
                    }),
                );
                (settings.id.clone(), Arc::new(printer))
            })
            .collect();
        Self { printers, config }
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

    /// Prints a ticket and waits a few seconds for the outcome.
    pub async fn print(
        &self,
        printer_id: &str,
        ticket: &Ticket,
        position: Option<(usize, u64)>,
    ) -> PrintReport {
        let Some(printer) = self.printers.get(printer_id) else {
            return PrintReport {
                printer: printer_id.to_owned(),
                status: "failed".into(),
                condition: Some("unknown".into()),
                message: Some(format!("there is no printer '{printer_id}' in this hall")),
            };
        };
        let bytes = render_ticket(
            &ticket_content(&self.config, ticket, position),
            &printer.config().layout,
        );
        let answer = printer.submit(bytes, PRINT_WAIT);
        let outcome = tokio::time::timeout(PRINT_WAIT + Duration::from_millis(500), answer).await;
        let (status, condition, message) = match outcome {
            Ok(Ok(PrintOutcome::Printed)) => ("printed", None, None),
            Ok(Ok(PrintOutcome::Failed { condition, reason })) => {
                ("failed", Some(condition.as_str().to_owned()), Some(reason))
            }
            Ok(Err(_)) => (
                "failed",
                Some("offline".into()),
                Some("the printer supervisor stopped".into()),
            ),
            Err(_) => (
                "pending",
                None,
                Some("the printer is slow to answer; the ticket may still print".into()),
            ),
        };
        PrintReport {
            printer: printer_id.to_owned(),
            status: status.into(),
            condition,
            message,
        }
    }

    pub fn views(&self) -> Vec<PrinterView> {
        self.config
            .printers
            .iter()
            .filter_map(|settings| {
                let printer = self.printers.get(&settings.id)?;
                let health = printer.health();
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
    position: Option<(usize, u64)>,
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
        wait_s_estimate: position.map(|(_, wait)| wait),
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
