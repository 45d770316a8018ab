//! Silent calling on LED window displays: the caller follows the event stream and keeps every
//! window's display showing the ticket it called, its idle text, or that it is paused.
//!
//! The caller keeps its own small mirror of the windows (paused? which number?) built from the
//! events, so a call reaches the serial line without a round trip to the engine; if it ever
//! falls behind the broadcast it re-reads the windows from the engine.

use crate::config::{fill, HallConfig};
use hallq_core::{Command, Event, Hall, WindowId, WindowStatus};
use hallq_devices::display::{DisplayHealth, DisplayLine, DisplayLineConfig};
use hallq_engine::EngineHandle;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, watch};

/// A display as `GET /api/v1/devices` shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DisplayView {
    pub id: String,
    pub window: String,
    pub url: String,
    pub protocol: String,
    pub address: u8,
    pub connected: bool,
    pub detail: Option<String>,
    pub frames_written: u64,
    /// What it shows now.
    pub text: Option<String>,
}

pub struct Displays {
    lines: Vec<DisplayLine>,
    /// Per window: (line index, address, display id).
    by_window: HashMap<WindowId, Vec<(usize, u8, String)>>,
    config: Arc<HallConfig>,
}

impl Displays {
    /// One supervised line per distinct URL; connection changes go out as device reports.
    pub fn start(
        config: Arc<HallConfig>,
        data_dir: &Path,
        reports: mpsc::UnboundedSender<Command>,
    ) -> Self {
        let mut lines: Vec<DisplayLine> = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        let mut by_window: HashMap<WindowId, Vec<(usize, u8, String)>> = HashMap::new();
        for display in &config.displays {
            let url = display.url.clone().resolve(data_dir);
            let key = url.to_string();
            let index = match keys.iter().position(|k| *k == key) {
                Some(index) => index,
                None => {
                    let on_line: Vec<String> = config
                        .displays
                        .iter()
                        .filter(|d| d.url.clone().resolve(data_dir).to_string() == key)
                        .map(|d| d.id.clone())
                        .collect();
                    let reports = reports.clone();
                    lines.push(DisplayLine::start(
                        DisplayLineConfig {
                            id: key.clone(),
                            url,
                            protocol: display.protocol,
                            register: display.register,
                        },
                        Box::new(move |_, health: &DisplayHealth| {
                            for id in &on_line {
                                let _ = reports.send(Command::RecordDeviceStatus {
                                    device: id.clone(),
                                    condition: if health.connected {
                                        "ready"
                                    } else {
                                        "unreachable"
                                    }
                                    .into(),
                                    detail: health.detail.clone(),
                                });
                            }
                        }),
                    ));
                    keys.push(key);
                    lines.len() - 1
                }
            };
            by_window.entry(display.window.clone()).or_default().push((
                index,
                display.address,
                display.id.clone(),
            ));
        }
        Self {
            lines,
            by_window,
            config,
        }
    }

    fn show(&self, window: &WindowId, text: &str, again: bool) {
        for (line, address, _) in self.by_window.get(window).into_iter().flatten() {
            if again {
                self.lines[*line].refresh(*address, text);
            } else {
                self.lines[*line].show(*address, text);
            }
        }
    }

    pub fn views(&self) -> Vec<DisplayView> {
        self.config
            .displays
            .iter()
            .filter_map(|display| {
                let (line, address, _) = self
                    .by_window
                    .get(&display.window)?
                    .iter()
                    .find(|(_, _, id)| *id == display.id)?;
                let health = self.lines[*line].health();
                Some(DisplayView {
                    id: display.id.clone(),
                    window: display.window.0.clone(),
                    url: display.url.to_string(),
                    protocol: display.protocol.as_str().into(),
                    address: *address,
                    connected: health.connected,
                    detail: health.detail,
                    frames_written: health.frames_written,
                    text: self.lines[*line].text(*address),
                })
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// What a window's display says for `number` being called there.
pub fn call_text(config: &HallConfig, window: &WindowId, number: &str) -> String {
    let call_name = config
        .spec
        .windows
        .iter()
        .find(|w| &w.id == window)
        .map(|w| w.call_name().to_owned())
        .unwrap_or_else(|| window.0.clone());
    fill(
        &config.calling.call_template,
        &[("number", number), ("window", &call_name)],
    )
}

/// The mirror of one window the caller keeps.
#[derive(Clone, Debug, Default, PartialEq)]
struct WindowMirror {
    paused: bool,
    calling: Option<String>,
}

fn mirror(hall: &Hall) -> HashMap<WindowId, WindowMirror> {
    hall.windows()
        .iter()
        .map(|w| {
            (
                w.id.clone(),
                WindowMirror {
                    paused: w.status == WindowStatus::Paused,
                    calling: w
                        .current
                        .and_then(|id| hall.ticket(id))
                        .map(|t| t.number.clone()),
                },
            )
        })
        .collect()
}

fn text_for(config: &HallConfig, window: &WindowId, state: &WindowMirror) -> String {
    match &state.calling {
        Some(number) => call_text(config, window, number),
        None if state.paused => config.calling.paused_text.clone(),
        None => config.calling.idle_text.clone(),
    }
}

/// Follows the engine's events until the daemon shuts down.
pub async fn run_caller(
    engine: EngineHandle,
    displays: Arc<Displays>,
    mut shutdown: watch::Receiver<bool>,
) {
    if displays.is_empty() {
        return;
    }
    let config = displays.config.clone();
    let mut events = engine.subscribe();
    let mut windows = HashMap::new();
    let mut resync = true;
    loop {
        if resync {
            // Subscribed first, read second: nothing falls between.
            match engine.read(|hall, _| mirror(hall)).await {
                Ok(state) => windows = state,
                Err(_) => return,
            }
            for (window, state) in &windows {
                displays.show(window, &text_for(&config, window, state), false);
            }
            resync = false;
        }
        let received = tokio::select! {
            received = events.recv() => received,
            _ = shutdown.changed() => return,
        };
        let published = match received {
            Ok(published) => published,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "caller fell behind the events; re-reading the windows"
                );
                resync = true;
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let (window, again) = match &published.event {
            Event::TicketCalled { window, number, .. } => {
                windows.entry(window.clone()).or_default().calling = Some(number.clone());
                (window.clone(), false)
            }
            Event::TicketRecalled { window, .. } => (window.clone(), true),
            Event::TicketCompleted { window, .. }
            | Event::TicketNoShow { window, .. }
            | Event::TicketTransferred { window, .. } => {
                windows.entry(window.clone()).or_default().calling = None;
                (window.clone(), false)
            }
            Event::WindowPaused { window, .. } => {
                windows.entry(window.clone()).or_default().paused = true;
                (window.clone(), false)
            }
            Event::WindowResumed { window, .. } => {
                windows.entry(window.clone()).or_default().paused = false;
                (window.clone(), false)
            }
            // A new day clears whatever was called yesterday.
            Event::ServiceDayStarted { .. } => {
                resync = true;
                continue;
            }
            _ => continue,
        };
        let state = windows.get(&window).cloned().unwrap_or_default();
        displays.show(&window, &text_for(&config, &window, &state), again);
    }
}
