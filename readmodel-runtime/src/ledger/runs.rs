//! The `replay_runs` ledger: one row per run, with its scope, bounds, plan, counters and
//! outcome.

use chrono::{DateTime, Utc};
use diesel::deserialize::QueryableByName;
use diesel::row::NamedRow;

use super::Scope;
use crate::field::Db;
use crate::store::{Conn, Statement, StoreError, Value};

/// How a run ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Still going, or killed without a chance to say so.
    Running,
    /// Finished; its checksum is recorded.
    Succeeded,
    /// Stopped by an error, recorded with the run.
    Failed,
    /// Stopped early on purpose (`--max-batches`, or SIGTERM/SIGINT, which is how a
    /// following run ends); `--resume` or a catch-up continues it.
    Stopped,
    /// A run that was killed and has since been resumed by a later run.
    Abandoned,
}

impl RunStatus {
    /// The text stored in `replay_runs.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Stopped => "stopped",
            RunStatus::Abandoned => "abandoned",
        }
    }
}

/// Stored status text that is not a [`RunStatus`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown run status {0:?}")]
pub struct UnknownStatus(pub String);

impl std::str::FromStr for RunStatus {
    type Err = UnknownStatus;
    fn from_str(text: &str) -> Result<Self, UnknownStatus> {
        [
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Stopped,
            RunStatus::Abandoned,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
        .ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a new run covers.
pub(crate) struct NewRun<'a> {
    pub(crate) model: &'a str,
    pub(crate) version: i32,
    pub(crate) scope: Scope,
    pub(crate) full: bool,
    pub(crate) from: i64,
    pub(crate) to: i64,
    /// The plan as JSON, read back by `--resume`.
    pub(crate) plan_json: String,
    pub(crate) resumed_from: Option<i64>,
}

/// Records a started run; returns its id.
pub(crate) fn start_run<C: Conn>(conn: &mut C, run: &NewRun<'_>) -> Result<i64, StoreError> {
    let context = || format!("recording a run of {}", run.model);
    let insert = Statement::<C::Db>::new(
        "INSERT INTO readmodels.replay_runs (model, model_version, scope, full_rebuild, \
         from_event_id, to_event_id, started_at, status, plan, resumed_from) VALUES (",
    )
    .bind(&run.model.to_owned())
    .sql(", ")
    .bind(&run.version)
    .sql(", ")
    .bind(&run.scope.to_string())
    .sql(", ")
    .bind(&run.full)
    .sql(", ")
    .bind(&run.from)
    .sql(", ")
    .bind(&run.to)
    .sql(", ")
    .bind(&Utc::now())
    .sql(", ")
    .bind(&RunStatus::Running.as_str().to_owned())
    .sql(", ")
    .bind(&run.plan_json)
    .sql(", ")
    .bind(&run.resumed_from)
    .sql(") RETURNING run_id AS value");
    let rows: Vec<Value<i64>> = conn.fetch(insert).map_err(StoreError::query(context()))?;
    rows.first()
        .map(|r| r.0)
        .ok_or_else(|| StoreError::query(context())(diesel::result::Error::NotFound))
}

/// Adds a batch's counts to a run, in the batch's transaction.
pub(crate) fn count_batch<C: Conn>(
    conn: &mut C,
    run_id: i64,
    read: i64,
    applied: i64,
) -> Result<(), StoreError> {
    let stmt =
        Statement::<C::Db>::new("UPDATE readmodels.replay_runs SET events_read = events_read + ")
            .bind(&read)
            .sql(", events_applied = events_applied + ")
            .bind(&applied)
            .sql(" WHERE run_id = ")
            .bind(&run_id);
    conn.run(stmt)
        .map_err(StoreError::query(format!("updating run {run_id}")))?;
    Ok(())
}

/// Moves a run's last event id up to `to` (a run following the log).
pub(crate) fn extend_run<C: Conn>(conn: &mut C, run_id: i64, to: i64) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new("UPDATE readmodels.replay_runs SET to_event_id = ")
        .bind(&to)
        .sql(" WHERE run_id = ")
        .bind(&run_id);
    conn.run(stmt)
        .map_err(StoreError::query(format!("extending run {run_id}")))?;
    Ok(())
}

/// Records how a run ended.
pub(crate) fn finish_run<C: Conn>(
    conn: &mut C,
    run_id: i64,
    status: RunStatus,
    checksum: Option<&str>,
    error: Option<&str>,
    events_per_second: f64,
) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new("UPDATE readmodels.replay_runs SET finished_at = ")
        .bind(&Utc::now())
        .sql(", status = ")
        .bind(&status.as_str().to_owned())
        .sql(", checksum = ")
        .bind(&checksum.map(str::to_owned))
        .sql(", error = ")
        .bind(&error.map(str::to_owned))
        .sql(", events_per_second = ")
        .bind(&events_per_second)
        .sql(" WHERE run_id = ")
        .bind(&run_id);
    conn.run(stmt)
        .map_err(StoreError::query(format!("finishing run {run_id}")))?;
    Ok(())
}

/// Marks a killed run (`running` forever) as resumed by a later one.
pub(crate) fn mark_abandoned<C: Conn>(conn: &mut C, run_id: i64) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new("UPDATE readmodels.replay_runs SET status = ")
        .bind(&RunStatus::Abandoned.as_str().to_owned())
        .sql(" WHERE status = ")
        .bind(&RunStatus::Running.as_str().to_owned())
        .sql(" AND run_id = ")
        .bind(&run_id);
    conn.run(stmt)
        .map_err(StoreError::query(format!("updating run {run_id}")))?;
    Ok(())
}

/// Marks the runs of a partition still `running` as abandoned, saying `why` (their worker
/// stopped renewing its lease and another took the partition over).
pub(crate) fn abandon_scope<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    scope: Scope,
    why: &str,
) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new("UPDATE readmodels.replay_runs SET status = ")
        .bind(&RunStatus::Abandoned.as_str().to_owned())
        .sql(", finished_at = ")
        .bind(&Utc::now())
        .sql(", error = ")
        .bind(&why.to_owned())
        .sql(" WHERE status = ")
        .bind(&RunStatus::Running.as_str().to_owned())
        .sql(" AND model = ")
        .bind(&model.to_owned())
        .sql(" AND model_version = ")
        .bind(&version)
        .sql(" AND scope = ")
        .bind(&scope.to_string());
    conn.run(stmt)
        .map_err(StoreError::query(format!("updating the runs of {model}")))?;
    Ok(())
}

/// One row of `replay_runs`, as `status` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunRecord {
    /// Run id.
    pub run_id: i64,
    /// Model name.
    pub model: String,
    /// Model version.
    pub model_version: i32,
    /// The part of the model the run covered.
    pub scope: Scope,
    /// Whether the run deleted the version's rows first.
    pub full_rebuild: bool,
    /// First event id covered (exclusive lower bound + 1).
    pub from_event_id: i64,
    /// Last event id covered.
    pub to_event_id: i64,
    /// Start time.
    pub started_at: DateTime<Utc>,
    /// End time, if it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Events read.
    pub events_read: i64,
    /// Events applied.
    pub events_applied: i64,
    /// How the run ended, or `running`.
    pub status: RunStatus,
    /// The error of a failed run.
    pub error: Option<String>,
    /// The checksum after a successful run.
    pub checksum: Option<String>,
    /// Events read per second.
    pub events_per_second: Option<f64>,
    /// The plan as JSON, for `--resume`.
    pub plan: String,
    /// The run this one resumed.
    pub resumed_from: Option<i64>,
}

impl<DB: Db> QueryableByName<DB> for RunRecord {
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            run_id: DB::read(row, "run_id")?,
            model: DB::read(row, "model")?,
            model_version: DB::read(row, "model_version")?,
            scope: DB::read::<String>(row, "scope")?.parse()?,
            full_rebuild: DB::read(row, "full_rebuild")?,
            from_event_id: DB::read(row, "from_event_id")?,
            to_event_id: DB::read(row, "to_event_id")?,
            started_at: DB::read(row, "started_at")?,
            finished_at: DB::read(row, "finished_at")?,
            events_read: DB::read(row, "events_read")?,
            events_applied: DB::read(row, "events_applied")?,
            status: DB::read::<String>(row, "status")?.parse()?,
            error: DB::read(row, "error")?,
            checksum: DB::read(row, "checksum")?,
            events_per_second: DB::read(row, "events_per_second")?,
            plan: DB::read(row, "plan")?,
            resumed_from: DB::read(row, "resumed_from")?,
        })
    }
}

const RUN_COLUMNS: &str = "SELECT run_id, model, model_version, scope, full_rebuild, \
     from_event_id, to_event_id, started_at, finished_at, events_read, events_applied, status, \
     error, checksum, events_per_second, plan, resumed_from FROM readmodels.replay_runs WHERE model = ";

/// The latest `limit` runs of a model, newest first.
pub(crate) fn recent_runs<C: Conn>(
    conn: &mut C,
    model: &str,
    limit: i64,
) -> Result<Vec<RunRecord>, StoreError> {
    let stmt = Statement::<C::Db>::new(RUN_COLUMNS)
        .bind(&model.to_owned())
        .sql(" ORDER BY run_id DESC LIMIT ")
        .bind(&limit);
    conn.fetch(stmt)
        .map_err(StoreError::query(format!("reading the runs of {model}")))
}

/// A catch-up that found no event: `status` counts these instead of listing them.
fn empty_catch_up<DB: Db>(stmt: Statement<DB>) -> Statement<DB> {
    stmt.sql("(status = ")
        .bind(&RunStatus::Succeeded.as_str().to_owned())
        .sql(" AND events_read = 0 AND full_rebuild = ")
        .bind(&false)
        .sql(" AND scope = ")
        .bind(&Scope::All.to_string())
        .sql(" AND resumed_from IS NULL)")
}

/// The latest `limit` runs of a model that did something, newest first: without
/// `verify`'s scratch runs (negative versions) and catch-ups that found no event (a
/// resume that found none is shown: it is what ended the interrupted run above it).
pub(crate) fn runs_that_did_something<C: Conn>(
    conn: &mut C,
    model: &str,
    limit: i64,
) -> Result<Vec<RunRecord>, StoreError> {
    let stmt = Statement::<C::Db>::new(RUN_COLUMNS)
        .bind(&model.to_owned())
        .sql(" AND model_version > 0 AND NOT ");
    let stmt = empty_catch_up(stmt)
        .sql(" ORDER BY run_id DESC LIMIT ")
        .bind(&limit);
    conn.fetch(stmt)
        .map_err(StoreError::query(format!("reading the runs of {model}")))
}

/// How many catch-ups of a model found no event after run `after` (all of them: 0).
pub(crate) fn empty_catch_ups_after<C: Conn>(
    conn: &mut C,
    model: &str,
    after: i64,
) -> Result<i64, StoreError> {
    let stmt = Statement::<C::Db>::new(
        "SELECT COUNT(*) AS value FROM readmodels.replay_runs WHERE model = ",
    )
    .bind(&model.to_owned())
    .sql(" AND model_version > 0 AND run_id > ")
    .bind(&after)
    .sql(" AND ");
    let rows: Vec<Value<i64>> = conn
        .fetch(empty_catch_up(stmt))
        .map_err(StoreError::query(format!("reading the runs of {model}")))?;
    Ok(rows.first().map_or(0, |r| r.0))
}

/// The latest run of a model version, other than `verify`'s scratch runs and workers'
/// runs of one partition.
pub(crate) fn latest_run<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<Option<RunRecord>, StoreError> {
    let stmt = Statement::<C::Db>::new(RUN_COLUMNS)
        .bind(&model.to_owned())
        .sql(" AND model_version = ")
        .bind(&version)
        .sql(" AND scope NOT LIKE 'partition:%' ORDER BY run_id DESC LIMIT 1");
    let runs: Vec<RunRecord> = conn
        .fetch(stmt)
        .map_err(StoreError::query(format!("reading the runs of {model}")))?;
    Ok(runs.into_iter().next())
}

/// Whether a whole-model run of this version ever succeeded.
pub(crate) fn has_succeeded<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<bool, StoreError> {
    let stmt = Statement::<C::Db>::new(
        "SELECT COUNT(*) AS value FROM readmodels.replay_runs WHERE model = ",
    )
    .bind(&model.to_owned())
    .sql(" AND model_version = ")
    .bind(&version)
    .sql(" AND scope = ")
    .bind(&Scope::All.to_string())
    .sql(" AND status = ")
    .bind(&RunStatus::Succeeded.as_str().to_owned());
    let rows: Vec<Value<i64>> = conn
        .fetch(stmt)
        .map_err(StoreError::query(format!("reading the runs of {model}")))?;
    Ok(rows.first().is_some_and(|r| r.0 > 0))
}
