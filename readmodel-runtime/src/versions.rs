//! Side-by-side model versions: every row carries `model_version`, and `model_versions`
//! says which one readers use (`replay cutover` switches it).

use chrono::Utc;

use crate::store::{Conn, Statement, StoreError, Value};

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
