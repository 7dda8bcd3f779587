//! The metric families, their names and labels (Prometheus conventions: `readmodel_`
//! prefix, `_total` counters, `_seconds` durations), and their text encoding.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use super::{LaneFlush, LeaseEvent};

/// The labels of a model's series: one per model version and partition (`all` for a
/// whole model, `3/16` for a worker's partition 3 of 16).
#[derive(Debug, Clone, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct Series {
    /// The model's name.
    pub model: String,
    /// The version being built.
    pub version: String,
    /// `all`, or `INDEX/PARTITIONS`.
    pub partition: String,
}

impl Series {
    /// The series of `model` version `version`, partition `partition` (index, of), or the
    /// whole model.
    pub fn new(model: &str, version: i32, partition: Option<(u32, u32)>) -> Self {
        Series {
            model: model.to_owned(),
            version: version.to_string(),
            partition: match partition {
                Some((index, of)) if of > 1 => format!("{index}/{of}"),
                _ => "all".to_owned(),
            },
        }
    }
}

/// What `readmodel_build_info` and `readmodel_model_info` report.
#[derive(Debug, Clone, Default)]
pub struct BuildInfo {
    /// The binary's name and version (the application's).
    pub binary: String,
    /// Its version.
    pub version: String,
    /// Each model: name, version and code fingerprint.
    pub models: Vec<(String, i32, String)>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    binary: String,
    version: String,
    runtime: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: String,
    version: String,
    fingerprint: String,
}

/// Every metric of the process.
#[derive(Debug)]
pub(super) struct Families {
    registry: Registry,
    pub(super) settled_head: Gauge,
    pub(super) log_head: Gauge,
    pub(super) healthy: Gauge,
    checkpoint: Family<Series, Gauge>,
    lag_events: Family<Series, Gauge>,
    lag_seconds: Family<Series, Gauge<f64, AtomicU64>>,
    events_applied: Family<Series, Counter>,
    rows_written: Family<Series, Counter>,
    flushes: Family<Series, Counter>,
    flush_duration: Histogram,
    parked: Family<Series, Counter>,
    lease_claims: Family<Series, Counter>,
    lease_renewals: Family<Series, Counter>,
    lease_losses: Family<Series, Counter>,
    /// The last checkpoint of each series, for the sampler's lag.
    checkpoints: Mutex<BTreeMap<Series, i64>>,
}

impl Families {
    pub(super) fn new(build: &BuildInfo) -> Self {
        let mut families = Families {
            registry: Registry::with_prefix("readmodel"),
            settled_head: Gauge::default(),
            log_head: Gauge::default(),
            healthy: Gauge::default(),
            checkpoint: Family::default(),
            lag_events: Family::default(),
            lag_seconds: Family::default(),
            events_applied: Family::default(),
            rows_written: Family::default(),
            flushes: Family::default(),
            // 1 ms to about 33 s.
            flush_duration: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            parked: Family::default(),
            lease_claims: Family::default(),
            lease_renewals: Family::default(),
            lease_losses: Family::default(),
            checkpoints: Mutex::new(BTreeMap::new()),
        };
        families.register(build);
        families
    }

    fn register(&mut self, build: &BuildInfo) {
        let r = &mut self.registry;
        r.register(
            "build",
            "The binary's name and version, and the runtime's version",
            Info::new(BuildLabels {
                binary: build.binary.clone(),
                version: build.version.clone(),
                runtime: env!("CARGO_PKG_VERSION").to_owned(),
            }),
        );
        let models = Family::<ModelLabels, Gauge>::default();
        for (model, version, fingerprint) in &build.models {
            models
                .get_or_create(&ModelLabels {
                    model: model.clone(),
                    version: version.to_string(),
                    fingerprint: fingerprint.clone(),
                })
                .set(1);
        }
        r.register(
            "model_info",
            "Each model this process replays: its version and code fingerprint (value 1)",
            models,
        );
        r.register(
            "checkpoint",
            "The last event id committed for the model version and partition",
            self.checkpoint.clone(),
        );
        r.register(
            "settled_head",
            "The settled head the process last took as its bound (event id)",
            self.settled_head.clone(),
        );
        r.register(
            "log_head",
            "The highest event id in the log, as last sampled",
            self.log_head.clone(),
        );
        r.register(
            "lag_events",
            "Event ids between the log's head and the checkpoint",
            self.lag_events.clone(),
        );
        r.register(
            "lag_seconds",
            "Age of the oldest event above the checkpoint (0: none), by its recorded_at",
            self.lag_seconds.clone(),
        );
        self.register_counters();
    }

    fn register_counters(&mut self) {
        let r = &mut self.registry;
        r.register(
            "events_applied",
            "Events applied (committed by a flush)",
            self.events_applied.clone(),
        );
        r.register(
            "rows_written",
            "Rows written or deleted by flushes",
            self.rows_written.clone(),
        );
        r.register(
            "flushes",
            "Flushes that wrote this series",
            self.flushes.clone(),
        );
        r.register(
            "flush_duration_seconds",
            "Time from a flush's start to its commit (all its lanes in one transaction)",
            self.flush_duration.clone(),
        );
        r.register(
            "bad_events_parked",
            "Bad events parked under --on-bad-event park",
            self.parked.clone(),
        );
        r.register("lease_claims", "Leases claimed", self.lease_claims.clone());
        r.register(
            "lease_renewals",
            "Leases renewed",
            self.lease_renewals.clone(),
        );
        r.register(
            "lease_losses",
            "Leases lost to another worker",
            self.lease_losses.clone(),
        );
        r.register(
            "healthy",
            "1 while /healthz answers 200, else 0",
            self.healthy.clone(),
        );
    }

    pub(super) fn flushed(&self, seconds: f64, lanes: &[LaneFlush]) {
        self.flush_duration.observe(seconds);
        let mut checkpoints = self
            .checkpoints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for lane in lanes {
            let series = &lane.series;
            self.checkpoint.get_or_create(series).set(lane.checkpoint);
            checkpoints.insert(series.clone(), lane.checkpoint);
            self.events_applied
                .get_or_create(series)
                .inc_by(lane.events);
            self.rows_written.get_or_create(series).inc_by(lane.rows);
            self.flushes.get_or_create(series).inc();
            if lane.parked > 0 {
                self.parked.get_or_create(series).inc_by(lane.parked);
            }
        }
    }

    pub(super) fn lease(&self, event: LeaseEvent, series: &Series) {
        let family = match event {
            LeaseEvent::Claimed => &self.lease_claims,
            LeaseEvent::Renewed => &self.lease_renewals,
            LeaseEvent::Lost => &self.lease_losses,
        };
        family.get_or_create(series).inc();
    }

    pub(super) fn checkpoints(&self) -> Vec<(Series, i64)> {
        let checkpoints = self
            .checkpoints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        checkpoints.iter().map(|(s, c)| (s.clone(), *c)).collect()
    }

    /// Records a checkpoint without a flush (the one a series starts from).
    pub(super) fn started(&self, series: &Series, checkpoint: i64) {
        let mut checkpoints = self
            .checkpoints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        checkpoints.insert(series.clone(), checkpoint);
        self.checkpoint.get_or_create(series).set(checkpoint);
    }

    /// Sets the lag of every series still reported against the log's `head`; `age` gives
    /// the age of the oldest event above a checkpoint (the sampler's, from the database).
    pub(super) fn set_lags(&self, head: i64, ages: &[(i64, f64)]) {
        let checkpoints = self
            .checkpoints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (series, &checkpoint) in checkpoints.iter() {
            self.lag_events
                .get_or_create(series)
                .set((head - checkpoint).max(0));
            // A checkpoint that moved since the ages were read: its age is next sample's.
            if let Some(&(_, age)) = ages.iter().find(|(at, _)| *at == checkpoint) {
                self.lag_seconds.get_or_create(series).set(age);
            }
        }
    }

    /// Stops reporting `series`' checkpoint and lag.
    pub(super) fn ended(&self, series: &Series) {
        let mut checkpoints = self
            .checkpoints
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        checkpoints.remove(series);
        self.checkpoint.remove(series);
        self.lag_events.remove(series);
        self.lag_seconds.remove(series);
    }

    pub(super) fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
