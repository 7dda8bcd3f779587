//! Scale-out mode (`bench --workers`, PostgreSQL): on one fresh database of N generated
//! events, `run --all --full` in one process (the one-pass engine), then the same with
//! `--workers 1`, `2` and `4` (threads, one connection each, every model split into
//! partitions under leases), reporting each run's wall time against the one pass, the
//! speedup over one worker, each worker's events/s, the log events each worker read (a
//! worker reads only its partitions' events: they fall as 1/N), and the share of each flush
//! spent renewing leases; every run must write the same rows (checksums per model).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use readmodel_runtime::replay::NoProgress;
use readmodel_runtime::run_models;
use readmodel_runtime::scale_out::{run_workers, WorkerConfig, WorkerStats};
use readmodel_runtime::{Model, Plan, Registry};
use serde::Serialize;

use super::{populate, BenchError, Options, Peaks};

/// Partitions per splittable model, as `run --workers` defaults.
const PARTITIONS: u32 = readmodel_runtime::replay::partition::DEFAULT_PARTITIONS;

/// The worker counts measured, in order.
const WORKER_COUNTS: [usize; 3] = [1, 2, 4];

/// One `run --all --full --workers N`.
#[derive(Debug, Clone, Serialize)]
pub struct WorkersRun {
    /// N.
    pub workers: usize,
    /// Wall time, checksums included.
    pub seconds: f64,
    /// Each worker's figures.
    pub stats: Vec<WorkerStats>,
}

/// What the scale-out mode measured.
#[derive(Debug, Clone, Serialize)]
pub struct WorkersReport {
    /// The command line that reproduces it.
    pub command: String,
    /// Events in the log.
    pub log_events: u64,
    /// `run --all --full` in one process, one pass.
    pub single_seconds: f64,
    /// `--workers 1`, `2`, then `4`.
    pub runs: Vec<WorkersRun>,
    /// Whether every run wrote every model's rows alike.
    pub checksums_match: bool,
}

/// Runs the scale-out mode; `say` receives one progress line per phase.
pub fn run(options: &Options, say: &mut dyn FnMut(&str)) -> Result<WorkersReport, BenchError> {
    if options.database_url.is_none() {
        return Err(BenchError::new(
            "--workers needs --database-url postgres://… (SQLite allows one writer at a time)",
        ));
    }
    let mut peaks = Peaks::default();
    let (mut fresh, generation) = populate(options, say, &mut peaks)?;
    let store = &mut fresh.store;
    let url = fresh.url.clone();
    let registry = Registry::global()?;
    let models: Vec<&'static dyn Model> = registry.iter().collect();
    let plan = Plan {
        full: true,
        batch_size: options.batch_size,
        ..Plan::default()
    };

    say("run --all --full in one process (one pass)");
    let started = Instant::now();
    let single = run_models(store, &url, &models, &plan, &mut NoProgress)?;
    let single_seconds = started.elapsed().as_secs_f64();
    let expected = checksums(single.iter().map(|r| (r.model, r.checksum.clone())));

    let mut runs = Vec::new();
    let mut checksums_match = true;
    for workers in WORKER_COUNTS {
        say(&format!("run --all --full --workers {workers}"));
        let config = WorkerConfig {
            owner: format!("bench-{workers}"),
            lease: Duration::from_secs(30),
            plan: plan.clone(),
            poll: Duration::from_secs(1),
            workers: Some(workers),
            fresh: true,
            beside: Default::default(),
        };
        let started = Instant::now();
        let report = run_workers(store, &url, &models, &plan, PARTITIONS, &config, &|_| {})?;
        let seconds = started.elapsed().as_secs_f64();
        let got = checksums(report.runs.iter().map(|r| (r.model, r.checksum.clone())));
        checksums_match &= got == expected;
        runs.push(WorkersRun {
            workers,
            seconds,
            stats: report.workers,
        });
    }
    Ok(WorkersReport {
        command: options.command_line() + " --workers",
        log_events: generation.events,
        single_seconds,
        runs,
        checksums_match,
    })
}

fn checksums(runs: impl Iterator<Item = (&'static str, String)>) -> BTreeMap<&'static str, String> {
    runs.collect()
}

impl WorkersReport {
    /// The text form.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "readmodel bench --workers: {} log events",
            self.log_events
        );
        let _ = writeln!(out, "command: {}", self.command);
        let _ = writeln!(out, "one process, one pass: {:.2}s", self.single_seconds);
        for run in &self.runs {
            let _ = writeln!(
                out,
                "--workers {}: {:.2}s ({:.2}x the one-process time)",
                run.workers,
                run.seconds,
                self.single_seconds / run.seconds.max(1e-9)
            );
            for worker in &run.stats {
                let rate = worker.events as f64 / worker.passing_seconds.max(1e-9);
                let renewing = worker.renewing_seconds / worker.flushing_seconds.max(1e-9);
                let per_flush = worker.renewing_seconds * 1000.0 / (worker.flushes.max(1) as f64);
                let _ = writeln!(
                    out,
                    "  {}: {} partitions, read {} log events ({:.2} of the log), applied {} events in {:.2}s of passes = {:.0} events/s; {} flushes, lease renewal {:.1} ms per flush ({:.1}% of flushing)",
                    worker.owner,
                    worker.claimed,
                    worker.log_events,
                    worker.log_events as f64 / (self.log_events.max(1) as f64),
                    worker.events,
                    worker.passing_seconds,
                    rate,
                    worker.flushes,
                    per_flush,
                    renewing * 100.0
                );
            }
        }
        if let Some((one, more)) = self.runs.split_first() {
            for run in more {
                let _ = writeln!(
                    out,
                    "speedup of --workers {} over --workers 1: {:.2}x",
                    run.workers,
                    one.seconds / run.seconds.max(1e-9)
                );
            }
        }
        let _ = writeln!(
            out,
            "rows identical across the {} runs: {}",
            self.runs.len() + 1,
            if self.checksums_match { "yes" } else { "NO" }
        );
        out
    }
}
