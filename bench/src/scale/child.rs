//! One measured run in a fresh process: the bench binary runs itself with the hidden
//! `--scale-child URL`, which runs `run --all --full` over every registered model in one
//! pass and prints one JSON line with its figures and its own peak resident memory
//! (`VmHWM` at its end). A child of its own keeps the generation's memory, and any
//! earlier run's, out of the peak.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use readmodel_runtime::replay::NoProgress;
use readmodel_runtime::{run_models, DatabaseUrl, Model, Plan, Registry, Store};
use serde::{Deserialize, Serialize};

use crate::{rss, BenchError};

/// The hidden flag that makes the bench binary a measured child.
pub const CHILD_FLAG: &str = "--scale-child";

/// What a child prints: one JSON line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildReport {
    /// The pass, seconds (the longest model's run, checksums excluded, as `--e2e`).
    pub seconds: f64,
    /// Events the models consumed, summed over the models.
    pub model_events: u64,
    /// Each model's checksum after the run, by model name.
    pub checksums: BTreeMap<String, String>,
    /// The child's peak resident memory over its whole life, KiB.
    pub peak_rss_kib: Option<u64>,
}

/// In the child: runs the pass over the database at `url` and returns its figures.
pub fn run_pass(url: &str, batch_size: usize) -> Result<ChildReport, BenchError> {
    let url = DatabaseUrl::parse(url)?;
    let mut store = Store::open(&url, &projections::MIGRATIONS)?;
    let registry = Registry::global()?;
    let all: Vec<&dyn Model> = registry.iter().collect();
    let plan = Plan {
        full: true,
        batch_size,
        ..Plan::default()
    };
    let runs = run_models(&mut store, &url, &all, &plan, &mut NoProgress)?;
    drop(store);
    Ok(ChildReport {
        seconds: runs
            .iter()
            .map(|r| r.elapsed.as_secs_f64())
            .fold(0.0, f64::max),
        model_events: runs.iter().map(|r| r.events_read).sum(),
        checksums: runs
            .iter()
            .map(|r| (r.model.to_owned(), r.checksum.clone()))
            .collect(),
        peak_rss_kib: rss::peak_kib(),
    })
}

/// In the parent: runs `exe` as a child over `url`; returns its report and the child's
/// wall time, start-up and checksums included.
pub fn measure(exe: &Path, url: &str, batch_size: usize) -> Result<(ChildReport, f64), BenchError> {
    let started = Instant::now();
    let output = Command::new(exe)
        .args([CHILD_FLAG, url, "--batch-size", &batch_size.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| BenchError::new(format!("cannot start {}: {e}", exe.display())))?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        return Err(BenchError::new(format!(
            "the measured run ({} {CHILD_FLAG} …) failed ({}); its error is above",
            exe.display(),
            output.status
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.trim();
    let report = serde_json::from_str(line).map_err(|e| {
        BenchError::new(format!(
            "the measured run ({} {CHILD_FLAG} …) printed no report ({e}): {line:?}",
            exe.display()
        ))
    })?;
    Ok((report, seconds))
}
