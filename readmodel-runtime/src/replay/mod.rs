//! The replay engine: events in global id order, through the model's handlers, into its
//! table, one transaction per batch holding the rows and the checkpoint together.
//!
//! A run is planned first ([`plan`]: what the kind and rebuild strategy allow), then
//! executed batch by batch; [`Start::Resume`] continues the latest unfinished run of a
//! model from its scope's checkpoint, to the bound that run fixed when it started.
//!
//! Depends on the store, the log ([`source`]) and the bookkeeping tables ([`ledger`],
//! [`versions`](crate::versions), [`dead_letters`](crate::dead_letters),
//! [`checksum`](crate::checksum)).

mod apply;
mod batch;
mod cache;
mod error;
pub(crate) mod execute;
pub(crate) mod handler_guard;
pub mod partition;
pub(crate) mod pass;
pub mod plan;
mod resume;
mod write;

use std::time::Duration;

use crate::ledger::{self, RunStatus, Scope};
use crate::rows::Projection;
use crate::source;
use crate::store::rows::RowSet;
use crate::store::Conn;

pub use error::{NoResume, ReplayError};
pub use pass::{
    fits_a_pass, run_lanes, run_pass, run_pass_with, ChecksumJob, Control, Db, Fence, Lane,
    PassModel, Share,
};
pub use plan::{BadEventPolicy, Flush, Plan, Start, BATCH_SIZE, PASS_BATCH_SIZE};

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

/// Runs `plan` for projection `P` on one connection.
pub(crate) fn run<P: Projection, C: Conn>(
    conn: &mut C,
    plan: &Plan,
    progress: &mut dyn Progress,
) -> Result<RunReport, ReplayError> {
    let contract = P::CONTRACT;
    let version = contract.version;
    crate::store::schema::check_table(conn, contract)?;
    let head = conn.settled_head()?;
    if let Some(user) = plan.user {
        if !source::user_has_events(conn, user)? {
            return Err(ReplayError::UnknownUser { user });
        }
    }
    let run = match plan.start {
        Start::New => {
            let global = ledger::checkpoint(conn, contract.name, version, Scope::All)?;
            let execution = plan::resolve(contract, plan, head, global)?;
            partition::refuse_if_workers_ahead(conn, contract, version, global, &execution)?;
            execute::Run {
                plan: plan.clone(),
                execution,
                resumed_from: None,
            }
        }
        Start::Resume => resume::prepare(conn, contract, plan, head)?,
    };
    execute::execute::<P, C>(conn, version, &run, progress)
}

/// Rebuilds the whole model as `version` (a scratch version for `verify`) up to `to`.
pub(crate) fn rebuild_as<P: Projection, C: Conn>(
    conn: &mut C,
    version: i32,
    to: i64,
) -> Result<RunReport, ReplayError> {
    // Events parked in the live version are parked again here, so the comparison is of
    // what the log can rebuild.
    let plan = Plan {
        full: true,
        to: Some(to),
        on_bad_event: BadEventPolicy::Park,
        check_determinism: true,
        ..Plan::default()
    };
    let execution = plan::Execution {
        scope: Scope::All,
        delete: Some(RowSet::WholeVersion),
        after: P::CONTRACT.start_after(),
        to,
        user: None,
    };
    let run = execute::Run {
        plan,
        execution,
        resumed_from: None,
    };
    execute::execute::<P, C>(conn, version, &run, &mut NoProgress)
}
