//! The packages a city's IT staff install: the systemd units pass `systemd-analyze verify`,
//! and `cargo deb` packs `hallq` and `hallq-hub` with the files the operations guide names.
//! `scripts/test` installs systemd and cargo-deb when they are missing.

mod support;

use std::path::Path;
use std::process::Command;
use support::workspace_root;

#[test]
fn the_systemd_units_verify() {
    let analyze = Path::new("/usr/bin/systemd-analyze");
    assert!(
        analyze.exists(),
        "systemd-analyze is missing: run scripts/test, which installs systemd"
    );
    let temp = tempfile::tempdir().unwrap();
    for (unit, binary) in [
        ("hallq.service", "hallq"),
        ("hallq-hub.service", "hallq-hub"),
    ] {
        let text =
            std::fs::read_to_string(workspace_root().join("packaging/systemd").join(unit)).unwrap();
        // The unit as installed, with the binary where this build put it (verify checks that
        // ExecStart is executable).
        let built = if binary == "hallq" {
            support::hallq_binary().to_owned()
        } else {
            support::hub::hub_binary().display().to_string()
        };
        let copy = temp.path().join(unit);
        std::fs::write(
            &copy,
            text.replace(&format!("/usr/bin/{binary} "), &format!("{built} ")),
        )
        .unwrap();
        let output = Command::new(analyze)
            .arg("verify")
            .arg(&copy)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && said.trim().is_empty(),
            "{unit}: {said}"
        );
        for hardening in [
            "ProtectSystem=strict",
            "NoNewPrivileges=true",
            "Restart=on-failure",
            "CapabilityBoundingSet=",
        ] {
            assert!(text.contains(hardening), "{unit} lacks {hardening}");
        }
    }
    let hall =
        std::fs::read_to_string(workspace_root().join("packaging/systemd/hallq.service")).unwrap();
    for line in [
        "Type=notify",
        "WatchdogSec=",
        "ReadWritePaths=/var/lib/hallq",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "User=hallq",
    ] {
        assert!(hall.contains(line), "hallq.service lacks {line}");
    }
}

fn cargo_deb() -> std::path::PathBuf {
    let home = std::env::var("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| Path::new(&std::env::var("HOME").unwrap()).join(".cargo"));
    let path = home.join("bin/cargo-deb");
    assert!(
        path.exists(),
        "cargo-deb is missing: run scripts/test, which installs it (cargo install cargo-deb)"
    );
    path
}

/// The files of a built package, as `dpkg-deb -c` lists them.
fn contents(deb: &Path) -> Vec<String> {
    let output = Command::new("dpkg-deb")
        .arg("-c")
        .arg(deb)
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            line.split_whitespace()
                .last()
                .map(|p| p.trim_start_matches('.').to_owned())
        })
        .collect()
}

#[test]
fn the_packages_build_with_what_the_operations_guide_names() {
    let cargo_deb = cargo_deb();
    let root = workspace_root();
    // The release binaries, both in one build (`cargo deb -p` for each would resolve features per
    // package and compile most of the tree twice), then each package from them as operators'
    // `cargo deb -p …` would make it: stripped, with the same assets and maintainer scripts.
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let build = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "hallq",
            "-p",
            "hallq-hub",
        ])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "cargo build --release: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    for (package, expected) in [
        (
            "hallq",
            &[
                "/usr/bin/hallq",
                "/lib/systemd/system/hallq.service",
                "/usr/share/hallq/demo-hall.toml",
                "/usr/share/hallq/calendar/2026.json",
                "/usr/share/hallq/udev/90-hallq-devices.rules",
                "/usr/share/hallq/prometheus/hallq-alerts.yml",
                "/usr/share/hallq/nginx/hallq.conf",
                "/usr/share/hallq/caddy/Caddyfile",
                "/usr/share/doc/hallq/operations.md",
                "/usr/share/doc/hallq/firmware-notes/printers.md",
            ][..],
        ),
        (
            "hallq-hub",
            &[
                "/usr/bin/hallq-hub",
                "/lib/systemd/system/hallq-hub.service",
                "/usr/share/doc/hallq-hub/upstream-protocol.md",
            ][..],
        ),
    ] {
        let output = Command::new(&cargo_deb)
            .args(["deb", "-p", package, "--no-build"])
            .current_dir(&root)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "cargo deb -p {package}: {said}");
        let deb = String::from_utf8_lossy(&output.stdout)
            .trim()
            .lines()
            .last()
            .unwrap()
            .to_owned();
        let files = contents(Path::new(&deb));
        for path in expected {
            assert!(
                files.iter().any(|f| f.ends_with(path) || f == path),
                "{package}: {path} missing from {files:#?}"
            );
        }
        // The maintainer script makes the service's user and keeps a hall's own file.
        let control = Command::new("dpkg-deb")
            .args(["-I", &deb, "postinst"])
            .output()
            .unwrap();
        let postinst = String::from_utf8_lossy(&control.stdout);
        assert!(postinst.contains("adduser --system"), "{postinst}");
        assert!(
            postinst.contains("systemctl") || postinst.contains("deb-systemd"),
            "{postinst}"
        );
    }
}
