//! SMS at the hub: the gateway that sends (booking confirmations, phone codes, replies to SMS
//! commands) and the command grammar citizens book and cancel with (`commands`, `inbound`).
//!
//! The gateway speaks the same small protocol as a hall's: `POST {url}` with
//! `{"phone", "text", "purpose"}` and, when configured, `Authorization: Bearer {token}`; any 2xx
//! means accepted. Phones are never logged whole.

pub mod commands;
pub mod inbound;

use std::time::Duration;

const GATEWAY_TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPTS: u32 = 2;

#[derive(Clone)]
pub struct Gateway {
    url: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl Gateway {
    pub fn new(url: String, token: Option<String>) -> Self {
        Self {
            url,
            token,
            agent: ureq::AgentBuilder::new().timeout(GATEWAY_TIMEOUT).build(),
        }
    }

    /// Sends a message (on the blocking pool, with a retry); `false` when the gateway did not
    /// take it.
    pub async fn send(&self, phone: &str, text: &str, purpose: &'static str) -> bool {
        let (gateway, phone, text) = (self.clone(), phone.to_owned(), text.to_owned());
        tokio::task::spawn_blocking(move || {
            let body = serde_json::json!({"phone": phone, "text": text, "purpose": purpose});
            for attempt in 1..=ATTEMPTS {
                let mut request = gateway.agent.post(&gateway.url);
                if let Some(token) = &gateway.token {
                    request = request.set("Authorization", &format!("Bearer {token}"));
                }
                match request.send_json(body.clone()) {
                    Ok(_) => return true,
                    Err(error) => tracing::warn!(
                        attempt,
                        phone = %hallq_privacy::mask_phone(&phone),
                        %error,
                        "the SMS gateway did not take a message"
                    ),
                }
            }
            false
        })
        .await
        .unwrap_or(false)
    }
}
