//! One pass over the log for many models: each event is read once (on a reading thread)
//! and handed to every model that consumes it, each from its own checkpoint; changed rows
//! are written (on a writing thread) with every model's checkpoint in one transaction per
//! flush. The pipeline step by step, in the one place it is described:
//! `docs/ENGINE.md`, "One pass over the log".

mod applier;
mod checksums;
mod control;
mod flush;
mod in_flight;
mod lane;
mod reader;
pub(crate) mod stages;
mod writer;

use std::time::Instant;

use self::applier::Pass;
use self::reader::Follow;
use self::writer::Failure;
use super::cache::CacheShare;
use super::error::ReplayError;
use super::plan::Plan;
use super::report::{Progress, RunReport};
use crate::store::{DatabaseUrl, Store};

pub use self::control::Control;
pub(crate) use self::lane::{prepare, prepare_rebuild, prepare_resumed, prepare_share, Resumed};
pub(crate) use self::lane::{Lane, Share};

/// Rows the caches of all models of a pass may carry between flushes together. A 10M-event
/// rebuild of the 19 LifeOS models fills its caches (a 1M-event one does not). Its loads
/// of dropped rows grew by under 4% from 100,000 rows to 30,000 (58,054 to 60,130) in the
/// same time, for about 4 MiB less at the peak, which the rows queued for the writing
/// thread use better (`writer.rs`, `ROWS_IN_FLIGHT`).
pub(crate) const CACHE_ROWS: usize = 30_000;

/// What the pass's transactions are for, in errors.
const FLUSH: &str = "writing the rows and checkpoints of a pass";

/// Read batches in flight between the reading and the applying thread.
const CHUNKS_IN_FLIGHT: usize = 2;

/// Whether `plan` runs whole models (catch-up or `--full`, up to `--to`, parking bad
/// events or not, checking determinism or not), which go through one pass over the log;
/// runs of one user or of a range are all or nothing and run model by model. A resumed
/// run continues with the plan it recorded, whichever that was.
pub fn fits_a_pass(plan: &Plan) -> bool {
    plan.user.is_none() && plan.from.is_none()
}

/// What a worker adds to a pass: a check in each flush's transaction, before the lanes
/// write, that the worker still holds what it writes (its partitions' leases).
pub(crate) trait Fence {
    /// Renews the worker's hold on its lanes in the open transaction; an error (the lease
    /// lost) rolls the flush back and ends the pass.
    fn renew(&mut self, store: &mut Store) -> Result<(), ReplayError>;
    /// The flush whose transaction [`Fence::renew`] checked has committed.
    fn committed(&mut self) {}
}

/// Runs `lanes` (already started: a worker's partitions) in one pass over the log, each
/// to its bound, steered by `control` (stopped by its flag; following the log with its
/// watcher), checking `fence` in every flush; the log is read for the lanes' partitions
/// only. Returns the lanes with the outcome and the events read from the log:
/// `Ok(true)` when stopped early (the lanes' positions are flushed); on a failure every
/// lane is back at its last flush (nothing of the failed flush committed) and no run is
/// ended (the caller decides).
pub(crate) fn run_lanes(
    store: &mut Store,
    url: &DatabaseUrl,
    lanes: Vec<Box<dyn Lane>>,
    plan: &Plan,
    control: &mut Control,
    fence: &mut (dyn Fence + Send),
) -> (Vec<Box<dyn Lane>>, Result<bool, ReplayError>, u64) {
    let label = match lanes.as_slice() {
        [one] => one.contract().name.to_owned(),
        many => format!("{} partitions", many.len()),
    };
    let mut pass = Pass {
        lanes,
        plan,
        label,
        stop: control.stop.clone(),
        following: control.follow.is_some(),
        fence: Some(fence),
        log_events: 0,
    };
    let follow = control.follow.as_mut().map(|watcher| Follow {
        watcher,
        stop: &control.stop,
    });
    let outcome = pass
        .run(store, url, follow, &mut super::NoProgress)
        .map_err(|(_, error)| error);
    (pass.lanes, outcome, pass.log_events)
}

/// What each of `lanes` lanes that cache rows may hold: a share of the rows a pass may
/// carry between flushes, and the pass's one budget for the filters of dropped keys.
pub(crate) fn cache_share(lanes: usize) -> CacheShare {
    CacheShare::new((CACHE_ROWS / lanes.max(1)).clamp(1_000, super::cache::DEFAULT_CAPACITY))
}

/// How many of the models of `contracts` cache rows: all but timelines, whose handlers
/// never read rows (their lanes carry none, so their share of the budget goes to the
/// others).
pub(crate) fn caching<'c>(contracts: impl Iterator<Item = &'c crate::Contract>) -> usize {
    contracts
        .filter(|c| c.kind != crate::contract::Kind::Timeline)
        .count()
}

/// Runs `lanes` (prepared, not started) in one pass over the log, steered by `control`:
/// stopped by its flag (every run recorded `stopped` after what was applied is written),
/// and following the log when it has a watcher (see [`Control`]); `url` opens the
/// reading connection. On a failure every lane's run is recorded as failed, each model's
/// rows and checkpoint left at its last flush (so `--resume` or a catch-up continues
/// it), and the error returned.
pub(crate) fn run_prepared(
    store: &mut Store,
    url: &DatabaseUrl,
    mut lanes: Vec<Box<dyn Lane>>,
    plan: &Plan,
    control: &mut Control,
    progress: &mut dyn Progress,
) -> Result<Vec<RunReport>, ReplayError> {
    let started = Instant::now();
    start_lanes(store, &mut lanes, control.follow.is_none(), started)?;
    let label = label(&lanes);
    let mut pass = Pass {
        lanes,
        plan,
        label,
        stop: control.stop.clone(),
        following: control.follow.is_some(),
        fence: None,
        log_events: 0,
    };
    let follow = control.follow.as_mut().map(|watcher| Follow {
        watcher,
        stop: &control.stop,
    });
    let outcome = pass.run(store, url, follow, progress);
    for lane in &mut pass.lanes {
        lane.release_cache();
    }
    let outcome = stages::timed(stages::Stage::Indexes, || {
        build_user_indexes(&mut pass.lanes, store, outcome)
    });
    // A run's rate counts applying and writing, not reading its rows back.
    let elapsed = started.elapsed();
    if matches!(outcome, Ok(false)) {
        stages::timed(stages::Stage::Checksums, || {
            checksums::compute(url, &mut pass.lanes)
        });
    }
    stages::log(started.elapsed());
    match outcome {
        Ok(stopped) => pass
            .lanes
            .iter_mut()
            .map(|lane| lane.finish(store, stopped, elapsed))
            .collect(),
        Err((failed, error)) => {
            let message = match failed {
                Some(i) => stopped_by(pass.lanes[i].contract().name, &error),
                None => error.to_string(),
            };
            let own = error.to_string();
            for (i, lane) in pass.lanes.iter_mut().enumerate() {
                let text = if Some(i) == failed { &own } else { &message };
                lane.fail(store, text, elapsed);
            }
            Err(error)
        }
    }
}

/// Starts every lane, and lets each leave out its table's user index unless the pass
/// follows the log (it never ends, so it could not build the index). On a failure the
/// lanes started are recorded as failed, their indexes built.
fn start_lanes(
    store: &mut Store,
    lanes: &mut [Box<dyn Lane>],
    defer_indexes: bool,
    started: Instant,
) -> Result<(), ReplayError> {
    for i in 0..lanes.len() {
        if let Err(error) = lanes[i].start(store) {
            let message = stopped_by(lanes[i].contract().name, &error);
            for lane in &mut lanes[..i] {
                lane.fail(store, &message, started.elapsed());
            }
            return Err(error);
        }
    }
    if !defer_indexes {
        return Ok(());
    }
    for i in 0..lanes.len() {
        if let Err(error) = lanes[i].defer_user_index(store) {
            let message = stopped_by(lanes[i].contract().name, &error);
            for (j, lane) in lanes.iter_mut().enumerate() {
                // Best effort: the failing run's own error is what the operator sees.
                let _ = lane.build_user_index(store);
                let text = if j == i {
                    error.to_string()
                } else {
                    message.clone()
                };
                lane.fail(store, &text, started.elapsed());
            }
            return Err(error);
        }
    }
    Ok(())
}

/// Builds the indexes the lanes deferred, however the pass ended: a stopped or failed
/// rebuild's rows are read by user too. A failure fails a pass that had succeeded; after
/// another failure it is only logged (the next run of the model builds the index).
fn build_user_indexes<T>(
    lanes: &mut [Box<dyn Lane>],
    store: &mut Store,
    mut outcome: Result<T, Failure>,
) -> Result<T, Failure> {
    for (i, lane) in lanes.iter_mut().enumerate() {
        let Err(error) = lane.build_user_index(store) else {
            continue;
        };
        if outcome.is_ok() {
            outcome = Err((Some(i), error));
        } else {
            // The pass's own error is the operator's one line (a full disk fails both).
            tracing::info!(model = lane.contract().name, %error, "the index left out for the rebuild was not built; the model's next run builds it");
        }
    }
    outcome
}

fn stopped_by(model: &str, error: &ReplayError) -> String {
    format!("the pass stopped when {model} failed: {error}")
}

fn label(lanes: &[Box<dyn Lane>]) -> String {
    match lanes {
        [one] => one.contract().name.to_owned(),
        many => format!("{} models", many.len()),
    }
}
