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
<li>/rate/{window} — 窗口评价器 rating pad (device token)</li>
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
const RATING_JS: &str = include_str!("../../assets/rating.js");
const MESSAGES_JS: &str = include_str!("../../assets/messages.js");
const RATE_HTML: &str = include_str!("../../assets/rate.html");
const NOT_FOUND_HTML: &str = "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>未找到</title></head>\
<body style=\"font-family:sans-serif;text-align:center;padding:3rem\"><h1>未找到该号票</h1>\
<p>Ticket not found. 请核对二维码，或到服务台咨询。</p></body></html>";

/// A page's content security policy: its own inline scripts by their SHA-256 (and scripts
/// from this server), nothing from elsewhere, no framing. A script injected into a page by
/// anyone would not run.
pub fn content_security_policy(page: &str) -> String {
    let mut hashes = String::new();
    let mut rest = page;
    while let Some(start) = rest.find("<script>") {
        let body = &rest[start + "<script>".len()..];
        let Some(end) = body.find("</script>") else {
            break;
        };
        let digest = crate::credentials::sha256(&body[..end]);
        hashes.push_str(&format!(" 'sha256-{}'", base64(&digest)));
        rest = &body[end..];
    }
    format!(
        "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
         form-action 'self'"
    )
}

/// Standard base64 with padding (the form CSP hashes take).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = u32::from(chunk[0]) << 16
            | u32::from(*chunk.get(1).unwrap_or(&0)) << 8
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for (index, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if index <= chunk.len() {
                out.push(ALPHABET[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn page(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("Content-Security-Policy", content_security_policy(&body)))
        .body(body)
}

fn html(body: &'static str) -> HttpResponse {
    page(body.to_owned())
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
            .insert_header((
                "Content-Security-Policy",
                content_security_policy(NOT_FOUND_HTML),
            ))
            .body(NOT_FOUND_HTML),
        Err(error) => actix_web::ResponseError::error_response(&error),
    }
}

/// The kiosk (`/`). In the demo hall the public demo kiosk token is built in, so that anyone
/// can take a number in a browser; a real kiosk is set up once with `/?token=…`.
pub async fn kiosk(state: actix_web::web::Data<crate::app::state::AppState>) -> HttpResponse {
    let body = if state.config().demo {
        KIOSK_HTML.replacen(
            "<head>",
            &format!(
                "<head>\n<meta name=\"hallq-demo-kiosk-token\" content=\"{}\">",
                crate::DEMO_KIOSK_TOKEN
            ),
            1,
        )
    } else {
        KIOSK_HTML.to_owned()
    };
    page(body)
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
    html(INDEX_HTML)
}

fn script(body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

/// The window's rating pad (`/rate/{window}`), set up once with `?token=…`.
pub async fn rate() -> HttpResponse {
    html(RATE_HTML)
}

/// Scripts shared by the pages (`/assets/{name}`).
pub async fn asset(path: actix_web::web::Path<String>) -> HttpResponse {
    match path.into_inner().as_str() {
        "staff-stream.js" => script(STAFF_STREAM_JS),
        "rating.js" => script(RATING_JS),
        "messages.js" => script(MESSAGES_JS),
        _ => actix_web::ResponseError::error_response(&super::error::ApiError::not_found(
            "there is no such asset",
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_and_script_hashes() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foo"), "Zm9v");
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
        // The CSP hash of `alert(1)` as browsers compute it.
        let policy = super::content_security_policy("<p><script>alert(1)</script>");
        assert!(
            policy.contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"));
    }
}
