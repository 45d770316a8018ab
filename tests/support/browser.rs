#![allow(dead_code)]

//! Headless Chromium through Debian's chromedriver, driven with fantoccini. `scripts/test`
//! installs chromium, chromium-driver and a CJK font; without them these tests fail and say so.

use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Browser {
    driver: Child,
    pub client: Client,
    /// The window's size, for reports.
    pub size: (u32, u32),
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// A fresh browser (own profile) with a window of `width`×`height`.
    pub async fn start(width: u32, height: u32) -> Self {
        // Several rustls backends are compiled in across the workspace; choose one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        for program in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing: run scripts/test, which installs chromium and chromium-driver"
            );
        }
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--hide-scrollbars",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::rustls()
                .expect("rustls")
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) if Instant::now() < deadline => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("cannot start headless Chromium: {error}"),
            }
        };
        Self {
            driver,
            client,
            size: (width, height),
            _profile: profile,
        }
    }

    /// The kiosk page at `base` with the demo kiosk's token, once its services are shown.
    pub async fn open_kiosk(&self, base: &str) {
        self.client
            .goto(&format!("{base}/?token=demo-kiosk-token"))
            .await
            .unwrap();
        self.wait_for_text("#departments", |t| t.contains("涉税综合业务"))
            .await;
    }

    /// The window console at `base`, signed in as the demo staff member at `window`.
    pub async fn sign_in_console(&self, base: &str, window: &str) {
        self.client.goto(&format!("{base}/staff")).await.unwrap();
        self.fill("#staff-id", "demo-staff").await;
        self.fill("#pin", "246810").await;
        self.select("#window", window).await;
        self.click("#sign-in button").await;
    }

    /// The manager's dashboard at `base`, signed in as the demo manager.
    pub async fn sign_in_dashboard(&self, base: &str) {
        self.client.goto(&format!("{base}/manage")).await.unwrap();
        self.fill("#staff-id", "demo-manager").await;
        self.fill("#pin", "135790").await;
        self.click("#sign-in button").await;
    }

    /// The text of the first element matching `css`, once it satisfies `check` (10 s at most).
    pub async fn wait_for_text(&self, css: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if check(&text) {
                        return text;
                    }
                    last = text;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} never showed the expected text; last: {last:?}");
    }

    /// The value of `attribute` on the first element matching `css`, once it satisfies
    /// `check` (10 s at most).
    /// Measures the page as it stands against the MIIT ageing-friendly figures elder mode must
    /// meet: every visible text at least 24 px (18 pt) with contrast of at least 4.5:1 against
    /// what is behind it, every control at least 60 × 60. Returns what fails, and the largest
    /// text's size (which must reach 40 px, 30 pt).
    pub async fn elder_audit(&self) -> (Vec<String>, f64) {
        let answer = self
            .client
            .execute(ELDER_AUDIT_JS, vec![])
            .await
            .expect("the elder audit runs");
        let failures = answer["failures"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|f| f.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        (failures, answer["largest"].as_f64().unwrap_or(0.0))
    }

    /// Fails, naming `screen`, the window's size and every shortfall, unless the page as it
    /// stands meets the elder-mode figures (`elder_audit`) and its largest text is 40 px or more.
    pub async fn assert_elder_figures(&self, screen: &str) {
        let (failures, largest) = self.elder_audit().await;
        assert!(
            failures.is_empty() && largest >= 40.0,
            "{screen} at {}×{} in elder mode (largest text {largest} px):\n  {}",
            self.size.0,
            self.size.1,
            failures.join("\n  ")
        );
    }

    /// Waits (10 s at most) until `script`'s answer passes `check`, and returns it: for what
    /// the page holds as properties (a field's value) rather than text or attributes.
    pub async fn wait_for_script(
        &self,
        script: &str,
        check: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = None;
        while Instant::now() < deadline {
            if let Ok(value) = self.client.execute(script, vec![]).await {
                if check(&value) {
                    return value;
                }
                last = Some(value);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("`{script}` never gave the expected answer; last: {last:?}");
    }

    pub async fn wait_for_attr(
        &self,
        css: &str,
        attribute: &str,
        check: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = None;
        while Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(value) = element.attr(attribute).await {
                    if let Some(value) = &value {
                        if check(value) {
                            return value.clone();
                        }
                    }
                    last = value;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css}[{attribute}] never had the expected value; last: {last:?}");
    }

    /// Clicks the element; one that a page redraws between finding and clicking (stale) is
    /// found again and clicked, for up to 10 s, as a person taps again.
    pub async fn click(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let element = self
                .client
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("{css}: {e}"));
            match element.click().await {
                Ok(()) => return,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference
                        && Instant::now() < deadline => {}
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// Types `text` into a field in place of what it held, as a person selecting it all would.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        element
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    pub async fn select(&self, css: &str, value: &str) {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        element
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    /// Saves a screenshot under target/test-artifacts/ for people to look at.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let directory = crate::support::workspace_root().join("target/test-artifacts");
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join(name);
        std::fs::write(&path, png).unwrap();
        path
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The elder audit, run in the page: sizes from the computed style and the layout, contrast as
/// WCAG computes it, with semi-transparent backgrounds composited down to the page.
const ELDER_AUDIT_JS: &str = r#"
const failures = [];
const rgba = (s) => { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return [0, 0, 0, 0];
  const p = m[1].split(',').map(parseFloat); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
const over = (top, bottom) => { const a = top[3] + bottom[3] * (1 - top[3]); if (a === 0) return [255, 255, 255, 1];
  return [0, 1, 2].map((i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a).concat([a]); };
const behind = (el) => { const layers = [];
  for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) layers.push(c); if (c[3] >= 1) break; }
  let bg = [255, 255, 255, 1]; for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg); return bg; };
const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
const visible = (el) => { const cs = getComputedStyle(el);
  return el.getClientRects().length > 0 && cs.visibility !== 'hidden' && parseFloat(cs.opacity) > 0; };
const label = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + el.textContent.trim().slice(0, 16) + '"';
let largest = 0;
for (const el of document.querySelectorAll('body *')) {
  if (el.closest('svg') || !visible(el)) continue;
  const cs = getComputedStyle(el);
  const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (own) {
    const size = parseFloat(cs.fontSize);
    largest = Math.max(largest, size);
    if (size < 24) failures.push(label(el) + ': text ' + size.toFixed(1) + ' px');
    const bg = behind(el);
    // Faded text (opacity on it or a parent) is as faint as it looks.
    const fg = rgba(cs.color);
    for (let e = el; e; e = e.parentElement) fg[3] *= parseFloat(getComputedStyle(e).opacity);
    const contrast = ratio(over(fg, bg), bg);
    if (contrast < 4.5) failures.push(label(el) + ': contrast ' + contrast.toFixed(2));
  }
  if (el.matches('button, input, select, textarea, a[href], [role=button]')) {
    const r = el.getBoundingClientRect();
    if (r.width < 60 || r.height < 60) failures.push(label(el) + ': target ' + Math.round(r.width) + '×' + Math.round(r.height));
  }
}
return { failures, largest };
"#;
