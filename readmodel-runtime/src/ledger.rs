//! The runtime's bookkeeping in `readmodels`: checkpoints (last applied event per model,
//! version and scope) and the `replay_runs` ledger.

use chrono::{DateTime, Utc};
use diesel::deserialize::QueryableByName;
use diesel::row::NamedRow;

use crate::contract::Contract;
use crate::error::StoreError;
use crate::field::Db;
use crate::store::{Conn, Statement};

/// The scope of a whole-model run; user-scoped runs use `user:<uuid>`.
pub const SCOPE_ALL: &str = "all";

/// The checkpoint of a model version: the last event id its rows reflect.
pub(crate) fn checkpoint<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
) -> Result<Option<i64>, StoreError> {
    let stmt = Statement::<C::Db>::new(
        "SELECT last_event_id AS value FROM readmodels.replay_checkpoints WHERE model = ",
    )
    .bind(&contract.name.to_owned())
    .sql(" AND model_version = ")
    .bind(&version)
    .sql(" AND scope = ")
    .bind(&SCOPE_ALL.to_owned());
    let rows: Vec<Value<i64>> = conn.fetch(stmt).map_err(StoreError::query(format!(
        "reading the checkpoint of {}",
        contract.name
    )))?;
    Ok(rows.first().map(|r| r.0))
}

/// Sets the checkpoint, in the caller's transaction.
pub(crate) fn save_checkpoint<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
    last_event_id: i64,
) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new(
        "INSERT INTO readmodels.replay_checkpoints (model, model_version, scope, last_event_id, updated_at) VALUES (",
    )
    .bind(&contract.name.to_owned())
    .sql(", ")
    .bind(&version)
    .sql(", ")
    .bind(&SCOPE_ALL.to_owned())
    .sql(", ")
    .bind(&last_event_id)
    .sql(", ")
    .bind(&Utc::now())
    .sql(
        ") ON CONFLICT (model, model_version, scope) DO UPDATE SET \
         last_event_id = excluded.last_event_id, updated_at = excluded.updated_at",
    );
    conn.run(stmt).map_err(StoreError::query(format!(
        "saving the checkpoint of {}",
        contract.name
    )))?;
    Ok(())
}

/// What a new run covers.
pub(crate) struct NewRun<'a> {
    pub(crate) contract: &'a Contract,
    pub(crate) full: bool,
    pub(crate) from: i64,
    pub(crate) to: i64,
}

/// Records a started run; returns its id.
pub(crate) fn start_run<C: Conn>(conn: &mut C, run: &NewRun<'_>) -> Result<i64, StoreError> {
    let context = || format!("recording a run of {}", run.contract.name);
    let insert = Statement::<C::Db>::new(
        "INSERT INTO readmodels.replay_runs (model, model_version, scope, full_rebuild, \
         from_event_id, to_event_id, started_at, status) VALUES (",
    )
    .bind(&run.contract.name.to_owned())
    .sql(", ")
    .bind(&run.contract.version)
    .sql(", ")
    .bind(&SCOPE_ALL.to_owned())
    .sql(", ")
    .bind(&run.full)
    .sql(", ")
    .bind(&run.from)
    .sql(", ")
    .bind(&run.to)
    .sql(", ")
    .bind(&Utc::now())
    .sql(", 'running') RETURNING run_id AS value");
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

/// Marks a run finished: `succeeded` with its checksum, or `failed` with its error.
pub(crate) fn finish_run<C: Conn>(
    conn: &mut C,
    run_id: i64,
    outcome: Result<&str, &str>,
) -> Result<(), StoreError> {
    let (status, checksum, error) = match outcome {
        Ok(checksum) => ("succeeded", Some(checksum.to_owned()), None),
        Err(error) => ("failed", None, Some(error.to_owned())),
    };
    let stmt = Statement::<C::Db>::new("UPDATE readmodels.replay_runs SET finished_at = ")
        .bind(&Utc::now())
        .sql(", status = ")
        .bind(&status.to_owned())
        .sql(", checksum = ")
        .bind(&checksum)
        .sql(", error = ")
        .bind(&error)
        .sql(" WHERE run_id = ")
        .bind(&run_id);
    conn.run(stmt)
        .map_err(StoreError::query(format!("finishing run {run_id}")))?;
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
    /// `all` or `user:<uuid>`.
    pub scope: String,
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
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    /// The error of a failed run.
    pub error: Option<String>,
    /// The checksum after a successful run.
    pub checksum: Option<String>,
}

impl<DB: Db> QueryableByName<DB> for RunRecord {
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            run_id: DB::read(row, "run_id")?,
            model: DB::read(row, "model")?,
            model_version: DB::read(row, "model_version")?,
            scope: DB::read(row, "scope")?,
            full_rebuild: DB::read(row, "full_rebuild")?,
            from_event_id: DB::read(row, "from_event_id")?,
            to_event_id: DB::read(row, "to_event_id")?,
            started_at: DB::read(row, "started_at")?,
            finished_at: DB::read(row, "finished_at")?,
            events_read: DB::read(row, "events_read")?,
            events_applied: DB::read(row, "events_applied")?,
            status: DB::read(row, "status")?,
            error: DB::read(row, "error")?,
            checksum: DB::read(row, "checksum")?,
        })
    }
}

/// The latest `limit` runs of a model, newest first.
pub(crate) fn recent_runs<C: Conn>(
    conn: &mut C,
    model: &str,
    limit: i64,
) -> Result<Vec<RunRecord>, StoreError> {
    let stmt = Statement::<C::Db>::new(
        "SELECT run_id, model, model_version, scope, full_rebuild, from_event_id, to_event_id, \
         started_at, finished_at, events_read, events_applied, status, error, checksum \
         FROM readmodels.replay_runs WHERE model = ",
    )
    .bind(&model.to_owned())
    .sql(" ORDER BY run_id DESC LIMIT ")
    .bind(&limit);
    conn.fetch(stmt)
        .map_err(StoreError::query(format!("reading the runs of {model}")))
}

/// A one-column result named `value`.
pub(crate) struct Value<T>(pub(crate) T);

impl<DB: Db, T: crate::field::Field> QueryableByName<DB> for Value<T> {
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        DB::read(row, "value").map(Value)
    }
}
