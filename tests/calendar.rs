//! The calendar, schedules and the published lists through the real daemon and CLI.

mod support;

use serde_json::json;
use std::path::Path;
use support::{TestApp, KIOSK};

fn city_hall_config() -> std::path::PathBuf {
    support::workspace_root().join("kiosk-config/jiangzhou-city-hall.toml")
}

#[test]
fn calendar_days_through_the_api() {
    let app = TestApp::spawn();
    for (date, day_type, name, known) in [
        ("2026-02-14", "makeup_workday", Some("春节"), true),
        ("2026-02-16", "holiday", Some("春节"), true),
        ("2026-10-01", "holiday", Some("国庆节"), true),
        ("2026-11-27", "workday", None, true),
        ("2026-11-28", "weekend", None, true),
        ("2027-06-01", "workday", None, false),
    ] {
        let day = app.get(&format!("/api/v1/calendar/{date}")).body;
        assert_eq!(day["day_type"], day_type, "{date}");
        assert_eq!(day["name"].as_str(), name, "{date}");
        assert_eq!(day["known"], known, "{date}");
    }
    for bad in [
        "2026-13-01",
        "2026-02-30",
        "1999-01-01",
        "tomorrow",
        "20260101",
    ] {
        let answer = app.get(&format!("/api/v1/calendar/{bad}"));
        assert_eq!(
            (answer.status, answer.code()),
            (400, "invalid_date"),
            "{bad}"
        );
    }
}

/// The calendar years the hall must have on its service day: this year, and from December
/// next year too (bookings reach into January; the State Council publishes it in the autumn).
fn years_due(app: &TestApp) -> (i16, Option<i16>) {
    let day = app.get("/api/v1/hall").body["service_day"]
        .as_str()
        .unwrap()
        .to_owned();
    let day: hallq_core::jiff::civil::Date = day.parse().unwrap();
    (day.year(), (day.month() == 12).then_some(day.year() + 1))
}

fn calendar_alerts(app: &TestApp) -> Vec<serde_json::Value> {
    let alerts = app.get_as("/api/v1/alerts", KIOSK).body;
    alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "calendar")
        .cloned()
        .collect()
}

#[test]
fn a_year_without_calendar_data_raises_an_alert() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("hall.toml");
    std::fs::write(
        &config,
        std::fs::read_to_string(support::demo_config()).unwrap(),
    )
    .unwrap();
    // No calendar folder next to this configuration.
    let app = TestApp::spawn_in(&temp.path().join("data"), &config);
    let (this_year, next_year) = years_due(&app);
    let calendar = calendar_alerts(&app);
    assert_eq!(calendar.len(), 1 + next_year.iter().count(), "{calendar:?}");
    assert_eq!(calendar[0]["subject"], this_year.to_string());
    assert_eq!(calendar[0]["severity"], "error");
    let message = calendar[0]["message"].as_str().unwrap();
    assert!(message.contains("kiosk-config/calendar/"), "{message}");
    // Chinese first: a hall's manager reads it on the dashboard.
    assert!(
        message.starts_with(&format!("缺少 {this_year} 年")),
        "{message}"
    );
    if let Some(next) = next_year {
        assert_eq!(calendar[1]["subject"], next.to_string());
        assert_eq!(calendar[1]["severity"], "warning");
    }
    assert_eq!(app.get("/api/v1/alerts").status, 401);
    // With the shipped calendar there is nothing to say about this year; of next year only
    // when it is due and not shipped yet.
    let app = TestApp::spawn();
    let shipped = |year: i16| {
        support::workspace_root()
            .join(format!("kiosk-config/calendar/{year}.json"))
            .exists()
    };
    let expected: Vec<String> = [Some(this_year), next_year]
        .into_iter()
        .flatten()
        .filter(|year| !shipped(*year))
        .map(|year| year.to_string())
        .collect();
    let subjects: Vec<String> = calendar_alerts(&app)
        .iter()
        .map(|a| a["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subjects, expected);
}

#[test]
fn the_kiosk_offers_only_what_is_open() {
    let temp = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(support::demo_config()).unwrap();
    // Pension by appointment only at all hours; household never open; everything else open.
    let open: Vec<String> = [
        "tax-general",
        "tax-invoice",
        "social-insurance",
        "medical-insurance",
        "property-transfer",
        "property-certificate",
        "entry-exit",
        "vehicle",
        "company-setup",
        "company-change",
        "housing-fund-withdrawal",
        "housing-fund-loan",
        "construction-permit",
    ]
    .iter()
    .map(|s| format!("\"{s}\""))
    .collect();
    let schedule = format!(
        "\n[[schedule]]\nname = \"预约\"\ndays = [\"workday\", \"makeup_workday\", \"weekend\", \"holiday\"]\nfrom = \"00:00\"\nto = \"24:00\"\nmode = \"appointment_only\"\nservices = [\"pension\"]\n\
         \n[[schedule]]\nname = \"全天\"\ndays = [\"workday\", \"makeup_workday\", \"weekend\", \"holiday\"]\nfrom = \"00:00\"\nto = \"24:00\"\nmode = \"regular\"\nservices = [{}]\n",
        open.join(", ")
    );
    let config = temp.path().join("hall.toml");
    std::fs::write(
        &config,
        demo.replace(
            "# ---- 叫号 calling",
            &format!("{schedule}\n# ---- 叫号 calling"),
        ),
    )
    .unwrap();
    let app = TestApp::spawn_in(&temp.path().join("data"), &config);
    let hall = app.get("/api/v1/hall").body;
    let service = |id: &str| {
        hall["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (
            service("household")["open"].clone(),
            service("household")["mode"].clone()
        ),
        (json!(false), json!("closed"))
    );
    assert_eq!(service("pension")["mode"], "appointment_only");
    assert_eq!(service("tax-general")["open"], true);

    let closed = app.post("/api/v1/tickets", KIOSK, json!({"service": "household"}));
    assert_eq!(
        (closed.status, closed.code()),
        (409, "service_closed"),
        "{}",
        closed.text
    );
    let booked_only = app.post("/api/v1/tickets", KIOSK, json!({"service": "pension"}));
    assert_eq!(
        (booked_only.status, booked_only.code()),
        (409, "appointment_only")
    );
    assert!(booked_only.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("appointment"));
    assert_eq!(
        app.post("/api/v1/tickets", KIOSK, json!({"service": "tax-general"}))
            .status,
        201
    );
}

#[test]
fn the_published_lists_through_the_api_and_the_cli() {
    let temp = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_in(&temp.path().join("data"), &city_hall_config());
    let extended = app.get("/api/v1/lists/extended").body;
    assert_eq!(extended["title"], "江州市政务服务中心错时延时办理事项清单");
    assert_eq!(extended["columns"][0], "序号");
    assert_eq!(extended["rows"].as_array().unwrap().len(), 9);
    let csv = app.get("/api/v1/lists/appointment?format=csv");
    assert!(csv.text.starts_with('\u{feff}') && csv.text.contains("不动产转移登记"));
    assert!(app
        .get("/api/v1/lists/appointment?format=html")
        .text
        .contains("<caption>"));
    assert_eq!(
        app.get("/api/v1/lists/appointment?format=pdf").code(),
        "invalid_format"
    );
    assert_eq!(app.get("/api/v1/lists/everything").status, 404);

    let output = temp.path().join("appointments.xlsx");
    let result = std::process::Command::new(support::hallq_binary())
        .args(["lists", "appointment", "--format", "xlsx", "--output"])
        .arg(&output)
        .arg("--config")
        .arg(city_hall_config())
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(&std::fs::read(&output).unwrap()[..2], b"PK");
    let html = std::process::Command::new(support::hallq_binary())
        .args(["lists", "extended", "--format", "html", "--config"])
        .arg(city_hall_config())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&html.stdout).contains("出入境证件办理"));
}

#[test]
fn check_config_names_the_calendar_file_and_entry_at_fault() {
    let temp = tempfile::tempdir().unwrap();
    let calendar = temp.path().join("calendar");
    std::fs::create_dir(&calendar).unwrap();
    let shipped =
        std::fs::read_to_string(support::workspace_root().join("kiosk-config/calendar/2026.json"))
            .unwrap();
    std::fs::write(
        calendar.join("2026.json"),
        shipped.replace("2026-05-09", "2026-05-32"),
    )
    .unwrap();
    let config = temp.path().join("hall.toml");
    std::fs::copy(city_hall_config(), &config).unwrap();
    let output = std::process::Command::new(support::hallq_binary())
        .arg("check-config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = shipped
        .lines()
        .position(|l| l.contains("2026-05-09"))
        .unwrap()
        + 1;
    let expected = format!(
        "{}:{line}: days[23].date: '2026-05-32' is not a date",
        Path::new(&calendar).join("2026.json").display()
    );
    assert!(
        stderr.contains(&expected),
        "expected {expected} in {stderr}"
    );
}
