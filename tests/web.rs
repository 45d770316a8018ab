//! The web apps in a real browser: kiosk → window console → board, citizen's page and the
//! manager's dashboard, the way people use them.

mod support;

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use fantoccini::Locator;
use support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_takes_a_number_staff_call_it_and_everyone_sees_it() {
    let app = TestApp::spawn();
    let browser = Browser::start(1080, 1600).await;
    let client = &browser.client;

    // The manager's dashboard first: nobody waits yet.
    client.goto(&app.url("/manage")).await.unwrap();
    client
        .find(Locator::Css("#staff-id"))
        .await
        .unwrap()
        .send_keys("demo-manager")
        .await
        .unwrap();
    client
        .find(Locator::Css("#pin"))
        .await
        .unwrap()
        .send_keys("135790")
        .await
        .unwrap();
    client
        .find(Locator::Css("#sign-in button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_text("#t-waiting", |t| t == "0").await;

    // The kiosk, in English for a moment, then back to Chinese.
    client.goto(&app.url("/")).await.unwrap();
    browser
        .wait_for_text("#hall", |t| t == "江州市政务服务中心")
        .await;
    client
        .find(Locator::Css("#lang"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("#green", |t| t.starts_with("Priority"))
        .await;
    browser
        .wait_for_text("[data-service=\"tax-general\"] b", |t| t == "Tax services")
        .await;
    client
        .find(Locator::Css("#lang"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("#green", |t| t.starts_with("绿色通道"))
        .await;
    client
        .find(Locator::Css("[data-service=\"tax-general\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("#ticket-number", |t| t == "A001")
        .await;
    browser
        .wait_for_text("#ticket-ahead", |t| t == "您前面还有 0 人")
        .await;
    let qr = client
        .find(Locator::Css("#ticket-qr"))
        .await
        .unwrap()
        .attr("src")
        .await
        .unwrap()
        .unwrap();
    assert!(qr.starts_with("/t/") && qr.ends_with("/qr.svg"), "{qr}");
    assert!(app.get(&qr).text.starts_with("<svg"));
    browser.screenshot("kiosk-ticket-1080x1600.png").await;
    let status_url = qr.trim_end_matches("/qr.svg").to_owned();

    // The dashboard counts the waiting citizen.
    client.goto(&app.url("/manage")).await.unwrap();
    browser.wait_for_text("#t-waiting", |t| t == "1").await;

    // The window console: sign in at window 2, call with the keyboard.
    client.goto(&app.url("/staff")).await.unwrap();
    client
        .find(Locator::Css("#staff-id"))
        .await
        .unwrap()
        .send_keys("demo-staff")
        .await
        .unwrap();
    client
        .find(Locator::Css("#pin"))
        .await
        .unwrap()
        .send_keys("246810")
        .await
        .unwrap();
    client
        .find(Locator::Css("#window"))
        .await
        .unwrap()
        .select_by_value("w02")
        .await
        .unwrap();
    client
        .find(Locator::Css("#sign-in button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("#title", |t| t.starts_with("2号窗口"))
        .await;
    browser
        .wait_for_text("#waiting", |t| {
            t.contains("涉税综合业务") && t.contains("1 人")
        })
        .await;
    client
        .execute(
            "document.dispatchEvent(new KeyboardEvent('keydown', {key: ' '}))",
            vec![],
        )
        .await
        .unwrap();
    browser
        .wait_for_text("#current-number", |t| t == "A001")
        .await;
    // Today's own figures: one called.
    browser
        .wait_for_text("#mine tr:first-child td.n", |t| t == "1")
        .await;
    browser.screenshot("staff-console.png").await;

    // The board and the citizen's own page show the call.
    client.goto(&app.url("/board")).await.unwrap();
    browser.wait_for_text("#now-number", |t| t == "A001").await;
    client.goto(&app.url(&status_url)).await.unwrap();
    browser
        .wait_for_text("#state", |t| t == "请到 2号窗口 办理")
        .await;

    // The dashboard's count dropped, and the window shows who is on it.
    client.goto(&app.url("/manage")).await.unwrap();
    browser.wait_for_text("#t-waiting", |t| t == "0").await;
    browser.wait_for_text("#t-called", |t| t == "1").await;
    browser
        .wait_for_text("#windows", |t| {
            t.contains("演示窗口人员") && t.contains("A001")
        })
        .await;
    browser.screenshot("dashboard.png").await;
    browser.close().await;
}
