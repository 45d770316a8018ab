//! `hallq-sim --seed N --days K [--thorough]`: simulated hall days, replayed exactly from the
//! seed; prints the traffic, the waits and how far each estimator's promise was from them.

use hallq_sim::{simulate, SimOptions};
use std::process::ExitCode;

const USAGE: &str = "usage: hallq-sim [--seed N] [--days K] [--seeds S] [--thorough]
  --seed N     the first seed (default 1)
  --days K     hall days per seed (default 100)
  --seeds S    run S seeds from N and add their figures up (default 1)
  --thorough   check every invariant after every command (slower)
  --calibrate  also print the forecast's calibration table measured on these days
  --measure N  measure the promises of every Nth ticket (default 1: all)
  --oracle N   also measure the oracle (the best estimate there could be) on every Nth ticket";

fn main() -> ExitCode {
    let mut seed = 1u64;
    let mut days = 100u32;
    let mut seeds = 1u64;
    let mut thorough = false;
    let mut calibrate = false;
    let mut oracle_every = 0u64;
    let mut measure_every = 1u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Option<u64> {
            let value = args.next().and_then(|v| v.parse().ok());
            if value.is_none() {
                eprintln!("{name} needs a number\n{USAGE}");
            }
            value
        };
        match arg.as_str() {
            "--seed" => match number("--seed") {
                Some(n) => seed = n,
                None => return ExitCode::from(2),
            },
            "--days" => match number("--days") {
                Some(n) if n > 0 && n <= 100_000 => days = n as u32,
                _ => return ExitCode::from(2),
            },
            "--seeds" => match number("--seeds") {
                Some(n) if n > 0 && n <= 10_000 => seeds = n,
                _ => return ExitCode::from(2),
            },
            "--oracle" => match number("--oracle") {
                Some(n) if n > 0 => oracle_every = n,
                _ => return ExitCode::from(2),
            },
            "--measure" => match number("--measure") {
                Some(n) if n > 0 => measure_every = n,
                _ => return ExitCode::from(2),
            },
            "--thorough" => thorough = true,
            "--calibrate" => calibrate = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument '{other}'\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let mut total: Option<hallq_sim::Tally> = None;
    for offset in 0..seeds {
        let tally = simulate(&SimOptions {
            seed: seed + offset,
            days,
            thorough,
            oracle_every,
            measure_every,
        });
        total = Some(match total {
            None => tally,
            Some(sum) => sum.merged(&tally),
        });
    }
    if let Some(total) = total {
        print!("{}", total.summary(seed));
        if calibrate {
            print!("{}", total.calibration());
        }
    }
    ExitCode::SUCCESS
}
