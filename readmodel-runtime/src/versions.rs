//! Side-by-side model versions: every row carries `model_version`, and `model_versions`
//! says which one readers use (`replay cutover` switches it).

use chrono::Utc;

use crate::store::{with_conn, Conn, Statement, Store, StoreError, Value};

/// The version readers of `model` use, if one was activated (the public form, which
/// takes the contract, is `reader::active_version`).
pub(crate) fn active_version(store: &mut Store, model: &str) -> Result<Option<i32>, StoreError> {
    with_conn!(store, |c| active::<_>(c, model))
}

/// The active version of `model`, on one connection.
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

/// Makes `version`, caught up with the log, the active version of `model`, in the
/// caller's transaction, unless the active version's checkpoint is further (then readers
/// would see it go back: a later flush tries again); returns the version switched from.
/// The active version's checkpoint row is locked first, so that its follower cannot move
/// it between this check and the commit.
pub(crate) fn switch_when_caught_up<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<Option<i32>, StoreError> {
    let Some(current) = active(conn, model)? else {
        set_active(conn, model, version)?;
        return Ok(None);
    };
    if current == version {
        return Ok(None);
    }
    let all = crate::ledger::Scope::All;
    crate::ledger::lock_checkpoint(conn, model, current, all)?;
    let theirs = crate::ledger::checkpoint(conn, model, current, all)?.unwrap_or(0);
    let ours = crate::ledger::checkpoint(conn, model, version, all)?.unwrap_or(0);
    if ours < theirs {
        return Ok(None);
    }
    set_active(conn, model, version)?;
    Ok(Some(current))
}

/// Makes `version` the active version of `model`.
pub(crate) fn set_active<C: Conn>(
    conn: &mut C,
    model: &str,
    version: i32,
) -> Result<(), StoreError> {
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

/// Makes `version` the active version of `model` unless one is active already.
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
