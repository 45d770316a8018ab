//! Running a hall: backups and restores (`backup`), and telling systemd how the daemon is
//! (`systemd`).

pub mod backup;
pub mod systemd;
