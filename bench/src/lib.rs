//! The replay benchmark behind `cargo run --release -p bench`.
//!
//! One run, on a fresh database (a new SQLite file in a temporary directory by default,
//! or an empty, migrated PostgreSQL database):
//!
//! 1. generates `events` synthetic events ([`projections::generate`]) and appends them
//!    (timed, informational);
//! 2. for each habits read model (timeline `habits.checkins`, snapshot `habits.streaks`,
//!    aggregate `habits.monthly_completions`), replays it fully with the framework
//!    (a pass of one model, as `replay run --model M --full`; the rate excludes the
//!    checksum), then empties its table (untimed)
//!    and rebuilds the same rows with a raw baseline (see `baseline.rs`): one
//!    `INSERT … SELECT` for the timeline and the aggregate, a plain Rust fold with the same
//!    [`StreakRules`](projections::habits::StreakRules) for the snapshot;
//! 3. checks that the baseline wrote exactly the framework's rows (same checksum) and
//!    reports events/s of both, their ratio, and the peak resident memory of each phase.
//!
//! After the insert (untimed) PostgreSQL's `event_record` is `ANALYZE`d, as autovacuum
//! would, and SQLite's write-ahead log is checkpointed into the database file. On
//! PostgreSQL the model's table is vacuumed after the baseline's untimed delete, so both
//! runs start from the same clean, empty table.

mod baseline;
pub mod e2e;
mod rss;
pub mod scale;
#[cfg(test)]
mod tests;
pub mod workers;
pub mod write_path;
#[cfg(test)]
mod write_path_tests;

use std::fmt::{self, Write as _};
use std::time::Instant;

use readmodel_runtime::replay::NoProgress;
use readmodel_runtime::run_models;
use readmodel_runtime::GenerateSpec;
use readmodel_runtime::{
    import, DatabaseUrl, Plan, Registry, RegistryError, ReplayError, Store, StoreError,
};
use serde::Serialize;

/// The models measured, in order: one of each kind.
pub const MODELS: [&str; 3] = [
    "habits.checkins",
    "habits.streaks",
    "habits.monthly_completions",
];

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// A PostgreSQL URL; `None` for a new SQLite database in a temporary directory.
    pub database_url: Option<String>,
    /// Events to generate.
    pub events: u64,
    /// Users to simulate.
    pub users: u32,
    /// Generator seed.
    pub seed: u64,
    /// Events per replay batch (and per keyset page of the fold baseline).
    pub batch_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            database_url: None,
            events: 1_000_000,
            users: 1_000,
            seed: 42,
            batch_size: 5_000,
        }
    }
}

impl Options {
    /// The command line that repeats this run.
    pub fn command_line(&self) -> String {
        let mut line = String::from("cargo run --release -p bench --");
        if let Some(url) = &self.database_url {
            let _ = write!(
                line,
                " --database-url '{}'",
                readmodel_runtime::store::redact(url)
            );
        }
        let _ = write!(
            line,
            " --events {} --users {} --seed {} --batch-size {}",
            self.events, self.users, self.seed, self.batch_size
        );
        line
    }
}

/// Why the benchmark could not run; one line.
#[derive(Debug)]
pub struct BenchError(String);

impl BenchError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BenchError {}

impl From<StoreError> for BenchError {
    fn from(e: StoreError) -> Self {
        Self(e.to_string())
    }
}

impl From<ReplayError> for BenchError {
    fn from(e: ReplayError) -> Self {
        Self(e.to_string())
    }
}

impl From<readmodel_runtime::scale_out::WorkersError> for BenchError {
    fn from(e: readmodel_runtime::scale_out::WorkersError) -> Self {
        Self(e.to_string())
    }
}

impl From<RegistryError> for BenchError {
    fn from(e: RegistryError) -> Self {
        Self(e.to_string())
    }
}

impl From<serde_json::Error> for BenchError {
    fn from(e: serde_json::Error) -> Self {
        Self(e.to_string())
    }
}

impl From<diesel::result::Error> for BenchError {
    fn from(e: diesel::result::Error) -> Self {
        Self(e.to_string())
    }
}

/// The generation phase.
#[derive(Debug, Clone, Serialize)]
pub struct Generation {
    /// Events appended.
    pub events: u64,
    /// Generation and insert, seconds.
    pub seconds: f64,
    /// Events per second (informational: generation and insert together).
    pub events_per_second: f64,
    /// Peak resident memory of the phase, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Resident memory when the phase started, KiB.
    pub start_rss_kib: Option<u64>,
}

/// One model's measurements.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    /// The model's name.
    pub model: &'static str,
    /// `timeline`, `snapshot` or `aggregate`.
    pub kind: &'static str,
    /// What the baseline is (`INSERT…SELECT` or `raw fold`).
    pub baseline: &'static str,
    /// Events the framework consumed (`events_read`).
    pub events: u64,
    /// Events the baseline consumed.
    pub baseline_events: u64,
    /// Rows of the model after the run.
    pub rows: u64,
    /// The framework's replay, seconds (without the checksum).
    pub ours_seconds: f64,
    /// The framework's events per second.
    pub ours_events_per_second: f64,
    /// The baseline, seconds.
    pub baseline_seconds: f64,
    /// The baseline's events per second (the framework's event count over its time).
    pub baseline_events_per_second: f64,
    /// `ours_events_per_second / baseline_events_per_second`.
    pub ratio: f64,
    /// Peak resident memory during the framework's replay, KiB.
    pub ours_peak_rss_kib: Option<u64>,
    /// Peak resident memory during the baseline, KiB.
    pub baseline_peak_rss_kib: Option<u64>,
    /// Resident memory when the framework's replay started, KiB.
    pub ours_start_rss_kib: Option<u64>,
    /// Resident memory when the baseline started, KiB.
    pub baseline_start_rss_kib: Option<u64>,
    /// The framework's checksum.
    pub ours_checksum: String,
    /// The checksum of the baseline's rows.
    pub baseline_checksum: String,
    /// Whether the baseline wrote exactly the framework's rows.
    pub checksums_match: bool,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The database, password removed.
    pub database: String,
    /// Events asked for.
    pub events: u64,
    /// Users.
    pub users: u32,
    /// Seed.
    pub seed: u64,
    /// Batch size.
    pub batch_size: usize,
    /// The command line that repeats the run.
    pub command: String,
    /// The generation phase.
    pub generate: Generation,
    /// One entry per model, in [`MODELS`] order.
    pub models: Vec<ModelResult>,
    /// The highest peak of any phase, KiB.
    pub peak_rss_kib: Option<u64>,
    /// `phase` when each peak was reset before its phase, `process` when resetting
    /// failed and every figure is the process-wide peak so far.
    pub peak_rss_scope: &'static str,
}

impl Report {
    /// Whether every baseline wrote exactly the framework's rows.
    pub fn all_match(&self) -> bool {
        self.models.iter().all(|m| m.checksums_match)
    }

    /// The aligned text table, with its header and any warnings.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "readmodel bench: backend {}, events {}, users {}, seed {}, batch size {}",
            self.backend, self.events, self.users, self.seed, self.batch_size
        );
        let _ = writeln!(out, "command:  {}", self.command);
        let _ = writeln!(out, "database: {}", self.database);
        let g = &self.generate;
        let _ = writeln!(
            out,
            "generate+insert: {} events in {:.2}s = {:.0} events/s (informational), peak RSS {}",
            g.events,
            g.seconds,
            g.events_per_second,
            rss::show_growth(g.peak_rss_kib, g.start_rss_kib)
        );
        let _ = writeln!(out);
        let header = [
            "model",
            "kind",
            "baseline",
            "events",
            "rows",
            "ours s",
            "ours ev/s",
            "base s",
            "base ev/s",
            "ours/base",
            "RSS ours",
            "RSS base",
            "rows match",
        ];
        let mut lines: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
        for m in &self.models {
            lines.push(vec![
                m.model.to_owned(),
                m.kind.to_owned(),
                m.baseline.to_owned(),
                m.events.to_string(),
                m.rows.to_string(),
                format!("{:.2}", m.ours_seconds),
                format!("{:.0}", m.ours_events_per_second),
                format!("{:.2}", m.baseline_seconds),
                format!("{:.0}", m.baseline_events_per_second),
                format!("{:.2}", m.ratio),
                rss::show_growth(m.ours_peak_rss_kib, m.ours_start_rss_kib),
                rss::show_growth(m.baseline_peak_rss_kib, m.baseline_start_rss_kib),
                if m.checksums_match { "yes" } else { "NO" }.to_owned(),
            ]);
        }
        aligned(&mut out, &lines, 3);
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "peak RSS overall: {} (per phase: peak, and in parentheses its growth in MiB over the phase's start; {})",
            rss::show(self.peak_rss_kib),
            if self.peak_rss_scope == "phase" {
                "reset before each phase via /proc/self/clear_refs"
            } else {
                "could not reset /proc/self/clear_refs: every figure is the process-wide peak so far"
            }
        );
        for m in self.models.iter().filter(|m| !m.checksums_match) {
            let _ = writeln!(
                out,
                "WARNING: the baseline of {} did not write the framework's rows: ours {}, baseline {}",
                m.model, m.ours_checksum, m.baseline_checksum
            );
        }
        for m in self.models.iter().filter(|m| m.events != m.baseline_events) {
            let _ = writeln!(
                out,
                "WARNING: {} consumed {} events with the framework but {} with the baseline",
                m.model, m.events, m.baseline_events
            );
        }
        out
    }
}

/// The database under test; keeps a temporary SQLite directory alive.
struct Fresh {
    store: Store,
    /// For the second (reading) connection of a pass.
    url: DatabaseUrl,
    database: String,
    _dir: Option<tempfile::TempDir>,
}

fn open_fresh(options: &Options) -> Result<Fresh, BenchError> {
    let migrations = projections::MIGRATIONS;
    match &options.database_url {
        None => {
            let dir = tempfile::Builder::new()
                .prefix("readmodel-bench-")
                .tempdir()
                .map_err(|e| {
                    BenchError::new(format!("cannot create a temporary directory: {e}"))
                })?;
            let url = DatabaseUrl::parse(&dir.path().join("bench.db").display().to_string())?;
            let store = Store::open(&url, &migrations)?;
            Ok(Fresh {
                store,
                database: url.to_string(),
                url,
                _dir: Some(dir),
            })
        }
        Some(raw) => {
            let url = DatabaseUrl::parse(raw)?;
            if !matches!(url, DatabaseUrl::Postgres(_)) {
                return Err(BenchError::new(format!(
                    "--database-url must be a postgres:// URL (got {url}); without it the benchmark uses a new SQLite database in a temporary directory"
                )));
            }
            let mut store = Store::open(&url, &migrations)?;
            store.migrate(&migrations)?;
            let existing = store.log_len()?;
            if existing > 0 {
                return Err(BenchError::new(format!(
                    "{url}: event_record already holds {existing} events; the benchmark needs a fresh database (create an empty one and pass its URL)"
                )));
            }
            Ok(Fresh {
                store,
                database: url.to_string(),
                url,
                _dir: None,
            })
        }
    }
}

/// Runs the benchmark; `say` receives one progress line per phase.
pub fn run(options: &Options, say: &mut dyn FnMut(&str)) -> Result<Report, BenchError> {
    let mut peaks = Peaks::default();
    let (mut fresh, generate) = populate(options, say, &mut peaks)?;
    let store = &mut fresh.store;
    let backend = store.backend_name();
    let registry = Registry::global()?;
    let mut models = Vec::new();
    for name in MODELS {
        let model = registry.get(name)?;
        let contract = model.contract();
        say(&format!("{name}: replaying with the framework"));
        let plan = Plan {
            full: true,
            batch_size: options.batch_size,
            ..Plan::default()
        };
        // What `replay run --model M --full` runs: a pass of one model.
        let member = [model];
        let (reports, ours) =
            rss::measure(|| run_models(store, &fresh.url, &member, &plan, &mut NoProgress));
        let report = reports?
            .pop()
            .ok_or_else(|| BenchError::new(format!("{name}: the pass reported no run")))?;
        peaks.note(ours);
        let ours_rows = model.checksum(store, contract.version, None)?.rows;

        say(&format!(
            "{name}: running the baseline ({})",
            baseline::describe(name)
        ));
        baseline::clear(store, name)?;
        let started = Instant::now();
        let (consumed, base) = rss::measure(|| baseline::run(store, name, options.batch_size));
        let base_seconds = started.elapsed().as_secs_f64();
        let baseline_events = consumed?;
        peaks.note(base);
        let sum = model.checksum(store, contract.version, None)?;
        let matches = sum.digest == report.checksum && sum.rows == ours_rows;

        let ours_eps = report.events_per_second();
        let base_eps = report.events_read as f64 / base_seconds.max(1e-9);
        models.push(ModelResult {
            model: contract.name,
            kind: contract.kind.as_str(),
            baseline: baseline::describe(name),
            events: report.events_read,
            baseline_events,
            rows: ours_rows,
            ours_seconds: report.elapsed.as_secs_f64(),
            ours_events_per_second: ours_eps,
            baseline_seconds: base_seconds,
            baseline_events_per_second: base_eps,
            ratio: ours_eps / base_eps.max(1e-9),
            ours_peak_rss_kib: ours.peak,
            baseline_peak_rss_kib: base.peak,
            ours_start_rss_kib: ours.start,
            baseline_start_rss_kib: base.start,
            ours_checksum: report.checksum,
            baseline_checksum: sum.digest,
            checksums_match: matches,
        });
    }
    Ok(Report {
        backend,
        database: fresh.database,
        events: options.events,
        users: options.users,
        seed: options.seed,
        batch_size: options.batch_size,
        command: options.command_line(),
        generate,
        models,
        peak_rss_kib: peaks.overall,
        peak_rss_scope: peaks.scope.as_str(),
    })
}

/// Opens a fresh database and appends the generated events (timed), then leaves the log
/// as it would be at rest (untimed).
fn populate(
    options: &Options,
    say: &mut dyn FnMut(&str),
    peaks: &mut Peaks,
) -> Result<(Fresh, Generation), BenchError> {
    let mut fresh = open_fresh(options)?;
    let store = &mut fresh.store;
    say(&format!(
        "generating and inserting {} events ({} users, seed {}) into {}",
        options.events, options.users, options.seed, fresh.database
    ));
    let spec = GenerateSpec {
        users: options.users,
        events: options.events,
        seed: options.seed,
    };
    let started = Instant::now();
    let (appended, usage) = rss::measure(|| {
        import::append_iter(
            store,
            projections::generate::events(&spec),
            &readmodel_runtime::StopFlag::new(),
        )
    });
    let seconds = started.elapsed().as_secs_f64();
    let appended = appended
        .map_err(|e| BenchError::new(format!("cannot append the generated events: {e}")))?
        .count as u64;
    peaks.note(usage);
    let generate = Generation {
        events: appended,
        seconds,
        events_per_second: appended as f64 / seconds.max(1e-9),
        peak_rss_kib: usage.peak,
        start_rss_kib: usage.start,
    };
    settle_log(store)?;
    Ok((fresh, generate))
}

/// Untimed, after an append: leaves the log as it would be at rest, so that the measured
/// pass does not pay for the append's writes still on their way to disk. PostgreSQL gets
/// the statistics autovacuum would gather and a `CHECKPOINT` (the append's dirty buffers
/// written out); SQLite moves the insert's write-ahead log (one transaction, as large as
/// the log) into the database file, as a later checkpoint would; then the system's dirty
/// pages are flushed (`sync`). A 10M-event pass on PostgreSQL right after its log was
/// generated took 99.4 s, and 77.5 s once settled (docs/PERFORMANCE.md).
fn settle_log(store: &mut Store) -> Result<(), BenchError> {
    use diesel::RunQueryDsl;
    match store {
        Store::Postgres(c) => {
            diesel::sql_query("ANALYZE event_record").execute(c)?;
            diesel::sql_query("CHECKPOINT").execute(c).map_err(|e| {
                BenchError::new(format!(
                    "cannot settle the generated log: CHECKPOINT was refused ({e}); run the bench as a superuser or a role with pg_checkpoint"
                ))
            })?
        }
        Store::Sqlite(c) => diesel::sql_query("PRAGMA main.wal_checkpoint(TRUNCATE)").execute(c)?,
    };
    let synced = std::process::Command::new("sync").status().map_err(|e| {
        BenchError::new(format!(
            "cannot settle the generated log: `sync` did not start: {e}"
        ))
    })?;
    if !synced.success() {
        return Err(BenchError::new(format!(
            "cannot settle the generated log: `sync` failed ({synced})"
        )));
    }
    Ok(())
}

/// The highest peak over the phases, and whether every phase could reset it.
struct Peaks {
    overall: Option<u64>,
    scope: rss::Scope,
}

impl Default for Peaks {
    fn default() -> Self {
        Self {
            overall: None,
            scope: rss::Scope::Phase,
        }
    }
}

impl Peaks {
    fn note(&mut self, usage: rss::Usage) {
        self.overall = self.overall.max(usage.peak);
        if usage.scope == rss::Scope::Process {
            self.scope = rss::Scope::Process;
        }
    }
}

/// Writes `lines` as columns, the first `left` of them left-aligned, the rest right.
pub(crate) fn aligned(out: &mut String, lines: &[Vec<String>], left: usize) {
    let columns = lines.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for line in lines {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i < left {
                    format!("{cell:<w$}", w = widths[i])
                } else {
                    format!("{cell:>w$}", w = widths[i])
                }
            })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
}
