//! `write_path`: hand-built upserts against diesel's typed upsert (over slices and over
//! fixed-size arrays) and COPY, per habits model, on a fresh database (see
//! `bench::write_path`).
//!
//! ```sh
//! cargo run --release -p bench --bin write_path -- --rows 200000
//! cargo run --release -p bench --bin write_path -- --database-url postgres://localhost/wp --json
//! ```

use std::process::ExitCode;

use bench::write_path::{self, Options};
use clap::Parser;

/// Write-path benchmark: hand-built upserts against diesel's typed upserts and COPY.
#[derive(Debug, Parser)]
#[command(name = "write_path", about, long_about = None)]
struct Args {
    /// An empty PostgreSQL database (`postgres://…`); default: a new SQLite database in a
    /// temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Rows written per model and pass.
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..))]
    rows: u64,
    /// Rows per transaction.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..))]
    chunk: u64,
    /// Runs per model and path; the median is reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    let options = Options {
        database_url: args.database_url,
        rows: size(args.rows),
        chunk: size(args.chunk),
        runs: size(args.runs),
    };
    eprintln!("{}", options.command_line());
    let report = match write_path::run(&options, &mut |line| eprintln!("write_path: {line}")) {
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
