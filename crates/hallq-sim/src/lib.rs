//! hallq-sim: deterministic simulated hall days against the real core (`hallq-core`), with a
//! fake clock and a seeded random source. It checks the core's invariants throughout and
//! measures the wait each ticket was promised against the wait that followed, for the plain
//! queue-length rule, the delay-history estimators of the literature and hallq's forecast.
//!
//! - `rng` — the random source (xoshiro256**), the same on every machine;
//! - `model` — the simulated hall and its day;
//! - `sim` — the discrete-event simulation;
//! - `report` — the measurements and the summary.

pub mod model;
pub mod report;
pub mod rng;
pub mod sim;

pub use report::Tally;
pub use sim::{SimOptions, Simulation};

/// Runs `options.days` days from `options.seed` and returns what they measured.
pub fn simulate(options: &SimOptions) -> Tally {
    let mut simulation = Simulation::new(options);
    simulation.run(options.days);
    simulation.finish()
}
