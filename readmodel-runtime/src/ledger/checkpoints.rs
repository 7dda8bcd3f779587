//! Checkpoints: the last event id a model version's rows reflect, per scope.

use chrono::{DateTime, Utc};
use diesel::deserialize::QueryableByName;
use diesel::row::NamedRow;

use super::Scope;
use crate::field::Db;
use crate::store::{Conn, Statement, StoreError, Value};

/// `stmt`, which ends in `WHERE `, narrowed to the checkpoint row of `model` `version`
/// in `scope`.
fn the_row<DB: Db>(stmt: Statement<DB>, model: &str, version: i32, scope: Scope) -> Statement<DB> {
    stmt.sql("model = ")
        .bind(&model.to_owned())
        .sql(" AND model_version = ")
        .bind(&version)
        .sql(" AND scope = ")
        .bind(&scope.to_string())
}

/// The checkpoint of a model version in a scope: the last event id its rows reflect.
pub(crate) fn checkpoint<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    scope: Scope,
) -> Result<Option<i64>, StoreError> {
    let stmt = the_row(
        Statement::<C::Db>::new(
            "SELECT last_event_id AS value FROM readmodels.replay_checkpoints WHERE ",
        ),
        model,
        version,
        scope,
    );
    let rows: Vec<Value<i64>> = conn.fetch(stmt).map_err(StoreError::query(format!(
        "reading the checkpoint of {model}"
    )))?;
    Ok(rows.first().map(|r| r.0))
}

/// Locks a checkpoint's row until the caller's transaction ends (PostgreSQL: a writer
/// moving it waits; SQLite has one writer anyway), without changing it.
pub(crate) fn lock_checkpoint<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    scope: Scope,
) -> Result<(), StoreError> {
    let stmt = the_row(
        Statement::<C::Db>::new(
            "UPDATE readmodels.replay_checkpoints SET last_event_id = last_event_id WHERE ",
        ),
        model,
        version,
        scope,
    );
    conn.run(stmt).map_err(StoreError::query(format!(
        "locking the checkpoint of {model} v{version}"
    )))?;
    Ok(())
}

/// A checkpoint and when it was last written.
pub(crate) fn checkpoint_written<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    scope: Scope,
) -> Result<Option<(i64, DateTime<Utc>)>, StoreError> {
    let stmt = the_row(
        Statement::<C::Db>::new(
            "SELECT last_event_id, updated_at FROM readmodels.replay_checkpoints WHERE ",
        ),
        model,
        version,
        scope,
    );
    let rows: Vec<Written> = conn.fetch(stmt).map_err(StoreError::query(format!(
        "reading the checkpoint of {model}"
    )))?;
    Ok(rows.first().map(|r| (r.last_event_id, r.updated_at)))
}

struct Written {
    last_event_id: i64,
    updated_at: DateTime<Utc>,
}

impl<DB: Db> QueryableByName<DB> for Written {
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            last_event_id: DB::read(row, "last_event_id")?,
            updated_at: DB::read(row, "updated_at")?,
        })
    }
}

/// Sets a checkpoint, in the caller's transaction.
pub(crate) fn save_checkpoint<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    scope: Scope,
    last_event_id: i64,
) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new(
        "INSERT INTO readmodels.replay_checkpoints (model, model_version, scope, last_event_id, updated_at) VALUES (",
    )
    .bind(&model.to_owned())
    .sql(", ")
    .bind(&version)
    .sql(", ")
    .bind(&scope.to_string())
    .sql(", ")
    .bind(&last_event_id)
    .sql(", ")
    .bind(&Utc::now())
    .sql(
        ") ON CONFLICT (model, model_version, scope) DO UPDATE SET \
         last_event_id = excluded.last_event_id, updated_at = excluded.updated_at",
    );
    conn.run(stmt).map_err(StoreError::query(format!(
        "saving the checkpoint of {model}"
    )))?;
    Ok(())
}

/// Moves a checkpoint from `expected` to `last_event_id`, in the batch's transaction.
///
/// Reports [`Advance::Moved`] or [`Advance::Concurrent`]; the latter when the checkpoint is no longer `expected`: another run of the same model
/// committed in between, and applying this batch too would fold its events twice. On
/// PostgreSQL the row lock makes the second of two concurrent runs wait for the first and
/// then fail here; SQLite allows one writer at a time anyway.
pub(crate) fn advance_checkpoint<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    scope: Scope,
    expected: i64,
    last_event_id: i64,
) -> Result<Advance, StoreError> {
    let stmt = Statement::<C::Db>::new("UPDATE readmodels.replay_checkpoints SET last_event_id = ")
        .bind(&last_event_id)
        .sql(", updated_at = ")
        .bind(&Utc::now())
        .sql(" WHERE ");
    let stmt = the_row(stmt, model, version, scope)
        .sql(" AND last_event_id = ")
        .bind(&expected);
    let moved = conn.run(stmt).map_err(StoreError::query(format!(
        "saving the checkpoint of {model}"
    )))?;
    if moved == 1 {
        return Ok(Advance::Moved);
    }
    match checkpoint(conn, model, version, scope)? {
        None => {
            save_checkpoint(conn, model, version, scope, last_event_id)?;
            Ok(Advance::Moved)
        }
        Some(found) => Ok(Advance::Concurrent { found }),
    }
}

/// The outcome of [`advance_checkpoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Advance {
    /// The checkpoint now is the batch's last event.
    Moved,
    /// Another run had moved it, to `found`; nothing was changed.
    Concurrent {
        /// The checkpoint found.
        found: i64,
    },
}

/// Removes a checkpoint (of a finished partial run, or of a dropped version).
pub(crate) fn delete_checkpoint<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    scope: Scope,
) -> Result<(), StoreError> {
    let stmt = the_row(
        Statement::<C::Db>::new("DELETE FROM readmodels.replay_checkpoints WHERE "),
        model,
        version,
        scope,
    );
    conn.run(stmt).map_err(StoreError::query(format!(
        "deleting a checkpoint of {model}"
    )))?;
    Ok(())
}

/// Removes every checkpoint of a model version, in the caller's transaction: the one
/// deleting the version's rows. A full rebuild planned for the version (see
/// [`plan_rebuild`](super::fingerprints::plan_rebuild)) becomes the version's recorded
/// code in the same transaction.
pub(crate) fn delete_version_checkpoints<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new("DELETE FROM readmodels.replay_checkpoints WHERE model = ")
        .bind(&model.to_owned())
        .sql(" AND model_version = ")
        .bind(&version);
    conn.run(stmt).map_err(StoreError::query(format!(
        "deleting the checkpoints of {model}"
    )))?;
    super::fingerprints::rebuild_started(conn, model, version)
}

/// Raises a split model version's own checkpoint to the lowest of its `of` partitions'
/// checkpoints once every partition has one, in the caller's transaction. Never lowers
/// it: positions only grow, so a stale view of the partitions yields a smaller minimum,
/// which the condition ignores.
pub(crate) fn raise_to_partitions<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    of: u32,
) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new(
        "INSERT INTO readmodels.replay_checkpoints (model, model_version, scope, last_event_id, updated_at) SELECT ",
    )
    .bind(&model.to_owned())
    .sql(", ")
    .bind(&version)
    .sql(", 'all', MIN(last_event_id), ")
    .bind(&Utc::now())
    .sql(" FROM readmodels.replay_checkpoints WHERE model = ")
    .bind(&model.to_owned())
    .sql(" AND model_version = ")
    .bind(&version)
    .sql(" AND scope LIKE ")
    .bind(&format!("partition:%/{of}"))
    .sql(" HAVING COUNT(*) = ")
    .bind(&i64::from(of))
    .sql(
        " ON CONFLICT (model, model_version, scope) DO UPDATE SET \
         last_event_id = excluded.last_event_id, updated_at = excluded.updated_at \
         WHERE replay_checkpoints.last_event_id < excluded.last_event_id",
    );
    conn.run(stmt).map_err(StoreError::query(format!(
        "raising the checkpoint of {model} to its partitions'"
    )))?;
    Ok(())
}

/// The highest partition checkpoint of a model version (workers' progress), if any.
pub(crate) fn furthest_partition<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<Option<i64>, StoreError> {
    let stmt = Statement::<C::Db>::new(
        "SELECT MAX(last_event_id) AS value FROM readmodels.replay_checkpoints WHERE model = ",
    )
    .bind(&model.to_owned())
    .sql(" AND model_version = ")
    .bind(&version)
    .sql(" AND scope LIKE 'partition:%' HAVING COUNT(*) > 0");
    let rows: Vec<Value<i64>> = conn.fetch(stmt).map_err(StoreError::query(format!(
        "reading the partition checkpoints of {model}"
    )))?;
    Ok(rows.first().map(|r| r.0))
}
