//! What the hall says: the ticket's address and footer, the calling texts for displays and
//! boards, and the SMS gateway with its message templates.

use super::errors::Problems;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TicketSection {
    /// Where citizens' phones reach the hall's status pages (the QR code on the ticket).
    #[serde(default = "default_public_base_url")]
    pub(crate) public_base_url: String,
    #[serde(default)]
    pub(crate) footer: Vec<String>,
    pub(crate) qr_caption: Option<String>,
    /// How long a kiosk waits for its ticket to come out before showing it on screen only.
    #[serde(default = "default_print_wait_ms")]
    pub(crate) print_wait_ms: u64,
    /// Seconds without a touch before a kiosk asks "您还在办理吗？" and then goes back to its
    /// start (twice as long in elder mode).
    #[serde(default = "default_kiosk_idle_s")]
    pub(crate) kiosk_idle_s: u32,
}

fn default_print_wait_ms() -> u64 {
    3000
}

fn default_kiosk_idle_s() -> u32 {
    60
}

impl Default for TicketSection {
    fn default() -> Self {
        Self {
            public_base_url: default_public_base_url(),
            footer: Vec::new(),
            qr_caption: None,
            print_wait_ms: default_print_wait_ms(),
            kiosk_idle_s: default_kiosk_idle_s(),
        }
    }
}

fn default_public_base_url() -> String {
    "http://127.0.0.1:8080".into()
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct CallingSection {
    pub(crate) call_template: String,
    pub(crate) idle_text: String,
    pub(crate) paused_text: String,
    pub(crate) board_notice: String,
}

impl Default for CallingSection {
    fn default() -> Self {
        Self {
            call_template: "请{number}号到{window}办理".into(),
            idle_text: "欢迎光临".into(),
            paused_text: "暂停服务".into(),
            board_notice: String::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SmsSection {
    pub(crate) gateway_url: String,
    #[serde(default)]
    pub(crate) gateway_token: Option<String>,
    #[serde(default = "default_notify_ahead")]
    pub(crate) notify_ahead: usize,
    #[serde(default = "default_approaching_template")]
    pub(crate) approaching_template: String,
    #[serde(default = "default_called_template")]
    pub(crate) called_template: String,
}

fn default_notify_ahead() -> usize {
    3
}

fn default_approaching_template() -> String {
    "【{hall}】您的{number}号前面还有{ahead}人，请回到大厅留意叫号。".into()
}

fn default_called_template() -> String {
    "【{hall}】请{number}号到{window}办理。".into()
}

/// How tickets look and where their QR codes point.
#[derive(Clone, Debug)]
pub struct TicketSettings {
    pub public_base_url: String,
    pub footer: Vec<String>,
    pub qr_caption: Option<String>,
    /// How long a kiosk's request waits for the print outcome before answering `pending`.
    pub print_wait: std::time::Duration,
    /// A kiosk's time without a touch before it asks and then starts over, in seconds.
    pub kiosk_idle_s: u32,
}

/// Texts for calling: displays, boards, SMS.
#[derive(Clone, Debug)]
pub struct CallingSettings {
    pub call_template: String,
    pub idle_text: String,
    pub paused_text: String,
    pub board_notice: String,
}

#[derive(Clone, Debug)]
pub struct SmsSettings {
    pub gateway_url: String,
    pub gateway_token: Option<String>,
    pub notify_ahead: usize,
    pub approaching_template: String,
    pub called_template: String,
}

/// Fills a message template: `{number}`, `{window}`, `{service}`, `{hall}`, `{ahead}`.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (key, value)| {
            text.replace(&format!("{{{key}}}"), value)
        })
}

pub(crate) fn ticket(raw: TicketSection, problems: &mut Problems<'_>) -> TicketSettings {
    let base_url = raw.public_base_url.trim().trim_end_matches('/').to_owned();
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) || base_url.len() < 10
    {
        problems.at(
            "ticket.public_base_url",
            "must be the http:// or https:// address phones use to reach this hall",
        );
    }
    if !(100..=10_000).contains(&raw.print_wait_ms) {
        problems.at("ticket.print_wait_ms", "must be between 100 and 10000");
    }
    if !(2..=600).contains(&raw.kiosk_idle_s) {
        problems.at("ticket.kiosk_idle_s", "must be between 2 and 600 seconds");
    }
    TicketSettings {
        public_base_url: base_url,
        footer: raw.footer,
        qr_caption: raw.qr_caption,
        print_wait: std::time::Duration::from_millis(raw.print_wait_ms.clamp(100, 10_000)),
        kiosk_idle_s: raw.kiosk_idle_s,
    }
}

pub(crate) fn calling(raw: CallingSection, problems: &mut Problems<'_>) -> CallingSettings {
    if !raw.call_template.contains("{number}") {
        problems.at("calling.call_template", "must contain {number}");
    }
    CallingSettings {
        call_template: raw.call_template,
        idle_text: raw.idle_text,
        paused_text: raw.paused_text,
        board_notice: raw.board_notice,
    }
}

pub(crate) fn sms(raw: Option<SmsSection>, problems: &mut Problems<'_>) -> Option<SmsSettings> {
    match raw {
        None => None,
        Some(sms) => {
            if !(sms.gateway_url.starts_with("http://") || sms.gateway_url.starts_with("https://"))
            {
                problems.at("sms.gateway_url", "must be an http:// or https:// address");
            }
            if !(1..=50).contains(&sms.notify_ahead) {
                problems.at("sms.notify_ahead", "must be between 1 and 50");
            }
            for (key, template) in [
                ("sms.approaching_template", &sms.approaching_template),
                ("sms.called_template", &sms.called_template),
            ] {
                if !template.contains("{number}") {
                    problems.at(key, "must contain {number}");
                }
            }
            Some(SmsSettings {
                gateway_url: sms.gateway_url,
                gateway_token: sms.gateway_token,
                notify_ahead: sms.notify_ahead,
                approaching_template: sms.approaching_template,
                called_template: sms.called_template,
            })
        }
    }
}
