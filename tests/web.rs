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
    browser.sign_in_dashboard(&app.base).await;
    browser.wait_for_text("#t-waiting", |t| t == "0").await;

    // The kiosk, in English for a moment, then back to Chinese.
    client.goto(&app.url("/")).await.unwrap();
    browser
        .wait_for_text("#hall", |t| t == "江州市政务服务中心")
        .await;
    browser.click("#lang").await;
    browser
        .wait_for_text("#green", |t| t.starts_with("Priority"))
        .await;
    browser
        .wait_for_text("[data-service=\"tax-general\"] b", |t| t == "Tax services")
        .await;
    browser.click("#lang").await;
    browser
        .wait_for_text("#green", |t| t.starts_with("绿色通道"))
        .await;
    browser.click("[data-service=\"tax-general\"]").await;
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
    browser.sign_in_console(&app.base, "w02").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kiosk_check_in_printer_trouble_and_elder_mode() {
    // A hall whose kiosk printer is unplugged: tickets are still issued, the screen says so.
    let temp = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(support::demo_config()).unwrap();
    let config = temp.path().join("hall.toml");
    std::fs::write(
        &config,
        demo.replace(
            "url = \"file:spool/printer-lobby.escpos\"",
            "url = \"tcp://127.0.0.1:1\"",
        ),
    )
    .unwrap();
    let app = TestApp::spawn_in(&temp.path().join("data"), &config);
    let browser = Browser::start(1080, 1600).await;
    let client = &browser.client;
    client.goto(&app.url("/")).await.unwrap();
    browser
        .wait_for_text("#hall", |t| t == "江州市政务服务中心")
        .await;

    // Elder mode: larger text, one tap.
    browser.click("#elder").await;
    let class = client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap();
    assert_eq!(class.as_deref(), Some("elder"));
    browser.click("#elder").await;

    // Green channel, printer unplugged: the number and QR are on screen with a clear message.
    browser.click("#green").await;
    browser.click("[data-service=\"vehicle\"]").await;
    browser
        .wait_for_text("#ticket-number", |t| t == "J001")
        .await;
    let notice = browser
        .wait_for_text("#print-notice", |t| t.contains("号票打印失败"))
        .await;
    assert!(
        !notice.contains("tcp://"),
        "technical details are for staff, not citizens: {notice}"
    );
    browser.screenshot("kiosk-printer-failed.png").await;
    let manager = tokio::task::spawn_blocking({
        let base = app.base.clone();
        move || TestApp::attach(&base).manager_token()
    })
    .await
    .unwrap();
    let tickets = app.get_as("/api/v1/tickets/1", &manager).body;
    assert_eq!(tickets["priority"], "green");

    // Appointment check-in with the on-screen keypad.
    let base = app.base.clone();
    let manager_for_booking = manager.clone();
    let code = tokio::task::spawn_blocking(move || {
        let app = TestApp::attach(&base);
        let start = app.next_slot("property-transfer");
        let booked = app.post(
            "/api/v1/appointments",
            &manager_for_booking,
            serde_json::json!({"service": "property-transfer", "start": start, "channel": "phone", "phone": "13812345678"}),
        );
        booked.body["code"].as_str().unwrap().to_owned()
    })
    .await
    .unwrap();
    browser.click("#result [data-back]").await;
    browser.click("#to-check-in").await;
    for key in code.chars() {
        let button = client
            .find(Locator::XPath(&format!(
                "//div[@id='keypad']//button[text()='{key}']"
            )))
            .await
            .unwrap();
        button.click().await.unwrap();
    }
    browser.wait_for_text("#entry", |t| t == code).await;
    browser.click("#check-in-go").await;
    browser
        .wait_for_text("#ticket-number", |t| t == "F001")
        .await;
    browser
        .wait_for_text("#ticket-ahead", |t| t == "您前面还有 0 人")
        .await;
    browser.close().await;
}

/// A double touch on a service card makes one ticket: the card is held until the answer comes,
/// and the request carries an idempotency key, so even a resent request makes none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_tap_on_the_kiosk_makes_one_ticket() {
    let app = TestApp::spawn();
    let browser = Browser::start(1080, 1920).await;
    browser.client.goto(&app.url("/")).await.unwrap();
    browser
        .wait_for_text("[data-service=\"household\"] b", |t| t == "户籍业务")
        .await;
    let issued_before = app.requests_to("/api/v1/tickets");
    // Two touches in the same instant, as a shaky finger makes them.
    browser
        .client
        .execute(
            "const card = document.querySelector('[data-service=\"household\"]'); card.click(); card.click();",
            vec![],
        )
        .await
        .unwrap();
    browser
        .wait_for_text("#ticket-number", |t| t == "K001")
        .await;
    browser.screenshot("kiosk-double-tap-1080x1920.png").await;
    let base = app.base.clone();
    let waiting = tokio::task::spawn_blocking(move || TestApp::attach(&base).waiting("household"))
        .await
        .unwrap();
    assert_eq!(waiting, 1, "one ticket for a double tap");
    assert_eq!(app.requests_to("/api/v1/tickets") - issued_before, 1);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screens_speak_chinese_from_error_codes_and_the_kiosk_keypad_is_a_phones() {
    let app = TestApp::spawn();
    let browser = Browser::start(1080, 1920).await;
    let client = &browser.client;
    client.goto(&app.url("/")).await.unwrap();
    browser
        .wait_for_text("#hall", |t| t == "江州市政务服务中心")
        .await;
    // A ticket: take it, and where to wait.
    browser.click("[data-service=\"vehicle\"]").await;
    browser
        .wait_for_text("#take-ticket", |t| t.starts_with("请取走号票"))
        .await;
    browser.click("#result [data-back]").await;
    // The keypad: 1–9, then 清除 · 0 · ⌫, each at least 60 px square in elder mode.
    browser.click("#elder").await;
    browser.click("#to-check-in").await;
    let digits: Vec<String> = {
        let mut labels = Vec::new();
        for key in client
            .find_all(Locator::Css("#keypad .digits button"))
            .await
            .unwrap()
        {
            labels.push(key.text().await.unwrap());
        }
        labels
    };
    assert_eq!(
        digits,
        ["1", "2", "3", "4", "5", "6", "7", "8", "9", "清除", "0", "⌫"]
    );
    let smallest: f64 = client
        .execute(
            "return Math.min(...[...document.querySelectorAll('#keypad button')].map(b => { \
             const r = b.getBoundingClientRect(); return Math.min(r.width, r.height); }))",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(smallest >= 60.0, "a key is {smallest} px");
    // A wrong code: the citizen reads plain Chinese from the error's code, no developer text.
    for key in ["9", "9", "9", "9", "9", "9", "9", "9"] {
        client
            .find(Locator::XPath(&format!(
                "//div[@id='keypad']//button[text()='{key}']"
            )))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    browser.click("#check-in-go").await;
    let said = browser
        .wait_for_text("#check-in-message", |t| !t.is_empty())
        .await;
    assert_eq!(said, "没有找到该预约，请核对预约码。");
    browser.click("#check-in .clear").await;
    browser.wait_for_text("#entry", |t| t.is_empty()).await;
    browser.screenshot("kiosk-keypad-elder-1080x1920.png").await;

    // The console: an action that cannot be done says why in Chinese.
    let console = Browser::start(1366, 768).await;
    console.client.goto(&app.url("/staff")).await.unwrap();
    console.fill("#staff-id", "demo-staff").await;
    console.fill("#pin", "000000").await;
    console.select("#window", "w05").await;
    console.click("#sign-in button").await;
    console
        .wait_for_text("#sign-in-message", |t| t == "工号或密码不正确。")
        .await;
    console.client.refresh().await.unwrap();
    console.fill("#staff-id", "demo-staff").await;
    console.fill("#pin", "246810").await;
    console.select("#window", "w05").await;
    console.click("#sign-in button").await;
    console
        .wait_for_text("#title", |t| t.starts_with("5号窗口"))
        .await;
    console.click("[data-action=\"complete\"]").await;
    console
        .wait_for_text("#message", |t| t == "当前没有正在办理的号，请先叫号。")
        .await;
    console.close().await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_confirms_each_action_undoes_a_no_show_and_signs_out() {
    let app = TestApp::spawn();
    let base = app.base.clone();
    tokio::task::spawn_blocking(move || TestApp::attach(&base).issue_ticket("tax-general"))
        .await
        .unwrap();
    let console = Browser::start(1366, 768).await;
    console.sign_in_console(&app.base, "w02").await;
    console
        .wait_for_text("#title", |t| t.starts_with("2号窗口"))
        .await;
    console.click("[data-action=\"call-next\"]").await;
    console
        .wait_for_text("#message", |t| t == "已呼叫 A001")
        .await;
    // Transfer never offers the service being served.
    let offered = console
        .client
        .execute(
            "return [...document.querySelectorAll('#transfer-to option')].map(o => o.value)",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        !offered.to_string().contains("\"tax-general\""),
        "{offered}"
    );
    // A no-show by mistake is undone from the confirmation line.
    console.click("[data-action=\"no-show\"]").await;
    console
        .wait_for_text("#message", |t| t.starts_with("A001 已标记过号"))
        .await;
    console.click("#undo-no-show").await;
    console
        .wait_for_text("#message", |t| t == "A001 已恢复排队")
        .await;
    // Paused, the window's buttons are off.
    console.click("#pause").await;
    console
        .wait_for_text("#message", |t| t == "窗口已暂停")
        .await;
    console
        .wait_for_attr("[data-action=\"call-next\"]", "disabled", |_| true)
        .await;
    console.screenshot("console-paused-1366x768.png").await;
    console.click("#sign-out").await;
    console.wait_for_attr("#console", "hidden", |_| true).await;
    console.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_pauses_and_resumes_a_window_from_the_dashboard_and_charts_have_values() {
    let app = TestApp::spawn();
    let base = app.base.clone();
    tokio::task::spawn_blocking(move || TestApp::attach(&base).issue_ticket("vehicle"))
        .await
        .unwrap();
    let browser = Browser::start(1920, 1080).await;
    browser.sign_in_dashboard(&app.base).await;
    browser.wait_for_text("#t-issued", |t| t == "1").await;
    browser
        .click("#windows .window-toggle[data-window=\"w09\"]")
        .await;
    browser
        .wait_for_text("#windows .paused", |t| {
            t.contains("9号窗口") && t.contains("暂停")
        })
        .await;
    let window = app.get("/api/v1/windows/w09").body;
    assert_eq!(window["window"]["status"], "paused");
    browser
        .click("#windows .window-toggle[data-window=\"w09\"]")
        .await;
    let base = app.base.clone();
    support::hub::wait_until(std::time::Duration::from_secs(10), "w09 open again", || {
        TestApp::attach(&base).get("/api/v1/windows/w09").body["window"]["status"] == "open"
    });
    // The arrivals chart says its scale and each bar's value.
    browser
        .wait_for_text("#arrivals .axis-top", |t| t == "1")
        .await;
    browser
        .wait_for_text("#arrivals .bar-value", |t| t == "1")
        .await;
    browser.screenshot("dashboard-1920x1080.png").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_lists_who_waits_calls_a_given_number_and_books_only_what_can_be_booked() {
    let app = TestApp::spawn();
    let base = app.base.clone();
    let numbers: Vec<String> = tokio::task::spawn_blocking(move || {
        let app = TestApp::attach(&base);
        ["tax-general", "tax-general", "tax-invoice"]
            .iter()
            .map(|service| {
                app.issue_ticket(service)["number"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    })
    .await
    .unwrap();
    let console = Browser::start(1366, 768).await;
    console.sign_in_console(&app.base, "w02").await;
    console
        .wait_for_text("#waiting-total", |t| t == "共 3 人")
        .await;
    let listed = console
        .wait_for_text("#waiting-numbers", |t| {
            numbers.iter().all(|n| t.contains(n.as_str()))
        })
        .await;
    assert!(
        listed.find(&numbers[0]) < listed.find(&numbers[2]),
        "call order: {listed}"
    );
    // 特呼 the last one by the number typed as it reads on the ticket (lower case is fine).
    console
        .fill("#special-number", &numbers[2].to_lowercase())
        .await;
    console.click("#special-go").await;
    console
        .wait_for_text("#message", |t| t == format!("已特呼 {}", numbers[2]))
        .await;
    console
        .wait_for_text("#current-number", |t| t == numbers[2])
        .await;
    console
        .wait_for_text("#waiting-total", |t| t == "共 2 人")
        .await;
    // And from the list: the first row's button.
    console.click("#waiting-numbers button").await;
    console
        .wait_for_text("#message", |t| t == format!("已特呼 {}", numbers[0]))
        .await;
    // The phone-booking form offers only what the hall books itself.
    let hall = app.get("/api/v1/hall").body;
    let bookable: Vec<String> = hall["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["bookable"] == true)
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!bookable.is_empty() && bookable.len() < hall["services"].as_array().unwrap().len());
    let offered = console
        .client
        .execute(
            "return [...document.querySelectorAll('#book-service option')].map(o => o.value)",
            vec![],
        )
        .await
        .unwrap();
    let offered: Vec<String> = serde_json::from_value(offered).unwrap();
    assert_eq!(offered, bookable);
    // Nothing of the console is cut off at 1366 px: the booking button is on the screen.
    let fits = console
        .client
        .execute(
            "const r = document.getElementById('book-go').getBoundingClientRect(); \
             const card = document.getElementById('booking').getBoundingClientRect(); \
             return r.right <= card.right && document.documentElement.scrollWidth <= window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fits, serde_json::json!(true));
    console.screenshot("console-waiting-1366x768.png").await;
    // Paused, no number can be called from the box or the list.
    console.click("#pause").await;
    console
        .wait_for_attr("#special-go", "disabled", |_| true)
        .await;
    console
        .wait_for_attr("#waiting-numbers button", "disabled", |_| true)
        .await;
    console.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_fits_1080p_puts_a_notice_on_the_boards_and_sets_wait_alarms() {
    let app = TestApp::spawn();
    let base = app.base.clone();
    tokio::task::spawn_blocking(move || {
        let app = TestApp::attach(&base);
        for service in ["vehicle", "vehicle", "tax-general"] {
            app.issue_ticket(service);
        }
    })
    .await
    .unwrap();
    let board = Browser::start(1920, 1080).await;
    board.client.goto(&app.url("/board")).await.unwrap();
    board.wait_for_text("#notice", |t| !t.is_empty()).await;
    let board_loads = app.requests_to("/api/v1/board");

    let dashboard = Browser::start(1920, 1080).await;
    dashboard.sign_in_dashboard(&app.base).await;
    dashboard.wait_for_text("#t-issued", |t| t == "3").await;
    dashboard
        .wait_for_text("#notice-state", |t| t.contains("配置文件"))
        .await;
    // The whole dashboard on one 1080p screen: nothing below the fold, nothing to the side.
    let fits = dashboard
        .client
        .execute(
            "const d = document.documentElement; \
             return [d.scrollHeight, window.innerHeight, d.scrollWidth, window.innerWidth]",
            vec![],
        )
        .await
        .unwrap();
    let [height, inner_height, width, inner_width]: [u64; 4] =
        serde_json::from_value(fits).unwrap();
    assert!(
        height <= inner_height && width <= inner_width,
        "{width}×{height} in {inner_width}×{inner_height}"
    );
    // Every chart is on the screen, not cut off.
    let charts_visible = dashboard
        .client
        .execute(
            "return [...document.querySelectorAll('svg')].every(s => s.getBoundingClientRect().bottom <= window.innerHeight)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(charts_visible, serde_json::json!(true));

    // A notice published from the dashboard reaches the board at once, through its stream.
    let notice = "午间 12:00–13:30 仅开放值班窗口";
    dashboard.fill("#notice-text", notice).await;
    dashboard.click("#notice-publish").await;
    dashboard
        .wait_for_text("#notice-state", |t| t.contains("已发布"))
        .await;
    board.wait_for_text("#notice", |t| t == notice).await;
    assert_eq!(
        app.requests_to("/api/v1/board"),
        board_loads,
        "the board reloaded instead of taking the notice from its stream"
    );

    // A wait alarm typed into the queues table is kept (and shown again after a reload).
    dashboard
        .client
        .execute(
            "const input = document.querySelector('tr[data-service=\"vehicle\"] .alarm-input'); \
             input.value = '15'; input.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .unwrap();
    let manager = app.manager_token();
    let base = app.base.clone();
    support::hub::wait_until(std::time::Duration::from_secs(10), "the alarm kept", || {
        TestApp::attach(&base)
            .get_as("/api/v1/stats/today", &manager)
            .body["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["service"] == "vehicle" && s["wait_alarm_s"] == 900)
    });
    dashboard.client.refresh().await.unwrap();
    dashboard
        .wait_for_script(
            "const input = document.querySelector('tr[data-service=\"vehicle\"] .alarm-input'); \
             return input && input.value",
            |value| value == "15",
        )
        .await;
    dashboard
        .screenshot("dashboard-notice-and-alarm-1920x1080.png")
        .await;

    // Given back to the hall file's notice, on the board too.
    dashboard.click("#notice-default").await;
    board
        .wait_for_text("#notice", |t| t.starts_with("请留意叫号屏幕"))
        .await;
    board.close().await;
    dashboard.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_fills_a_portrait_screen_speaks_english_and_meets_the_elder_figures() {
    let app = TestApp::spawn_with(support::UNLIMITED_KIOSK);
    for size in [(1080, 1920), (768, 1366)] {
        let kiosk = Browser::start(size.0, size.1).await;
        kiosk.open_kiosk(&app.base).await;
        // Portrait, filled: nothing sideways, and the start screen reaches the bottom (its help
        // line sits at the foot of the screen, not a third of the way up).
        let layout = kiosk
            .client
            .execute(
                "const d = document.documentElement; \
                 const foot = document.querySelector('#home footer').getBoundingClientRect(); \
                 return [d.scrollWidth, window.innerWidth, Math.round(foot.bottom), window.innerHeight]",
                vec![],
            )
            .await
            .unwrap();
        let [width, inner_width, foot, inner_height]: [i64; 4] =
            serde_json::from_value(layout).unwrap();
        assert!(
            width <= inner_width,
            "{size:?}: {width} px wide in {inner_width}"
        );
        assert!(
            foot >= inner_height * 9 / 10,
            "{size:?}: the start screen ends at {foot} of {inner_height} px"
        );
        if size.0 == 1080 {
            kiosk.screenshot("kiosk-home-1080x1920.png").await;
        }

        // English: the hall, its departments and its services, all in English.
        kiosk.click("#lang").await;
        kiosk
            .wait_for_text("#hall", |t| t == "Jiangzhou Government Service Centre")
            .await;
        let english = kiosk
            .wait_for_text("#departments", |t| t.contains("Taxation"))
            .await;
        assert!(
            !english
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "Chinese left in English mode: {english}"
        );
        kiosk.click("#lang").await;
        kiosk
            .wait_for_text("#hall", |t| t == "江州市政务服务中心")
            .await;

        // Elder mode to the MIIT figures, on every screen a citizen meets.
        kiosk.click("#elder").await;
        kiosk
            .wait_for_attr("body", "class", |c| c.contains("elder"))
            .await;
        kiosk.click("#green").await;
        kiosk
            .wait_for_text("#green-hint", |t| t.contains("优先叫号"))
            .await;
        kiosk.assert_elder_figures("the start screen").await;
        kiosk.click("#green").await;
        kiosk.click("#to-check-in").await;
        kiosk.assert_elder_figures("check-in").await;
        kiosk.click("#check-in [data-back]").await;
        kiosk.click("#to-rate").await;
        kiosk.assert_elder_figures("rating").await;
        kiosk.click("#rate [data-back]").await;
        kiosk
            .click("#departments button[data-service=\"tax-general\"]")
            .await;
        kiosk
            .wait_for_text("#take-ticket", |t| {
                t == "请取走号票，到一楼 A 区等候，留意叫号屏幕"
            })
            .await;
        kiosk.assert_elder_figures("the ticket").await;
        kiosk
            .screenshot(&format!("kiosk-ticket-elder-{}x{}.png", size.0, size.1))
            .await;
        kiosk.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_asks_before_it_starts_over_and_gives_the_next_citizen_the_standard_screen() {
    // Two seconds untouched (four in elder mode), then the question for two.
    let app = TestApp::spawn_with(&[("kiosk_idle_s", "2")]);
    let kiosk = Browser::start(1080, 1920).await;
    kiosk.open_kiosk(&app.base).await;
    kiosk.click("#elder").await;
    kiosk.click("#lang").await;
    kiosk.click("#to-check-in").await;
    // Untouched: asked, in the citizen's own language.
    kiosk
        .wait_for_text("#still-text", |t| t.starts_with("Are you still there?"))
        .await;
    kiosk.click("#still-more").await;
    kiosk
        .wait_for_attr("#still-there", "hidden", |_| true)
        .await;
    // One touch gave more time: still elder mode, English, the check-in screen.
    let kept = kiosk
        .client
        .execute(
            "return [document.body.classList.contains('elder'), document.documentElement.lang, \
             document.getElementById('check-in').classList.contains('active')]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kept, serde_json::json!([true, "en", true]));
    // Untouched again and not answered: back to the start, in Chinese, in standard mode.
    kiosk
        .wait_for_script(
            "return !document.body.classList.contains('elder') && document.documentElement.lang === 'zh-CN' \
             && document.getElementById('home').classList.contains('active') \
             && document.getElementById('still-there').hidden",
            |done| done == &serde_json::json!(true),
        )
        .await;
    kiosk.wait_for_text("#lang", |t| t == "English").await;
    kiosk.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_citizens_page_and_the_kiosks_rating_meet_the_elder_figures() {
    let app = TestApp::spawn();
    let base = app.base.clone();
    let ticket =
        tokio::task::spawn_blocking(move || TestApp::attach(&base).issue_ticket("tax-general"))
            .await
            .unwrap();
    let number = ticket["number"].as_str().unwrap().to_owned();
    let token = ticket["token"].as_str().unwrap().to_owned();

    let phone = Browser::start(390, 844).await;
    phone
        .client
        .goto(&app.url(&format!("/t/{token}")))
        .await
        .unwrap();
    phone.wait_for_text("#number", |t| t == number).await;
    phone.click("#elder").await;
    phone
        .wait_for_attr("body", "class", |c| c.contains("elder"))
        .await;
    phone
        .assert_elder_figures("the citizen's page, waiting")
        .await;
    // The visit is done: the rating form, then the complaint form, in elder mode.
    let base = app.base.clone();
    tokio::task::spawn_blocking(move || {
        let app = TestApp::attach(&base);
        let staff = app.staff_token("w02");
        assert_eq!(app.call_next(&staff, "w02").status, 200);
        assert_eq!(
            app.window_action(&staff, "w02", "complete", None).status,
            200
        );
    })
    .await
    .unwrap();
    phone.wait_for_text("#rate .hq-level", |_| true).await;
    phone.assert_elder_figures("the citizen's rating").await;
    phone.screenshot("citizen-rating-elder-390x844.png").await;
    phone.click("#open-complaint").await;
    phone.wait_for_text("#complain .hq-submit", |_| true).await;
    phone.assert_elder_figures("the citizen's complaint").await;
    // The phone keeps the choice.
    phone.client.refresh().await.unwrap();
    phone
        .wait_for_attr("body", "class", |c| c.contains("elder"))
        .await;
    phone.close().await;

    let kiosk = Browser::start(1080, 1920).await;
    kiosk.open_kiosk(&app.base).await;
    kiosk.click("#elder").await;
    kiosk.click("#to-rate").await;
    for key in number.chars() {
        kiosk
            .client
            .execute(
                "[...document.querySelectorAll('#rate-keypad button')].find(b => b.textContent === arguments[0]).click()",
                vec![serde_json::json!(key.to_string())],
            )
            .await
            .unwrap();
    }
    kiosk.wait_for_text("#rate-entry", |t| t == number).await;
    kiosk.click("#rate-find").await;
    kiosk.wait_for_text("#rate-form .hq-level", |_| true).await;
    kiosk.assert_elder_figures("the kiosk's rating").await;
    kiosk.click("#rate-complain").await;
    kiosk
        .wait_for_text("#kiosk-complaint .hq-submit", |_| true)
        .await;
    kiosk.assert_elder_figures("the kiosk's complaint").await;
    kiosk.close().await;
}
