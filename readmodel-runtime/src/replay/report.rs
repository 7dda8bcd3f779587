//! What a run reports, and the progress it reports as it goes.

use std::time::Duration;

use crate::ledger::{RunStatus, Scope};

/// How a run went.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunReport {
    /// Model name.
    pub model: &'static str,
    /// Model version written.
    pub version: i32,
    /// Id in `replay_runs`.
    pub run_id: i64,
    /// The part of the model the run covered.
    pub scope: Scope,
    /// Whether rows were deleted first.
    pub full: bool,
    /// First event id considered.
    pub from: i64,
    /// Last event id considered.
    pub to: i64,
    /// Events read from the log (of consumed types, in scope).
    pub events_read: u64,
    /// Rows written or deleted.
    pub rows_written: u64,
    /// Flushes that committed rows and the checkpoint (the metrics'
    /// `readmodel_flushes_total`).
    pub flushes: u64,
    /// Bad events parked under `--on-bad-event park`.
    pub bad_events_parked: u64,
    /// Wall time.
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
    /// `succeeded`, or `stopped` when `--max-batches` or the stop flag ended it early.
    pub status: RunStatus,
    /// Checksum of the rows in scope after the run.
    pub checksum: String,
    /// The run this one resumed.
    pub resumed_from: Option<i64>,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl RunReport {
    /// Events read per second.
    pub fn events_per_second(&self) -> f64 {
        self.events_read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Receives progress after each committed batch.
pub trait Progress {
    /// `last_id` of `to` is applied; `events` read so far in this run.
    fn batch(&mut self, model: &str, last_id: i64, to: i64, events: u64);
}

/// Progress that goes nowhere.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn batch(&mut self, _: &str, _: i64, _: i64, _: u64) {}
}
