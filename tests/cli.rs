//! The `hallq` command as installers use it.

mod support;

use std::process::Command;
use support::{demo_config, hallq_binary, TestApp};

fn run(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(hallq_binary())
        .args(args)
        .output()
        .expect("run hallq");
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

    let (ok, _, stderr) = run(&["check-config", "/nonexistent/hall.toml"]);
    assert!(!ok);
    assert!(stderr.contains("cannot read"), "{stderr}");
}

#[test]
fn hash_secret_makes_what_the_configuration_needs() {
    let (ok, stdout, _) = run(&["hash-secret", "--token", "demo-kiosk-token"]);
    assert!(ok);
    assert_eq!(
        stdout.trim(),
        "token_sha256 = \"91d7fe32b9851483d3b8bc08ee568325d72ff8d3712fd2721a05f15d2897f3d2\""
    );
    let (ok, stdout, _) = run(&["hash-secret", "--pin", "864213"]);
    assert!(ok);
    assert!(stdout.starts_with("pin_argon2 = \"$argon2id$"), "{stdout}");
    let (ok, _, stderr) = run(&["hash-secret", "--pin", "12"]);
    assert!(!ok);
    assert!(stderr.contains("six digits"));
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
fn a_real_hall_with_demo_credentials_is_warned_about_loudly() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("real-hall.toml");
    let text = std::fs::read_to_string(demo_config())
        .unwrap()
        .replace("demo = true", "demo = false");
    std::fs::write(&config, text).unwrap();
    let (ok, stdout, _) = run(&["check-config", config.to_str().unwrap()]);
    assert!(ok);
    assert!(
        stdout.contains("warning") && stdout.contains("demo-staff"),
        "{stdout}"
    );
    let app = TestApp::spawn_in(&temp.path().join("data"), &config);
    let log = app.log();
    assert!(
        log.contains("PUBLIC DEMO CREDENTIALS") && log.contains("kiosk-lobby"),
        "{log}"
    );
}
