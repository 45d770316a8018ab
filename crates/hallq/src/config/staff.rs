//! Window staff, managers and admins, with their PIN hashes and the windows they may use.

use super::devices::check_id;
use super::errors::Problems;
use crate::credentials::{Role, SecretHash};
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StaffSection {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) role: Role,
    /// `hallq hash-secret --pin` prints it.
    pin_argon2: String,
    /// Windows this person may sign in to; `"*"` for any. Managers and admins need none.
    #[serde(default)]
    pub(crate) windows: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct StaffMember {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub pin: SecretHash,
    /// `None`: any window.
    pub windows: Option<Vec<String>>,
}

pub(crate) fn staff(
    raw: Vec<StaffSection>,
    window_ids: &HashSet<&str>,
    ids: &mut HashSet<String>,
    problems: &mut Problems<'_>,
) -> Vec<StaffMember> {
    let mut staff = Vec::new();
    for (index, member) in raw.into_iter().enumerate() {
        check_id(ids, &member.id, format!("staff[{index}].id"), problems);
        let any = member.windows.iter().any(|w| w == "*");
        for (position, window) in member.windows.iter().enumerate() {
            if window != "*" && !window_ids.contains(window.as_str()) {
                problems.at(
                    format!("staff[{index}].windows[{position}]"),
                    format!("unknown window '{window}'"),
                );
            }
        }
        if member.role == Role::Staff && member.windows.is_empty() {
            problems.at(
                format!("staff[{index}].windows"),
                "window staff need at least one window (or \"*\")",
            );
        }
        match SecretHash::argon2_from_phc(&member.pin_argon2) {
            Some(pin) => staff.push(StaffMember {
                id: member.id,
                name: member.name,
                role: member.role,
                pin,
                windows: (!any).then_some(member.windows),
            }),
            None => problems.at(
                format!("staff[{index}].pin_argon2"),
                "must be an argon2 hash: run `hallq hash-secret --pin`",
            ),
        }
    }
    staff
}
