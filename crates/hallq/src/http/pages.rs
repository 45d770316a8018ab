//! Web pages served from the binary: plain HTML, CSS and JavaScript that talk only to the JSON
//! API and the event streams, with nothing fetched from outside.

use actix_web::HttpResponse;

const INDEX_HTML: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>hallq</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;line-height:1.6}code{background:#f2f2f2;padding:0 .25rem}</style>
</head><body>
<h1>hallq 政务服务大厅排队叫号</h1>
<p>The queue daemon is running. 排队叫号服务已启动。</p>
<ul>
<li><a href="/">/</a> — 自助取号 kiosk</li>
<li><a href="/staff">/staff</a> — 窗口工作台 window console</li>
<li><a href="/manage">/manage</a> — 大厅管理 dashboard</li>
<li><a href="/board">/board</a> — 叫号大屏 TV board</li>
<li><a href="/api/v1/hall">/api/v1/hall</a> — 大厅、事项与窗口 services and windows</li>
<li><a href="/api/v1/queues">/api/v1/queues</a> — 排队情况 queues</li>
<li><a href="/api/v1/openapi.json">/api/v1/openapi.json</a> — API description</li>
<li><a href="/api/v1/events">/api/v1/events</a> — 实时事件 live events (SSE)</li>
<li><a href="/metrics">/metrics</a>, <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a></li>
</ul>
</body></html>"#;

const BOARD_HTML: &str = include_str!("../../assets/board.html");
const KIOSK_HTML: &str = include_str!("../../assets/kiosk.html");
const STAFF_HTML: &str = include_str!("../../assets/staff.html");
const MANAGE_HTML: &str = include_str!("../../assets/manage.html");
const TICKET_HTML: &str = include_str!("../../assets/ticket.html");
const STAFF_STREAM_JS: &str = include_str!("../../assets/staff-stream.js");
const NOT_FOUND_HTML: &str = "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>未找到</title></head>\
<body style=\"font-family:sans-serif;text-align:center;padding:3rem\"><h1>未找到该号票</h1>\
<p>Ticket not found. 请核对二维码，或到服务台咨询。</p></body></html>";

fn html(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

/// The TV board (`/board`).
pub async fn board() -> HttpResponse {
    html(BOARD_HTML)
}

/// A citizen's ticket page (`/t/{token}`), 404 for a token no ticket has.
pub async fn citizen(
    state: actix_web::web::Data<crate::app::state::AppState>,
    path: actix_web::web::Path<String>,
) -> HttpResponse {
    match super::public::citizen_ticket(&state, path.into_inner()).await {
        Ok(Some(_)) => html(TICKET_HTML),
        Ok(None) => HttpResponse::NotFound()
            .content_type("text/html; charset=utf-8")
            .body(NOT_FOUND_HTML),
        Err(error) => actix_web::ResponseError::error_response(&error),
    }
}

/// The kiosk (`/`). In the demo hall the public demo kiosk token is built in, so that anyone
/// can take a number in a browser; a real kiosk is set up once with `/?token=…`.
pub async fn kiosk(state: actix_web::web::Data<crate::app::state::AppState>) -> HttpResponse {
    let page = if state.config.demo {
        KIOSK_HTML.replacen(
            "<script>\n\"use strict\";",
            &format!("<script>window.HALLQ_DEMO_KIOSK_TOKEN = \"{}\";</script>\n<script>\n\"use strict\";", crate::DEMO_KIOSK_TOKEN),
            1,
        )
    } else {
        KIOSK_HTML.to_owned()
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(page)
}

/// The window console (`/staff`).
pub async fn staff() -> HttpResponse {
    html(STAFF_HTML)
}

/// The manager's dashboard (`/manage`).
pub async fn manage() -> HttpResponse {
    html(MANAGE_HTML)
}

/// Where things are (`/about`).
pub async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(INDEX_HTML)
}

/// Scripts shared by the pages (`/assets/{name}`).
pub async fn asset(path: actix_web::web::Path<String>) -> HttpResponse {
    match path.into_inner().as_str() {
        "staff-stream.js" => HttpResponse::Ok()
            .content_type("text/javascript; charset=utf-8")
            .insert_header(("Cache-Control", "no-cache"))
            .body(STAFF_STREAM_JS),
        _ => actix_web::ResponseError::error_response(&super::error::ApiError::not_found(
            "there is no such asset",
        )),
    }
}
