//! The hub's pages, served from its binary: the citizen's booking page (`/book`), the city's
//! dashboard (`/city`) and their scripts and style. Nothing is fetched from elsewhere; scripts
//! come only from this server (the pages carry no inline script).

use actix_web::HttpResponse;

const BOOK_HTML: &str = include_str!("../../assets/book.html");
const CITY_HTML: &str = include_str!("../../assets/city.html");
const BOOK_JS: &str = include_str!("../../assets/book.js");
const CITY_JS: &str = include_str!("../../assets/city.js");
const HUB_CSS: &str = include_str!("../../assets/hub.css");

const INDEX_HTML: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>hallq-hub</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/hub.css"></head><body><main>
<h1>hallq-hub 市级政务服务中枢</h1>
<ul>
<li><a href="/book">/book</a> — 网上预约 online booking</li>
<li><a href="/city">/city</a> — 全市大厅实时情况 the city's halls (managers)</li>
<li><a href="/v1/openapi.json">/v1/openapi.json</a> — API description</li>
<li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a></li>
</ul></main></body></html>"#;

/// Pages may run scripts and load styles from this server only, and are never framed.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'";

fn page(html: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", PAGE_POLICY))
        .insert_header(("Cache-Control", "no-cache"))
        .body(html)
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

pub async fn index() -> HttpResponse {
    page(INDEX_HTML)
}

pub async fn book() -> HttpResponse {
    page(BOOK_HTML)
}

pub async fn city() -> HttpResponse {
    page(CITY_HTML)
}

pub async fn book_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", BOOK_JS)
}

pub async fn city_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", CITY_JS)
}

pub async fn hub_css() -> HttpResponse {
    asset("text/css; charset=utf-8", HUB_CSS)
}
