//! Printers, LED window displays and the devices (kiosks, boards) that call the API with a
//! token. Ids are unique across every device and staff member of the hall.

use super::errors::Problems;
use crate::credentials::SecretHash;
use hallq_devices::{DeviceUrl, PaperWidth, QrMode};
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PrinterSection {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// tcp://HOST:9100, serial:///dev/ttyUSB0?baud=9600, usb:///dev/usb/lp0, file:NAME
    pub(crate) url: String,
    #[serde(default = "default_paper")]
    pub(crate) paper: String,
    #[serde(default = "default_qr")]
    pub(crate) qr: String,
    #[serde(default = "default_status_interval_s")]
    pub(crate) status_interval_s: u64,
}

fn default_paper() -> String {
    "80mm".into()
}

fn default_qr() -> String {
    "native".into()
}

fn default_status_interval_s() -> u64 {
    10
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DisplaySection {
    pub(crate) id: String,
    pub(crate) window: String,
    pub(crate) url: String,
    #[serde(default = "default_protocol")]
    pub(crate) protocol: String,
    #[serde(default = "default_address")]
    pub(crate) address: u8,
    #[serde(default)]
    pub(crate) register: u16,
}

fn default_protocol() -> String {
    "framed".into()
}

fn default_address() -> u8 {
    1
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Kiosk,
    Display,
    /// The rating pad (评价器) at a window: asks the citizen to rate each completed visit.
    RatingPad,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceSection {
    pub(crate) id: String,
    pub(crate) kind: DeviceKind,
    pub(crate) name: String,
    /// `hallq hash-secret --token` prints it.
    token_sha256: String,
    /// The printer a kiosk prints its tickets on.
    #[serde(default)]
    pub(crate) printer: Option<String>,
    /// The window a rating pad stands at.
    #[serde(default)]
    pub(crate) window: Option<String>,
}

/// A kiosk or display allowed to call the API with its token.
#[derive(Clone, Debug)]
pub struct Device {
    pub id: String,
    pub kind: DeviceKind,
    pub name: String,
    pub token: SecretHash,
    pub printer: Option<String>,
    /// A rating pad's window.
    pub window: Option<hallq_core::WindowId>,
}

#[derive(Clone, Debug)]
pub struct DisplaySettings {
    pub id: String,
    pub window: hallq_core::WindowId,
    pub url: DeviceUrl,
    pub protocol: hallq_devices::display::Protocol,
    pub address: u8,
    pub register: u16,
}

#[derive(Clone, Debug)]
pub struct PrinterSettings {
    pub id: String,
    pub name: String,
    /// As configured; `file:` paths are relative to the data directory.
    pub url: DeviceUrl,
    pub paper: PaperWidth,
    pub qr: QrMode,
    pub status_interval_s: u64,
}

/// An id that is unique in the hall and safe in URLs and file names.
pub(crate) fn check_id(
    ids: &mut HashSet<String>,
    id: &str,
    key: String,
    problems: &mut Problems<'_>,
) {
    if !hallq_core::is_valid_id(id) || !ids.insert(id.to_owned()) {
        problems.at(
            key,
            format!("'{id}' must be unique and use a-z, 0-9, '-' or '_'"),
        );
    }
}

pub(crate) fn printers(
    raw: Vec<PrinterSection>,
    ids: &mut HashSet<String>,
    problems: &mut Problems<'_>,
) -> Vec<PrinterSettings> {
    let mut printers = Vec::new();
    for (index, printer) in raw.into_iter().enumerate() {
        let at = |key: &str| format!("printers[{index}].{key}");
        check_id(ids, &printer.id, at("id"), problems);
        let url = printer
            .url
            .parse::<DeviceUrl>()
            .map_err(|e| problems.at(at("url"), e.to_string()))
            .ok();
        let paper = PaperWidth::parse(&printer.paper);
        if paper.is_none() {
            problems.at(at("paper"), "use \"58mm\" or \"80mm\"");
        }
        let qr = QrMode::parse(&printer.qr);
        if qr.is_none() {
            problems.at(at("qr"), "use \"native\" (GS ( k) or \"raster\"");
        }
        if !(1..=3600).contains(&printer.status_interval_s) {
            problems.at(at("status_interval_s"), "must be between 1 and 3600");
        }
        if let (Some(url), Some(paper), Some(qr)) = (url, paper, qr) {
            printers.push(PrinterSettings {
                name: printer.name.unwrap_or_else(|| printer.id.clone()),
                id: printer.id,
                url,
                paper,
                qr,
                status_interval_s: printer.status_interval_s,
            });
        }
    }
    printers
}

pub(crate) fn displays(
    raw: Vec<DisplaySection>,
    window_ids: &HashSet<&str>,
    ids: &mut HashSet<String>,
    problems: &mut Problems<'_>,
) -> Vec<DisplaySettings> {
    let mut displays = Vec::new();
    let mut line_protocols: Vec<(String, hallq_devices::display::Protocol, u8, usize)> = Vec::new();
    for (index, display) in raw.into_iter().enumerate() {
        let at = |key: &str| format!("displays[{index}].{key}");
        check_id(ids, &display.id, at("id"), problems);
        if !window_ids.contains(display.window.as_str()) {
            problems.at(at("window"), format!("unknown window '{}'", display.window));
        }
        let protocol = hallq_devices::display::Protocol::parse(&display.protocol);
        if protocol.is_none() {
            problems.at(at("protocol"), "use plain, framed or modbus");
        }
        if display.address == 0
            || (protocol == Some(hallq_devices::display::Protocol::Modbus) && display.address > 247)
            || display.address == 255
        {
            problems.at(at("address"), "must be 1-254 (1-247 for modbus)");
        }
        let url = display
            .url
            .parse::<DeviceUrl>()
            .map_err(|e| problems.at(at("url"), e.to_string()))
            .ok();
        if let (Some(url), Some(protocol)) = (url, protocol) {
            let key = url.to_string();
            for (_, other, address, other_index) in
                line_protocols.iter().filter(|(k, ..)| *k == key)
            {
                if *other != protocol {
                    problems.at(
                            at("protocol"),
                            format!("displays on one line share a protocol: displays[{other_index}] uses {}", other.as_str()),
                        );
                }
                if *address == display.address {
                    problems.at(
                            at("address"),
                            format!("address {address} is already used on this line by displays[{other_index}]"),
                        );
                }
            }
            line_protocols.push((key, protocol, display.address, index));
            displays.push(DisplaySettings {
                id: display.id,
                window: hallq_core::WindowId::new(display.window),
                url,
                protocol,
                address: display.address,
                register: display.register,
            });
        }
    }
    displays
}

pub(crate) fn devices(
    raw: Vec<DeviceSection>,
    printers: &[PrinterSettings],
    window_ids: &HashSet<&str>,
    ids: &mut HashSet<String>,
    problems: &mut Problems<'_>,
) -> Vec<Device> {
    let mut devices = Vec::new();
    for (index, device) in raw.into_iter().enumerate() {
        check_id(ids, &device.id, format!("devices[{index}].id"), problems);
        match (&device.window, device.kind) {
            (None, DeviceKind::RatingPad) => problems.at(
                format!("devices[{index}].window"),
                "a rating pad names the window it stands at",
            ),
            (Some(window), DeviceKind::RatingPad) if !window_ids.contains(window.as_str()) => {
                problems.at(
                    format!("devices[{index}].window"),
                    format!("unknown window '{window}'"),
                )
            }
            (Some(_), DeviceKind::Kiosk | DeviceKind::Display) => problems.at(
                format!("devices[{index}].window"),
                "only rating pads stand at a window",
            ),
            _ => {}
        }
        if let Some(printer) = &device.printer {
            if device.kind != DeviceKind::Kiosk {
                problems.at(
                    format!("devices[{index}].printer"),
                    "only kiosks have printers",
                );
            } else if !printers.iter().any(|p| &p.id == printer) {
                problems.at(
                    format!("devices[{index}].printer"),
                    format!("unknown printer '{printer}'"),
                );
            }
        }
        match SecretHash::sha256_from_hex(&device.token_sha256) {
            Some(token) => devices.push(Device {
                id: device.id,
                kind: device.kind,
                name: device.name,
                token,
                printer: device.printer,
                window: device.window.map(hallq_core::WindowId),
            }),
            None => problems.at(
                format!("devices[{index}].token_sha256"),
                "must be 64 hex digits: run `hallq hash-secret --token`",
            ),
        }
    }
    devices
}
