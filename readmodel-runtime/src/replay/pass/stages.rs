//! Where the passes of this process spend their time, stage by stage, for profiling a
//! rebuild: `READMODEL_LOG=readmodel::stages=info replay run --all --full` prints one
//! line per pass (docs/PERFORMANCE.md lists what each stage covers). The three threads of
//! a pass overlap: the stage that is busiest, with the others waiting on it, bounds the
//! pass. Counters are per process (the passes of `run --workers N` add up); without the
//! log line they cost two clock reads per batch and job.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A stage of a pass, on the thread that runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Reading thread: the log's statements, rows decoded into events.
    Read,
    /// Applying thread: waiting for the reading thread's next batch.
    WaitForEvents,
    /// Applying thread: routing events and running the handlers (payloads decoded), the
    /// row cache, loads included.
    Apply,
    /// Applying thread, within `Apply`: waiting for rows loaded from the database (keys
    /// the row cache could not vouch for), behind the jobs queued before the load.
    Load,
    /// Applying thread: waiting for room in the writing thread's queue.
    WaitForWriter,
    /// Writing thread: rows, checkpoints and counters written, commits included.
    Write,
    /// Writing thread, within `Write`: commits.
    Commit,
    /// The `(user_id, model_version)` indexes full rebuilds into empty tables left out,
    /// built at the end of the pass.
    Indexes,
    /// Checksums of the finished runs.
    Checksums,
}

const STAGES: [Stage; 9] = [
    Stage::Read,
    Stage::WaitForEvents,
    Stage::Apply,
    Stage::Load,
    Stage::WaitForWriter,
    Stage::Write,
    Stage::Commit,
    Stage::Indexes,
    Stage::Checksums,
];

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::WaitForEvents => "wait for events",
            Stage::Apply => "apply",
            Stage::Load => "of which loads",
            Stage::WaitForWriter => "wait for writer",
            Stage::Write => "write",
            Stage::Commit => "of which commits",
            Stage::Indexes => "user indexes",
            Stage::Checksums => "checksums",
        }
    }
}

/// Nanoseconds and occurrences of each stage, in [`STAGES`] order.
static NANOS: [AtomicU64; STAGES.len()] = [const { AtomicU64::new(0) }; STAGES.len()];
static TIMES: [AtomicU64; STAGES.len()] = [const { AtomicU64::new(0) }; STAGES.len()];

/// Loads per model, for the models that had any.
static LOADS: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());

/// The models whose row caches stopped proving keys new (their filter did not fit).
static STOPPED_PROVING: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// The most bytes the filters of dropped keys of a pass held, and that pass's budget.
static FILTER_PEAK: AtomicU64 = AtomicU64::new(0);
static FILTER_BUDGET: AtomicU64 = AtomicU64::new(0);

/// Notes that `model`'s row cache stopped proving keys new.
pub(crate) fn stopped_proving(model: &'static str) {
    if let Ok(mut models) = STOPPED_PROVING.lock() {
        models.insert(model);
    }
}

/// Notes the filter bytes a pass held at its peak, of `budget`.
pub(crate) fn filters(peak: usize, budget: usize) {
    let as_u64 = |bytes: usize| u64::try_from(bytes).unwrap_or(u64::MAX);
    if FILTER_PEAK.fetch_max(as_u64(peak), Ordering::Relaxed) <= as_u64(peak) {
        FILTER_BUDGET.store(as_u64(budget), Ordering::Relaxed);
    }
}

/// Counts a load of `model`'s rows (one statement, however many keys).
pub(crate) fn loaded(model: &'static str) {
    if let Ok(mut loads) = LOADS.lock() {
        *loads.entry(model).or_default() += 1;
    }
}

/// Adds `spent` to `stage`.
pub(crate) fn add(stage: Stage, spent: Duration) {
    let i = stage as usize;
    let nanos = u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX);
    NANOS[i].fetch_add(nanos, Ordering::Relaxed);
    TIMES[i].fetch_add(1, Ordering::Relaxed);
}

/// Runs `work`, counting its time to `stage`.
pub(crate) fn timed<T>(stage: Stage, work: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let done = work();
    add(stage, started.elapsed());
    done
}

/// The time counted to `stage` so far.
pub(crate) fn spent(stage: Stage) -> Duration {
    Duration::from_nanos(NANOS[stage as usize].load(Ordering::Relaxed))
}

/// One line: each stage's seconds and occurrences so far, then the loads per model.
pub(crate) fn summary() -> String {
    let stages = STAGES
        .iter()
        .map(|&stage| {
            let times = TIMES[stage as usize].load(Ordering::Relaxed);
            format!(
                "{} {:.2}s ({times})",
                stage.name(),
                spent(stage).as_secs_f64()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let loads = LOADS.lock().map(|loads| {
        loads
            .iter()
            .map(|(model, n)| format!("{model} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let stopped = STOPPED_PROVING
        .lock()
        .map(|models| models.iter().copied().collect::<Vec<_>>().join(", "));
    let mib = |bytes: &AtomicU64| bytes.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0);
    format!(
        "{stages}; loads by model: {}; filters of dropped keys: peak {:.1} of {:.1} MiB, \
         stopped proving keys new: {}",
        loads.unwrap_or_default(),
        mib(&FILTER_PEAK),
        mib(&FILTER_BUDGET),
        stopped
            .ok()
            .filter(|s| !s.is_empty())
            .as_deref()
            .unwrap_or("none")
    )
}

/// Logs [`summary`] for a pass that took `elapsed`.
pub(crate) fn log(elapsed: Duration) {
    tracing::info!(
        target: "readmodel::stages",
        "pass of {:.2}s: {}",
        elapsed.as_secs_f64(),
        summary()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_is_named_once_and_counted_apart() {
        let names: std::collections::BTreeSet<&str> = STAGES.iter().map(|s| s.name()).collect();
        assert_eq!(names.len(), STAGES.len());
        for (i, stage) in STAGES.iter().enumerate() {
            assert_eq!(*stage as usize, i, "{stage:?}");
        }
        let before = spent(Stage::Checksums);
        timed(Stage::Checksums, || {
            std::thread::sleep(Duration::from_millis(2))
        });
        assert!(spent(Stage::Checksums) >= before + Duration::from_millis(2));
        assert!(summary().contains("checksums "), "{}", summary());
    }

    #[test]
    fn the_filters_budget_and_the_models_that_stopped_proving_are_reported() {
        // A pass whose filters held nothing still names its budget.
        filters(0, 16 << 20);
        assert!(summary().contains(" of 16.0 MiB"), "{}", summary());
        stopped_proving("test.stopped");
        assert!(summary().contains("test.stopped"), "{}", summary());
    }
}
