//! The `hallq` command as installers use it.

mod support;

use std::process::Command;
use support::{demo_config, hallq_binary, TestApp};

fn run(args: &[&str]) -> (bool, String, String) {
    run_with_input(args, "")
}

/// Runs hallq with `input` on its standard input (not a terminal).
fn run_with_input(args: &[&str], input: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(hallq_binary())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run hallq");
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let output = child.wait_with_output().expect("run hallq");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn version_and_help() {
    let (ok, stdout, _) = run(&["--version"]);
    assert!(ok);
    assert!(stdout.starts_with("hallq "));
    let (ok, stdout, _) = run(&["--help"]);
    assert!(ok);
    for word in ["serve", "check-config", "--config", "--data", "--listen"] {
        assert!(stdout.contains(word), "help lacks {word}");
    }
}

#[test]
fn check_config_accepts_the_demo_hall_and_names_the_line_of_a_mistake() {
    let config = demo_config();
    let (ok, stdout, stderr) = run(&["check-config", config.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("江州市政务服务中心") && stdout.contains("15 windows"),
        "{stdout}"
    );

    let temp = tempfile::tempdir().unwrap();
    let broken = temp.path().join("broken.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replacen(
        "services = [\"entry-exit\"]",
        "services = [\"entry-exit\", \"passport-x\"]",
        1,
    );
    std::fs::write(&broken, &text).unwrap();
    let line = text.lines().position(|l| l.contains("passport-x")).unwrap() + 1;
    let (ok, _, stderr) = run(&["check-config", broken.to_str().unwrap()]);
    assert!(!ok);
    let expected = format!(
        "{}:{line}: windows[7].services[1]: unknown service 'passport-x'",
        broken.display()
    );
    assert!(
        stderr.contains(&expected),
        "expected {expected} in\n{stderr}"
    );

    // A department's English name or waiting area under a name no service has: refused,
    // with its line.
    let misspelt = text.replacen("[departments.\"税务\"]", "[departments.\"税务局\"]", 1);
    std::fs::write(&broken, &misspelt).unwrap();
    let line = misspelt
        .lines()
        .position(|l| l.contains("[departments.\"税务局\"]"))
        .unwrap()
        + 1;
    let (ok, _, stderr) = run(&["check-config", broken.to_str().unwrap()]);
    assert!(!ok);
    let expected = format!(
        "{}:{line}: departments.税务局: no service has the department '税务局'",
        broken.display()
    );
    assert!(
        stderr.contains(&expected),
        "expected {expected} in\n{stderr}"
    );

    let (ok, _, stderr) = run(&["check-config", "/nonexistent/hall.toml"]);
    assert!(!ok);
    assert!(stderr.contains("cannot read"), "{stderr}");
}

#[test]
fn hash_secret_reads_the_secret_from_standard_input_and_new_token_makes_a_strong_one() {
    let (ok, token, _) = run(&["new-token"]);
    assert!(ok);
    let token = token.trim();
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(run(&["new-token"]).1.trim(), token, "two tokens alike");
    let (ok, stdout, stderr) = run_with_input(&["hash-secret", "--token"], &format!("{token}\n"));
    assert!(ok, "{stderr}");
    let expected = hallq::credentials::hash_token(token);
    assert_eq!(stdout.trim(), format!("token_sha256 = \"{expected}\""));
    // Weak tokens are refused, and so is a secret on the command line (shell history).
    let (ok, _, stderr) = run_with_input(&["hash-secret", "--token"], "demo-kiosk-token\n");
    assert!(!ok);
    assert!(
        stderr.contains("24 characters") && stderr.contains("new-token"),
        "{stderr}"
    );
    let (ok, _, stderr) = run_with_input(
        &["hash-secret", "--token"],
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
    );
    assert!(!ok && stderr.contains("different characters"), "{stderr}");
    let (ok, _, stderr) = run(&["hash-secret", "--token", token]);
    assert!(!ok);
    assert!(stderr.contains("standard input"), "{stderr}");
    let (ok, stdout, _) = run_with_input(&["hash-secret", "--pin"], "864213\n");
    assert!(ok);
    assert!(stdout.starts_with("pin_argon2 = \"$argon2id$"), "{stdout}");
    let (ok, _, stderr) = run_with_input(&["hash-secret", "--pin"], "12\n");
    assert!(!ok);
    assert!(stderr.contains("six digits"));
    let (ok, _, stderr) = run(&["hash-secret", "--pin"]);
    assert!(!ok && stderr.contains("no PIN given"), "{stderr}");
}

#[test]
fn environment_variables_configure_serve_and_verify_log_checks_the_log() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let mut child = Command::new(hallq_binary())
        .env("HALLQ_CONFIG", demo_config())
        .env("HALLQ_DATA", &data)
        .env("HALLQ_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut listening = false;
    for _ in 0..20 {
        line.clear();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        if line.contains("listening on http://127.0.0.1:") && line.contains(data.to_str().unwrap())
        {
            listening = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(listening, "HALLQ_* were not used: {line}");

    // A second daemon on the same data directory is refused.
    let app = TestApp::spawn_in(&data, &demo_config());
    app.issue_ticket("vehicle");
    let (ok, _, stderr) = run(&[
        "serve",
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(!ok);
    assert!(stderr.contains("already running"), "{stderr}");
    drop(app);

    let (ok, stdout, stderr) = run(&["verify-log", "--data", data.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("gap-free"), "{stdout}");
}

#[test]
fn check_config_refuses_what_a_real_hall_must_not_go_live_with() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("real-hall.toml");
    let demo = std::fs::read_to_string(demo_config()).unwrap();
    let real = demo.replace("demo = true", "demo = false");
    // 1. The public demo credentials.
    std::fs::write(&config, &real).unwrap();
    std::os::unix::fs::symlink(
        support::workspace_root().join("kiosk-config/calendar"),
        temp.path().join("calendar"),
    )
    .unwrap();
    let (ok, _, stderr) = run(&["check-config", config.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains("public demo credentials") && stderr.contains("demo-staff"),
        "{stderr}"
    );
    // 2. A loopback address in the tickets' QR codes.
    assert!(
        stderr.contains("public_base_url") && stderr.contains("127.0.0.1"),
        "{stderr}"
    );
    // 3. No holiday calendar: the hall file copied without its calendar folder.
    let bare = tempfile::tempdir().unwrap();
    let copied = bare.path().join("hall.toml");
    std::fs::write(&copied, &real).unwrap();
    let (ok, _, stderr) = run(&["check-config", copied.to_str().unwrap()]);
    assert!(!ok);
    let year = hallq_core::jiff::Zoned::now().year();
    assert!(
        stderr.contains(&format!("no holiday calendar for {year}"))
            && stderr.contains(&bare.path().join("calendar").display().to_string()),
        "{stderr}"
    );
    // The demo hall itself is fine with all three.
    let (ok, _, stderr) = run(&["check-config", demo_config().to_str().unwrap()]);
    assert!(ok, "{stderr}");
}

#[test]
fn a_real_hall_with_demo_credentials_is_warned_about_loudly() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("real-hall.toml");
    let text = std::fs::read_to_string(demo_config())
        .unwrap()
        .replace("demo = true", "demo = false");
    std::fs::write(&config, text).unwrap();
    let app = TestApp::spawn_in(&temp.path().join("data"), &config);
    let log = app.log();
    assert!(
        log.contains("PUBLIC DEMO CREDENTIALS") && log.contains("kiosk-lobby"),
        "{log}"
    );
}

/// `hallq id-test` against a simulated reader on a pseudo-terminal: the masked number, the age
/// and the validity of a card, and a reason when there is no reader, no card or a bad frame.
#[test]
fn id_test_reads_one_card_and_says_why_when_it_cannot() {
    use hallq_devices::id_simulator::{sample_card, IdReaderSimulator};
    use serialport::{SerialPort, TTYPort};
    const NUMBER: &str = "11010519491231002X";
    let config = demo_config();
    let config = config.to_str().unwrap();

    let (ok, _, stderr) = run(&[
        "id-test",
        "--to",
        "serial:///dev/hallq-no-such-reader?baud=115200",
        "--config",
        config,
    ]);
    assert!(!ok);
    assert!(stderr.contains("no reader at"), "{stderr}");

    let (mut master, slave) = TTYPort::pair().unwrap();
    master
        .set_timeout(std::time::Duration::from_millis(20))
        .unwrap();
    let url = format!("serial://{}?baud=115200", slave.name().unwrap());
    let reader = IdReaderSimulator::on_stream(master);
    let (ok, _, stderr) = run(&["id-test", "--to", &url, "--wait", "1", "--config", config]);
    assert!(!ok);
    assert!(stderr.contains("no card was laid on it"), "{stderr}");

    reader.place(sample_card(NUMBER, "19491231", "20250601"));
    let (ok, stdout, stderr) = run(&["id-test", "--to", &url, "--config", config]);
    assert!(ok, "{stderr}");
    let today = hallq_core::jiff::Zoned::now()
        .with_time_zone(hallq_core::jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let age = today.year() - 1949 - i16::from((today.month(), today.day()) < (12, 31));
    assert!(
        stdout.contains("1101**********002X") && stdout.contains(&format!("age {age}")),
        "{stdout}"
    );
    assert!(stdout.contains("EXPIRED"), "{stdout}");
    assert!(!stdout.contains(NUMBER) && !stderr.contains(NUMBER));
    assert!(!stdout.contains("王五") && !stdout.contains("滨江大道"));

    reader.set(|state| state.bad_check = true);
    let (ok, _, stderr) = run(&["id-test", "--to", &url, "--config", config]);
    assert!(!ok);
    assert!(stderr.contains("broken frame"), "{stderr}");
    drop(slave);
}
