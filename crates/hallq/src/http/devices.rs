//! Printers, displays and devices with their health.

use super::authorize;
use super::error::{ApiError, ErrorBody};
use super::Data;
use crate::auth::Role;
use crate::followers::printing::PrinterView;
use actix_web::{web, HttpRequest};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct DeviceView {
    pub id: String,
    /// kiosk or display
    pub kind: String,
    pub name: String,
    pub printer: Option<String>,
    /// Seconds since it last called the API; null when not since the daemon started.
    pub last_seen_s: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DevicesView {
    pub printers: Vec<PrinterView>,
    pub displays: Vec<crate::followers::calling::DisplayView>,
    /// The kiosks' ID card readers (whether connected and whether a card lies on them; never
    /// anything read from a card).
    pub id_readers: Vec<crate::followers::id_readers::IdReaderView>,
    pub devices: Vec<DeviceView>,
}

/// Printers with their condition, kiosks and displays with when they were last heard from.
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices",
    security(("bearer" = [])),
    responses((status = 200, body = DevicesView), (status = 401, body = ErrorBody)))]
pub async fn devices(
    request: HttpRequest,
    state: Data,
) -> Result<web::Json<DevicesView>, ApiError> {
    // Addresses of printers and lines are for staff, not for the lobby's devices.
    authorize(&request, &state, &[Role::Staff, Role::Manager, Role::Admin])?;
    let now = state.clock.now();
    let seen: std::collections::HashMap<String, Option<hallq_core::jiff::Timestamp>> = state
        .auth
        .device_health()
        .into_iter()
        .map(|(id, _, seen)| (id, seen))
        .collect();
    Ok(web::Json(DevicesView {
        printers: state.printing.views(),
        displays: state.displays.views(),
        id_readers: state.id_cards.views(),
        devices: state
            .config()
            .devices
            .iter()
            .map(|device| DeviceView {
                id: device.id.clone(),
                kind: if device.kind == crate::config::DeviceKind::Kiosk {
                    "kiosk"
                } else {
                    "display"
                }
                .into(),
                name: device.name.clone(),
                printer: device.printer.clone(),
                last_seen_s: seen
                    .get(&device.id)
                    .copied()
                    .flatten()
                    .map(|t| (now.as_second() - t.as_second()).max(0)),
            })
            .collect(),
    }))
}
