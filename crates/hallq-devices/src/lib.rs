//! Devices hallq drives: thermal ticket printers (ESC/POS) and LED call displays.
//!
//! Only this crate knows ESC/POS bytes and device transports. It renders a ticket from plain
//! strings (it knows nothing of the hall's rules), talks to printers over TCP, serial lines,
//! USB printer-class device files or plain files, reads their real-time status, and runs one
//! supervisor thread per printer so that a dead printer never blocks anything else.

pub mod decode;
pub mod display;
pub mod escpos;
pub mod id_card;
pub mod id_simulator;
pub mod printer;
pub mod simulator;
pub mod status;
pub mod text;
pub mod ticket;
pub mod traits;
pub mod transport;

pub use printer::{PrintOutcome, Printer, PrinterConfig, PrinterHealth};
pub use status::{PrinterCondition, PrinterStatus};
pub use ticket::{
    render_test_ticket, render_ticket, PaperWidth, QrMode, TicketContent, TicketLayout,
};
pub use traits::{CallDisplay, LineDisplay, TicketPrinter};
pub use transport::{DeviceUrl, UrlError};
