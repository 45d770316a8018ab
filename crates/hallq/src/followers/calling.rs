//! Silent calling on LED window displays: the caller follows the log and, for every event that
//! changes a window, shows on that window's displays what the read model says the window is
//! doing — the number it called, its idle text, or that it is paused. It keeps no state of
//! its own: the core's fold is the one truth, so the displays can never disagree with it.

use super::device_reports::DeviceReports;
use super::{FollowError, LogFollower};
use crate::app::state::ReaderPool;
use crate::config::{fill, HallConfig};
use hallq_core::{Event, Hall, WindowId, WindowStatus};
use hallq_devices::display::{DisplayHealth, DisplayLine, DisplayLineConfig};
use hallq_devices::{CallDisplay, LineDisplay};
use hallq_engine::EngineHandle;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

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

struct WindowDisplay {
    id: String,
    display: Box<dyn CallDisplay>,
}

pub struct Displays {
    by_window: HashMap<WindowId, Vec<WindowDisplay>>,
    config: Arc<HallConfig>,
}

impl Displays {
    /// One supervised line per distinct URL; connection changes go to `reports`.
    pub fn start(config: Arc<HallConfig>, data_dir: &Path, reports: Arc<DeviceReports>) -> Self {
        let mut lines: HashMap<String, Arc<DisplayLine>> = HashMap::new();
        let mut by_window: HashMap<WindowId, Vec<WindowDisplay>> = HashMap::new();
        for display in &config.displays {
            let url = display.url.clone().resolve(data_dir);
            let key = url.to_string();
            let line = lines
                .entry(key.clone())
                .or_insert_with(|| {
                    let on_line: Vec<String> = config
                        .displays
                        .iter()
                        .filter(|d| d.url.clone().resolve(data_dir).to_string() == key)
                        .map(|d| d.id.clone())
                        .collect();
                    let reports = reports.clone();
                    Arc::new(DisplayLine::start(
                        DisplayLineConfig {
                            id: key.clone(),
                            url,
                            protocol: display.protocol,
                            register: display.register,
                        },
                        Box::new(move |_, health: &DisplayHealth| {
                            let condition = if health.connected {
                                "ready"
                            } else {
                                "unreachable"
                            };
                            for id in &on_line {
                                reports.report(id, condition, health.detail.clone());
                            }
                        }),
                    ))
                })
                .clone();
            by_window
                .entry(display.window.clone())
                .or_default()
                .push(WindowDisplay {
                    id: display.id.clone(),
                    display: Box::new(LineDisplay {
                        line,
                        address: display.address,
                    }),
                });
        }
        Self { by_window, config }
    }

    pub fn views(&self) -> Vec<DisplayView> {
        self.config
            .displays
            .iter()
            .filter_map(|settings| {
                let display = self
                    .by_window
                    .get(&settings.window)?
                    .iter()
                    .find(|d| d.id == settings.id)?;
                let health = display.display.health();
                Some(DisplayView {
                    id: settings.id.clone(),
                    window: settings.window.0.clone(),
                    url: settings.url.to_string(),
                    protocol: settings.protocol.as_str().into(),
                    address: settings.address,
                    connected: health.connected,
                    detail: health.detail,
                    frames_written: health.frames_written,
                    text: display.display.text(),
                })
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.by_window.is_empty()
    }

    fn show(&self, window: &WindowId, text: &str, again: bool) {
        for display in self.by_window.get(window).into_iter().flatten() {
            if again {
                display.display.refresh(text);
            } else {
                display.display.show(text);
            }
        }
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

/// What the window's displays should show, from the read model.
fn text_for(config: &HallConfig, hall: &Hall, window: &WindowId) -> String {
    let Some(state) = hall.window(window) else {
        return config.calling.idle_text.clone();
    };
    match state.current.and_then(|id| hall.ticket(id)) {
        Some(ticket) => call_text(config, window, &ticket.number),
        None if state.status == WindowStatus::Paused => config.calling.paused_text.clone(),
        None => config.calling.idle_text.clone(),
    }
}

/// Follows the log until the daemon shuts down.
pub async fn run(
    engine: EngineHandle,
    readers: ReaderPool,
    displays: Arc<Displays>,
    mut shutdown: watch::Receiver<bool>,
) {
    if displays.is_empty() {
        return;
    }
    let config = displays.config.clone();
    let mut follower = LogFollower::from_now(&engine, readers);
    let everyone: Vec<WindowId> = displays.by_window.keys().cloned().collect();
    let show_all = |displays: &Displays| {
        let texts: Vec<(WindowId, String)> = engine.view(|hall| {
            everyone
                .iter()
                .map(|w| (w.clone(), text_for(&config, hall, w)))
                .collect()
        });
        for (window, text) in texts {
            displays.show(&window, &text, false);
        }
    };
    show_all(&displays);
    loop {
        let next = tokio::select! {
            next = follower.next() => next,
            _ = shutdown.changed() => return,
        };
        let published = match next {
            Ok(published) => published,
            Err(FollowError::Stopped) => return,
            Err(FollowError::Store(error)) => {
                tracing::error!(%error, "the caller cannot read the log; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        match &published.event {
            // A new day clears whatever was called yesterday.
            Event::ServiceDayStarted { .. } => show_all(&displays),
            event => {
                let Some(window) = event.window() else {
                    continue;
                };
                let again = matches!(event, Event::TicketRecalled { .. });
                let text = engine.view(|hall| text_for(&config, hall, window));
                displays.show(window, &text, again);
            }
        }
    }
}
