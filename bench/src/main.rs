//! `bench`: measures full replays of the habits read models against raw baselines that
//! write the same rows, on a fresh database, and prints a table (or JSON).
//!
//! ```sh
//! cargo run --release -p bench -- --events 1000000
//! cargo run --release -p bench -- --database-url postgres://localhost/bench1 --json
//! cargo run --release -p bench -- --e2e --events 1000000
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
    if args.e2e {
        return end_to_end(&options, args.json);
    }
    let report = match bench::run(&options, &mut |line| eprintln!("bench: {line}")) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", report.table());
    }
    if report.all_match() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn end_to_end(options: &Options, json: bool) -> ExitCode {
    let report = match bench::e2e::run(options, &mut |line| eprintln!("bench: {line}")) {
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
        print!("{}", report.table());
    }
    if report.checksums_match {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
