//! systemd's notify protocol (`Type=notify`, `WatchdogSec=`), without a library: a datagram to
//! `$NOTIFY_SOCKET`. `READY=1` once the daemon listens, `WATCHDOG=1` while the engine turns
//! (a stuck engine stops the pings and systemd restarts the service), `STOPPING=1` at the end.
//! Outside systemd (no `$NOTIFY_SOCKET`) every call does nothing.

use std::time::Duration;

/// Sends one notification; false when there is no systemd to tell or it could not be sent.
pub fn notify(state: &str) -> bool {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return false;
    };
    let Ok(socket) = std::os::unix::net::UnixDatagram::unbound() else {
        return false;
    };
    let bytes = state.as_bytes();
    let path = path.to_string_lossy().into_owned();
    let sent = if let Some(abstract_name) = path.strip_prefix('@') {
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(abstract_name.as_bytes())
                .and_then(|address| socket.send_to_addr(bytes, &address))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = abstract_name;
            Err(std::io::Error::other("abstract sockets need Linux"))
        }
    } else {
        socket.send_to(bytes, &path)
    };
    sent.is_ok()
}

/// How often systemd wants a ping, from `$WATCHDOG_USEC` (for this process).
pub fn watchdog_interval() -> Option<Duration> {
    if let Some(pid) = std::env::var("WATCHDOG_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
    {
        if pid != std::process::id() {
            return None;
        }
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_notification_reaches_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        // SAFETY: this test alone reads or writes NOTIFY_SOCKET in this process.
        unsafe { std::env::set_var("NOTIFY_SOCKET", &path) };
        assert!(super::notify("READY=1"));
        let mut buffer = [0u8; 64];
        let n = listener.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"READY=1");
        unsafe { std::env::remove_var("NOTIFY_SOCKET") };
        assert!(!super::notify("READY=1"));
    }
}
