//! Reading single rows for handlers and writing a batch's changes: deletes, then
//! multi-row upserts (`INSERT … ON CONFLICT (key) DO UPDATE`) sized to the bind limit.

use uuid::Uuid;

use crate::contract::Contract;
use crate::error::{ReplayError, StoreError};
use crate::rows::{BatchState, Loaded, ReadModelRow};
use crate::store::{Conn, Statement};

use super::plan::Delete;

/// Key columns without `model_version`, in key order.
pub(crate) fn entity_key(contract: &Contract) -> Vec<&'static str> {
    contract
        .idempotency_key
        .iter()
        .copied()
        .filter(|c| *c != "model_version")
        .collect()
}

pub(crate) fn column_list(contract: &Contract) -> String {
    contract
        .columns
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn load_row<R: ReadModelRow, C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
    key: &R::Key,
) -> Result<Option<R>, StoreError> {
    let stmt = Statement::<C::Db>::new(&format!(
        "SELECT {} FROM {} WHERE model_version = ",
        column_list(contract),
        contract.qualified_table()
    ))
    .bind(&version)
    .sql(" AND ")
    .bind_equal(&entity_key(contract), |q| R::bind_key(key, q));
    let rows: Vec<Loaded<R>> = conn.fetch(stmt).map_err(StoreError::query(format!(
        "loading a row of {} ({key:?})",
        contract.name
    )))?;
    Ok(rows.into_iter().next().map(|l| l.0))
}

/// Writes a batch's changed rows as `version`; with `only_user`, refuses rows of others.
pub(super) fn write_rows<R: ReadModelRow, C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
    only_user: Option<Uuid>,
    state: BatchState<R>,
) -> Result<u64, ReplayError> {
    let mut upserts = Vec::new();
    let mut written = 0u64;
    for (key, slot) in state.slots {
        if !slot.dirty {
            continue;
        }
        match slot.row {
            Some(mut row) => {
                if let Some(user) = only_user {
                    if row.user_id() != Some(user) {
                        return Err(ReplayError::OtherUsersRow {
                            model: contract.name,
                            user,
                            key: format!("{key:?}"),
                        });
                    }
                }
                row.set_model_version(version);
                upserts.push(row);
            }
            None => {
                let stmt = Statement::<C::Db>::new(&format!(
                    "DELETE FROM {} WHERE model_version = ",
                    contract.qualified_table()
                ))
                .bind(&version)
                .sql(" AND ")
                .bind_equal(&entity_key(contract), |q| R::bind_key(&key, q));
                let stmt = match only_user {
                    Some(user) => stmt.sql(" AND user_id = ").bind(&user),
                    None => stmt,
                };
                conn.run(stmt).map_err(StoreError::query(format!(
                    "deleting a row of {}",
                    contract.name
                )))?;
                written += 1;
            }
        }
    }
    let columns = contract.columns.len();
    let per_statement = (conn.max_binds() / columns).clamp(1, 5_000);
    let update: Vec<String> = contract
        .columns
        .iter()
        .filter(|c| !contract.idempotency_key.contains(&c.name))
        .map(|c| format!("{0} = excluded.{0}", c.name))
        .collect();
    let on_conflict = if update.is_empty() {
        format!(
            " ON CONFLICT ({}) DO NOTHING",
            contract.idempotency_key.join(", ")
        )
    } else {
        format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            contract.idempotency_key.join(", "),
            update.join(", ")
        )
    };
    let insert = format!(
        "INSERT INTO {} ({}) VALUES ",
        contract.qualified_table(),
        column_list(contract)
    );
    for chunk in upserts.chunks(per_statement) {
        let mut stmt = Statement::<C::Db>::new(&insert);
        for (i, row) in chunk.iter().enumerate() {
            stmt = stmt
                .sql(if i == 0 { "(" } else { ", (" })
                .bind_many(columns, |q| row.bind_columns(q))
                .sql(")");
        }
        stmt = stmt.sql(&on_conflict);
        conn.run(stmt).map_err(StoreError::query(format!(
            "writing rows of {}",
            contract.name
        )))?;
        written += chunk.len() as u64;
    }
    Ok(written)
}

/// Deletes the rows a plan rebuilds, in the caller's transaction.
pub(crate) fn delete_scope<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
    delete: Delete,
) -> Result<usize, StoreError> {
    let stmt = Statement::<C::Db>::new(&format!(
        "DELETE FROM {} WHERE model_version = ",
        contract.qualified_table()
    ))
    .bind(&version);
    let stmt = match delete {
        Delete::Nothing => return Ok(0),
        Delete::Version => stmt,
        Delete::User(user) => stmt.sql(" AND user_id = ").bind(&user),
        Delete::EventRange { from, to, user } => {
            let stmt = stmt
                .sql(" AND event_id >= ")
                .bind(&from)
                .sql(" AND event_id <= ")
                .bind(&to);
            match user {
                Some(user) => stmt.sql(" AND user_id = ").bind(&user),
                None => stmt,
            }
        }
    };
    conn.run(stmt).map_err(StoreError::query(format!(
        "deleting rows of {} version {version}",
        contract.name
    )))
}
