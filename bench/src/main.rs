//! `bench`: measures full replays of the habits read models against raw baselines that
//! write the same rows, on a fresh database, and prints a table (or JSON).
//!
//! ```sh
//! cargo run --release -p bench -- --events 1000000
//! cargo run --release -p bench -- --database-url postgres://localhost/bench1 --json
//! cargo run --release -p bench -- --e2e --events 1000000
//! cargo run --release -p bench -- --workers --events 300000 --database-url postgres://localhost/bench2
//! cargo run --release -p bench -- --scale 1M,10M --database-url postgres://localhost/bench3
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use bench::scale::{self, ScaleOptions};
use bench::{self, Options};
use clap::Parser;
use readmodel_runtime::replay::PASS_BATCH_SIZE;

/// Replay benchmark: the framework against raw SQL / a raw fold, per habits model.
#[derive(Debug, Parser)]
#[command(name = "bench", about, long_about = None)]
struct Args {
    /// An empty PostgreSQL database (`postgres://…`); default: a new SQLite database in a
    /// temporary directory.
    #[arg(long)]
    database_url: Option<String>,
    /// Events to generate.
    #[arg(long, default_value_t = 1_000_000, conflicts_with = "scale")]
    events: u64,
    /// Users to simulate.
    #[arg(long, default_value_t = 1_000)]
    users: u32,
    /// Generator seed.
    #[arg(long, default_value_t = 42, conflicts_with = "scale")]
    seed: u64,
    /// Events per replay batch [default: 5000; with --scale, what `run --all --full`
    /// reads per batch].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    batch_size: Option<u64>,
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
    /// Growth with the log: `run --all --full` over every model at each size (a comma
    /// list: 1M,10M, 250k, 10000000; 1M generations with seeds 1, 2, … per million), in a
    /// fresh process each, on SQLite and, with --database-url, PostgreSQL.
    #[arg(long, value_name = "SIZES", conflicts_with_all = ["e2e", "workers"])]
    scale: Option<String>,
    /// With --scale: where the SQLite databases go (a temporary directory inside DIR).
    #[arg(long, value_name = "DIR", requires = "scale")]
    sqlite_dir: Option<PathBuf>,
    /// With --scale: measured passes per backend and size, each in a fresh process over
    /// read models emptied as a new database has them; the report gives the median.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "scale",
          value_parser = clap::value_parser!(u64).range(1..=9))]
    repeat: u64,
    /// With --scale: writes PREFIX.json and PREFIX.svg (the chart).
    #[arg(long, value_name = "PREFIX", default_value = "bench-scale")]
    out: PathBuf,
    /// A --scale run's measured process: the pass over the database at URL.
    #[arg(long, value_name = "URL", hide = true)]
    scale_child: Option<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let batch_size = |default: usize| {
        args.batch_size
            .map_or(default, |n| usize::try_from(n).unwrap_or(usize::MAX))
    };
    if let Some(url) = &args.scale_child {
        return scale_child(url, batch_size(PASS_BATCH_SIZE));
    }
    if let Some(sizes) = &args.scale {
        return run_scale(&args, sizes, batch_size(PASS_BATCH_SIZE));
    }
    let options = Options {
        database_url: args.database_url,
        events: args.events,
        users: args.users,
        seed: args.seed,
        batch_size: batch_size(5_000),
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

/// `--scale-child URL`: the measured pass; its report on one line of stdout.
fn scale_child(url: &str, batch_size: usize) -> ExitCode {
    let line = scale::child::run_pass(url, batch_size)
        .and_then(|report| serde_json::to_string(&report).map_err(bench::BenchError::from));
    match line {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `--scale`: runs every size, prints the report, writes PREFIX.json and PREFIX.svg.
fn run_scale(args: &Args, sizes: &str, batch_size: usize) -> ExitCode {
    let sizes = match scale::parse_sizes(sizes) {
        Ok(sizes) => sizes,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => {
            eprintln!("error: cannot find this binary to run its measured passes: {error}");
            return ExitCode::FAILURE;
        }
    };
    let options = ScaleOptions {
        sizes,
        database_url: args.database_url.clone(),
        sqlite_dir: args.sqlite_dir.clone(),
        users: args.users,
        batch_size,
        repeat: usize::try_from(args.repeat).unwrap_or(1),
        exe,
    };
    let say = &mut |line: &str| eprintln!("bench: {line}");
    let report = scale::run(&options, say).and_then(|report| {
        scale::write_files(&report, &args.out)?;
        say(&format!(
            "wrote {} and {}",
            scale::with_extension(&args.out, "json").display(),
            scale::with_extension(&args.out, "svg").display()
        ));
        Ok(report)
    });
    finish(report, args.json, |r| r.table(), |r| r.checksums_match)
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
