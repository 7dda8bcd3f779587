//! What a long-running `follow` or `worker` tells its operator while it runs: Prometheus
//! metrics and a health verdict, served over HTTP by [`server`] when `--metrics-addr` asks.
//!
//! The engine feeds them through the few functions of this module ([`flushed`],
//! [`head_taken`], [`lease`], [`beat`]), which do nothing until a command has called
//! [`install`]: a `run` or a library user pays one atomic load per flush. What needs the
//! database (the log's head, the age of the oldest unapplied event) is read by
//! [`sampler`] on a connection of its own, so a scrape never waits for the engine. The
//! metric names and labels are listed in `docs/OPERATING.md`, "Running it as a service".

mod families;
mod health;
pub mod sampler;
#[cfg(feature = "cli")]
pub mod server;

use std::sync::OnceLock;
use std::time::Duration;

use self::families::Families;
pub use self::families::{BuildInfo, Series};
use self::health::Health;
pub use self::health::Verdict;

/// A process's metrics and health: created once by [`install`].
#[derive(Debug)]
pub struct Metrics {
    families: Families,
    health: Health,
}

static INSTALLED: OnceLock<Metrics> = OnceLock::new();

/// Starts recording (once per process; later calls return the first one's metrics):
/// `build` is what `readmodel_build_info` and `readmodel_model_info` say, and
/// `stale_after` how long without a flush or heartbeat makes the process unhealthy.
pub fn install(build: &BuildInfo, stale_after: Duration) -> &'static Metrics {
    INSTALLED.get_or_init(|| Metrics {
        families: Families::new(build),
        health: Health::new(stale_after),
    })
}

/// The process's metrics, once installed.
pub fn installed() -> Option<&'static Metrics> {
    INSTALLED.get()
}

/// One lane's share of a committed flush.
#[derive(Debug, Clone)]
pub struct LaneFlush {
    /// The model, version and partition.
    pub series: Series,
    /// The checkpoint the flush committed.
    pub checkpoint: i64,
    /// Events applied since the lane's previous flush.
    pub events: u64,
    /// Rows written or deleted by the flush.
    pub rows: u64,
    /// Bad events parked by the flush.
    pub parked: u64,
}

/// A flush committed, `seconds` after it began; `lanes` are the lanes it wrote.
pub fn flushed(seconds: f64, lanes: &[LaneFlush]) {
    if let Some(metrics) = installed() {
        metrics.families.flushed(seconds, lanes);
        metrics.health.beat();
    }
}

/// The engine took `head` as the settled head it applies up to.
pub fn head_taken(head: i64) {
    if let Some(metrics) = installed() {
        metrics.families.settled_head.set(head);
    }
}

/// What happened to a worker's lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseEvent {
    /// Claimed (a free, expired or abandoned partition).
    Claimed,
    /// Renewed (in a flush or between passes).
    Renewed,
    /// Lost to another worker.
    Lost,
}

/// A lease on `series` was claimed, renewed or lost.
pub fn lease(event: LeaseEvent, series: &Series) {
    if let Some(metrics) = installed() {
        metrics.families.lease(event, series);
    }
}

/// The process is alive and following: it read the log's head, or renewed its leases.
pub fn beat() {
    if let Some(metrics) = installed() {
        metrics.health.beat();
    }
}

/// The process cannot reach its database (`None`: it can again); `reason` is one line.
pub fn database_unreachable(reason: Option<String>) {
    if let Some(metrics) = installed() {
        metrics.health.engine_database(reason);
    }
}

impl Metrics {
    /// The Prometheus (OpenMetrics) text of every metric.
    pub fn encode(&self) -> String {
        // Set here, where it is read: `readmodel_healthy` says what `/healthz` says at
        // the same moment (set at the sampler's ticks, a scrape right after a 503 read 1).
        let healthy = self.verdict() == Verdict::Healthy;
        self.families.healthy.set(i64::from(healthy));
        self.families.encode()
    }

    /// Whether the process is healthy now, and if not, why.
    pub fn verdict(&self) -> Verdict {
        self.health.verdict()
    }

    /// The command is following (`true`) or has ended (`false`).
    pub fn set_following(&self, following: bool) {
        self.health.set_following(following);
    }

    /// The series whose checkpoints the engine has reported, with those checkpoints.
    pub fn checkpoints(&self) -> Vec<(Series, i64)> {
        self.families.checkpoints()
    }
}

/// The process no longer applies `series` (a worker let its partition go, or lost it):
/// its checkpoint and lag are no longer reported; its counters stay.
pub fn lane_ended(series: &Series) {
    if let Some(metrics) = installed() {
        metrics.families.ended(series);
    }
}

/// A lane starts from `checkpoint` (reported before its first flush, so that its lag is
/// known from the start).
pub fn lane_started(series: &Series, checkpoint: i64) {
    if let Some(metrics) = installed() {
        metrics.families.started(series, checkpoint);
    }
}
