//! `bench`: measures full replays of the habits read models against raw baselines that
//! write the same rows, on a fresh database, and prints a table (or JSON).
//!
//! ```sh
//! cargo run --release -p bench -- --events 1000000
//! cargo run --release -p bench -- --database-url postgres://localhost/bench1 --json
//! cargo run --release -p bench -- --e2e --events 1000000
//! cargo run --release -p bench -- --workers --events 300000 --database-url postgres://localhost/bench2
//! ```

use std::process::ExitCode;

use bench::{self, Options};
use clap::Parser;

/// Replay benchmark: the framework against raw SQL / a raw fold, per habits model.
#[derive(Debug, Parser)]
#[command(name = "bench", about, long_about = None)]
struct Args {
    /// An empty PostgreSQL database (`postgres://…`); default: a new SQLite database in a
    /// temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Events to generate.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Users to simulate.
    #[arg(long, default_value_t = 1_000)]
    users: u32,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Events per replay batch.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// End to end: `run --all --full` over every model in one pass, against the same
    /// models one after another and against the raw baselines.
    #[arg(long)]
    e2e: bool,
    /// Scale-out (PostgreSQL): `run --all --full` in one process against `--workers 1`
    /// and `--workers 2`, with each worker's events/s and lease overhead.
    #[arg(long, conflicts_with = "e2e")]
    workers: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        database_url: args.database_url,
        events: args.events,
        users: args.users,
        seed: args.seed,
        batch_size: usize::try_from(args.batch_size).unwrap_or(usize::MAX),
    };
    eprintln!("{}", options.command_line());
    let say = &mut |line: &str| eprintln!("bench: {line}");
    if args.e2e {
        let report = bench::e2e::run(&options, say);
        return finish(report, args.json, |r| r.table(), |r| r.checksums_match);
    }
    if args.workers {
        let report = bench::workers::run(&options, say);
        return finish(report, args.json, |r| r.table(), |r| r.checksums_match);
    }
    let report = bench::run(&options, say);
    finish(report, args.json, |r| r.table(), |r| r.all_match())
}

/// Prints `report` as a table or JSON; fails when it could not run or `ok` says its
/// runs wrote different rows.
fn finish<R: serde::Serialize>(
    report: Result<R, bench::BenchError>,
    json: bool,
    table: impl Fn(&R) -> String,
    ok: impl Fn(&R) -> bool,
) -> ExitCode {
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", table(&report));
    }
    if ok(&report) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
