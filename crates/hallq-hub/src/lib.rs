//! hallq-hub, the city's hub: every hall's log and waits in PostgreSQL, the hub's share of
//! appointments (online and SMS bookings), and the holiday calendars the halls fetch.
//!
//! A hall never waits for the hub: its log is its outbox, and its upstream follower pushes it
//! here whenever the link is up (`hallq_protocol` is the wire). The hub keeps each hall's events
//! once (by hall and sequence number), answers where its copy ends, and hands each hall the
//! bookings made from the hub's share of its slots.
//!
//! The rooms (dependencies point down):
//!
//! - `app` — builds the server: pool, migrations, calendar cache, routes;
//! - `http` — the API, one file per group of endpoints, and the error form;
//! - `ingest` — a push, stored once and in order; `bookings` — the hub's share of slots;
//! - `sms` — the gateway, and the SMS command grammar citizens book with; `phone_checks` —
//!   codes that confirm a phone before an online booking;
//! - `auth` — halls' tokens and managers' sessions; `admin` — the command line's jobs;
//! - `state` — what handlers share; `db` — the pool and the migrations.

pub mod admin;
pub mod app;
pub mod auth;
pub mod bookings;
pub mod db;
pub mod http;
pub mod ingest;
pub mod phone_checks;
pub mod sms;
pub mod state;
