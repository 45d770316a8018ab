//! `[[id_readers]]` (one resident ID card reader per kiosk) and `[id_cards]` (what a card
//! read means at the kiosk).

use super::devices::{check_id, Device, DeviceKind};
use super::errors::Problems;
use hallq_devices::DeviceUrl;
use serde::Deserialize;
use std::collections::HashSet;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdReaderSection {
    pub(crate) id: String,
    /// The kiosk (a `[[devices]]` entry of kind kiosk) the reader is built into.
    pub(crate) kiosk: String,
    /// `serial:///dev/ttyUSB0?baud=115200`, or `tcp://HOST:PORT` for a serial-over-IP converter.
    pub(crate) url: String,
    /// How often the reader is asked whether a card lies on it.
    #[serde(default = "default_poll_ms")]
    pub(crate) poll_ms: u64,
}

fn default_poll_ms() -> u64 {
    300
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IdCardSection {
    /// Citizens of this age and older get the green channel when they lay their card on the
    /// reader, without asking; 0 turns it off.
    #[serde(default = "default_green_age")]
    pub(crate) green_channel_age: u8,
    /// How long a card read stays usable at its kiosk (to choose a service after the read).
    #[serde(default = "default_hold_s")]
    pub(crate) hold_s: u64,
}

impl Default for IdCardSection {
    fn default() -> Self {
        Self {
            green_channel_age: default_green_age(),
            hold_s: default_hold_s(),
        }
    }
}

fn default_green_age() -> u8 {
    65
}

fn default_hold_s() -> u64 {
    90
}

#[derive(Clone, Debug)]
pub struct IdReaderSettings {
    pub id: String,
    pub kiosk: String,
    pub url: DeviceUrl,
    pub poll: Duration,
}

#[derive(Clone, Debug)]
pub struct IdCardSettings {
    /// 0: no green channel by age.
    pub green_channel_age: u8,
    pub hold: Duration,
}

pub(crate) fn id_readers(
    raw: Vec<IdReaderSection>,
    devices: &[Device],
    ids: &mut HashSet<String>,
    problems: &mut Problems<'_>,
) -> Vec<IdReaderSettings> {
    let mut readers: Vec<IdReaderSettings> = Vec::new();
    for (index, reader) in raw.into_iter().enumerate() {
        let at = |key: &str| format!("id_readers[{index}].{key}");
        check_id(ids, &reader.id, at("id"), problems);
        if !devices
            .iter()
            .any(|d| d.id == reader.kiosk && d.kind == DeviceKind::Kiosk)
        {
            problems.at(
                at("kiosk"),
                format!(
                    "'{}' is not a kiosk of this hall's [[devices]]: a reader belongs to the kiosk it is built into",
                    reader.kiosk
                ),
            );
        }
        if readers.iter().any(|other| other.kiosk == reader.kiosk) {
            problems.at(at("kiosk"), "a kiosk has one ID card reader");
        }
        if !(100..=5000).contains(&reader.poll_ms) {
            problems.at(at("poll_ms"), "must be between 100 and 5000");
        }
        let url = match reader.url.parse::<DeviceUrl>() {
            Ok(url @ (DeviceUrl::Serial { .. } | DeviceUrl::Tcp { .. })) => Some(url),
            Ok(_) => {
                problems.at(
                    at("url"),
                    "an ID card reader is a serial port (serial:///dev/ttyUSB0?baud=115200) or a \
                     serial-over-IP converter (tcp://HOST:PORT)",
                );
                None
            }
            Err(e) => {
                problems.at(at("url"), e.to_string());
                None
            }
        };
        if let Some(url) = url {
            readers.push(IdReaderSettings {
                id: reader.id,
                kiosk: reader.kiosk,
                url,
                poll: Duration::from_millis(reader.poll_ms.clamp(100, 5000)),
            });
        }
    }
    readers
}

pub(crate) fn id_cards(raw: IdCardSection, problems: &mut Problems<'_>) -> IdCardSettings {
    if raw.green_channel_age > 120 {
        problems.at("id_cards.green_channel_age", "an age of 0 (off) to 120");
    }
    if !(10..=600).contains(&raw.hold_s) {
        problems.at("id_cards.hold_s", "must be between 10 and 600 seconds");
    }
    IdCardSettings {
        green_channel_age: raw.green_channel_age,
        hold: Duration::from_secs(raw.hold_s.clamp(10, 600)),
    }
}
