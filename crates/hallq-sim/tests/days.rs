//! The simulation as a test: days replay exactly from their seed, a thousand of them keep the
//! core's invariants, and the forecast keeps its measured promises.

use hallq_sim::{simulate, SimOptions};

/// The promises of every tenth ticket are measured (the forecast's draws cost more than the
/// days themselves); docs/benchmarks.md measures every fifth, on the same days.
fn run(seed: u64, days: u32) -> hallq_sim::Tally {
    simulate(&SimOptions {
        seed,
        days,
        thorough: false,
        oracle_every: 0,
        measure_every: 10,
    })
}

#[test]
fn the_same_seed_prints_the_same_summary() {
    let first = run(42, 5).summary(42);
    let second = run(42, 5).summary(42);
    assert_eq!(first, second);
    assert_ne!(first, run(43, 5).summary(43));
    assert!(
        first.contains("MAE") && first.contains("queue-length MAE"),
        "{first}"
    );
}

/// A thousand seeded hall days (ten seeds of a hundred): any broken invariant panics with the
/// day and the command. The figures are the ones docs/benchmarks.md reports (same seeds).
#[test]
fn a_thousand_days_keep_the_invariants_and_the_forecast_its_band() {
    let mut total: Option<hallq_sim::Tally> = None;
    for seed in 1..=10 {
        let tally = run(seed, 100);
        assert_eq!(tally.days, 100);
        assert!(tally.issued > 40_000, "seed {seed}: {}", tally.issued);
        total = Some(match total {
            None => tally,
            Some(sum) => sum.merged(&tally),
        });
    }
    let total = total.unwrap();
    let summary = total.summary(1);
    // Every kind of traffic happened.
    for count in [
        total.no_shows,
        total.requeues,
        total.transfers,
        total.walked_away,
        total.pauses,
    ] {
        assert!(count > 100, "{summary}");
    }
    // The band holds 78-82 % of the waits, and at most a quarter run past its top.
    let coverage = total.coverage();
    assert!((0.78..=0.82).contains(&coverage), "{summary}");
    assert!(total.forecast_band.longer_share() <= 0.25, "{summary}");
    // The point's error is at most 0.7× the queue-length rule's (issue 18; measured 0.49×),
    // and no worse than measured when it was last improved (25.2 % of the mean wait on these
    // days, every tenth ticket): a change that makes the promise worse fails here, not in a
    // hall.
    assert!(
        total.forecast_point.mae_s() <= 0.7 * total.queue_length.mae_s(),
        "{summary}"
    );
    assert!(
        total.mae_percent(&total.forecast_point) <= 26.5,
        "{summary}"
    );
}

/// Every invariant after every command, on a few days: slower, and the regression test for
/// seeds that once failed (add them here).
#[test]
fn thorough_days_including_seeds_that_once_failed() {
    for seed in [7, 1234] {
        let tally = simulate(&SimOptions {
            seed,
            days: 3,
            thorough: true,
            oracle_every: 0,
            measure_every: 1,
        });
        assert_eq!(tally.days, 3);
    }
}
