//! The ID card at the kiosk, end to end: the real daemon with its reader on a pseudo-terminal
//! answered by the reader simulator, the kiosk page in Chromium at 1080×1920. A 70-year-old's
//! card gives a green-channel ticket without asking; a second read over the per-person limit
//! is refused in plain Chinese; a card with a booking today checks it in; an expired card still
//! queues, with a note; an unplugged reader is an alert and comes back. Nothing from a card is
//! on the page, in the daemon's log, or on a public answer; the console sees the mask only.

mod support;

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use hallq_devices::id_card::check_character;
use hallq_devices::id_simulator::{sample_card, IdReaderSimulator};
use serde_json::json;
use serialport::{SerialPort, TTYPort};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{hub::wait_until, TestApp, KIOSK};

/// An ID number for someone born on `birth` (YYYYMMDD), with its right check character.
fn number_born(birth: &str, serial: &str) -> String {
    let first17 = format!("110105{birth}{serial}");
    format!("{first17}{}", check_character(&first17).unwrap())
}

/// The hall's date, YYYYMMDD, `years` back.
fn born_years_ago(app: &TestApp, years: i16) -> String {
    let day: hallq_core::jiff::civil::Date = app.get("/api/v1/hall").body["service_day"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let birth = day
        .checked_sub(hallq_core::jiff::Span::new().years(years))
        .unwrap();
    birth.strftime("%Y%m%d").to_string()
}

/// A reader plugged in under a stable name (as the udev rules give one), answered by the
/// simulator; dropping the returned port unplugs it.
fn plug_in(link: &Path) -> (IdReaderSimulator, TTYPort) {
    let (mut master, slave) = TTYPort::pair().unwrap();
    master.set_timeout(Duration::from_millis(20)).unwrap();
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(slave.name().unwrap(), link).unwrap();
    (IdReaderSimulator::on_stream(master), slave)
}

fn reader_view(app: &TestApp, manager: &str) -> serde_json::Value {
    app.get_as("/api/v1/devices", manager).body["id_readers"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_at_the_kiosk_gives_the_green_channel_checks_in_and_keeps_the_limit() {
    let temp = tempfile::tempdir().unwrap();
    let link: PathBuf = temp.path().join("ttyIDREADER");
    let (reader, slave) = plug_in(&link);
    let extra = format!(
        "[[id_readers]]\nid = \"reader-lobby\"\nkiosk = \"kiosk-lobby\"\nurl = \"serial://{}?baud=115200\"\npoll_ms = 100\n",
        link.display()
    );
    let app = TestApp::spawn_with_extra(
        &[
            ("tickets_per_person_per_service_per_day", "1"),
            ("tickets_per_kiosk_per_minute", "1000"),
        ],
        &extra,
    );
    let manager = app.manager_token();
    wait_until(Duration::from_secs(10), "the reader to answer", || {
        reader_view(&app, &manager)["connected"] == true
    });

    let kiosk = Browser::start(1080, 1920).await;
    kiosk.open_kiosk(&app.base).await;

    // A 70-year-old lays the card on: the kiosk says the green channel is theirs.
    let elder_birth = born_years_ago(&app, 70);
    let elder = number_born(&elder_birth, "123");
    reader.place(sample_card(&elder, &elder_birth, "长期"));
    kiosk
        .wait_for_text("#card-banner", |t| {
            t.contains("已读取身份证") && t.contains("已为您开通绿色通道")
        })
        .await;
    kiosk.screenshot("kiosk-card-green-1080x1920.png").await;
    // One message, not two: the green channel's own hint stays away.
    kiosk.wait_for_attr("#green-hint", "hidden", |_| true).await;
    kiosk
        .click("#departments button[data-service=\"tax-general\"]")
        .await;
    kiosk
        .wait_for_text("#ticket-class", |t| t.contains("绿色通道"))
        .await;
    let number = kiosk
        .wait_for_text("#ticket-number", |t| !t.is_empty())
        .await;
    let staff = app.staff_token("w02");
    let waiting = app.get_as("/api/v1/windows/w02/waiting", &staff).body;
    assert_eq!(waiting["waiting"][0]["number"], number.as_str());
    assert_eq!(waiting["waiting"][0]["priority"], "green");
    // Nothing of the card on the kiosk's page, in its answers, or left for the next citizen.
    let page = kiosk
        .client
        .execute("return document.documentElement.outerHTML", vec![])
        .await
        .unwrap()
        .to_string();
    assert!(!page.contains(&elder) && !page.contains("**********") && !page.contains(&elder[14..]));
    kiosk.click("#result [data-back]").await;
    kiosk
        .wait_for_attr("#card-banner", "hidden", |_| true)
        .await;

    // The same card again, over the limit of one a day for the service: refused, plainly.
    reader.take_away();
    wait_until(Duration::from_secs(10), "the card to be taken away", || {
        reader_view(&app, &manager)["card_present"] == false
    });
    reader.place(sample_card(&elder, &elder_birth, "长期"));
    kiosk
        .wait_for_text("#card-banner", |t| t.contains("已读取身份证"))
        .await;
    kiosk
        .click("#departments button[data-service=\"tax-general\"]")
        .await;
    kiosk
        .wait_for_text("#message", |t| t == "您今天取该事项的号已达上限。")
        .await;
    assert_eq!(
        app.get_as("/api/v1/windows/w02/waiting", &staff).body["total"],
        1,
        "the refused read made no ticket"
    );
    reader.take_away();

    // A citizen booked at the window with their ID number: the card checks the booking in.
    let slot = app.next_slot("property-transfer");
    let booker_birth = born_years_ago(&app, 40);
    let booker = number_born(&booker_birth, "456");
    let booked = app.post(
        "/api/v1/appointments",
        &staff,
        json!({"service": "property-transfer", "start": slot, "channel": "phone",
               "phone": "13900001234", "id_number": booker}),
    );
    assert_eq!(booked.status, 201, "{}", booked.text);
    wait_until(Duration::from_secs(10), "the card to be taken away", || {
        reader_view(&app, &manager)["card_present"] == false
    });
    reader.place(sample_card(&booker, &booker_birth, "20200101"));
    kiosk
        .wait_for_text("#card-banner", |t| {
            t.contains("预约了「不动产转移登记」") && t.contains("已过有效期")
        })
        .await;
    kiosk.click("#card-check-in").await;
    kiosk
        .wait_for_text("#ticket-class", |t| t.contains("预约"))
        .await;
    let code = booked.body["code"].as_str().unwrap();
    assert_eq!(
        app.get_as(&format!("/api/v1/appointments/{code}"), &staff)
            .body["status"],
        "checked_in"
    );
    reader.take_away();

    // The console, and only the console, shows the masked number of the ticket it serves.
    let w06 = app.staff_token("w06");
    assert_eq!(app.call_next(&w06, "w06").status, 200);
    let serving = app.get_as("/api/v1/windows/w06/waiting", &w06).body;
    let masked = format!("{}**********{}", &booker[..4], &booker[14..]);
    assert_eq!(serving["current"]["id_masked"], masked.as_str());
    for public in [
        "/api/v1/board",
        "/api/v1/queues",
        "/api/v1/hall",
        "/api/v1/windows/w06",
    ] {
        let text = app.get(public).text;
        assert!(
            !text.contains(&masked) && !text.contains(&booker),
            "{public}: {text}"
        );
    }

    // Unplugged: an alert for the manager; plugged back in: it reads again.
    drop(slave);
    reader.stop();
    let _ = std::fs::remove_file(&link);
    wait_until(
        Duration::from_secs(15),
        "the unplugged reader's alert",
        || {
            app.get_as("/api/v1/alerts", &manager).body["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["kind"] == "id_reader")
        },
    );
    let (reader, _slave) = plug_in(&link);
    wait_until(Duration::from_secs(20), "the reader back", || {
        reader_view(&app, &manager)["connected"] == true
    });
    let metrics = app.get("/metrics").text;
    assert!(
        metrics
            .contains("hallq_id_reader_connected{reader=\"reader-lobby\",kiosk=\"kiosk-lobby\"} 1"),
        "{metrics}"
    );
    reader.place(sample_card(&elder, &elder_birth, "长期"));
    kiosk
        .wait_for_text("#card-banner", |t| t.contains("已读取身份证"))
        .await;
    kiosk.close().await;

    // Not a digit of a card in the daemon's log.
    let log = app.log();
    for secret in [
        elder.as_str(),
        booker.as_str(),
        &elder[14..],
        &booker[14..],
        masked.as_str(),
    ] {
        assert!(!log.contains(secret), "the log shows {secret}");
    }
}

/// The read is the kiosk's own: another device cannot use it, a read reference cannot be
/// guessed, and a card read goes to no public stream.
#[test]
fn a_card_read_belongs_to_its_kiosk_alone() {
    let app = TestApp::spawn();
    let staff = app.staff_token("w02");
    for (token, status, code) in [
        (KIOSK, 409, "card_read_gone"),
        (staff.as_str(), 403, "forbidden"),
    ] {
        let answer = app.post(
            "/api/v1/tickets",
            token,
            json!({"service": "tax-general", "card": "0123456789abcdef0123456789abcdef"}),
        );
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{}",
            answer.text
        );
    }
    let answer = app.post(
        "/api/v1/appointments/check-in-by-card",
        &staff,
        json!({"card": "0123456789abcdef0123456789abcdef"}),
    );
    assert_eq!(answer.status, 403);
    // A kiosk's own stream needs the kiosk.
    assert_eq!(app.get("/api/v1/kiosk/events").status, 401);
    assert_eq!(app.get_as("/api/v1/kiosk/events", &staff).status, 403);
    // Staff may book with an ID number, checked; a kiosk may not type one in.
    let slot = app.next_slot("property-transfer");
    for (token, id, status, code) in [
        (
            staff.as_str(),
            "110105194912310021",
            400,
            "invalid_id_number",
        ),
        (staff.as_str(), "1101051949", 400, "invalid_id_number"),
        (KIOSK, "11010519491231002X", 403, "forbidden"),
    ] {
        let answer = app.post(
            "/api/v1/appointments",
            token,
            json!({"service": "property-transfer", "start": slot, "channel": "onsite",
                   "phone": "13900004321", "id_number": id}),
        );
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{id}: {}",
            answer.text
        );
    }
}
