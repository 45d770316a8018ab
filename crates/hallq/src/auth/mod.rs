//! Who is calling: device tokens for kiosks and displays (from the configuration, stored as
//! SHA-256), staff and managers signed in with a PIN (stored as argon2), sessions in memory.
//!
//! Every handler asks for a [`Principal`] and checks its role; staff act on their own window.
//! Wrong PINs lock an account and an address out for a while (`lockout`).

pub mod lockout;

use crate::config::{Device, DeviceKind, StaffMember};
use crate::credentials::sha256;
pub use crate::credentials::{random_token, Role};
use hallq_core::jiff::{SignedDuration, Timestamp};
use hallq_core::WindowId;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;

/// The caller of a request, once authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The window a staff member signed in to.
    pub window: Option<WindowId>,
}

impl Principal {
    pub fn is_any(&self, roles: &[Role]) -> bool {
        roles.contains(&self.role)
    }

    /// Whether this caller may act on `window`: staff on their own, managers and admins on any.
    pub fn may_operate(&self, window: &WindowId) -> bool {
        match self.role {
            Role::Manager | Role::Admin => true,
            Role::Staff => self.window.as_ref() == Some(window),
            Role::Kiosk | Role::Display | Role::RatingPad => false,
        }
    }
}

#[derive(Clone, Debug)]
struct Session {
    principal: Principal,
    expires_at: Timestamp,
}

/// A new session, for the sign-in response.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub token: String,
    pub staff: String,
    pub name: String,
    pub role: Role,
    pub window: Option<String>,
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("unknown staff id or wrong PIN")]
    InvalidCredentials,
    #[error("window staff must name the window they sign in to")]
    WindowRequired,
    #[error("there is no window '{0}' in this hall")]
    UnknownWindow(String),
    #[error("this staff member may not sign in to window '{0}'")]
    WindowNotAllowed(String),
}

/// Sessions last one long working day; staff sign in again the next morning.
const SESSION_HOURS: i64 = 14;
/// More sessions than any hall has staff: beyond it the oldest are dropped.
const SESSIONS_MAX: usize = 10_000;

/// Who may call: the configured devices and staff.
struct Roster {
    devices: Vec<Device>,
    staff: HashMap<String, StaffMember>,
}

pub struct Authenticator {
    /// Wrong PINs per account and per address.
    pub lockout: lockout::Lockout,
    /// Devices and staff, replaced whole by a reload.
    roster: std::sync::RwLock<std::sync::Arc<Roster>>,
    windows: Vec<WindowId>,
    /// Keyed by the SHA-256 of the session token.
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    /// When each device or staff member last made an authenticated call (device health).
    last_seen: Mutex<HashMap<String, Timestamp>>,
}

impl Authenticator {
    pub fn new(
        devices: Vec<Device>,
        staff: Vec<StaffMember>,
        windows: Vec<WindowId>,
        failures_before_lockout: u32,
    ) -> Self {
        Self {
            lockout: lockout::Lockout::new(failures_before_lockout),
            roster: std::sync::RwLock::new(std::sync::Arc::new(Roster {
                devices,
                staff: staff.into_iter().map(|m| (m.id.clone(), m)).collect(),
            })),
            windows,
            sessions: Mutex::new(HashMap::new()),
            last_seen: Mutex::new(HashMap::new()),
        }
    }

    /// The caller behind a bearer token, if the token is a device's or a live session's.
    pub fn authenticate(&self, token: &str, now: Timestamp) -> Option<Principal> {
        if token.is_empty() || token.len() > 256 {
            return None;
        }
        let roster = self.roster();
        let principal = if let Some(device) = roster.devices.iter().find(|d| d.token.verify(token))
        {
            Principal {
                id: device.id.clone(),
                name: device.name.clone(),
                role: match device.kind {
                    DeviceKind::Kiosk => Role::Kiosk,
                    DeviceKind::Display => Role::Display,
                    DeviceKind::RatingPad => Role::RatingPad,
                },
                // A rating pad belongs to its window.
                window: device.window.clone(),
            }
        } else {
            let key = sha256(token);
            let mut sessions = self.sessions.lock().ok()?;
            match sessions.get(&key) {
                Some(session) if session.expires_at > now => session.principal.clone(),
                Some(_) => {
                    sessions.remove(&key);
                    return None;
                }
                None => return None,
            }
        };
        if let Ok(mut seen) = self.last_seen.lock() {
            seen.insert(principal.id.clone(), now);
        }
        Some(principal)
    }

    /// Checks a PIN (slow on purpose: argon2) and opens a session.
    pub fn sign_in(
        &self,
        staff: &str,
        pin: &str,
        window: Option<&str>,
        now: Timestamp,
    ) -> Result<SessionInfo, SignInError> {
        let roster = self.roster();
        let member = roster.staff.get(staff);
        // Verify even for an unknown id, so that timing does not tell which ids exist.
        let verified = match member {
            Some(member) => member.pin.verify(pin),
            None => {
                let _ = roster.staff.values().next().map(|m| m.pin.verify(pin));
                false
            }
        };
        let member = member
            .filter(|_| verified)
            .ok_or(SignInError::InvalidCredentials)?;
        let window = match (member.role, window) {
            (Role::Staff, None) => return Err(SignInError::WindowRequired),
            (_, Some(window)) => {
                let id = WindowId::new(window);
                if !self.windows.contains(&id) {
                    return Err(SignInError::UnknownWindow(window.to_owned()));
                }
                if let Some(allowed) = &member.windows {
                    if member.role == Role::Staff && !allowed.iter().any(|w| w == window) {
                        return Err(SignInError::WindowNotAllowed(window.to_owned()));
                    }
                }
                Some(id)
            }
            (_, None) => None,
        };
        let token = random_token();
        let expires_at = now + SignedDuration::from_hours(SESSION_HOURS);
        let principal = Principal {
            id: member.id.clone(),
            name: member.name.clone(),
            role: member.role,
            window: window.clone(),
        };
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|_, s| s.expires_at > now);
            if sessions.len() >= SESSIONS_MAX {
                if let Some(oldest) = sessions
                    .iter()
                    .min_by_key(|(_, s)| s.expires_at)
                    .map(|(k, _)| *k)
                {
                    sessions.remove(&oldest);
                }
            }
            sessions.insert(
                sha256(&token),
                Session {
                    principal,
                    expires_at,
                },
            );
        }
        Ok(SessionInfo {
            token,
            staff: member.id.clone(),
            name: member.name.clone(),
            role: member.role,
            window: window.map(|w| w.0),
            expires_at,
        })
    }

    /// Who is signed in at each window now (the latest sign-in wins).
    pub fn staff_at_windows(&self, now: Timestamp) -> HashMap<WindowId, String> {
        let Ok(sessions) = self.sessions.lock() else {
            return HashMap::new();
        };
        let mut live: Vec<&Session> = sessions.values().filter(|s| s.expires_at > now).collect();
        live.sort_by_key(|s| s.expires_at);
        live.into_iter()
            .filter_map(|s| Some((s.principal.window.clone()?, s.principal.name.clone())))
            .collect()
    }

    /// The staff number (id) signed in at each window now: what a rating pad shows (never the
    /// name).
    pub fn staff_ids_at_windows(&self, now: Timestamp) -> HashMap<WindowId, String> {
        let Ok(sessions) = self.sessions.lock() else {
            return HashMap::new();
        };
        let mut live: Vec<&Session> = sessions
            .values()
            .filter(|s| s.expires_at > now && s.principal.role == Role::Staff)
            .collect();
        live.sort_by_key(|s| s.expires_at);
        live.into_iter()
            .filter_map(|s| Some((s.principal.window.clone()?, s.principal.id.clone())))
            .collect()
    }

    pub fn sign_out(&self, token: &str) -> bool {
        self.sessions
            .lock()
            .map(|mut sessions| sessions.remove(&sha256(token)).is_some())
            .unwrap_or(false)
    }

    fn roster(&self) -> std::sync::Arc<Roster> {
        self.roster
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// A reload's devices and staff. Signed-in staff stay signed in unless they were removed,
    /// their role changed or they may no longer use their window; returns the sessions ended.
    pub fn replace_roster(&self, devices: Vec<Device>, staff: Vec<StaffMember>) -> usize {
        let staff: HashMap<String, StaffMember> =
            staff.into_iter().map(|m| (m.id.clone(), m)).collect();
        let mut ended = 0;
        if let Ok(mut sessions) = self.sessions.lock() {
            let before = sessions.len();
            sessions.retain(|_, session| {
                let principal = &session.principal;
                match staff.get(&principal.id) {
                    Some(member) if member.role == principal.role => {
                        match (&member.windows, &principal.window) {
                            (Some(allowed), Some(window)) if member.role == Role::Staff => {
                                allowed.iter().any(|w| w == window.as_str())
                            }
                            _ => true,
                        }
                    }
                    _ => false,
                }
            });
            ended = before - sessions.len();
        }
        *self
            .roster
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
            std::sync::Arc::new(Roster { devices, staff });
        ended
    }

    /// Configured devices with the instant each was last heard from.
    pub fn device_health(&self) -> Vec<(String, DeviceKind, Option<Timestamp>)> {
        let seen = self.last_seen.lock().map(|s| s.clone()).unwrap_or_default();
        self.roster()
            .devices
            .iter()
            .map(|d| (d.id.clone(), d.kind, seen.get(&d.id).copied()))
            .collect()
    }

    /// Staff and devices whose secrets are the public demo ones: a risk outside the demo hall.
    pub fn demo_credentials_in_use(&self) -> Vec<String> {
        let roster = self.roster();
        let mut found: Vec<String> = roster
            .devices
            .iter()
            .filter(|d| {
                [
                    crate::DEMO_KIOSK_TOKEN,
                    crate::DEMO_DISPLAY_TOKEN,
                    crate::DEMO_PAD_TOKEN,
                ]
                .iter()
                .any(|token| d.token.verify(token))
            })
            .map(|d| d.id.clone())
            .collect();
        found.extend(
            roster
                .staff
                .values()
                .filter(|m| {
                    m.pin.verify(crate::DEMO_STAFF_PIN) || m.pin.verify(crate::DEMO_MANAGER_PIN)
                })
                .map(|m| m.id.clone()),
        );
        found.sort();
        found
    }
}
