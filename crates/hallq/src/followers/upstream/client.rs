//! The hall's HTTP client for its hub: blocking `ureq` calls on tokio's blocking pool (so the
//! follower's task never blocks a worker), each with the configured timeout, the hall's token,
//! and the hub's answers turned into what the follower acts on.

use crate::config::UpstreamSettings;
use std::time::Duration;

/// Why a call did not succeed.
#[derive(Debug)]
pub enum CallError {
    /// A push started past the hub's copy; the hub holds events up to this one.
    Gap(u64),
    /// The hub answered with an error the hall cannot cure by retrying the same call soon
    /// (401, 404, 4xx): the message says what to do.
    Refused(String),
    /// No answer, or a 5xx: retry with backoff.
    Unavailable(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Gap(last) => write!(f, "the hub holds events up to {last}"),
            CallError::Refused(message) | CallError::Unavailable(message) => f.write_str(message),
        }
    }
}

#[derive(Clone)]
pub struct HubClient {
    agent: ureq::Agent,
    base: String,
    hall: String,
    token: String,
}

impl HubClient {
    pub fn new(settings: &UpstreamSettings, hall: &str) -> Self {
        Self {
            agent: ureq::AgentBuilder::new()
                .timeout_connect(settings.timeout.min(Duration::from_secs(5)))
                .timeout(settings.timeout)
                .build(),
            base: settings.url.clone(),
            hall: hall.to_owned(),
            token: settings.token.clone(),
        }
    }

    /// `/v1/halls/{id}{rest}`.
    pub fn hall_path(&self, rest: &str) -> String {
        format!("/v1/halls/{}{rest}", self.hall)
    }

    /// Calls the hub; the answer's body on a 2xx.
    pub async fn call(
        &self,
        method: &'static str,
        path: String,
        body: Option<String>,
    ) -> Result<String, CallError> {
        let client = self.clone();
        tokio::task::spawn_blocking(move || client.call_blocking(method, &path, body.as_deref()))
            .await
            .unwrap_or_else(|_| Err(CallError::Unavailable("the call to the hub failed".into())))
    }

    fn call_blocking(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<String, CallError> {
        let url = format!("{}{path}", self.base);
        let request = self
            .agent
            .request(method, &url)
            .set("Authorization", &format!("Bearer {}", self.token))
            .set("Content-Type", "application/json");
        let answer = match body {
            Some(body) => request.send_string(body),
            None => request.call(),
        };
        match answer {
            Ok(response) => response
                .into_string()
                .map_err(|e| CallError::Unavailable(format!("the hub's answer was cut off: {e}"))),
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                Err(self.refusal(status, &text))
            }
            Err(ureq::Error::Transport(transport)) => Err(CallError::Unavailable(format!(
                "the hub at {} cannot be reached: {transport}",
                self.base
            ))),
        }
    }

    fn refusal(&self, status: u16, text: &str) -> CallError {
        let body: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        if status == 409 && body["error"]["code"] == hallq_protocol::SEQUENCE_GAP {
            if let Some(last) = body["last_seq"].as_u64() {
                return CallError::Gap(last);
            }
        }
        let said = body["error"]["message"]
            .as_str()
            .map(|m| m.chars().take(300).collect::<String>())
            .unwrap_or_default();
        match status {
            401 => CallError::Refused(format!(
                "the hub refused this hall's token (401): set HALLQ_UPSTREAM_TOKEN or [upstream] \
                 token to the token `hallq-hub add-hall {}` printed (`hallq-hub new-token {}` \
                 makes a new one)",
                self.hall, self.hall
            )),
            404 if body["error"]["code"] == "not_found" => CallError::Refused(format!(
                "the hub does not know this hall ('{}'): register it with `hallq-hub add-hall {} \
                 --name …`, or correct [hall] id ({said})",
                self.hall, self.hall
            )),
            500..=599 => CallError::Unavailable(format!("the hub answered {status}: {said}")),
            _ => CallError::Refused(format!("the hub answered {status}: {said}")),
        }
    }
}
