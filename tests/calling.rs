//! Silent calling as people see it: the TV board and the citizen's own page in headless
//! Chromium, and the LED display above the window on a serial line (a pseudo-terminal).

mod support;

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use serde_json::json;
use std::io::Read;
use std::time::{Duration, Instant};
use support::{TestApp, KIOSK};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_shows_each_call_at_once_and_no_personal_data() {
    let app = TestApp::spawn();
    let browser = Browser::start(1920, 1080).await;
    browser.client.goto(&app.url("/board")).await.unwrap();
    browser
        .wait_for_text("#hall", |t| t == "江州市政务服务中心")
        .await;

    let (staff, ticket) = tokio::task::spawn_blocking({
        let base = app.base.clone();
        move || {
            let app = TestApp::attach(&base);
            let ticket = app.post(
                "/api/v1/tickets",
                KIOSK,
                json!({"service": "tax-general", "phone": "13912345678"}),
            );
            (app.staff_token("w02"), ticket.body)
        }
    })
    .await
    .unwrap();
    assert_eq!(ticket["number"], "A001");
    browser
        .wait_for_text("#queue-rows", |t| {
            t.contains("涉税综合业务") && t.contains("1 人")
        })
        .await;

    let base = app.base.clone();
    let call = {
        let staff = staff.clone();
        move || TestApp::attach(&base).call_next(&staff, "w02")
    };
    tokio::task::spawn_blocking(call.clone()).await.unwrap();
    browser.wait_for_text("#now-number", |t| t == "A001").await;
    browser
        .wait_for_text("#now-window", |t| t.contains("2号窗口"))
        .await;
    browser.screenshot("board-1920x1080.png").await;

    // The next call moves A001 to the recent list.
    tokio::task::spawn_blocking({
        let base = app.base.clone();
        move || TestApp::attach(&base).issue_ticket("tax-general")
    })
    .await
    .unwrap();
    tokio::task::spawn_blocking(call).await.unwrap();
    browser.wait_for_text("#now-number", |t| t == "A002").await;
    browser
        .wait_for_text("#recent-calls", |t| t.contains("A001"))
        .await;
    let source = browser.client.source().await.unwrap();
    assert!(
        !source.contains("13912345678") && !source.contains("139****5678"),
        "the board shows a phone number"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_citizen_page_follows_the_ticket_until_it_is_called() {
    let app = TestApp::spawn();
    let base = app.base.clone();
    let (ticket, staff) = tokio::task::spawn_blocking(move || {
        let app = TestApp::attach(&base);
        app.issue_ticket("entry-exit");
        (app.issue_ticket("entry-exit"), app.staff_token("w08"))
    })
    .await
    .unwrap();
    let browser = Browser::start(390, 844).await;
    browser
        .client
        .goto(&app.url(ticket["status_url"].as_str().unwrap()))
        .await
        .unwrap();
    browser.wait_for_text("#number", |t| t == "H002").await;
    browser
        .wait_for_text("#state", |t| t.contains("前面还有 1 人"))
        .await;

    let base = app.base.clone();
    let call = move || TestApp::attach(&base).call_next(&staff, "w08");
    tokio::task::spawn_blocking(call.clone()).await.unwrap();
    browser
        .wait_for_text("#state", |t| t.contains("即将叫号"))
        .await;
    tokio::task::spawn_blocking(call).await.unwrap();
    browser
        .wait_for_text("#state", |t| t == "请到 8号窗口 办理")
        .await;
    browser.screenshot("citizen-page-called-390x844.png").await;
    browser.close().await;

    // Unknown and malformed tokens: 404, for the page and the API alike.
    for path in [
        "/t/0123456789abcdef0123456789abcdef",
        "/t/not-a-token",
        "/t/0123456789ABCDEF0123456789ABCDEF",
        "/t/%3Cscript%3E",
    ] {
        assert_eq!(app.get(path).status, 404, "{path}");
    }
    assert_eq!(
        app.get("/api/v1/t/0123456789abcdef0123456789abcdef").code(),
        "not_found"
    );
    let own = app.get(&format!("/api/v1/t/{}", ticket["token"].as_str().unwrap()));
    assert_eq!(own.body["status"], "called");
    assert_eq!(own.body["window_name"], "8号窗口");
}

/// Reads from a pty master until `wanted` bytes came or 10 s passed.
fn read_bytes(master: &mut serialport::TTYPort, wanted: &[u8]) -> Vec<u8> {
    serialport::SerialPort::set_timeout(master, Duration::from_millis(100)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 512];
    while Instant::now() < deadline {
        if bytes.windows(wanted.len()).any(|w| w == wanted) {
            return bytes;
        }
        if let Ok(n) = master.read(&mut buffer) {
            bytes.extend_from_slice(&buffer[..n]);
        }
    }
    panic!("the display never got {wanted:02X?}; it got {bytes:02X?}");
}

#[test]
fn the_window_display_shows_the_call_on_its_serial_line() {
    use hallq_devices::display::{encode, Protocol};
    let (mut master, slave) = serialport::TTYPort::pair().unwrap();
    let path = serialport::SerialPort::name(&slave).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(support::demo_config()).unwrap();
    let text = demo.replace(
        "url = \"file:spool/led-line-1.frames\"\nprotocol = \"framed\"\naddress = 2",
        &format!("url = \"serial://{path}?baud=9600\"\nprotocol = \"modbus\"\naddress = 2"),
    );
    let text = text.replace(
        "url = \"file:spool/led-line-1.frames\"\nprotocol = \"framed\"\naddress = 3",
        &format!("url = \"serial://{path}?baud=9600\"\nprotocol = \"modbus\"\naddress = 3"),
    );
    let config = temp.path().join("hall.toml");
    std::fs::write(&config, text).unwrap();
    let app = TestApp::spawn_in(&temp.path().join("data"), &config);

    // At start every display shows the idle text.
    read_bytes(&mut master, &encode(Protocol::Modbus, 2, 0, "欢迎光临"));
    let staff = app.staff_token("w02");
    app.issue_ticket("tax-general");
    app.call_next(&staff, "w02");
    read_bytes(
        &mut master,
        &encode(Protocol::Modbus, 2, 0, "请A001号到2号窗口办理"),
    );
    app.window_action(&staff, "w02", "complete", None);
    app.window_action(&staff, "w02", "pause", None);
    read_bytes(&mut master, &encode(Protocol::Modbus, 2, 0, "暂停服务"));
    let devices = app.get_as("/api/v1/devices", &app.manager_token()).body;
    let display = devices["displays"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "led-w02")
        .unwrap()
        .clone();
    assert_eq!(display["connected"], true);
    assert_eq!(display["text"], "暂停服务");
    drop(slave);
}

#[test]
fn display_test_sends_one_frame() {
    use hallq_devices::display::{encode, Protocol};
    let (mut master, slave) = serialport::TTYPort::pair().unwrap();
    let path = serialport::SerialPort::name(&slave).unwrap();
    let output = std::process::Command::new(support::hallq_binary())
        .args([
            "display-test",
            "--to",
            &format!("serial://{path}"),
            "--protocol",
            "framed",
            "--address",
            "5",
            "--text",
            "请A001号到5号窗口",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    read_bytes(
        &mut master,
        &encode(Protocol::Framed, 5, 0, "请A001号到5号窗口"),
    );
    let output = std::process::Command::new(support::hallq_binary())
        .args([
            "display-test",
            "--to",
            "serial:///dev/nonexistent-tty",
            "--protocol",
            "framed",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unreachable"));
    drop(slave);
}

/// A recall reaches the board and the citizen's page on the stream: the number comes back to
/// the big panel and flashes again; neither page asks the daemon for anything per call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recall_flashes_the_board_and_the_citizen_page_again() {
    let app = TestApp::spawn();
    let (staff, ticket) = tokio::task::spawn_blocking({
        let base = app.base.clone();
        move || {
            let app = TestApp::attach(&base);
            (app.staff_token("w03"), app.issue_ticket("tax-invoice"))
        }
    })
    .await
    .unwrap();
    let number = ticket["number"].as_str().unwrap().to_owned();
    let status_url = ticket["status_url"].as_str().unwrap().to_owned();
    let board = Browser::start(1920, 1080).await;
    board.client.goto(&app.url("/board")).await.unwrap();
    board
        .wait_for_text("#hall", |t| t == "江州市政务服务中心")
        .await;
    let citizen = Browser::start(390, 844).await;
    citizen.client.goto(&app.url(&status_url)).await.unwrap();
    citizen
        .wait_for_text("#state", |t| t.contains("即将叫号"))
        .await;
    let board_loads = app.requests_to("/api/v1/board");
    let ticket_reads = app.requests_to("/api/v1/t/{token}");

    let act = |action: &'static str| {
        let base = app.base.clone();
        let staff = staff.clone();
        move || {
            let answer = TestApp::attach(&base).window_action(&staff, "w03", action, None);
            assert_eq!(answer.status, 200, "{}", answer.text);
        }
    };
    tokio::task::spawn_blocking(act("call-next")).await.unwrap();
    board.wait_for_text("#now-number", |t| t == number).await;
    board
        .wait_for_attr("#now", "data-flashes", |f| f == "1")
        .await;
    citizen
        .wait_for_text("#state", |t| t == "请到 3号窗口 办理")
        .await;
    citizen
        .wait_for_attr("#state", "data-flashes", |f| f == "1")
        .await;

    // Another window calls in between: the recall brings A-number back to the big panel.
    tokio::task::spawn_blocking({
        let base = app.base.clone();
        move || {
            let app = TestApp::attach(&base);
            app.issue_ticket("vehicle");
            let other = app.staff_token("w10");
            assert_eq!(app.call_next(&other, "w10").status, 200);
        }
    })
    .await
    .unwrap();
    board.wait_for_text("#now-number", |t| t == "J001").await;
    tokio::task::spawn_blocking(act("recall")).await.unwrap();
    board.wait_for_text("#now-number", |t| t == number).await;
    board
        .wait_for_attr("#now", "data-flashes", |f| f == "3")
        .await;
    citizen
        .wait_for_attr("#state", "data-flashes", |f| f == "2")
        .await;
    board.screenshot("board-recall-1920x1080.png").await;
    citizen.screenshot("citizen-recall-390x844.png").await;

    // Everything came on the streams.
    assert_eq!(app.requests_to("/api/v1/board"), board_loads);
    assert_eq!(app.requests_to("/api/v1/t/{token}"), ticket_reads);
    board.close().await;
    citizen.close().await;
}

/// Two windows calling within a second: each number has its moment on the big panel, in order;
/// a recall comes back marked 重呼.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_close_together_each_get_the_big_panel_and_a_recall_is_marked() {
    let app = TestApp::spawn();
    let board = Browser::start(1920, 1080).await;
    board
        .client
        .goto(&app.url("/board?hold_ms=1500"))
        .await
        .unwrap();
    board.wait_for_text("#hall", |t| !t.is_empty()).await;
    let base = app.base.clone();
    let staff = tokio::task::spawn_blocking(move || {
        let app = TestApp::attach(&base);
        app.issue_ticket("tax-general");
        app.issue_ticket("tax-general");
        let w02 = app.staff_token("w02");
        let w03 = app.staff_token("w03");
        // Both calls within a few milliseconds.
        assert_eq!(app.call_next(&w02, "w02").status, 200);
        assert_eq!(app.call_next(&w03, "w03").status, 200);
        w02
    })
    .await
    .unwrap();
    board
        .wait_for_attr("#now", "data-history", |h| h == "A001 A002")
        .await;
    board.wait_for_text("#now-number", |t| t == "A002").await;
    board
        .wait_for_text("#recent-calls", |t| t.contains("A001"))
        .await;
    let base = app.base.clone();
    tokio::task::spawn_blocking(move || {
        let answer = TestApp::attach(&base).window_action(&staff, "w02", "recall", None);
        assert_eq!(answer.status, 200);
    })
    .await
    .unwrap();
    board
        .wait_for_attr("#now", "data-history", |h| h == "A001 A002 A001*")
        .await;
    board
        .wait_for_text("#now-badge", |t| t.contains("重呼"))
        .await;
    board.screenshot("board-recall-marked-1920x1080.png").await;
    board.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_as_a_table_lists_each_number_with_its_window_newest_first() {
    let app = TestApp::spawn();
    let board = Browser::start(1920, 1080).await;
    board
        .client
        .goto(&app.url("/board?layout=table&hold_ms=500"))
        .await
        .unwrap();
    board.wait_for_text("#hall", |t| !t.is_empty()).await;
    let base = app.base.clone();
    let staff = tokio::task::spawn_blocking(move || {
        let app = TestApp::attach(&base);
        app.issue_ticket("tax-general");
        app.issue_ticket("tax-general");
        app.issue_ticket("vehicle");
        let w02 = app.staff_token("w02");
        let w03 = app.staff_token("w03");
        let w09 = app.staff_token("w09");
        assert_eq!(app.call_next(&w02, "w02").status, 200);
        assert_eq!(app.call_next(&w03, "w03").status, 200);
        assert_eq!(app.call_next(&w09, "w09").status, 200);
        w02
    })
    .await
    .unwrap();
    // Each call had its moment in order, and the table lists them all, newest on top.
    board
        .wait_for_attr("#calls", "data-history", |h| h == "A001 A002 J001")
        .await;
    let rows = board
        .wait_for_script(
            "return [...document.querySelectorAll('#call-rows tr')].map(tr => [...tr.cells].map(td => td.textContent))",
            |rows| rows.as_array().is_some_and(|r| r.len() == 3),
        )
        .await;
    let rows: Vec<Vec<String>> = serde_json::from_value(rows).unwrap();
    assert_eq!(rows[0][0], "J001");
    assert_eq!(rows[0][1], "9号窗口");
    assert_eq!(rows[1][..2], ["A002".to_owned(), "3号窗口".to_owned()]);
    assert_eq!(rows[2][..2], ["A001".to_owned(), "2号窗口".to_owned()]);
    board
        .wait_for_attr("#call-rows tr.newest", "class", |c| c.contains("flash"))
        .await;
    // A recall comes back to the top, marked.
    let base = app.base.clone();
    tokio::task::spawn_blocking(move || {
        let answer = TestApp::attach(&base).window_action(&staff, "w02", "recall", None);
        assert_eq!(answer.status, 200);
    })
    .await
    .unwrap();
    board
        .wait_for_attr("#call-rows tr.newest", "data-number", |n| n == "A001")
        .await;
    board
        .wait_for_text("#call-rows tr.newest", |t| t.contains("重呼"))
        .await;
    // One screen, read from across the hall: nothing below the fold, no number or window cut
    // short, and the calls take the wide side.
    let fits = board
        .client
        .execute(
            "const cut = [...document.querySelectorAll('#call-rows td')].filter(td => td.scrollWidth > td.clientWidth).map(td => td.textContent); \
             const calls = document.getElementById('calls').getBoundingClientRect().width; \
             const queues = document.getElementById('queues').getBoundingClientRect().width; \
             return [document.documentElement.scrollHeight <= window.innerHeight, cut, calls > 2 * queues]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fits, serde_json::json!([true, [], true]));
    board.screenshot("board-table-1920x1080.png").await;
    board.close().await;
}
