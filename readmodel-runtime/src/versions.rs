//! Side-by-side model versions: every row carries `model_version`, `model_versions` says
//! which one readers use, and `cutover` switches it atomically once the new version has
//! caught up with the log.

use chrono::Utc;

use crate::contract::Contract;
use crate::error::{ReplayError, StoreError};
use crate::ledger::{self, Value};
use crate::replay::delete_scope;
use crate::replay::plan::Delete;
use crate::store::{with_conn, Conn, Statement, Store};

/// The version readers of `model` should use, if one was activated.
///
/// The first successful whole-model run of a model activates its version; later
/// versions become active through [`cutover`].
pub fn active_version(store: &mut Store, model: &str) -> Result<Option<i32>, StoreError> {
    with_conn!(store, |c| active::<_>(c, model))
}

pub(crate) fn active<C: Conn>(conn: &mut C, model: &str) -> Result<Option<i32>, StoreError> {
    let stmt = Statement::<C::Db>::new(
        "SELECT active_version AS value FROM readmodels.model_versions WHERE model = ",
    )
    .bind(&model.to_owned());
    let rows: Vec<Value<i32>> = conn.fetch(stmt).map_err(StoreError::query(format!(
        "reading the active version of {model}"
    )))?;
    Ok(rows.first().map(|r| r.0))
}

fn set_active<C: Conn>(conn: &mut C, model: &str, version: i32) -> Result<(), StoreError> {
    let stmt = Statement::<C::Db>::new("INSERT INTO readmodels.model_versions (model, active_version, switched_at) VALUES (")
        .bind(&model.to_owned())
        .sql(", ")
        .bind(&version)
        .sql(", ")
        .bind(&Utc::now())
        .sql(") ON CONFLICT (model) DO UPDATE SET active_version = excluded.active_version, switched_at = excluded.switched_at");
    conn.run(stmt).map_err(StoreError::query(format!(
        "activating {model} version {version}"
    )))?;
    Ok(())
}

pub(crate) fn activate_if_none<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<(), StoreError> {
    if active(conn, model)?.is_none() {
        set_active(conn, model, version)?;
    }
    Ok(())
}

/// Makes `version` the active version of `contract`'s model, atomically. Refused when the
/// version never completed a whole-model run, or its checkpoint is behind the log's head.
pub(crate) fn cutover<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
) -> Result<Option<i32>, ReplayError> {
    let model = contract.name;
    conn.transaction::<_, ReplayError, _>(|c| {
        if !ledger::has_succeeded(c, model, version)? {
            return Err(ReplayError::Version(format!(
                "cannot cut {model} over to version {version}: it has never completed a run; build it first with `replay run --model {model} --full` (from a binary declaring version {version})"
            )));
        }
        let head = crate::store::visible_head(c)?;
        let checkpoint = ledger::checkpoint(c, model, version, ledger::SCOPE_ALL)?.unwrap_or(0);
        if checkpoint < head {
            return Err(ReplayError::Version(format!(
                "cannot cut {model} over to version {version}: it is behind the log (checkpoint {checkpoint}, head {head}); catch it up with `replay run --model {model}` first"
            )));
        }
        let previous = active(c, model)?;
        set_active(c, model, version)?;
        Ok(previous)
    })
}

/// Deletes an inactive version's rows and checkpoints. Refused for the active version.
pub(crate) fn drop_version<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
) -> Result<usize, ReplayError> {
    let model = contract.name;
    conn.transaction::<_, ReplayError, _>(|c| {
        if active(c, model)? == Some(version) {
            return Err(ReplayError::Version(format!(
                "cannot drop {model} version {version}: it is the active version; cut over to another version first"
            )));
        }
        let deleted = delete_scope(c, contract, version, Delete::Version)?;
        ledger::delete_version_checkpoints(c, model, version)?;
        Ok(deleted)
    })
}
