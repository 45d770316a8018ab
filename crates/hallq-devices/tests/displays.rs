//! LED window displays on a serial line (a pseudo-terminal): the right frame arrives, and a
//! display that is unplugged and plugged back in gets the current text again.

use hallq_devices::display::{encode, DisplayHealth, DisplayLine, DisplayLineConfig, Protocol};
use serialport::{SerialPort, TTYPort};
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Reads from the pty master until `count` framed messages (STX … ETX) have arrived.
fn read_frames(master: &mut TTYPort, count: usize) -> Vec<Vec<u8>> {
    master.set_timeout(Duration::from_millis(100)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 256];
    loop {
        let frames: Vec<Vec<u8>> = split_frames(&bytes);
        if frames.len() >= count {
            return frames;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {count} frames arrived: {bytes:02X?}",
            frames.len()
        );
        match master.read(&mut buffer) {
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("{e}"),
        }
    }
}

fn split_frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut at = 0;
    while at + 4 <= bytes.len() && bytes[at] == 0x02 {
        let length = 4 + usize::from(bytes[at + 3]) + 2;
        if at + length > bytes.len() {
            break;
        }
        frames.push(bytes[at..at + length].to_vec());
        at += length;
    }
    frames
}

fn wait_until(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn frames_reach_the_display_and_come_back_after_unplugging() {
    let dir = std::env::temp_dir().join(format!("hallq-display-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("ttyLED");
    let (mut master, slave) = TTYPort::pair().unwrap();
    std::os::unix::fs::symlink(slave.name().unwrap(), &link).unwrap();

    let changes: Arc<Mutex<Vec<bool>>> = Arc::default();
    let seen = changes.clone();
    let line = DisplayLine::start(
        DisplayLineConfig {
            id: "line-1".into(),
            url: format!("serial://{}?baud=9600", link.display())
                .parse()
                .unwrap(),
            protocol: Protocol::Framed,
            register: 0,
        },
        Box::new(move |_, health: &DisplayHealth| seen.lock().unwrap().push(health.connected)),
    );
    line.show(3, "请A001号到3号窗口");
    let frames = read_frames(&mut master, 1);
    assert_eq!(
        frames[0],
        encode(Protocol::Framed, 3, 0, "请A001号到3号窗口")
    );
    // The same text again is not sent again.
    line.show(3, "请A001号到3号窗口");
    line.show(4, "欢迎光临");
    assert_eq!(
        read_frames(&mut master, 1)[0],
        encode(Protocol::Framed, 4, 0, "欢迎光临")
    );

    // Unplug: the adapter vanishes, its device node with it.
    drop(master);
    drop(slave);
    std::fs::remove_file(&link).unwrap();
    line.show(3, "请A002号到3号窗口");
    wait_until("the line to notice", || !line.health().connected);

    // Plug back in: a new device node under the same name.
    let (mut master, slave) = TTYPort::pair().unwrap();
    std::os::unix::fs::symlink(slave.name().unwrap(), &link).unwrap();
    let mut frames = read_frames(&mut master, 2);
    frames.sort();
    let mut expected = vec![
        encode(Protocol::Framed, 3, 0, "请A002号到3号窗口"),
        encode(Protocol::Framed, 4, 0, "欢迎光临"),
    ];
    expected.sort();
    assert_eq!(
        frames, expected,
        "every display gets its current text after the replug"
    );
    wait_until("connected again", || line.health().connected);
    let history = changes.lock().unwrap().clone();
    assert_eq!(history.first(), Some(&true));
    assert!(
        history.contains(&false) && history.last() == Some(&true),
        "{history:?}"
    );
    drop(slave);
    let _ = std::fs::remove_dir_all(dir);
}
