//! Real-time status (DLE EOT): what the printer says about itself.
//!
//! Each answer is one byte whose fixed bits (bit 1 and 4 set, 0 and 7 clear) tell a status
//! byte from stray data. n=1: bit 3 offline. n=2 (offline cause): bit 2 cover open, bit 5 stopped
//! at paper end, bit 6 error. n=4 (roll paper sensor): bits 2-3 near end, bits 5-6 paper end.

/// Whether a byte has the fixed bits of a DLE EOT answer.
pub fn is_status_byte(byte: u8) -> bool {
    byte & 0x93 == 0x12
}

/// What we know after asking.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrinterStatus {
    pub offline: bool,
    pub cover_open: bool,
    pub paper_near_end: bool,
    pub paper_out: bool,
    pub error: bool,
}

impl PrinterStatus {
    pub fn from_bytes(printer: u8, offline_cause: Option<u8>, paper: Option<u8>) -> Self {
        let mut status = PrinterStatus {
            offline: printer & 0x08 != 0,
            ..PrinterStatus::default()
        };
        if let Some(cause) = offline_cause {
            status.cover_open = cause & 0x04 != 0;
            status.paper_out |= cause & 0x20 != 0;
            status.error = cause & 0x40 != 0;
        }
        if let Some(paper) = paper {
            status.paper_near_end = paper & 0x0C != 0;
            status.paper_out |= paper & 0x60 != 0;
        }
        status
    }

    /// The one condition to report, worst first.
    pub fn condition(&self) -> PrinterCondition {
        if self.paper_out {
            PrinterCondition::PaperOut
        } else if self.cover_open {
            PrinterCondition::CoverOpen
        } else if self.error || self.offline {
            PrinterCondition::Offline
        } else if self.paper_near_end {
            PrinterCondition::PaperNearEnd
        } else {
            PrinterCondition::Ready
        }
    }
}

/// A printer's condition as managers and kiosks see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrinterCondition {
    Ready,
    /// Still prints; change the roll soon.
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Says it is offline, or reports an error.
    Offline,
    /// No connection: unplugged, switched off, wrong address.
    Unreachable,
    /// The transport cannot report status (file, some USB): assumed ready.
    Unknown,
}

impl PrinterCondition {
    pub fn as_str(self) -> &'static str {
        match self {
            PrinterCondition::Ready => "ready",
            PrinterCondition::PaperNearEnd => "paper_near_end",
            PrinterCondition::PaperOut => "paper_out",
            PrinterCondition::CoverOpen => "cover_open",
            PrinterCondition::Offline => "offline",
            PrinterCondition::Unreachable => "unreachable",
            PrinterCondition::Unknown => "unknown",
        }
    }

    /// Whether a job can be printed in this condition.
    pub fn can_print(self) -> bool {
        matches!(
            self,
            PrinterCondition::Ready | PrinterCondition::PaperNearEnd | PrinterCondition::Unknown
        )
    }

    /// What to tell the person in front of the printer.
    pub fn advice(self) -> &'static str {
        match self {
            PrinterCondition::Ready => "the printer is ready",
            PrinterCondition::PaperNearEnd => "the paper roll is nearly empty: replace it soon",
            PrinterCondition::PaperOut => "the printer is out of paper: load a new roll",
            PrinterCondition::CoverOpen => "the printer cover is open: close it",
            PrinterCondition::Offline => {
                "the printer reports it is offline or in error: check its lights"
            }
            PrinterCondition::Unreachable => {
                "the printer cannot be reached: check its cable, power and address"
            }
            PrinterCondition::Unknown => "the printer's status cannot be read on this connection",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bytes_table() {
        // (n=1, n=2, n=4) → condition
        let cases = [
            (0x12, Some(0x12), Some(0x12), PrinterCondition::Ready),
            (0x12, Some(0x12), Some(0x1E), PrinterCondition::PaperNearEnd),
            (0x1A, Some(0x32), Some(0x72), PrinterCondition::PaperOut),
            (0x1A, Some(0x16), Some(0x12), PrinterCondition::CoverOpen),
            (0x1A, Some(0x52), Some(0x12), PrinterCondition::Offline),
            (0x1A, None, None, PrinterCondition::Offline),
            (0x12, None, Some(0x7E), PrinterCondition::PaperOut),
        ];
        for (printer, cause, paper, expected) in cases {
            assert_eq!(
                PrinterStatus::from_bytes(printer, cause, paper).condition(),
                expected,
                "{printer:#x} {cause:?} {paper:?}"
            );
        }
    }

    #[test]
    fn fixed_bits_tell_status_from_noise() {
        assert!(is_status_byte(0x12));
        assert!(is_status_byte(0x1A));
        assert!(is_status_byte(0x7E));
        assert!(!is_status_byte(0x00));
        assert!(!is_status_byte(b'A'));
        assert!(!is_status_byte(0xFF));
    }
}
