//! Reloading the configuration while the hall serves (`SIGHUP`, `hallq reload`,
//! `systemctl reload hallq`): the file is read and checked first, and on any error the running
//! configuration stays. What can change without a restart: texts and the board's notice,
//! service names, departments and materials, the schedule, the holiday calendar, appointment
//! plans and rules, the queueing policy, the 好差评 rules, the staff roster and the device list.
//! Open event streams, signed-in staff (unless removed) and waiting tickets are untouched.
//! Services and windows themselves, printers, displays, ID card readers, SMS, the hub link, security settings,
//! the time zone and storage need a restart; a reload that changes them says so and applies
//! the rest.

use super::state::AppState;
use crate::config::HallConfig;
use std::path::Path;
use std::sync::Arc;

/// What a reload did.
#[derive(Debug, Default)]
pub struct Reloaded {
    /// Sessions ended because their staff member was removed or lost the window.
    pub sessions_ended: usize,
    /// Sections that changed in the file but apply only at the next restart.
    pub need_restart: Vec<&'static str>,
}

fn debug<T: std::fmt::Debug>(value: &T) -> String {
    format!("{value:?}")
}

/// Reads the configuration file again and applies what can change while running.
pub async fn reload(state: &AppState) -> Result<Reloaded, String> {
    let running = state.config();
    let path = Path::new(&running.source);
    if !path.is_file() {
        return Err(format!(
            "{} is not a file: the built-in demo hall cannot be reloaded (start with --config FILE)",
            running.source
        ));
    }
    let mut fresh = HallConfig::load(path)
        .map_err(|e| format!("the configuration was not reloaded; the running one stays:\n{e}"))?;
    // What the environment set at start (the hub's address and token) stays.
    fresh.upstream = running.upstream.clone();
    let mut need_restart = Vec::new();
    for (name, changed) in [
        (
            "[hall] time_zone",
            fresh.time_zone_name != running.time_zone_name,
        ),
        (
            "[storage]",
            debug(&fresh.storage) != debug(&running.storage),
        ),
        (
            "[[printers]]",
            debug(&fresh.printers) != debug(&running.printers),
        ),
        (
            "[[displays]]",
            debug(&fresh.displays) != debug(&running.displays),
        ),
        // Each reader has its supervisor thread, started with the daemon.
        (
            "[[id_readers]]",
            debug(&fresh.id_readers) != debug(&running.id_readers),
        ),
        (
            "[id_cards]",
            debug(&fresh.id_cards) != debug(&running.id_cards),
        ),
        // The board's notice is read per request: only the display texts wait for a restart.
        ("[calling] (display texts)", {
            let (mut a, mut b) = (fresh.calling.clone(), running.calling.clone());
            a.board_notice.clear();
            b.board_notice.clear();
            debug(&a) != debug(&b)
        }),
        ("[sms]", debug(&fresh.sms) != debug(&running.sms)),
        (
            "[security]",
            debug(&fresh.security) != debug(&running.security),
        ),
        ("[backup]", debug(&fresh.backup) != debug(&running.backup)),
    ] {
        if changed {
            need_restart.push(name);
        }
    }
    state
        .engine
        .replace_spec(fresh.spec.clone())
        .await
        .map_err(|e| format!("the configuration was not reloaded; the running one stays: {e}"))?;
    let sessions_ended = state
        .auth
        .replace_roster(fresh.devices.clone(), fresh.staff.clone());
    *state
        .config_live
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(fresh);
    if let Ok(mut cache) = state.board_cache.lock() {
        *cache = None;
    }
    Ok(Reloaded {
        sessions_ended,
        need_restart,
    })
}

/// Reloads on every SIGHUP until the daemon stops.
pub async fn on_hangup(state: actix_web::web::Data<AppState>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP: reloading needs a restart");
        return;
    };
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            received = hangups.recv() => if received.is_none() { return },
            _ = shutdown.changed() => return,
        }
        crate::ops::systemd::notify("RELOADING=1");
        match reload(&state).await {
            Ok(done) => {
                tracing::info!(
                    sessions_ended = done.sessions_ended,
                    "configuration reloaded{}",
                    if done.need_restart.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; these changes apply at the next restart: {}",
                            done.need_restart.join(", ")
                        )
                    }
                );
            }
            Err(error) => tracing::error!("{error}"),
        }
        crate::ops::systemd::notify("READY=1");
    }
}
