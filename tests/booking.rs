//! Citizens book at the city's hub — on the booking page in a phone-sized Chromium, and by SMS
//! through a real gateway on 127.0.0.1 — and the booking reaches the hall, is checked in at the
//! kiosk and called; the city's dashboard shows every hall live. No personal data is on anything
//! that needs no credentials.

mod support;

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use fantoccini::Locator;
use serde_json::{json, Value};
use std::time::Duration;
use support::hub::{wait_until, TestHub};
use support::sms_gateway::Gateway;
use support::{postgres, TestApp, KIOSK, UNLIMITED_KIOSK};

const HALL: &str = "jiangzhou-demo";
const PHONE: &str = "13712345678";

fn upstream(url: &str, token: &str) -> String {
    format!(
        "[upstream]\nurl = \"{url}\"\ntoken = \"{token}\"\nsnapshot_interval_s = 1\n\
         pull_interval_s = 1\ntimeout_s = 2\nretry_max_s = 1\n"
    )
}

/// A hub with an SMS gateway (and inbound SMS), and the demo hall reporting to it.
fn hub_and_hall(gateway: &Gateway) -> (TestHub, TestApp, String) {
    let database = postgres::database();
    let gateway_url = format!("http://127.0.0.1:{}/send", gateway.port);
    let hub = TestHub::start_with(
        &database,
        &[
            "--sms-gateway-url",
            &gateway_url,
            "--sms-inbound-token",
            "inbound-secret",
            "--citizen-requests-per-minute",
            "1000",
        ],
    );
    let token = hub.add_hall(HALL, "江州市政务服务中心");
    let app = TestApp::spawn_with_extra(UNLIMITED_KIOSK, &upstream(&hub.base, &token));
    wait_until(
        Duration::from_secs(20),
        "the hall's profile at the hub",
        || {
            hub.get("/v1/public/halls").body["halls"]
                .as_array()
                .is_some_and(|halls| !halls.is_empty())
        },
    );
    (hub, app, token)
}

/// The code the gateway was asked to send to `phone` last.
fn code_sent_to(gateway: &Gateway, phone: &str) -> String {
    let mut code = String::new();
    wait_until(Duration::from_secs(10), "the phone's code", || {
        if let Some((_, _, text)) = gateway
            .messages()
            .into_iter()
            .rev()
            .find(|(to, purpose, _)| to == phone && purpose == "phone_check")
        {
            code = text.chars().filter(char::is_ascii_digit).take(6).collect();
        }
        code.len() == 6
    });
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_books_on_a_phone_and_is_checked_in_at_the_kiosk_and_called() {
    let gateway = Gateway::start();
    let (hub, app, _) = hub_and_hall(&gateway);
    let manager = app.manager_token();
    // The next slot: its check-in is open now (slots of 30 minutes, check-in from 30 before).
    let start = app.next_slot("property-transfer");
    let browser = Browser::start(390, 844).await;
    browser
        .client
        .goto(&format!("{}/book", hub.base))
        .await
        .unwrap();
    browser
        .wait_for_text(&format!("[data-hall='{HALL}']"), |t| {
            t.contains("江州市政务服务中心")
        })
        .await;
    browser.click(&format!("[data-hall='{HALL}']")).await;
    // Services grouped by department; one without an online share cannot be chosen.
    let tax = browser
        .client
        .find(Locator::Css("[data-service='tax-general']"))
        .await
        .unwrap();
    assert!(tax.attr("disabled").await.unwrap().is_some());
    browser.click("[data-service='property-transfer']").await;
    // What to bring, as the hall configured it.
    browser
        .wait_for_text("#materials", |t| t.contains("不动产权证书原件"))
        .await;
    let day = format!("[data-date='{}']", &start[..10]);
    browser.wait_for_text(&day, |_| true).await;
    browser.click(&day).await;
    let slot = format!("[data-start='{start}']");
    browser.wait_for_text(&slot, |t| t.contains("余 2")).await;
    browser.screenshot("book-390-slots.png").await;
    browser.click(&slot).await;
    browser.fill("#phone", PHONE).await;
    browser.click("#send-code").await;
    let code = code_sent_to(&gateway, PHONE);
    browser.fill("#code", &code).await;
    browser.fill("#name", "赵六").await;
    browser.click("#submit").await;
    let booking = browser
        .wait_for_text("#booking-code", |t| t.len() == 8)
        .await;
    browser
        .wait_for_text("#booking-details", |t| {
            t.contains("江州市政务服务中心") && t.contains("不动产转移登记")
        })
        .await;
    browser.screenshot("book-390-done.png").await;
    // The confirmation went out by SMS too.
    wait_until(Duration::from_secs(10), "the confirmation SMS", || {
        gateway.messages().iter().any(|(to, purpose, text)| {
            to == PHONE && purpose == "booking" && text.contains(&booking)
        })
    });
    // Elder mode to the MIIT figures: the confirmation, and after a reload (a phone keeps the
    // citizen's choice) the halls and the services, a disabled one among them.
    browser.click("#elder").await;
    browser
        .wait_for_attr("body", "class", |c| c.contains("elder"))
        .await;
    browser.assert_elder_figures("confirmation").await;
    browser.client.refresh().await.unwrap();
    browser
        .wait_for_text(&format!("[data-hall='{HALL}']"), |t| {
            t.contains("江州市政务服务中心")
        })
        .await;
    browser.assert_elder_figures("halls").await;
    browser.click(&format!("[data-hall='{HALL}']")).await;
    browser
        .wait_for_text("[data-service='tax-general']", |_| true)
        .await;
    browser.assert_elder_figures("services").await;
    browser.screenshot("book-390-elder-services.png").await;
    browser.click("#language").await;
    browser
        .wait_for_text("h1", |t| t.contains("Book a government service"))
        .await;
    browser.close().await;

    // The booking reaches the hall within a pull interval, and is checked in at the kiosk.
    wait_until(Duration::from_secs(20), "the booking at the hall", || {
        app.get_as(&format!("/api/v1/appointments/{booking}"), &manager)
            .status
            == 200
    });
    let at_hall = app
        .get_as(&format!("/api/v1/appointments/{booking}"), &manager)
        .body;
    assert_eq!(at_hall["channel"], "online");
    assert_eq!(at_hall["name"], "赵六");
    let ticket = app.post(
        &format!("/api/v1/appointments/{booking}/check-in"),
        KIOSK,
        json!({}),
    );
    assert_eq!(ticket.status, 201, "{}", ticket.text);
    assert_eq!(ticket.body["priority"], "appointment");
    let number = ticket.body["number"].as_str().unwrap().to_owned();
    // A window serving the service calls it first.
    let staff = app.staff_token("w06");
    let called = app.call_next(&staff, "w06");
    assert_eq!(called.status, 200, "{}", called.text);
    assert_eq!(called.body["ticket"]["number"], number.as_str());
    wait_until(
        Duration::from_secs(20),
        "the hub to see the check-in",
        || {
            let city = hub.manager_token();
            hub.get_as(&format!("/v1/halls/{HALL}/appointments/{booking}"), &city)
                .body["status"]
                == "checked_in"
        },
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_whose_online_share_is_used_up_is_not_offered() {
    let gateway = Gateway::start();
    let (hub, app, _) = hub_and_hall(&gateway);
    let city = hub.manager_token();
    let start = app.slot_well_ahead("housing-fund-loan");
    for phone in ["13711110001", "13711110002"] {
        let booked = hub.post(
            &format!("/v1/halls/{HALL}/appointments"),
            &city,
            json!({"service": "housing-fund-loan", "start": start, "channel": "online", "phone": phone}),
        );
        assert_eq!(booked.status, 201, "{}", booked.text);
    }
    let browser = Browser::start(390, 844).await;
    browser
        .client
        .goto(&format!("{}/book", hub.base))
        .await
        .unwrap();
    browser
        .wait_for_text(&format!("[data-hall='{HALL}']"), |_| true)
        .await;
    browser.click(&format!("[data-hall='{HALL}']")).await;
    browser
        .wait_for_text("[data-service='housing-fund-loan']", |_| true)
        .await;
    browser.click("[data-service='housing-fund-loan']").await;
    let day = format!("[data-date='{}']", &start[..10]);
    browser.wait_for_text(&day, |_| true).await;
    browser.click(&day).await;
    let slot = format!("[data-start='{start}']");
    browser.wait_for_text(&slot, |t| t.contains("已满")).await;
    let button = browser.client.find(Locator::Css(&slot)).await.unwrap();
    assert!(
        button.attr("disabled").await.unwrap().is_some(),
        "a full slot can be chosen"
    );
    browser.close().await;
    // And the API refuses it too, with a citizen's confirmed phone.
    let phone = "13711110003";
    assert_eq!(
        hub.post("/v1/phone-checks", "", json!({"phone": phone}))
            .status,
        202
    );
    let code = code_sent_to(&gateway, phone);
    let refused = hub.post(
        "/v1/book",
        "",
        json!({"hall": HALL, "service": "housing-fund-loan", "start": start, "phone": phone, "phone_code": code}),
    );
    assert_eq!((refused.status, refused.code()), (409, "slot_full"));
    // The hall's own share of that slot is untouched.
    let slots = app
        .get(&format!(
            "/api/v1/appointments/slots?service=housing-fund-loan&date={}",
            &start[..10]
        ))
        .body;
    let hall_slot = slots["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["start"] == start.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (hall_slot["booked"].as_u64(), hall_slot["capacity"].as_u64()),
        (Some(0), Some(4))
    );
}

fn inbound(hub: &TestHub, token: &str, from: &str, text: &str) -> support::hub::Reply {
    hub.send(
        "POST",
        "/v1/sms/inbound",
        Some(token),
        Some(json!({"from": from, "text": text})),
    )
}

#[test]
fn sms_booking_and_cancelling_through_the_gateway() {
    let gateway = Gateway::start();
    let (hub, app, _) = hub_and_hall(&gateway);
    let manager = app.manager_token();
    let number = hub.get("/v1/public/halls").body["halls"][0]["sms_number"]
        .as_i64()
        .unwrap();
    // "F" is property-transfer; the demo hall books around the clock, so tomorrow morning is open.
    let reply = inbound(
        &hub,
        "inbound-secret",
        PHONE,
        &format!("YY {number}F 明天 上午"),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    let text = reply.body["reply"].as_str().unwrap().to_owned();
    assert!(text.contains("预约成功") && text.contains("QX"), "{text}");
    let code: String = text
        .split("预约码 ")
        .nth(1)
        .unwrap()
        .chars()
        .take(8)
        .collect();
    assert!(
        text.contains("00:00-00:30"),
        "the first morning slot: {text}"
    );
    // The reply went back to the sender through the gateway.
    wait_until(Duration::from_secs(10), "the reply SMS", || {
        gateway.messages().iter().any(|(to, purpose, body)| {
            to == PHONE && purpose == "sms_reply" && body.contains(&code)
        })
    });
    // It reaches the hall as an SMS booking.
    wait_until(
        Duration::from_secs(20),
        "the SMS booking at the hall",
        || {
            app.get_as(&format!("/api/v1/appointments/{code}"), &manager)
                .body["channel"]
                == "sms"
        },
    );
    // Full-width characters from a phone's Chinese keyboard work too; someone else's number
    // cannot cancel it.
    let other = inbound(
        &hub,
        "inbound-secret",
        "13900009999",
        &format!("ＱＸ　{code}"),
    );
    assert!(
        other.body["reply"].as_str().unwrap().contains("未能取消"),
        "{}",
        other.text
    );
    let cancel = inbound(
        &hub,
        "inbound-secret",
        PHONE,
        &format!("qx {}", code.to_lowercase()),
    );
    assert!(
        cancel.body["reply"].as_str().unwrap().contains("已取消"),
        "{}",
        cancel.text
    );
    wait_until(
        Duration::from_secs(20),
        "the cancellation at the hall",
        || {
            app.get_as(&format!("/api/v1/appointments/{code}"), &manager)
                .body["status"]
                == "cancelled"
        },
    );
    // Anything else gets the grammar.
    for text in ["你好", "YY 1Z 明天 上午", "YY 99F 明天 上午", "YY F 明天"] {
        let help = inbound(&hub, "inbound-secret", PHONE, text);
        assert_eq!(help.status, 200);
        let reply = help.body["reply"].as_str().unwrap();
        assert!(
            reply.contains("YY") && reply.contains("QX"),
            "{text}: {reply}"
        );
    }
    // Only the gateway may post messages.
    let forged = inbound(&hub, "not-the-gateway", PHONE, "YY 1F 明天 上午");
    assert_eq!((forged.status, forged.code()), (401, "unauthorized"));
    // No phone number, whole, in the hub's log.
    assert!(
        !hub.log().contains(PHONE),
        "a phone number in the hub's log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_city_dashboard_shows_every_hall_live() {
    let database = postgres::database();
    let hub = TestHub::start(&database);
    let north_token = hub.add_hall(HALL, "江州市政务服务中心");
    let south_token = hub.add_hall("jiangzhou-south", "江州南区");
    let north = TestApp::spawn_with_extra(UNLIMITED_KIOSK, &upstream(&hub.base, &north_token));
    let south = TestApp::spawn_with_extra(
        &[
            ("id", "\"jiangzhou-south\""),
            ("name", "\"江州市南区政务服务中心\""),
            ("tickets_per_kiosk_per_minute", "100000"),
        ],
        &upstream(&hub.base, &south_token),
    );
    let manager = hub.manager_token();
    let browser = Browser::start(1920, 1080).await;
    browser
        .client
        .goto(&format!("{}/city", hub.base))
        .await
        .unwrap();
    browser.fill("#manager", "city").await;
    browser.fill("#pin", "24681357").await;
    browser.click("#signin button[type=submit]").await;
    for _ in 0..3 {
        north.issue_ticket("tax-general");
    }
    for _ in 0..5 {
        south.issue_ticket("tax-general");
    }
    // Within a couple of snapshot intervals both halls show their queues.
    let row = |hall: &str| format!("tr[data-hall='{hall}']");
    let waiting = |hall: &str| format!("tr[data-hall='{hall}'] td:nth-child(2)");
    browser.wait_for_text(&waiting(HALL), |t| t == "3").await;
    browser
        .wait_for_text(&waiting("jiangzhou-south"), |t| t == "5")
        .await;
    browser
        .wait_for_text(&row("jiangzhou-south"), |t| t.contains("南区"))
        .await;
    browser.wait_for_text("#sum-waiting", |t| t == "8").await;
    // Live: more tickets at one hall show without reloading.
    for _ in 0..4 {
        north.issue_ticket("tax-invoice");
    }
    browser.wait_for_text("#sum-waiting", |t| t == "12").await;
    // A hall's services on click.
    browser.click(&row(HALL)).await;
    browser
        .wait_for_text("#halls", |t| {
            t.contains("发票领用与代开") && t.contains("涉税综合业务")
        })
        .await;
    browser.screenshot("city-1920.png").await;
    browser.close().await;
    // The day's report across halls.
    let report = hub.get_as("/v1/city/report.csv", &manager);
    assert_eq!(report.status, 200);
    assert!(report.text.contains(HALL) && report.text.contains("jiangzhou-south"));
    assert!(report.text.contains("tax-general"));
}

#[test]
fn nothing_without_credentials_carries_personal_data() {
    let gateway = Gateway::start();
    let (hub, app, _) = hub_and_hall(&gateway);
    let city = hub.manager_token();
    let start = app.next_slot("property-transfer");
    let booked = hub.post(
        &format!("/v1/halls/{HALL}/appointments"),
        &city,
        json!({"service": "property-transfer", "start": start, "channel": "online", "phone": PHONE, "name": "钱七"}),
    );
    assert_eq!(booked.status, 201);
    let code = booked.body["code"].as_str().unwrap().to_owned();
    let date = &start[..10];
    for path in [
        "/book".to_owned(),
        "/city".to_owned(),
        "/v1/public/halls".to_owned(),
        format!("/v1/halls/{HALL}/days?service=property-transfer"),
        format!("/v1/halls/{HALL}/slots?service=property-transfer&date={date}"),
        "/v1/calendars".to_owned(),
        "/v1/openapi.json".to_owned(),
        "/metrics".to_owned(),
    ] {
        let answer = hub.get(&path);
        assert_eq!(answer.status, 200, "{path}");
        for secret in [PHONE, "钱七", code.as_str(), "5678"] {
            assert!(!answer.text.contains(secret), "{path} shows {secret}");
        }
    }
    for path in [
        "/v1/city".to_owned(),
        "/v1/city/events".to_owned(),
        "/v1/city/report.csv".to_owned(),
        "/v1/halls".to_owned(),
        format!("/v1/halls/{HALL}/appointments/{code}"),
    ] {
        assert_eq!(hub.get(&path).status, 401, "{path}");
    }
    // Cancelling needs the phone the booking was made with; a wrong one learns nothing.
    let wrong = hub.post(
        "/v1/book/cancel",
        "",
        json!({"code": code, "phone": "13900000000"}),
    );
    assert_eq!((wrong.status, wrong.code()), (404, "not_found"));
    let unknown = hub.post(
        "/v1/book/cancel",
        "",
        json!({"code": "WZZZZZZZ", "phone": PHONE}),
    );
    assert_eq!(wrong.text, unknown.text);
    let right = hub.post("/v1/book/cancel", "", json!({"code": code, "phone": PHONE}));
    assert_eq!(right.body["status"], "cancelled", "{}", right.text);
    // A wrong code for a phone is refused; asking for codes too often is refused.
    assert_eq!(
        hub.post("/v1/phone-checks", "", json!({"phone": PHONE}))
            .status,
        202
    );
    let again = hub.post("/v1/phone-checks", "", json!({"phone": PHONE}));
    assert_eq!((again.status, again.code()), (429, "phone_check_too_soon"));
    let guessed = hub.post(
        "/v1/book",
        "",
        json!({"hall": HALL, "service": "property-transfer", "start": start, "phone": PHONE, "phone_code": "000000"}),
    );
    assert_eq!((guessed.status, guessed.code()), (422, "phone_code_wrong"));
    // Pages carry a content policy that runs only the hub's own scripts.
    let page = ureq::get(&format!("{}/book", hub.base)).call().unwrap();
    let policy = page
        .header("Content-Security-Policy")
        .unwrap_or("")
        .to_owned();
    assert!(
        policy.contains("script-src 'self'") && !policy.contains("unsafe"),
        "{policy}"
    );
    let _: Value = serde_json::from_str(&hub.get("/v1/openapi.json").text).unwrap();
}
