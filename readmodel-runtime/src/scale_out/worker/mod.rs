//! One worker's loop: claim a fair share of partitions, run one pass over the log for all
//! of them, finish or keep them, and claim again, until the bound is reached everywhere
//! or the worker is told to stop.

use std::collections::HashMap;
use std::time::{Duration, Instant};

mod claims;
mod waits;

use self::waits::{settled_or, Waiting};
use super::fence::{keep_alive, LeaseFence, Watch};
use crate::contract::Contract;
use crate::ledger::{self, Lease, RunStatus};
use crate::registry::Model;
use crate::replay::pass::cache_share;
use crate::replay::{run_lanes, Control, Lane, Plan, ReplayError, Share};
use crate::stop::StopFlag;
use crate::store::{DatabaseUrl, Store};
use crate::watch::LogWatcher;

/// How a worker works.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Its name in the leases (`host:pid`, plus a thread number in `run --workers`).
    pub owner: String,
    /// How long a lease lasts without renewal.
    pub lease: Duration,
    /// Batch size and flush budget (a flush also renews the leases: the worker flushes
    /// at least three times per lease).
    pub plan: Plan,
    /// How long an idle worker waits before looking again.
    pub poll: Duration,
    /// The number of workers sharing the partitions, when known (`run --workers N`);
    /// `None`: those holding an unexpired lease, plus this one.
    pub workers: Option<usize>,
    /// The version's rows were deleted for this rebuild (`run --full --workers N`).
    pub fresh: bool,
    /// The models rebuilt beside the version readers use (`run --full --workers N` of
    /// the active version), by name: the scratch version their partitions build, which
    /// the coordinator swaps in at the end. Every other model builds the binary's version.
    pub beside: HashMap<&'static str, i32>,
}

impl WorkerConfig {
    /// The version `contract`'s partitions build.
    pub(crate) fn version_of(&self, contract: &Contract) -> i32 {
        self.beside
            .get(contract.name)
            .copied()
            .unwrap_or(contract.version)
    }
}

/// When a worker ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// When every partition of every model has reached this event id.
    Bound(i64),
    /// Never by itself: it follows the log (LISTEN/NOTIFY with a polling fallback, see
    /// [`LogWatcher`]), holding its partitions even when caught up, until stopped.
    Stopped,
}

/// Which run in `replay_runs` a lane's events count into.
#[derive(Debug, Clone)]
pub enum RunBook {
    /// The coordinator's run of each model (`run --workers`), by model name.
    Shared(HashMap<&'static str, i64>),
    /// A run per partition held, recorded by the worker when it claims the partition and
    /// ended when it lets go of it: `succeeded` at the bound, `stopped` when released,
    /// `failed` when the lease was lost or a batch failed.
    PerLease,
}

/// What a worker did, for the closing summary and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct WorkerStats {
    /// The worker.
    pub owner: String,
    /// Passes over the log.
    pub passes: u64,
    /// Partitions claimed.
    pub claimed: u64,
    /// Events applied (each to one lane).
    pub events: u64,
    /// Events read from the log (each once per pass, whatever the lanes it feeds): only
    /// the events of the partitions held.
    pub log_events: u64,
    /// Partitions brought to the bound (`--exit-when-caught-up`, `run --workers`).
    pub completed: u64,
    /// Flushes, each renewing the leases.
    pub flushes: u64,
    /// Time spent renewing leases inside flushes, in seconds.
    pub renewing_seconds: f64,
    /// Time spent in flushes (renewal, writes, commit), in seconds.
    pub flushing_seconds: f64,
    /// Time spent in passes, in seconds.
    pub passing_seconds: f64,
    /// Leases lost to another worker (the flush rolled back).
    pub lost: Vec<String>,
}

/// How a pass ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Every lane reached the target; `moved` when some had events to apply.
    Complete { moved: bool },
    /// Stopped early (the worker's stop flag, or, following, a rebalance is due); every
    /// lane's position is flushed.
    Stopped,
    /// A lease was lost: that lane is dropped, the others are at their last flush.
    LeaseLost,
}

/// What the worker's loop carries from one turn to the next.
struct Turns {
    /// The log's watcher, following.
    watcher: Option<LogWatcher>,
    /// A wait for partitions others hold.
    waiting: Waiting,
    /// The settled head last taken.
    target: i64,
}

/// A partition the worker holds.
struct Held {
    lease: Lease,
    model: &'static dyn Model,
    run: i64,
    events: u64,
    since: Instant,
}

/// `host:pid`, naming this process in the leases.
pub fn default_owner() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".to_owned());
    format!("{host}:{}", std::process::id())
}

/// Runs one worker on `store` (its own connection; `url` opens its reader) over `models`
/// (with their partition counts, whose leases exist) until `until`, or until `stop` is
/// set (the current batch is flushed, the leases released, the runs recorded
/// `stopped`). `note` receives one line per lost lease. On an error the partitions held
/// are released and their runs failed.
#[allow(clippy::too_many_arguments)]
pub fn work(
    store: &mut Store,
    url: &DatabaseUrl,
    models: &[(&'static dyn Model, u32)],
    config: &WorkerConfig,
    until: Until,
    runs: &RunBook,
    stop: &StopFlag,
    note: &(dyn Fn(&str) + Sync),
) -> Result<WorkerStats, ReplayError> {
    let mut worker = Worker {
        config,
        models,
        runs,
        held: Vec::new(),
        stats: WorkerStats {
            owner: config.owner.clone(),
            ..WorkerStats::default()
        },
    };
    match worker.run(store, url, until, stop, note) {
        Ok(()) => Ok(worker.stats),
        Err(error) => {
            let text = error.to_string();
            let held = std::mem::take(&mut worker.held);
            worker.let_go(store, held, RunStatus::Failed, Some(&text));
            Err(error)
        }
    }
}

struct Worker<'w> {
    config: &'w WorkerConfig,
    models: &'w [(&'static dyn Model, u32)],
    runs: &'w RunBook,
    held: Vec<Held>,
    stats: WorkerStats,
}

impl Worker<'_> {
    fn run(
        &mut self,
        store: &mut Store,
        url: &DatabaseUrl,
        until: Until,
        stop: &StopFlag,
        note: &(dyn Fn(&str) + Sync),
    ) -> Result<(), ReplayError> {
        ledger::register_worker(postgres(store)?, &self.config.owner)?;
        // Listening starts before the first head is taken: nothing committed after it
        // goes unnoticed.
        let mut turns = Turns {
            watcher: match until {
                Until::Stopped => Some(LogWatcher::open(url, self.config.poll)?),
                Until::Bound(_) => None,
            },
            waiting: Waiting::default(),
            target: 0,
        };
        while !stop.is_set() {
            match self.turn(store, url, until, &mut turns, stop, note) {
                Ok(true) => return self.activate(store),
                Ok(false) => {}
                Err(error) => {
                    self.reconnect(store, url, error, stop, note)?;
                    if turns.watcher.is_some() {
                        // The watcher's connection went with the worker's.
                        turns.watcher = Some(LogWatcher::open(url, self.config.poll)?);
                    }
                }
            }
        }
        let held = std::mem::take(&mut self.held);
        self.let_go(store, held, RunStatus::Stopped, None);
        Ok(())
    }

    /// One turn of the worker's loop: take the target, renew, claim, run a pass;
    /// `Ok(true)` once every partition reached the bound (a batch worker is done).
    fn turn(
        &mut self,
        store: &mut Store,
        url: &DatabaseUrl,
        until: Until,
        turns: &mut Turns,
        stop: &StopFlag,
        note: &(dyn Fn(&str) + Sync),
    ) -> Result<bool, ReplayError> {
        let idle = self.config.poll.min(self.config.lease / 4);
        let target = match until {
            Until::Bound(bound) => bound,
            Until::Stopped => settled_or(store, turns.target, note)?,
        };
        turns.target = target;
        self.heartbeat(store, note)?;
        // A follower holds its share even when caught up; a batch job only what is
        // still below its bound.
        let below = matches!(until, Until::Bound(_)).then_some(target);
        self.rebalance(store, below, target)?;
        if self.held.is_empty() {
            if let Until::Bound(bound) = until {
                if self.all_reached(store, bound)? {
                    return Ok(true);
                }
                self.wait_note(store, bound, &mut turns.waiting, note)?;
            }
            std::thread::sleep(idle);
            return Ok(false);
        }
        turns.waiting = Waiting::default();
        let pass = self.pass(store, url, target, &mut turns.watcher, stop, note)?;
        if let (Until::Bound(_), Pass::Complete { .. }) = (until, pass) {
            let held = std::mem::take(&mut self.held);
            self.stats.completed += held.len() as u64;
            self.let_go(store, held, RunStatus::Succeeded, None);
        } else if pass == (Pass::Complete { moved: false }) {
            std::thread::sleep(idle);
        }
        Ok(false)
    }

    /// One pass over the log for every partition held, to `target`. A lost lease drops
    /// that partition (its run failed); the other lanes, rolled back to their last flush,
    /// go on in the next pass.
    fn pass(
        &mut self,
        store: &mut Store,
        url: &DatabaseUrl,
        target: i64,
        watcher: &mut Option<LogWatcher>,
        stop: &StopFlag,
        note: &(dyn Fn(&str) + Sync),
    ) -> Result<Pass, ReplayError> {
        let started = Instant::now();
        let mut plan = self.config.plan.clone();
        // Every flush renews the leases: flush well within a lease.
        plan.flush.interval = plan.flush.interval.min(self.config.lease / 3);
        let lanes = self.lanes(store, &plan, target)?;
        let behind = lanes.iter().any(|lane| lane.applied() < lane.to());
        let leases: Vec<Lease> = self.held.iter().map(|h| h.lease.clone()).collect();
        let mut fence = LeaseFence::new(&self.config.owner, self.config.lease, &leases);
        // The pass's own stop flag: set by the worker's, or, following, when the share
        // should change (a newcomer, a free or expired partition).
        let pass_stop = StopFlag::new();
        let mut control = Control {
            stop: pass_stop.clone(),
            follow: watcher.take(),
        };
        let keys = self.keys();
        let watch = Watch {
            owner: &self.config.owner,
            ttl: self.config.lease,
            held: &leases,
            models: &keys,
            total: self.total(),
            workers: self.config.workers,
            following: control.follow.is_some(),
            stop,
            pass_stop: &pass_stop,
        };
        let done = StopFlag::new();
        let (mut lanes, outcome, read) = std::thread::scope(|scope| {
            let (watch, done) = (&watch, &done);
            scope.spawn(move || keep_alive(url, watch, done));
            let passed = run_lanes(store, url, lanes, &plan, &mut control, &mut fence);
            done.set();
            passed
        });
        *watcher = control.follow.take();
        self.stats.log_events += read;
        self.count(&lanes, &fence);
        let outcome = outcome.and_then(|stopped| finish(store, &mut lanes, stopped, started));
        self.stats.passing_seconds += started.elapsed().as_secs_f64();
        match outcome {
            Ok(true) => Ok(Pass::Stopped),
            Ok(false) => Ok(Pass::Complete { moved: behind }),
            Err(ReplayError::LeaseLost {
                model,
                partition,
                token,
            }) => Ok(self.lost(store, model, partition, token, note)),
            Err(error) => Err(error),
        }
    }

    /// A started lane for each partition held, to `target`.
    fn lanes(
        &self,
        store: &mut Store,
        plan: &Plan,
        target: i64,
    ) -> Result<Vec<Box<dyn Lane>>, ReplayError> {
        let contracts = self.held.iter().map(|h| h.model.contract());
        let cache_share = cache_share(crate::replay::pass::caching(contracts));
        let mut lanes = Vec::with_capacity(self.held.len());
        for held in &self.held {
            let share = Share {
                index: held.lease.partition,
                of: held.lease.partitions,
                run: held.run,
                fresh: self.config.fresh,
                version: held.lease.version,
            };
            let mut lane = held
                .model
                .share_lane(store, plan, target, &cache_share, share)?;
            lane.start(store)?;
            lanes.push(lane);
        }
        Ok(lanes)
    }

    /// Adds a pass's figures to the worker's.
    fn count(&mut self, lanes: &[Box<dyn Lane>], fence: &LeaseFence<'_>) {
        self.stats.passes += 1;
        self.stats.flushes += fence.renewals;
        self.stats.renewing_seconds += fence.renewing.as_secs_f64();
        self.stats.flushing_seconds += fence.flushing.as_secs_f64();
        for (held, lane) in self.held.iter_mut().zip(lanes) {
            held.events += lane.events_read();
            self.stats.events += lane.events_read();
        }
    }
}

/// Ends every lane of a pass that was `stopped` early or not; `Ok(stopped)`.
fn finish(
    store: &mut Store,
    lanes: &mut [Box<dyn Lane>],
    stopped: bool,
    started: Instant,
) -> Result<bool, ReplayError> {
    for lane in lanes {
        lane.finish(store, stopped, started.elapsed())?;
    }
    Ok(stopped)
}

fn postgres(store: &mut Store) -> Result<&mut diesel::PgConnection, ReplayError> {
    match store {
        Store::Postgres(conn) => Ok(conn),
        Store::Sqlite(_) => Err(ReplayError::WorkersNeedPostgres),
    }
}
