//! The end-to-end mode (`bench --e2e`): the whole job an operator runs, `run --all --full`
//! over every model in one pass, on a fresh database of `events` generated events.
//!
//! Measured side by side in one process, on the same log:
//! 1. the pass over all models: wall time, log events/s, model-events/s, peak RSS;
//! 2. the same models replayed one after another (`Model::replay`, one run per model, as
//!    a scoped run still goes): the speedup of the pass;
//! 3. the pass over the habits models alone against the sum of their raw baselines (the
//!    models that have one; see `baseline.rs`), with the rows checked equal.

use std::fmt::Write as _;
use std::time::Instant;

use readmodel_runtime::replay::NoProgress;
use readmodel_runtime::run_models;
use readmodel_runtime::{Model, Plan, Registry};
use serde::Serialize;

use super::{baseline, populate, rss, BenchError, Generation, Options, Peaks, MODELS};

/// What the end-to-end mode measured.
#[derive(Debug, Clone, Serialize)]
pub struct E2eReport {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The command line that repeats the run.
    pub command: String,
    /// The generation phase.
    pub generate: Generation,
    /// Models in the pass.
    pub models: usize,
    /// Events in the log.
    pub log_events: u64,
    /// Events the models consumed, summed over the models.
    pub model_events: u64,
    /// The pass over every model, seconds (without the checksums).
    pub pass_seconds: f64,
    /// Log events per second of the pass.
    pub log_events_per_second: f64,
    /// Model-events per second of the pass.
    pub model_events_per_second: f64,
    /// Peak resident memory during the pass, KiB.
    pub pass_peak_rss_kib: Option<u64>,
    /// Every model replayed one after another, seconds (summed run times).
    pub one_by_one_seconds: f64,
    /// Peak resident memory during the one-by-one runs, KiB.
    pub one_by_one_peak_rss_kib: Option<u64>,
    /// `one_by_one_seconds / pass_seconds`.
    pub speedup: f64,
    /// The pass over the habits models alone, seconds.
    pub habits_pass_seconds: f64,
    /// The habits models' raw baselines, seconds, summed.
    pub habits_baselines_seconds: f64,
    /// `habits_baselines_seconds / habits_pass_seconds`.
    pub habits_ratio: f64,
    /// Whether every run of a model wrote the same rows (pass, one by one, baseline).
    pub checksums_match: bool,
}

/// Runs the end-to-end mode; `say` receives one progress line per phase.
pub fn run(options: &Options, say: &mut dyn FnMut(&str)) -> Result<E2eReport, BenchError> {
    let mut peaks = Peaks::default();
    let (mut fresh, generate) = populate(options, say, &mut peaks)?;
    let store = &mut fresh.store;
    let url = fresh.url.clone();
    let backend = store.backend_name();
    let registry = Registry::global()?;
    let all: Vec<&dyn Model> = registry.iter().collect();
    let plan = Plan {
        full: true,
        batch_size: options.batch_size,
        ..Plan::default()
    };

    say(&format!(
        "run --all --full: {} models in one pass",
        all.len()
    ));
    let started = Instant::now();
    let (pass, pass_usage) = rss::measure(|| run_models(store, &url, &all, &plan, &mut NoProgress));
    let _with_checksums = started.elapsed();
    let pass = pass?;
    peaks.note(pass_usage);
    let pass_seconds = pass
        .iter()
        .map(|r| r.elapsed.as_secs_f64())
        .fold(0.0, f64::max);
    let model_events: u64 = pass.iter().map(|r| r.events_read).sum();
    let log_events = generate.events;

    say("the same models one after another");
    let mut one_by_one_seconds = 0.0;
    let mut checksums_match = true;
    let (runs, one_usage) = rss::measure(|| {
        all.iter()
            .map(|model| run_models(store, &url, &[*model], &plan, &mut NoProgress))
            .collect::<Result<Vec<_>, _>>()
            .map(|runs| runs.into_iter().flatten().collect::<Vec<_>>())
    });
    peaks.note(one_usage);
    for (run, ours) in runs?.iter().zip(&pass) {
        one_by_one_seconds += run.elapsed.as_secs_f64();
        checksums_match &= run.checksum == ours.checksum;
    }

    say("the habits models in one pass, then their raw baselines");
    let habits: Vec<&dyn Model> = MODELS
        .iter()
        .map(|name| registry.get(name))
        .collect::<Result<_, _>>()?;
    let reports = run_models(store, &url, &habits, &plan, &mut NoProgress)?;
    let habits_pass_seconds = reports
        .iter()
        .map(|r| r.elapsed.as_secs_f64())
        .fold(0.0, f64::max);
    let mut habits_baselines_seconds = 0.0;
    for (name, ours) in MODELS.iter().zip(&reports) {
        baseline::clear(store, name)?;
        let started = Instant::now();
        baseline::run(store, name, options.batch_size)?;
        habits_baselines_seconds += started.elapsed().as_secs_f64();
        let model = registry.get(name)?;
        let sum = model.checksum(store, model.contract().version, None)?;
        checksums_match &= sum.digest == ours.checksum;
    }
    Ok(E2eReport {
        backend,
        command: format!("{} --e2e", options.command_line()),
        generate,
        models: all.len(),
        log_events,
        model_events,
        pass_seconds,
        log_events_per_second: log_events as f64 / pass_seconds.max(1e-9),
        model_events_per_second: model_events as f64 / pass_seconds.max(1e-9),
        pass_peak_rss_kib: pass_usage.peak,
        one_by_one_seconds,
        one_by_one_peak_rss_kib: one_usage.peak,
        speedup: one_by_one_seconds / pass_seconds.max(1e-9),
        habits_pass_seconds,
        habits_baselines_seconds,
        habits_ratio: habits_baselines_seconds / habits_pass_seconds.max(1e-9),
        checksums_match,
    })
}

impl E2eReport {
    /// The text form.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "readmodel bench --e2e: backend {}", self.backend);
        let _ = writeln!(out, "command: {}", self.command);
        let _ = writeln!(
            out,
            "run --all --full, {} models, {} log events ({} model-events): {:.2}s = {:.0} log events/s, {:.0} model-events/s, peak RSS {}",
            self.models,
            self.log_events,
            self.model_events,
            self.pass_seconds,
            self.log_events_per_second,
            self.model_events_per_second,
            rss::show(self.pass_peak_rss_kib)
        );
        let _ = writeln!(
            out,
            "the same models one after another: {:.2}s (peak RSS {}); the pass is {:.2}x faster",
            self.one_by_one_seconds,
            rss::show(self.one_by_one_peak_rss_kib),
            self.speedup
        );
        let _ = writeln!(
            out,
            "habits models: pass {:.2}s, raw baselines {:.2}s summed: pass/baselines {:.2}",
            self.habits_pass_seconds, self.habits_baselines_seconds, self.habits_ratio
        );
        let _ = writeln!(
            out,
            "rows identical across pass, one-by-one runs and baselines: {}",
            if self.checksums_match { "yes" } else { "NO" }
        );
        out
    }
}
