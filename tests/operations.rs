//! What a hall's IT staff do with a running hall: back it up under load and restore it
//! (refused onto a live data directory), and the service files the package installs.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use support::{hallq_binary, TestApp, UNLIMITED_KIOSK};

fn run(args: &[&str]) -> (bool, String) {
    let output = Command::new(hallq_binary()).args(args).output().unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn a_backup_under_load_restores_every_acknowledged_ticket_and_restore_refuses_a_live_hall() {
    let app = TestApp::spawn_with(UNLIMITED_KIOSK);
    let acknowledged: Arc<Mutex<BTreeMap<u64, String>>> = Default::default();
    let stop = Arc::new(AtomicBool::new(false));
    let issuing = {
        let (base, acknowledged, stop) = (app.base.clone(), acknowledged.clone(), stop.clone());
        std::thread::spawn(move || {
            let app = TestApp::attach(&base);
            while !stop.load(Ordering::SeqCst) {
                let ticket: Value = app.issue_ticket("vehicle");
                acknowledged.lock().unwrap().insert(
                    ticket["id"].as_u64().unwrap(),
                    ticket["number"].as_str().unwrap().to_owned(),
                );
            }
        })
    };
    // Let the load run, then back up while it goes on.
    support::hub::wait_until(std::time::Duration::from_secs(20), "some tickets", || {
        acknowledged.lock().unwrap().len() >= 50
    });
    let before: BTreeMap<u64, String> = acknowledged.lock().unwrap().clone();
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("hall.db");
    let data = app.data_dir.to_str().unwrap().to_owned();
    let (ok, said) = run(&["backup", "--data", &data, "--to", file.to_str().unwrap()]);
    assert!(ok, "{said}");
    assert!(said.contains("keep both together"), "{said}");
    support::hub::wait_until(std::time::Duration::from_secs(20), "more tickets", || {
        acknowledged.lock().unwrap().len() >= before.len() + 20
    });
    stop.store(true, Ordering::SeqCst);
    issuing.join().unwrap();
    assert!(backups.path().join("hall.db.key").exists());
    // A second backup never overwrites the first.
    let (ok, said) = run(&["backup", "--data", &data, "--to", file.to_str().unwrap()]);
    assert!(!ok && said.contains("exists already"), "{said}");

    // Restoring onto the hall that is running is refused, and changes nothing.
    let (ok, said) = run(&["restore", "--from", file.to_str().unwrap(), "--data", &data]);
    assert!(!ok && said.contains("stop it first"), "{said}");
    assert_eq!(app.issue_ticket("vehicle")["status"], "waiting");

    // Restored onto a new box: every ticket acknowledged before the backup, gap-free log.
    let new_box = tempfile::tempdir().unwrap();
    let restored = new_box.path().join("data");
    let (ok, said) = run(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data",
        restored.to_str().unwrap(),
    ]);
    assert!(ok, "{said}");
    let (ok, said) = run(&["verify-log", "--data", restored.to_str().unwrap()]);
    assert!(ok && said.contains("gap-free"), "{said}");
    let config = support::demo_config_with(new_box.path(), UNLIMITED_KIOSK);
    let hall = TestApp::spawn_in(&restored, &config);
    let manager = hall.manager_token();
    for (id, number) in &before {
        let ticket = hall.get_as(&format!("/api/v1/tickets/{id}"), &manager);
        assert_eq!(ticket.status, 200, "acknowledged ticket {id} lost");
        assert_eq!(ticket.body["number"], number.as_str());
    }
    // The restored hall goes on numbering after the last ticket it holds, never repeating one.
    let next = hall.issue_ticket("vehicle");
    let highest = hall.get_as("/api/v1/stats/today", &manager).body["totals"]["issued"]
        .as_u64()
        .unwrap();
    assert!(next["id"].as_u64().unwrap() > *before.keys().last().unwrap());
    assert!(highest as usize > before.len());
    // The key came back too: the data directory has it, owner-only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(restored.join("secret.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
