//! 好差评 end to end: the window's rating pad in Chromium asks as soon as the console completes a
//! visit, a bad rating opens a case the dashboard shows; one rating per visit, the follow-up
//! once after rectification, complaints, the figures and what staff may not do — against the
//! real daemon.

mod support;

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use fantoccini::Locator;
use serde_json::{json, Value};
use support::TestApp;

const PAD: &str = "demo-pad-token";
const KIOSK: &str = "demo-kiosk-token";

/// A visit served at `window` by demo-staff: issued, called and completed through the API.
fn served_visit_at(app: &TestApp, staff: &str, window: &str) -> Value {
    let ticket = app.issue_ticket("tax-general");
    let called = app.call_next(staff, window);
    assert_eq!(called.status, 200, "{:?}", called.body);
    let done = app.window_action(staff, window, "complete", None);
    assert_eq!(done.status, 200, "{:?}", done.body);
    ticket
}

fn served_visit(app: &TestApp, staff: &str) -> Value {
    served_visit_at(app, staff, "w02")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complete_at_the_console_the_pad_asks_a_bad_rating_opens_a_case_on_the_dashboard() {
    let app = TestApp::spawn();
    let base = app.base.clone();
    tokio::task::spawn_blocking(move || TestApp::attach(&base).issue_ticket("tax-general"))
        .await
        .unwrap();

    // The pad at window 2, a 1280×800 tablet, set up once with its token.
    let pad = Browser::start(1280, 800).await;
    pad.client
        .goto(&app.url(&format!("/rate/w02?token={PAD}")))
        .await
        .unwrap();
    pad.wait_for_text("#who", |t| t == "2号窗口").await;
    // The token left the address bar.
    let address = pad.client.current_url().await.unwrap();
    assert!(!address.as_str().contains("token"), "{address}");

    // The console at 1366×768: sign in at w02, call, then complete with the button.
    let console = Browser::start(1366, 768).await;
    console.sign_in_console(&app.base, "w02").await;
    console
        .wait_for_text("#title", |t| t.starts_with("2号窗口"))
        .await;
    console.click("[data-action=\"call-next\"]").await;
    console
        .wait_for_text("#current-number", |t| t == "A001")
        .await;
    // The pad, idle, now names the staff number on duty (not the name).
    pad.wait_for_text("#idle-staff", |t| t == "工号 demo-staff 为您服务")
        .await;
    pad.screenshot("rating-pad-idle-1280x800.png").await;
    console.click("[data-action=\"complete\"]").await;

    // The pad asks at once, showing the number and who served.
    pad.wait_for_attr("body", "data-screen", |s| s == "ask")
        .await;
    pad.wait_for_text("#visit", |t| t.contains("A001") && t.contains("2号窗口"))
        .await;
    pad.wait_for_text("#visit-staff", |t| t == "服务人员工号 demo-staff")
        .await;
    // Five large, labelled levels.
    let labels: Vec<String> = {
        let mut labels = Vec::new();
        for element in pad
            .client
            .find_all(Locator::Css(".hq-level .hq-label"))
            .await
            .unwrap()
        {
            labels.push(element.text().await.unwrap());
        }
        labels
    };
    assert_eq!(
        labels,
        ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    );
    let height: f64 = pad
        .client
        .execute(
            "return document.querySelector('.hq-level').getBoundingClientRect().height",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(height >= 96.0, "rating buttons are {height} px tall");
    pad.screenshot("rating-pad-ask-1280x800.png").await;
    pad.click("[data-level=\"dissatisfied\"]").await;
    pad.wait_for_text(".hq-reasons", |t| t.contains("等候时间过长"))
        .await;
    pad.client
        .find(Locator::XPath(
            "//button[contains(@class,'hq-reason')][text()='等候时间过长']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    pad.click(".hq-submit").await;
    pad.wait_for_attr("body", "data-screen", |s| s == "done")
        .await;
    let thanks = pad
        .wait_for_text("#done-text", |t| t.contains("回访"))
        .await;
    assert!(thanks.contains("税务"), "{thanks}");
    pad.screenshot("rating-pad-thanks.png").await;

    // The manager's dashboard lists the case with its due dates and what to do next.
    console.sign_in_dashboard(&app.base).await;
    let row = console
        .wait_for_text("#cases", |t| t.contains("差评 A001（不满意）"))
        .await;
    assert!(row.contains("税务") && row.contains("待回访"), "{row}");
    console.wait_for_text("#r-bad", |t| t == "1").await;
    console.wait_for_text("#r-ratings", |t| t == "1").await;
    console.screenshot("dashboard-cases.png").await;
    // Calling back from the dashboard moves it on.
    console.click("#cases [data-action=\"call_back\"]").await;
    console
        .wait_for_text("#cases", |t| t.contains("已回访，整改中"))
        .await;

    // Back at the pad: idle again after the thanks.
    pad.wait_for_attr("body", "data-screen", |s| s == "idle")
        .await;
    pad.close().await;
    console.close().await;
}

#[test]
fn each_visit_is_rated_once_and_the_follow_up_once_after_rectification() {
    let app = TestApp::spawn();
    let staff = app.staff_token("w02");
    let manager = app.manager_token();
    let ticket = served_visit(&app, &staff);
    let id = ticket["id"].as_u64().unwrap();
    let token = ticket["token"].as_str().unwrap().to_owned();

    // The citizen's own page rates with the ticket's token, no credentials.
    let first = app.request(
        "POST",
        "/api/v1/ratings",
        None,
        Some(&json!({"ticket": token, "level": "very_dissatisfied", "reasons": ["服务态度差"], "comment": "窗口人员态度生硬"})),
    );
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["round"], 1);
    let case = first.body["case"]["id"].as_u64().unwrap();
    let seq = app.log_seq();

    // A second rating of the same visit: 409, nothing changes — from any channel.
    let again = app.request(
        "POST",
        "/api/v1/ratings",
        None,
        Some(&json!({"ticket": token, "level": "satisfied"})),
    );
    assert_eq!(again.status, 409, "{:?}", again.body);
    assert_eq!(again.code(), "follow_up_not_open");
    let from_pad = app.post(
        "/api/v1/ratings",
        PAD,
        json!({"ticket": id, "level": "very_satisfied"}),
    );
    assert_eq!(from_pad.status, 409);
    app.assert_unchanged_since(seq);

    // Staff cannot rate, change or delete a rating.
    let by_staff = app.post(
        "/api/v1/ratings",
        &staff,
        json!({"ticket": id, "level": "very_satisfied"}),
    );
    assert_eq!(by_staff.status, 403);
    let staff_cases = app.get_as("/api/v1/cases", &staff);
    assert_eq!(staff_cases.status, 403);
    let staff_action = app.post(
        &format!("/api/v1/cases/{case}/actions"),
        &staff,
        json!({"action": "close"}),
    );
    assert_eq!(staff_action.status, 403);
    for method in ["DELETE", "PUT", "PATCH"] {
        let answer = app.request(method, "/api/v1/ratings", Some(&staff), None);
        assert!(
            [404, 405].contains(&answer.status),
            "{method}: {}",
            answer.status
        );
    }

    // The case as managers see it: the comment, the due dates, the department.
    let detail = app.get_as(&format!("/api/v1/cases/{case}"), &manager).body;
    assert_eq!(detail["comment"], "窗口人员态度生硬");
    assert_eq!(detail["department"], "税务");
    assert_eq!(detail["status"], "open");
    assert!(detail["callback_due"].as_str().unwrap().len() == 10);

    // Rectified: the follow-up is accepted once.
    for action in ["call_back", "rectify"] {
        let moved = app.post(
            &format!("/api/v1/cases/{case}/actions"),
            &manager,
            json!({"action": action, "note": "已联系群众并说明"}),
        );
        assert_eq!(moved.status, 200, "{:?}", moved.body);
    }
    let wrong = app.post(
        &format!("/api/v1/cases/{case}/actions"),
        &manager,
        json!({"action": "rectify"}),
    );
    assert_eq!(wrong.status, 409);
    assert_eq!(wrong.code(), "invalid_case_state");
    let follow_up = app.request(
        "POST",
        "/api/v1/ratings",
        None,
        Some(&json!({"ticket": token, "level": "satisfied"})),
    );
    assert_eq!(follow_up.status, 201, "{:?}", follow_up.body);
    assert_eq!(follow_up.body["round"], 2);
    let third = app.request(
        "POST",
        "/api/v1/ratings",
        None,
        Some(&json!({"ticket": token, "level": "very_satisfied"})),
    );
    assert_eq!(third.status, 409);
    assert_eq!(third.code(), "already_rated");

    // After a restart the hall still knows.
    let mut app = app;
    app.respawn();
    let after_restart = app.request(
        "POST",
        "/api/v1/ratings",
        None,
        Some(&json!({"ticket": token, "level": "very_satisfied"})),
    );
    assert_eq!(after_restart.status, 409);
    let open = app
        .get_as("/api/v1/cases?status=open", &app.manager_token())
        .body;
    assert_eq!(open["cases"][0]["status"], "rectified");
}

#[test]
fn the_kiosk_rates_by_number_and_files_complaints_and_the_pad_only_its_window() {
    let app = TestApp::spawn();
    let staff = app.staff_token("w02");
    let manager = app.manager_token();
    let ticket = served_visit(&app, &staff);
    let number = ticket["number"].as_str().unwrap();

    // The kiosk finds the visit by its number, with the staff number.
    let visit = app.get_as(&format!("/api/v1/visits/{number}"), KIOSK);
    assert_eq!(visit.status, 200, "{:?}", visit.body);
    assert_eq!(visit.body["staff"], "demo-staff");
    assert_eq!(visit.body["rating_open"], true);
    assert_eq!(visit.body["levels"].as_array().unwrap().len(), 5);

    // Bad input: clear 4xx, nothing changes.
    let seq = app.log_seq();
    for (body, status, code) in [
        (
            json!({"ticket": number, "level": "great"}),
            422,
            "invalid_level",
        ),
        (
            json!({"ticket": number, "level": "satisfied", "reasons": ["<script>"]}),
            422,
            "unknown_reason",
        ),
        (
            json!({"ticket": number, "level": "satisfied", "comment": "很".repeat(501)}),
            422,
            "text_too_long",
        ),
        (
            json!({"ticket": "Z999", "level": "satisfied"}),
            404,
            "not_found",
        ),
        (
            json!({"ticket": number, "level": "satisfied", "extra": 1}),
            400,
            "invalid_json",
        ),
    ] {
        let answer = app.post("/api/v1/ratings", KIOSK, body.clone());
        assert_eq!((answer.status, answer.code()), (status, code), "{body}");
    }
    // No credentials and no token: refused.
    let anonymous = app.request(
        "POST",
        "/api/v1/ratings",
        None,
        Some(&json!({"ticket": ticket["id"], "level": "satisfied"})),
    );
    assert_eq!(anonymous.status, 401);
    app.assert_unchanged_since(seq);

    // The pad at window 2 may not rate window 1's visits.
    let w01 = app.staff_token("w01");
    let other = served_visit_at(&app, &w01, "w01");
    let elsewhere = app.get_as(&format!("/api/v1/visits/{}", other["id"]), PAD);
    assert_eq!(elsewhere.status, 403);
    let refused = app.post(
        "/api/v1/ratings",
        PAD,
        json!({"ticket": other["id"], "level": "satisfied"}),
    );
    assert_eq!(refused.status, 403);
    let rated = app.post(
        "/api/v1/ratings",
        KIOSK,
        json!({"ticket": number, "level": "very_satisfied", "reasons": ["办事高效"]}),
    );
    assert_eq!(rated.status, 201, "{:?}", rated.body);
    assert!(rated.body["case"].is_null());

    // A complaint from the kiosk with a phone to answer on: a case, the phone masked.
    let complaint = app.post(
        "/api/v1/complaints",
        KIOSK,
        json!({"category": "环境设施", "text": "叫号屏看不清", "phone": "13812345678"}),
    );
    assert_eq!(complaint.status, 201, "{:?}", complaint.body);
    let case = complaint.body["case"]["id"].as_u64().unwrap();
    assert_eq!(complaint.body["case"]["department"], "大厅管理办公室");
    let detail = app.get_as(&format!("/api/v1/cases/{case}"), &manager).body;
    assert_eq!(detail["phone_masked"], "138****5678");
    assert_eq!(detail["kind"], "complaint");
    let bad_phone = app.post(
        "/api/v1/complaints",
        KIOSK,
        json!({"category": "环境设施", "text": "x", "phone": "12345"}),
    );
    assert_eq!(bad_phone.code(), "invalid_phone");
    let unknown_category = app.post(
        "/api/v1/complaints",
        KIOSK,
        json!({"category": "外星人", "text": "x"}),
    );
    assert_eq!(
        (unknown_category.status, unknown_category.code()),
        (422, "unknown_category")
    );
    let anonymous_complaint = app.request(
        "POST",
        "/api/v1/complaints",
        None,
        Some(&json!({"category": "其他", "text": "x"})),
    );
    assert_eq!(anonymous_complaint.status, 401);

    // Nothing personal without credentials, in the log or on the public stream.
    let log = app.log();
    assert!(!log.contains("13812345678"), "the log shows the phone");
    assert!(!log.contains("叫号屏看不清"), "the log shows the complaint");
    let public = app.get("/api/v1/ratings/options");
    assert_eq!(public.status, 200);
    let text = public.text;
    assert!(text.contains("非常满意") && text.contains("环境设施"));

    // The figures: by window and by staff, and the CSV.
    let figures = app
        .get_as("/api/v1/ratings/figures?by=staff", &manager)
        .body;
    assert_eq!(figures["totals"]["ratings"], 1);
    assert_eq!(figures["totals"]["satisfaction_percent"], 100.0);
    let by_staff = figures["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["key"] == "demo-staff")
        .expect("a row for demo-staff");
    assert_eq!(by_staff["ratings"], 1);
    // The complaint named nobody: counted apart.
    assert_eq!(figures["totals"]["cases"], 1);
    let csv = app.get_as(
        "/api/v1/ratings/figures.csv?by=department&period=month",
        &manager,
    );
    assert_eq!(csv.status, 200);
    assert!(csv.text.contains("满意率(%)") && csv.text.contains("税务"));
    let open = app.get_as("/api/v1/cases?status=open", &manager).body;
    assert_eq!(open["cases"].as_array().unwrap().len(), 1);
    let bad_query = app.get_as("/api/v1/cases?status=everything", &manager);
    assert_eq!(bad_query.status, 400);
    // Operators see the loop in the metrics too.
    let metrics = app.get("/metrics").text;
    assert!(metrics.contains("hallq_cases_open 1"), "{metrics}");
    assert!(metrics.contains("hallq_cases_overdue 0"));
    assert!(metrics.contains("hallq_visits_unrated 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_citizen_rates_on_their_own_page_at_a_phones_width() {
    let app = TestApp::spawn();
    let base = app.base.clone();
    let ticket = tokio::task::spawn_blocking(move || {
        let app = TestApp::attach(&base);
        let staff = app.staff_token("w02");
        served_visit(&app, &staff)
    })
    .await
    .unwrap();
    let phone = Browser::start(390, 844).await;
    let page = ticket["status_url"].as_str().unwrap();
    phone.client.goto(&app.url(page)).await.unwrap();
    phone
        .wait_for_text("#state", |t| t.starts_with("已办结"))
        .await;
    phone
        .wait_for_text("#rate-title", |t| t == "请您为本次服务评价")
        .await;
    phone
        .wait_for_text("#rate-staff", |t| t == "服务人员工号 demo-staff")
        .await;
    // Five levels fit the phone's width without scrolling sideways.
    let overflow: bool = phone
        .client
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(!overflow, "the page scrolls sideways at 390 px");
    phone.click("[data-level=\"very_satisfied\"]").await;
    phone.click("#rate .hq-submit").await;
    phone
        .wait_for_text("#rated", |t| t == "感谢您的评价！")
        .await;
    phone.screenshot("citizen-rated-390x844.png").await;
    // Reloaded, the page says it was rated and offers no second rating.
    phone.client.refresh().await.unwrap();
    phone
        .wait_for_text("#rated", |t| t.starts_with("您已评价"))
        .await;
    assert!(phone
        .client
        .find(Locator::Css("#rate-form .hq-level"))
        .await
        .is_err());
    // A complaint from the same page.
    phone.click("#open-complaint").await;
    phone
        .wait_for_text("#complain-form", |t| t.contains("请选择类别"))
        .await;
    phone
        .select("#complain-form .hq-category", "办事效率")
        .await;
    phone
        .fill("#complain-form .hq-text", "材料要求反复变化")
        .await;
    phone.click("#complain-form .hq-submit").await;
    phone
        .wait_for_text("#complain-form", |t| t.starts_with("已受理，编号"))
        .await;
    phone.close().await;
}
