//! The API fuzzed from its own OpenAPI description with schemathesis (from PyPI; scripts/test
//! installs it into target/fuzz-venv), against the real daemon on 127.0.0.1, bounded in time:
//! no answer is a 5xx, nothing panics, and a caller who may change nothing changes nothing.

mod support;

use std::process::Command;
use support::{TestApp, DISPLAY, KIOSK};

/// The schemathesis command: the project's venv, else one on the PATH.
fn schemathesis() -> String {
    let venv = support::workspace_root().join("target/fuzz-venv/bin/schemathesis");
    if venv.exists() {
        return venv.display().to_string();
    }
    let found = Command::new("schemathesis").arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "schemathesis is missing: run scripts/test, which installs it (pip install schemathesis)"
    );
    "schemathesis".into()
}

/// Runs schemathesis as the caller with `token` for `seconds`; returns its output.
fn fuzz(app: &TestApp, token: &str, seconds: u32) -> String {
    let output = Command::new(schemathesis())
        .arg("run")
        .arg(app.url("/api/v1/openapi.json"))
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "not_a_server_error"])
        // Streams never end, and are fuzzed by hand in tests/events.rs and tests/security.rs.
        .args(["--exclude-path-regex", ".*/events$"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", "25", "--workers", "2"])
        .args(["--max-time", &seconds.to_string()])
        .args(["--seed", "20261128"])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{text}"
    );
    text
}

#[test]
fn fuzzing_the_api_finds_no_server_error_and_rejected_requests_change_nothing() {
    let app = TestApp::spawn_with(support::UNLIMITED_KIOSK);
    // As a display: allowed to read only, so every request that would change something is
    // refused — and the log must not have grown by a single event.
    let before = app.log_seq();
    let report = fuzz(&app, DISPLAY, 25);
    assert!(report.contains("passed"), "{report}");
    // Only the devices may have spoken meanwhile (a printer reporting its condition).
    // (Read from the database: the fuzzer's wrong PINs have locked this address out of
    // signing in, as they should.)
    app.assert_unchanged_since(before);
    // As a kiosk: many requests are accepted; none may fail on the server's side.
    fuzz(&app, KIOSK, 25);
    assert_eq!(app.get("/healthz").status, 200);
    assert!(!app.log().contains("panicked"), "{}", app.log());
}
