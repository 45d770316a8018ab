//! The two small traits between the log's followers and the hardware: something that prints
//! ticket bytes, and something that shows a window's text. The daemon's followers hold these,
//! so a printer or display family can be added (or simulated) without touching them.

use crate::display::{DisplayHealth, DisplayLine};
use crate::printer::{PrintOutcome, Printer, PrinterHealth};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// A ticket printer: takes rendered bytes, answers how the job went by a deadline.
pub trait TicketPrinter: Send + Sync {
    fn id(&self) -> &str;
    /// The layout tickets for this printer are rendered with.
    fn layout(&self) -> &crate::TicketLayout;
    /// Queues a job; never blocks (a full queue is answered at once as a failure).
    fn submit(&self, bytes: Vec<u8>, within: Duration) -> oneshot::Receiver<PrintOutcome>;
    fn health(&self) -> PrinterHealth;
}

impl TicketPrinter for Printer {
    fn id(&self) -> &str {
        Printer::id(self)
    }

    fn layout(&self) -> &crate::TicketLayout {
        &self.config().layout
    }

    fn submit(&self, bytes: Vec<u8>, within: Duration) -> oneshot::Receiver<PrintOutcome> {
        Printer::submit(self, bytes, within)
    }

    fn health(&self) -> PrinterHealth {
        Printer::health(self)
    }
}

/// One window's call display: shows a text, or shows it again (a recall).
pub trait CallDisplay: Send + Sync {
    /// Shows `text`; an unchanged text is not sent again. Never blocks.
    fn show(&self, text: &str);
    /// Sends `text` even if it is already shown, so that it flashes again.
    fn refresh(&self, text: &str);
    fn text(&self) -> Option<String>;
    fn health(&self) -> DisplayHealth;
}

/// The display at `address` on a shared serial line.
pub struct LineDisplay {
    pub line: Arc<DisplayLine>,
    pub address: u8,
}

impl CallDisplay for LineDisplay {
    fn show(&self, text: &str) {
        self.line.show(self.address, text);
    }

    fn refresh(&self, text: &str) {
        self.line.refresh(self.address, text);
    }

    fn text(&self) -> Option<String> {
        self.line.text(self.address)
    }

    fn health(&self) -> DisplayHealth {
        self.line.health()
    }
}
