//! Device condition changes (a printer out of paper, a display line unplugged) reach the log as
//! `device_status_changed` events, so managers, the dashboard and the upstream see them.
//!
//! Devices report from their own threads at any rate; the recorder keeps only the latest
//! unrecorded condition per device — bounded by the number of devices, however a flapping
//! cable behaves — and records them one by one through the engine.

use hallq_core::Command;
use hallq_engine::EngineHandle;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, Notify};

#[derive(Default)]
pub struct DeviceReports {
    latest: Mutex<BTreeMap<String, (String, Option<String>)>>,
    wake: Notify,
}

impl DeviceReports {
    /// Notes a device's new condition; never blocks (device threads call it).
    pub fn report(&self, device: &str, condition: &str, detail: Option<String>) {
        if let Ok(mut latest) = self.latest.lock() {
            latest.insert(device.to_owned(), (condition.to_owned(), detail));
        }
        self.wake.notify_one();
    }

    fn take(&self) -> BTreeMap<String, (String, Option<String>)> {
        self.latest
            .lock()
            .map(|mut latest| std::mem::take(&mut *latest))
            .unwrap_or_default()
    }
}

/// Records reported conditions until the daemon shuts down.
pub async fn run(
    engine: EngineHandle,
    reports: Arc<DeviceReports>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        for (device, (condition, detail)) in reports.take() {
            let command = Command::RecordDeviceStatus {
                device,
                condition,
                detail,
            };
            if let Err(error) = engine.execute(command).await {
                tracing::warn!(%error, "cannot record a device report");
            }
        }
        tokio::select! {
            _ = reports.wake.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}
