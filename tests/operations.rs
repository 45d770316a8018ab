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

#[test]
fn reload_applies_what_it_can_under_open_streams_and_signed_in_staff_and_keeps_the_old_on_error() {
    let app = TestApp::spawn_with(UNLIMITED_KIOSK);
    let staff = app.staff_token("w02");
    let manager = app.manager_token();
    let waiting = app.issue_ticket("tax-general");
    let mut stream = support::EventStream::open(&app, None);
    let data = app.data_dir.to_str().unwrap().to_owned();
    let config = app.config.clone();
    let original = std::fs::read_to_string(&config).unwrap();
    let service_name = |app: &TestApp| {
        app.get("/api/v1/hall").body["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == "tax-general")
            .unwrap()["name"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // A new name, a new notice and a new member of staff, applied without a restart.
    let changed = original
        .replace("name = \"涉税综合业务\"", "name = \"涉税综合业务（新）\"")
        .replace("board_notice = \"", "board_notice = \"今日新通知。")
        + "\n[[staff]]\nid = \"new-staff\"\nname = \"新同事\"\nrole = \"staff\"\nwindows = [\"*\"]\n"
        + original
            .lines()
            .find(|l| l.starts_with("pin_argon2"))
            .unwrap()
        + "\n";
    std::fs::write(&config, &changed).unwrap();
    let (ok, said) = run(&[
        "reload",
        "--data",
        &data,
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(ok, "{said}");
    // `hallq reload` only signals the daemon: wait for both the names (the engine's spec)
    // and the notice (the configuration, installed a moment after the spec).
    support::hub::wait_until(std::time::Duration::from_secs(10), "the reload", || {
        service_name(&app) == "涉税综合业务（新）"
            && app.get("/api/v1/board").body["notice"]
                .as_str()
                .is_some_and(|notice| notice.starts_with("今日新通知"))
    });
    assert_eq!(app.sign_in("new-staff", "246810", Some("w03")).status, 201);
    // The signed-in staff member, the waiting ticket and the open stream all went on.
    let called = app.call_next(&staff, "w02");
    assert_eq!(called.status, 200, "{}", called.text);
    assert_eq!(called.body["ticket"]["id"], waiting["id"]);
    let events = stream
        .until("ticket_called")
        .expect("the stream stayed open");
    assert!(events.iter().any(|e| e.kind == "ticket_called"));
    assert_eq!(app.get_as("/api/v1/audit?limit=1", &manager).status, 200);

    // A broken file: `hallq reload --config` refuses, and a bare SIGHUP keeps the running one.
    std::fs::write(&config, changed.replace("[hall]", "[hall\n")).unwrap();
    let (ok, said) = run(&[
        "reload",
        "--data",
        &data,
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(!ok && said.contains("not reloaded"), "{said}");
    let (ok, said) = run(&["reload", "--data", &data]);
    assert!(ok, "{said}");
    support::hub::wait_until(
        std::time::Duration::from_secs(10),
        "the refusal in the log",
        || app.log().contains("the running one stays"),
    );
    assert_eq!(service_name(&app), "涉税综合业务（新）");
    // Windows cannot change without a restart: refused whole, nothing half-applied.
    let windows_changed = changed
        .replace("name = \"涉税综合业务（新）\"", "name = \"又一个名字\"")
        .replace("id = \"w15\"", "id = \"w16\"");
    std::fs::write(&config, windows_changed).unwrap();
    let (ok, _) = run(&["reload", "--data", &data]);
    assert!(ok);
    support::hub::wait_until(
        std::time::Duration::from_secs(10),
        "the refusal in the log",
        || app.log().contains("restart to apply"),
    );
    assert_eq!(service_name(&app), "涉税综合业务（新）");
    assert_eq!(app.call_next(&staff, "w02").status, 204);
}

/// The example nginx site (packaging/nginx/hallq.conf) in front of a real daemon: TLS, the API
/// and an event stream through it, and the citizen's address believed only from the proxy.
#[test]
fn the_example_nginx_site_serves_the_hall_over_tls_and_streams_pass_unbuffered() {
    let nginx = std::path::Path::new("/usr/sbin/nginx");
    assert!(
        nginx.exists(),
        "nginx is missing: run scripts/test, which installs it"
    );
    let app = TestApp::spawn_with(&[
        ("tickets_per_kiosk_per_minute", "100000"),
        ("trusted_proxies", "[\"127.0.0.1\"]"),
    ]);
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=hall.example.gov.cn",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let upstream = app.base.trim_start_matches("http://").to_owned();
    let site =
        std::fs::read_to_string(support::workspace_root().join("packaging/nginx/hallq.conf"))
            .unwrap()
            .replace("listen 80;", "listen 127.0.0.1:1;")
            .replace(
                "listen 443 ssl http2;",
                &format!("listen 127.0.0.1:{port} ssl http2;"),
            )
            .replace(
                "/etc/ssl/certs/hall.example.gov.cn.pem",
                cert.to_str().unwrap(),
            )
            .replace(
                "/etc/ssl/private/hall.example.gov.cn.key",
                key.to_str().unwrap(),
            )
            .replace("127.0.0.1:8080", &upstream);
    // Only the example's server blocks count: drop the redirect on port 80 (a test may not bind it).
    let site = match site.find("server {\n    listen 127.0.0.1:1;") {
        Some(start) => {
            let end = site[start..].find("}\n").unwrap() + start + 2;
            format!("{}{}", &site[..start], &site[end..])
        }
        None => site,
    };
    std::fs::write(dir.join("site.conf"), site).unwrap();
    let main = format!(
        "daemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  \
         client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
         uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  include {d}/site.conf;\n}}\n",
        d = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let checked = Command::new(nginx)
        .args(["-t", "-p"])
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let mut proxy = Command::new(nginx)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let curl = |args: &[&str]| {
        let output = Command::new("curl")
            .args([
                "-sk",
                "--max-time",
                "5",
                "--resolve",
                &format!("hall.example.gov.cn:{port}:127.0.0.1"),
            ])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let base = format!("https://hall.example.gov.cn:{port}");
    support::hub::wait_until(std::time::Duration::from_secs(10), "nginx", || {
        curl(&[&format!("{base}/healthz")]).contains("ok")
    });
    assert!(curl(&[&format!("{base}/api/v1/hall")]).contains("江州市政务服务中心"));
    // An event stream through the proxy delivers a call at once (unbuffered).
    let stream = std::thread::spawn({
        let base = base.clone();
        move || {
            let output = Command::new("curl")
                .args([
                    "-skN",
                    "--max-time",
                    "4",
                    "--resolve",
                    &format!("hall.example.gov.cn:{port}:127.0.0.1"),
                ])
                .arg(format!("{base}/api/v1/events"))
                .output()
                .unwrap();
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(800));
    app.issue_ticket("vehicle");
    let streamed = stream.join().unwrap();
    assert!(streamed.contains("event: ticket_issued"), "{streamed}");
    // The sign-in is audited with the address nginx saw (127.0.0.1 here), not one a client
    // forged in its own X-Forwarded-For.
    let signed = curl(&[
        "-H",
        "Content-Type: application/json",
        "-H",
        "X-Forwarded-For: 203.0.113.66",
        "-d",
        r#"{"staff":"demo-manager","pin":"135790"}"#,
        &format!("{base}/api/v1/sessions"),
    ]);
    assert!(signed.contains("token"), "{signed}");
    let manager = app.manager_token();
    let audit = app.get_as("/api/v1/audit?limit=5", &manager).text;
    assert!(!audit.contains("203.0.113.66"), "{audit}");
    // SIGTERM: nginx's master stops its workers too (SIGKILL would orphan them).
    let _ = Command::new("kill")
        .args(["-TERM", &proxy.id().to_string()])
        .status();
    let _ = proxy.wait();
}

#[test]
fn forwarded_addresses_are_believed_only_from_a_configured_proxy() {
    let sign_in_claiming = |app: &TestApp, forwarded: &str| {
        let answer = ureq::post(&app.url("/api/v1/sessions"))
            .set("X-Forwarded-For", forwarded)
            .send_json(serde_json::json!({"staff": "demo-manager", "pin": "135790"}))
            .unwrap();
        assert_eq!(answer.status(), 201);
    };
    let audited = |app: &TestApp| {
        let manager = app.manager_token();
        app.get_as("/api/v1/audit?limit=10", &manager).text
    };
    // No proxy configured: a forged header changes nothing.
    let plain = TestApp::spawn();
    sign_in_claiming(&plain, "203.0.113.66");
    let audit = audited(&plain);
    assert!(
        !audit.contains("203.0.113.66") && audit.contains("127.0.0.1"),
        "{audit}"
    );
    // This box is the configured proxy: the citizen's address it forwards is believed.
    let behind = TestApp::spawn_with(&[("trusted_proxies", "[\"127.0.0.1\"]")]);
    sign_in_claiming(&behind, "198.51.100.7, 203.0.113.66");
    let audit = audited(&behind);
    assert!(audit.contains("203.0.113.66"), "{audit}");
}
