//! One pass over the log for many models: each event is read once and handed to every
//! model that consumes it, each model from its own checkpoint (a model that is ahead joins
//! when the pass reaches it).
//!
//! Reading runs on a thread of its own with its own connection, applying on the caller's,
//! and writing on a third, which owns the caller's connection and runs the writes queued
//! to it in order (see `writer.rs`); bounded channels between them keep the database and
//! the handlers busy at the same time. The rows of a flush are written in one transaction with every model's
//! checkpoint, committed when the [`Flush`] budget is reached: rows that later events may
//! change (snapshots, aggregates) stay in memory until then, so a hot row is written once
//! per flush; timeline rows, which no handler reads, go into the open transaction after
//! each read batch. Rows and checkpoints still commit together: a killed pass resumes
//! exactly.

mod checksums;
mod control;
mod flush;
mod lane;
mod reader;
mod writer;

use std::collections::HashMap;
use std::sync::mpsc::{sync_channel, Receiver};
use std::time::Instant;

use self::reader::{Chunk, Follow, Span};
use self::writer::Writer;
use super::partition::partition_of;
use super::plan::{Flush, Plan};
use super::{Progress, ReplayError, RunReport};
use crate::event::StoredEvent;
use crate::store::{DatabaseUrl, Store};

pub use self::control::Control;
pub(crate) use self::lane::{prepare, prepare_resumed, prepare_share, Resumed};
pub(crate) use self::lane::{Lane, Share};
pub(crate) use self::writer::Db;

/// Rows the caches of all models of a pass may carry between flushes together. A 10M-event
/// rebuild of the 19 LifeOS models fills its caches (a 1M-event one does not): it peaked
/// at 106.7 MiB with 250,000 rows, 100.3 with 150,000, and 94.8 with 100,000 (and the log
/// reader's cache cut from 2 MiB to 512 KiB), in 188–203 s each.
pub(crate) const CACHE_ROWS: usize = 100_000;

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
/// watcher), checking `fence` in every flush. Returns the lanes with the outcome:
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
    progress: &mut dyn Progress,
) -> (Vec<Box<dyn Lane>>, Result<bool, ReplayError>) {
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
    };
    let follow = control.follow.as_mut().map(|watcher| Follow {
        watcher,
        stop: &control.stop,
    });
    let outcome = pass
        .run(store, url, follow, progress)
        .map_err(|(_, error)| error);
    (pass.lanes, outcome)
}

/// The rows each of `lanes` lanes may carry between flushes: one budget shared by a pass.
pub(crate) fn cache_rows(lanes: usize) -> usize {
    (CACHE_ROWS / lanes.max(1)).clamp(1_000, super::cache::DEFAULT_CAPACITY)
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
    for i in 0..lanes.len() {
        if let Err(error) = lanes[i].start(store) {
            let message = stopped_by(lanes[i].contract().name, &error);
            for lane in &mut lanes[..i] {
                lane.fail(store, &message, started.elapsed());
            }
            return Err(error);
        }
    }
    let label = label(&lanes);
    let mut pass = Pass {
        lanes,
        plan,
        label,
        stop: control.stop.clone(),
        following: control.follow.is_some(),
        fence: None,
    };
    let follow = control.follow.as_mut().map(|watcher| Follow {
        watcher,
        stop: &control.stop,
    });
    let outcome = pass.run(store, url, follow, progress);
    // A run's rate counts applying and writing, not reading its rows back.
    let elapsed = started.elapsed();
    if matches!(outcome, Ok(false)) {
        checksums::compute(url, &mut pass.lanes);
    }
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

fn stopped_by(model: &str, error: &ReplayError) -> String {
    format!("the pass stopped when {model} failed: {error}")
}

fn label(lanes: &[Box<dyn Lane>]) -> String {
    match lanes {
        [one] => one.contract().name.to_owned(),
        many => format!("{} models", many.len()),
    }
}

/// A pass under way.
struct Pass<'p> {
    lanes: Vec<Box<dyn Lane>>,
    plan: &'p Plan,
    label: String,
    /// Set: write what was applied and return (see [`Control::stop`]).
    stop: crate::stop::StopFlag,
    /// Whether the reader follows the log past the first bound (see [`Control::follow`]).
    following: bool,
    /// A worker's check in every flush.
    fence: Option<&'p mut (dyn Fence + Send)>,
}

/// Which lane failed (none: the reading or a flush), and why.
type Failure = (Option<usize>, ReplayError);

impl<'p> Pass<'p> {
    /// Reads and applies every event up to the models' bounds (when following, until
    /// stopped); `Ok(true)` when the batch limit or the stop flag stopped it early.
    fn run(
        &mut self,
        store: &mut Store,
        url: &DatabaseUrl,
        follow: Option<Follow<'_>>,
        progress: &mut dyn Progress,
    ) -> Result<bool, Failure> {
        let after = self.lanes.iter().map(|l| l.applied()).min().unwrap_or(0);
        let to = self.lanes.iter().map(|l| l.to()).max().unwrap_or(0);
        if after >= to && !self.following {
            return Ok(false);
        }
        let following = self.following;
        let mut types: Vec<&'static str> = self
            .lanes
            .iter()
            // A following pass takes every model on past its bound.
            .filter(|l| following || l.applied() < l.to())
            .flat_map(|l| l.contract().consumed_events.iter().copied())
            .collect();
        types.sort_unstable();
        types.dedup();
        let span = Span {
            types: &types,
            after,
            to,
            batch_size: self.plan.batch_size.max(1),
        };
        let outcome = std::thread::scope(|scope| {
            let (send, receive) = sync_channel(CHUNKS_IN_FLIGHT);
            let span = &span;
            scope.spawn(move || reader::read(url, span, follow, send));
            let (writer, jobs) = Writer::new();
            let writing_store = &mut *store;
            let writing = scope.spawn(move || writer::serve(writing_store, jobs));
            // The receiver is dropped on return, which stops the reader.
            let applied = self.apply_all(&writer, receive, to, progress);
            // Closing the queue lets the writing thread finish what was queued and end.
            drop(writer);
            let written = writing.join().unwrap_or_else(|panic| {
                Err((
                    None,
                    ReplayError::WriterStopped {
                        reason: super::handler_guard::message(&panic),
                    },
                ))
            });
            // The writing thread's error comes first: the applying thread's may only say
            // that the writer had stopped.
            written.and(applied)
        });
        if outcome.is_err() {
            // A rollback that fails leaves nothing committed either.
            let _ = store.rollback(FLUSH);
            for lane in &mut self.lanes {
                lane.discard();
            }
        }
        outcome
    }

    /// Applies the reader's chunks in one open transaction that each flush commits (and
    /// reopens), writing through `writer`; `Ok(true)` when stopped by the batch limit. On
    /// a failure the caller rolls the transaction back: every model is left at its last
    /// flush.
    fn apply_all(
        &mut self,
        writer: &Writer<'p>,
        chunks: Receiver<Result<Chunk, ReplayError>>,
        mut to: i64,
        progress: &mut dyn Progress,
    ) -> Result<bool, Failure> {
        let db = writer.for_lane(None);
        let failed = |error| (None, error);
        db.queue(|store| Ok(store.begin(FLUSH)?)).map_err(failed)?;
        let routes = self.routes();
        let partitions: Vec<Option<(u32, u32)>> =
            self.lanes.iter().map(|lane| lane.partition()).collect();
        let budget: Flush = self.plan.flush;
        let mut last_flush = Instant::now();
        for (read, chunk) in chunks.into_iter().enumerate() {
            let chunk = chunk.map_err(failed)?;
            if chunk.bound > to {
                self.extend_to(writer, chunk.bound)?;
                to = chunk.bound;
            }
            let mut per_lane: Vec<Vec<&StoredEvent>> = vec![Vec::new(); self.lanes.len()];
            for event in &chunk.events {
                // The event's partition, hashed once per event (and per partition count).
                let mut hashed: Option<(u32, u32)> = None;
                for &i in routes.get(event.event_type.as_str()).into_iter().flatten() {
                    if let Some((index, of)) = partitions[i] {
                        let part = match hashed {
                            Some((seen_of, part)) if seen_of == of => part,
                            _ => {
                                let part = partition_of(event.user_id, of);
                                hashed = Some((of, part));
                                part
                            }
                        };
                        if part != index {
                            continue;
                        }
                    }
                    per_lane[i].push(event);
                }
            }
            for (i, events) in per_lane.iter().enumerate() {
                let lane = &mut self.lanes[i];
                let db = writer.for_lane(Some(i));
                lane.apply(&db, events, chunk.through)
                    .and_then(|()| lane.spill(&db))
                    .map_err(|error| (Some(i), error))?;
            }
            let batches = read as u64 + 1;
            let limit = self.plan.max_batches.is_some_and(|max| batches >= max);
            // Following, reaching the bound is when readers must see the new events.
            let done = chunk.through >= to;
            let stop = self.stop.is_set();
            let pending: usize = self.lanes.iter().map(|l| l.pending_rows()).sum();
            if done
                || limit
                || stop
                || pending >= budget.rows
                || last_flush.elapsed() >= budget.interval
            {
                self.flush(writer).map_err(failed)?;
                last_flush = Instant::now();
                let events = self.lanes.iter().map(|l| l.events_read()).sum::<u64>();
                progress.batch(&self.label, chunk.through, to, events);
            }
            if limit || stop {
                return self.close(&db, true);
            }
            if done && !self.following {
                return self.close(&db, false);
            }
        }
        // The reader hung up: at the end of its span, or, following, because the stop
        // flag was set while it waited (what was applied then is flushed already).
        if self.stop.is_set() {
            self.flush(writer).map_err(failed)?;
            return self.close(&db, true);
        }
        self.close(&db, false)
    }

    /// Commits the pass's last transaction and waits for it: the pass's outcome is known
    /// only once everything queued is written.
    fn close(&mut self, db: &Db<'_, 'p>, stopped: bool) -> Result<bool, Failure> {
        db.call(|store| Ok(store.commit(FLUSH)?))
            .map_err(|error| (None, error))?;
        Ok(stopped)
    }

    /// Moves every lane's bound up to `to` (a following pass's new settled head).
    fn extend_to(&mut self, writer: &Writer<'p>, to: i64) -> Result<(), Failure> {
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            lane.extend_to(&writer.for_lane(Some(i)), to)
                .map_err(|error| (Some(i), error))?;
        }
        Ok(())
    }

    /// For each event type, the lanes that consume it.
    fn routes(&self) -> HashMap<&'static str, Vec<usize>> {
        let mut routes: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for (i, lane) in self.lanes.iter().enumerate() {
            for &event_type in lane.contract().consumed_events {
                routes.entry(event_type).or_default().push(i);
            }
        }
        routes
    }

    /// Queues every lane's remaining rows and its checkpoint, the commit of the open
    /// transaction (with the rows spilled into it since the last flush) and the opening of
    /// the next one. A worker's flush (with a fence) waits for its
    /// commit: the fence learns when its renewal was committed.
    fn flush(&mut self, writer: &Writer<'p>) -> Result<(), ReplayError> {
        let db = writer.for_lane(None);
        if let Some(fence) = self.fence.take() {
            let fence = db.call(move |store| fence.renew(store).map(|()| fence))?;
            self.fence = Some(fence);
        }
        let mut written = Vec::with_capacity(self.lanes.len());
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            written.push(lane.write(&writer.for_lane(Some(i)))?);
        }
        match self.fence.as_deref_mut() {
            Some(fence) => {
                db.call(|store| Ok(store.commit(FLUSH)?))?;
                fence.committed();
            }
            None => db.queue(|store| Ok(store.commit(FLUSH)?))?,
        }
        for (lane, rows) in self.lanes.iter_mut().zip(written) {
            lane.committed(rows);
        }
        db.queue(|store| Ok(store.begin(FLUSH)?))
    }
}
