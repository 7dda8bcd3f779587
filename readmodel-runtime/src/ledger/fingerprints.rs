//! Which code built each model version's rows: `readmodels.replay_fingerprints` holds, per
//! (model, version), the [`Fingerprint`](crate::Fingerprint) of the binary whose handlers
//! wrote them.
//!
//! A full rebuild is recorded in two steps, so that the record never names code that did
//! not build the rows: when the rebuild is planned its fingerprint goes to `rebuilding`
//! ([`plan_rebuild`]); the transaction that deletes the version's rows (the one calling
//! [`delete_version_checkpoints`](super::delete_version_checkpoints)) moves it to
//! `fingerprint`. A rebuild refused or failed before that leaves `fingerprint` as it was.

use chrono::{DateTime, Utc};
use diesel::deserialize::QueryableByName;
use diesel::row::NamedRow;

use crate::field::Db;
use crate::store::{Conn, Statement, StoreError, Value};

/// What is recorded for a model version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordedFingerprint {
    /// The fingerprint of the code that built the rows.
    pub fingerprint: String,
    /// The fingerprint of a full rebuild planned whose rows were not deleted yet.
    pub rebuilding: Option<String>,
    /// When `fingerprint` was recorded.
    pub recorded_at: DateTime<Utc>,
}

impl<DB: Db> QueryableByName<DB> for RecordedFingerprint {
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            fingerprint: DB::read(row, "fingerprint")?,
            rebuilding: DB::read(row, "rebuilding")?,
            recorded_at: DB::read(row, "recorded_at")?,
        })
    }
}

/// The record of `model` `version`, if any.
pub(crate) fn recorded_fingerprint<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<Option<RecordedFingerprint>, StoreError> {
    let stmt = Statement::<C::Db>::new(
        "SELECT fingerprint, rebuilding, recorded_at FROM readmodels.replay_fingerprints WHERE model = ",
    )
    .bind(&model.to_owned())
    .sql(" AND model_version = ")
    .bind(&version);
    let rows: Vec<RecordedFingerprint> = conn.fetch(stmt).map_err(StoreError::query(format!(
        "reading the fingerprint of {model} v{version}"
    )))?;
    Ok(rows.into_iter().next())
}

/// Records `fingerprint` as the code of `model` `version`'s rows (and forgets a planned
/// rebuild), in the caller's transaction.
pub(crate) fn record_fingerprint<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    fingerprint: &str,
) -> Result<(), StoreError> {
    upsert(
        conn,
        model,
        version,
        fingerprint,
        "fingerprint = excluded.fingerprint, rebuilding = NULL, recorded_at = excluded.recorded_at",
    )
}

/// Notes that a full rebuild by `fingerprint`'s code is about to delete `model`
/// `version`'s rows; the deleting transaction records it (see the module's
/// documentation). A version with no record yet gets `fingerprint` at once.
pub(crate) fn plan_rebuild<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    fingerprint: &str,
) -> Result<(), StoreError> {
    upsert(
        conn,
        model,
        version,
        fingerprint,
        "rebuilding = excluded.rebuilding",
    )
}

fn upsert<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
    fingerprint: &str,
    on_conflict: &str,
) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new(
        "INSERT INTO readmodels.replay_fingerprints (model, model_version, fingerprint, rebuilding, recorded_at) VALUES (",
    )
    .bind(&model.to_owned())
    .sql(", ")
    .bind(&version)
    .sql(", ")
    .bind(&fingerprint.to_owned())
    .sql(", ")
    .bind(&fingerprint.to_owned())
    .sql(", ")
    .bind(&Utc::now())
    .sql(") ON CONFLICT (model, model_version) DO UPDATE SET ")
    .sql(on_conflict);
    conn.run(stmt).map_err(StoreError::query(format!(
        "recording the fingerprint of {model} v{version}"
    )))?;
    Ok(())
}

/// Makes a planned rebuild's fingerprint the version's, in the caller's transaction (the
/// one deleting the version's rows).
pub(super) fn rebuild_started<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new(
        "UPDATE readmodels.replay_fingerprints SET fingerprint = rebuilding, rebuilding = NULL, recorded_at = ",
    )
    .bind(&Utc::now())
    .sql(" WHERE model = ")
    .bind(&model.to_owned())
    .sql(" AND model_version = ")
    .bind(&version)
    .sql(" AND rebuilding IS NOT NULL");
    conn.run(stmt).map_err(StoreError::query(format!(
        "recording the fingerprint of {model} v{version}"
    )))?;
    Ok(())
}

/// Whether `model` `version` has any checkpoint (of any scope): whether rows may have
/// been built for it.
pub(crate) fn has_checkpoints<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<bool, StoreError> {
    let stmt = Statement::<C::Db>::new(
        "SELECT COUNT(*) AS value FROM readmodels.replay_checkpoints WHERE model = ",
    )
    .bind(&model.to_owned())
    .sql(" AND model_version = ")
    .bind(&version);
    let rows: Vec<Value<i64>> = conn.fetch(stmt).map_err(StoreError::query(format!(
        "reading the checkpoints of {model} v{version}"
    )))?;
    Ok(rows.first().is_some_and(|count| count.0 > 0))
}
