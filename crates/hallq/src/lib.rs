//! hallq, the daemon: the HTTP API, live events, configuration and the CLI's building blocks.
//!
//! Only this crate knows HTTP and JSON. It authenticates callers, turns requests into commands
//! for the engine (`hallq-engine`) and shapes the answers; it decides nothing about queues.

pub mod api;
pub mod app;
pub mod appointments;
pub mod auth;
pub mod calling;
pub mod config;
pub mod error;
pub mod health;
pub mod lists;
pub mod metrics;
pub mod pages;
pub mod printing;
pub mod public;
pub mod sms;
pub mod sse;
pub mod state;
pub mod views;

/// The demo hall's public credentials (contract in the design brief).
pub const DEMO_KIOSK_TOKEN: &str = "demo-kiosk-token";
pub const DEMO_DISPLAY_TOKEN: &str = "demo-display-token";
pub const DEMO_STAFF_PIN: &str = "246810";
pub const DEMO_MANAGER_PIN: &str = "135790";
