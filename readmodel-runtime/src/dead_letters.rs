//! Events a replay could not apply, parked under `--on-bad-event park` in
//! `readmodels.replay_dead_letters` so the run can go on. `replay dead-letters` lists
//! them; `--retry` rebuilds the model (a parked event can only be applied in its place in
//! the log, because snapshots and aggregates fold events in order), parking again the
//! events that still fail, and once the rebuild succeeded forgets the others.

use chrono::{DateTime, Utc};
use diesel::deserialize::QueryableByName;
use diesel::row::NamedRow;

use crate::event::StoredEvent;
use crate::field::Db;
use crate::store::{Conn, Statement, StoreError};

/// One parked event.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeadLetter {
    /// Model name.
    pub model: String,
    /// Model version.
    pub model_version: i32,
    /// The event's id.
    pub event_id: i64,
    /// The event's type.
    pub event_type: String,
    /// Why it could not be applied.
    pub reason: String,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
}

impl<DB: Db> QueryableByName<DB> for DeadLetter {
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            model: DB::read(row, "model")?,
            model_version: DB::read(row, "model_version")?,
            event_id: DB::read(row, "event_id")?,
            event_type: DB::read(row, "event_type")?,
            reason: DB::read(row, "reason")?,
            parked_at: DB::read(row, "parked_at")?,
        })
    }
}

/// Parks an event, in the batch's transaction (again: the reason is updated).
pub(crate) fn park<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    event: &StoredEvent,
    reason: &str,
) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new(
        "INSERT INTO readmodels.replay_dead_letters (model, model_version, event_id, event_type, reason, parked_at) VALUES (",
    )
    .bind(&model.to_owned())
    .sql(", ")
    .bind(&version)
    .sql(", ")
    .bind(&event.id)
    .sql(", ")
    .bind(&event.event_type)
    .sql(", ")
    .bind(&reason.to_owned())
    .sql(", ")
    .bind(&Utc::now())
    .sql(") ON CONFLICT (model, model_version, event_id) DO UPDATE SET reason = excluded.reason, parked_at = excluded.parked_at");
    conn.run(stmt).map_err(StoreError::query(format!(
        "parking event {} of {model}",
        event.id
    )))?;
    Ok(())
}

/// The parked events, of one model or all, in model and event order.
pub(crate) fn list<C: Conn>(
    conn: &mut C,
    model: Option<&str>,
) -> Result<Vec<DeadLetter>, StoreError> {
    let mut stmt = Statement::<C::Db>::new(
        "SELECT model, model_version, event_id, event_type, reason, parked_at FROM readmodels.replay_dead_letters",
    );
    if let Some(model) = model {
        stmt = stmt.sql(" WHERE model = ").bind(&model.to_owned());
    }
    conn.fetch(stmt.sql(" ORDER BY model, model_version, event_id"))
        .map_err(StoreError::query("reading dead letters"))
}

/// Forgets a model version's parked events (when its scratch version is dropped).
pub(crate) fn clear<C: Conn>(conn: &mut C, model: &str, version: i32) -> Result<usize, StoreError> {
    clear_before(conn, model, version, None)
}

/// Forgets a model version's parked events, or only those parked before `before` (after
/// a successful retry rebuild: the ones it did not park again).
pub(crate) fn clear_before<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    before: Option<DateTime<Utc>>,
) -> Result<usize, StoreError> {
    let mut stmt =
        Statement::<C::Db>::new("DELETE FROM readmodels.replay_dead_letters WHERE model = ")
            .bind(&model.to_owned())
            .sql(" AND model_version = ")
            .bind(&version);
    if let Some(before) = before {
        stmt = stmt.sql(" AND parked_at < ").bind(&before);
    }
    conn.run(stmt).map_err(StoreError::query(format!(
        "clearing the dead letters of {model}"
    )))
}
