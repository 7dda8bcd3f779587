//! The scale mode (`bench --scale 1M,10M`): how `run --all --full` over every registered
//! model grows with the log, on SQLite (a new database per size) and, given
//! `--database-url`, on PostgreSQL (that database, emptied between sizes).
//!
//! For each size and backend: the log is generated as docs/PERFORMANCE.md builds 10M
//! (one 1M generation per million, seeds 1, 2, …; see [`generations`]), then one pass is
//! measured in a fresh child process (see `child.rs`), so its peak resident memory is the
//! run's own; with `--repeat N`, N passes, the read models emptied before each (the
//! median pass is reported, the highest peak, and an error if two passes' rows differ).
//! The report gives log events/s, model-events/s and peak RSS per (backend, size), the
//! ratio of log events/s at the largest size over the smallest per backend, and fails
//! when two backends' checksums differ at one size. [`chart::write_svg`] draws it.

pub mod chart;
pub mod child;
mod database;
mod sizes;
mod table;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use sizes::{generations, parse_sizes, show_size, SizeError, GENERATION};

use crate::BenchError;

/// What to run.
#[derive(Debug, Clone)]
pub struct ScaleOptions {
    /// Log sizes in events, smallest first.
    pub sizes: Vec<u64>,
    /// An empty PostgreSQL database to measure too.
    pub database_url: Option<String>,
    /// Where the SQLite databases go (a temporary directory inside it); default: the
    /// system's temporary directory.
    pub sqlite_dir: Option<PathBuf>,
    /// Users to simulate.
    pub users: u32,
    /// Events per read batch of the pass.
    pub batch_size: usize,
    /// Measured passes per (backend, size), each over read models emptied as a new
    /// database has them; the report gives the median pass (at least 1).
    pub repeat: usize,
    /// The bench binary, run as the measured child.
    pub exe: PathBuf,
}

/// One (backend, size).
#[derive(Debug, Clone, Serialize)]
pub struct ScaleRun {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The size asked for.
    pub size: u64,
    /// Generations appended to make the log.
    pub generations: usize,
    /// Events in the log.
    pub log_events: u64,
    /// Generating, inserting and settling the log, seconds (informational).
    pub generate_seconds: f64,
    /// The median measured pass, seconds (the longest model's run, checksums excluded).
    pub seconds: f64,
    /// Every measured pass, seconds, in the order they ran (one unless `--repeat`).
    pub pass_seconds: Vec<f64>,
    /// The median pass's child from start to exit, seconds (opening and checksums
    /// included).
    pub process_seconds: f64,
    /// Log events per second of the pass.
    pub log_events_per_second: f64,
    /// Events the models consumed, summed over the models.
    pub model_events: u64,
    /// Model-events per second of the pass.
    pub model_events_per_second: f64,
    /// The highest peak resident memory of the measured children, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Each model's checksum (the same in every pass), by model name.
    pub checksums: BTreeMap<String, String>,
}

/// Log events/s at the largest size over the smallest, for one backend.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    /// The backend.
    pub backend: &'static str,
    /// The smallest size, events.
    pub smallest: u64,
    /// The largest size, events.
    pub largest: u64,
    /// `log_events_per_second(largest) / log_events_per_second(smallest)`.
    pub log_events_per_second: f64,
}

/// A model whose checksum differs between backends at one size.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// The size, events.
    pub size: u64,
    /// The model.
    pub model: String,
    /// Its checksum per backend (absent: the backend's run did not report the model).
    pub checksums: BTreeMap<&'static str, Option<String>>,
}

/// The machine the figures come from.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Cores available to this process.
    pub cores: usize,
    /// The CPU's model name (`/proc/cpuinfo`), if known.
    pub cpu: Option<String>,
}

/// A whole scale run.
#[derive(Debug, Clone, Serialize)]
pub struct ScaleReport {
    /// The command line that repeats it.
    pub command: String,
    /// When it ran (UTC, RFC 3339).
    pub date: String,
    /// Where it ran.
    pub machine: Machine,
    /// Models in the pass.
    pub models: usize,
    /// Users simulated.
    pub users: u32,
    /// Events per read batch.
    pub batch_size: usize,
    /// The backends measured, in order.
    pub backends: Vec<&'static str>,
    /// The sizes, smallest first.
    pub sizes: Vec<u64>,
    /// One entry per (size, backend), sizes in order.
    pub runs: Vec<ScaleRun>,
    /// Per backend, when more than one size was measured.
    pub ratios: Vec<Ratio>,
    /// Checksums that differ between backends at one size.
    pub mismatches: Vec<Mismatch>,
    /// Whether `mismatches` is empty.
    pub checksums_match: bool,
}

impl ScaleReport {
    /// The measured passes per (backend, size): `--repeat`'s N, 1 without it.
    pub fn passes(&self) -> usize {
        self.runs
            .iter()
            .map(|r| r.pass_seconds.len())
            .max()
            .unwrap_or(1)
    }
}

/// Runs the scale mode; `say` receives one progress line per phase.
pub fn run(options: &ScaleOptions, say: &mut dyn FnMut(&str)) -> Result<ScaleReport, BenchError> {
    if let Some(raw) = &options.database_url {
        database::postgres(raw)?;
    }
    let mut runs = Vec::new();
    for (index, &size) in options.sizes.iter().enumerate() {
        let (store, url, dir) = database::sqlite(options.sqlite_dir.as_deref())?;
        say(&format!(
            "sqlite, {}: generating the log into {url}",
            show_size(size)
        ));
        let log = database::fill(store, url, size, options.users, Some(dir))?;
        runs.push(measure("sqlite", size, &log, options, say)?);
        drop(log); // its directory, before the next database takes the disk
        if let Some(raw) = &options.database_url {
            if index > 0 {
                say("postgres: emptying the database for the next size");
                database::empty_postgres(raw)?;
            }
            let store = database::postgres(raw)?;
            say(&format!(
                "postgres, {}: generating the log",
                show_size(size)
            ));
            let log = database::fill(store, raw.clone(), size, options.users, None)?;
            runs.push(measure("postgres", size, &log, options, say)?);
        }
    }
    Ok(report(options, runs))
}

fn measure(
    backend: &'static str,
    size: u64,
    log: &database::SizedLog,
    options: &ScaleOptions,
    say: &mut dyn FnMut(&str),
) -> Result<ScaleRun, BenchError> {
    let repeat = options.repeat.max(1);
    let mut passes = Vec::with_capacity(repeat);
    for attempt in 1..=repeat {
        if attempt > 1 {
            database::empty_read_models(&log.url)?;
        }
        let which = if repeat > 1 {
            format!(" (pass {attempt} of {repeat})")
        } else {
            String::new()
        };
        say(&format!(
            "{backend}, {}: run --all --full over {} events in a fresh process{which}",
            show_size(size),
            log.events
        ));
        passes.push(child::measure(&options.exe, &log.url, options.batch_size)?);
    }
    let pass_seconds: Vec<f64> = passes.iter().map(|(child, _)| child.seconds).collect();
    let peak_rss_kib = passes
        .iter()
        .filter_map(|(child, _)| child.peak_rss_kib)
        .max();
    let (child, process_seconds) = median_pass(passes, backend, size)?;
    let seconds = child.seconds.max(1e-9);
    Ok(ScaleRun {
        backend,
        size,
        generations: log.generations,
        log_events: log.events,
        generate_seconds: log.seconds,
        seconds: child.seconds,
        pass_seconds,
        process_seconds,
        log_events_per_second: log.events as f64 / seconds,
        model_events: child.model_events,
        model_events_per_second: child.model_events as f64 / seconds,
        peak_rss_kib,
        checksums: child.checksums,
    })
}

/// The median of `passes` by pass time (of an even number, the faster of the middle
/// two: a pass that ran); an error when two passes over the same log wrote different
/// rows, which no timing can stand for.
pub fn median_pass(
    mut passes: Vec<(child::ChildReport, f64)>,
    backend: &str,
    size: u64,
) -> Result<(child::ChildReport, f64), BenchError> {
    if let Some((first, _)) = passes.first() {
        for (index, (other, _)) in passes.iter().enumerate().skip(1) {
            if other.checksums != first.checksums {
                let model = first
                    .checksums
                    .iter()
                    .find(|(model, sum)| other.checksums.get(*model) != Some(*sum))
                    .map_or("a model", |(model, _)| model.as_str());
                return Err(BenchError::new(format!(
                    "{backend}, {}: pass {} wrote different rows than pass 1 for {model} over the same log",
                    show_size(size),
                    index + 1
                )));
            }
        }
    }
    passes.sort_by(|a, b| a.0.seconds.total_cmp(&b.0.seconds));
    let middle = passes.len().saturating_sub(1) / 2;
    passes
        .into_iter()
        .nth(middle)
        .ok_or_else(|| BenchError::new("no measured pass"))
}

/// The report over `runs`: ratios, mismatches, and where and when it ran.
pub fn report(options: &ScaleOptions, runs: Vec<ScaleRun>) -> ScaleReport {
    let mut backends: Vec<&'static str> = Vec::new();
    for run in &runs {
        if !backends.contains(&run.backend) {
            backends.push(run.backend);
        }
    }
    let mismatches = mismatches(&runs);
    ScaleReport {
        command: command_line(options),
        date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        machine: Machine {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            cpu: cpu_model(),
        },
        models: runs.first().map_or(0, |r| r.checksums.len()),
        users: options.users,
        batch_size: options.batch_size,
        ratios: ratios(&backends, &runs),
        backends,
        sizes: options.sizes.clone(),
        checksums_match: mismatches.is_empty(),
        mismatches,
        runs,
    }
}

/// Per backend with at least two sizes: log events/s at the largest over the smallest.
pub fn ratios(backends: &[&'static str], runs: &[ScaleRun]) -> Vec<Ratio> {
    backends
        .iter()
        .filter_map(|&backend| {
            let of = || runs.iter().filter(move |r| r.backend == backend);
            let smallest = of().min_by_key(|r| r.log_events)?;
            let largest = of().max_by_key(|r| r.log_events)?;
            (largest.log_events > smallest.log_events).then(|| Ratio {
                backend,
                smallest: smallest.log_events,
                largest: largest.log_events,
                log_events_per_second: largest.log_events_per_second
                    / smallest.log_events_per_second.max(1e-9),
            })
        })
        .collect()
}

/// Every (size, model) whose checksum is not the same on every backend measured at
/// that size.
pub fn mismatches(runs: &[ScaleRun]) -> Vec<Mismatch> {
    let mut found = Vec::new();
    let mut sizes: Vec<u64> = runs.iter().map(|r| r.size).collect();
    sizes.dedup();
    for size in sizes {
        let at: Vec<&ScaleRun> = runs.iter().filter(|r| r.size == size).collect();
        let mut models: Vec<&String> = at.iter().flat_map(|r| r.checksums.keys()).collect();
        models.sort();
        models.dedup();
        for model in models {
            let checksums: BTreeMap<&'static str, Option<String>> = at
                .iter()
                .map(|r| (r.backend, r.checksums.get(model).cloned()))
                .collect();
            let first = checksums.values().next().cloned().flatten();
            if checksums.values().any(|c| c.is_none() || *c != first) {
                found.push(Mismatch {
                    size,
                    model: model.clone(),
                    checksums,
                });
            }
        }
    }
    found
}

/// `PREFIX.EXTENSION` (appended: a dot already in the prefix stays).
pub fn with_extension(prefix: &Path, extension: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

/// Writes `PREFIX.json` (the report) and `PREFIX.svg` (its chart).
pub fn write_files(report: &ScaleReport, prefix: &Path) -> Result<(), BenchError> {
    let json = with_extension(prefix, "json");
    let text = serde_json::to_string_pretty(report)? + "\n";
    std::fs::write(&json, text)
        .map_err(|e| BenchError::new(format!("cannot write {}: {e}", json.display())))?;
    let svg = with_extension(prefix, "svg");
    chart::write_svg(report, &svg).map_err(|e| BenchError::new(format!("{}: {e}", svg.display())))
}

fn command_line(options: &ScaleOptions) -> String {
    let sizes: Vec<String> = options.sizes.iter().map(|&s| show_size(s)).collect();
    let mut line = format!(
        "cargo run --release -p bench -- --scale {}",
        sizes.join(",")
    );
    if let Some(url) = &options.database_url {
        line += &format!(
            " --database-url '{}'",
            readmodel_runtime::store::redact(url)
        );
    }
    if let Some(dir) = &options.sqlite_dir {
        line += &format!(" --sqlite-dir '{}'", dir.display());
    }
    line += &format!(
        " --users {} --batch-size {}",
        options.users, options.batch_size
    );
    if options.repeat > 1 {
        line += &format!(" --repeat {}", options.repeat);
    }
    line
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, name)| name.split_whitespace().collect::<Vec<_>>().join(" "))
}
