//! hallq, the daemon: the HTTP API, live events, configuration and the CLI's building blocks.
//!
//! Only this crate knows HTTP and JSON. It authenticates callers, turns requests into commands
//! for the engine (`hallq-engine`) and shapes the answers; it decides nothing about queues.
//!
//! The rooms, and which may use which (dependencies point down this list, never up):
//!
//! - `app` — builds the daemon from its settings: state, routes, middleware, start and stop;
//! - `http` — the resources: one file per group of endpoints, the error form, the pages;
//! - `followers` — everything downstream of the log: the public projection (streams), printing,
//!   the LED caller, SMS; each reads the log in order and the engine's read model, never the
//!   writer, and none sits inside a request;
//! - `views` — the JSON shapes (API answers and public event data);
//! - `auth`, `credentials` — who is calling; secrets as hashes;
//! - `config` — the hall file, one module per section with its own check;
//! - `privacy` — citizens' numbers as keyed hashes and sealed text, the hall's key (the
//!   `hallq-privacy` crate, shared with the hub);
//! - `upstream` is a follower (`followers::upstream`): the log to the city's hub and back;
//! - `lists`, `metrics` — small helpers with one job each (`csv`, the one CSV writer, is
//!   `hallq-protocol`'s, shared with the hub); `limits` and `phone_checks`
//!   (rate limits, SMS codes that confirm a phone) come from `hallq-privacy`, shared with the hub.

pub mod app;
pub mod auth;
pub mod config;
pub mod credentials;
pub use hallq_protocol::csv;
pub mod followers;
pub mod http;
pub use hallq_privacy::limits;
pub mod lists;
pub mod metrics;
pub mod ops;
pub use hallq_privacy as privacy;
pub use hallq_privacy::phone_checks;
pub mod views;

/// The demo hall's public credentials (contract in the design brief).
pub const DEMO_KIOSK_TOKEN: &str = "demo-kiosk-token";
/// The demo hall's rating pad at window w02 (`/rate/w02?token=demo-pad-token`).
pub const DEMO_PAD_TOKEN: &str = "demo-pad-token";
pub const DEMO_DISPLAY_TOKEN: &str = "demo-display-token";
pub const DEMO_STAFF_PIN: &str = "246810";
pub const DEMO_MANAGER_PIN: &str = "135790";
