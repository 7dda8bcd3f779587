//! Reading single rows for handlers and writing a batch's changes: deletes, then
//! multi-row upserts (`INSERT … ON CONFLICT (key) DO UPDATE`) sized to the bind limit.

use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::RunQueryDsl;
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
    state: &BatchState<R>,
) -> Result<u64, ReplayError> {
    let mut upserts = Vec::new();
    let mut written = 0u64;
    for (key, slot) in &state.slots {
        if !slot.dirty {
            continue;
        }
        match &slot.row {
            Some(row) => {
                let mut row = row.clone();
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
                .bind_equal(&entity_key(contract), |q| R::bind_key(key, q));
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
    conn.upsert(contract, &upserts)?;
    written += upserts.len() as u64;
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

/// `ON CONFLICT (key) DO UPDATE SET` every other column (`DO NOTHING` when there is none).
fn on_conflict(contract: &Contract) -> String {
    let update: Vec<String> = contract
        .columns
        .iter()
        .filter(|c| !contract.idempotency_key.contains(&c.name))
        .map(|c| format!("{0} = excluded.{0}", c.name))
        .collect();
    if update.is_empty() {
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
    }
}

/// Writes rows with the backend's fastest idempotent statement.
pub(crate) trait Upsert {
    /// Inserts or updates `rows` (distinct keys), in the caller's transaction.
    fn upsert<R: ReadModelRow>(
        &mut self,
        contract: &Contract,
        rows: &[R],
    ) -> Result<(), StoreError>;
}

impl Upsert for PgConnection {
    /// One statement per 10,000 rows, each column bound as one array:
    /// `INSERT … SELECT * FROM unnest($1, …, $n) ON CONFLICT …` parses once and sends no
    /// per-row placeholders.
    fn upsert<R: ReadModelRow>(
        &mut self,
        contract: &Contract,
        rows: &[R],
    ) -> Result<(), StoreError> {
        let placeholders: Vec<String> = (1..=contract.columns.len())
            .map(|i| format!("${i}"))
            .collect();
        let sql = format!(
            "INSERT INTO {} ({}) SELECT * FROM unnest({}){}",
            contract.qualified_table(),
            column_list(contract),
            placeholders.join(", "),
            on_conflict(contract)
        );
        for chunk in rows.chunks(10_000) {
            let query = R::bind_pg_arrays(chunk, diesel::sql_query(sql.clone()).into_boxed());
            query.execute(self).map_err(StoreError::query(format!(
                "writing rows of {}",
                contract.name
            )))?;
        }
        Ok(())
    }
}

impl Upsert for SqliteConnection {
    /// Multi-row `INSERT … VALUES (…), (…) ON CONFLICT …`, sized to the bind limit.
    fn upsert<R: ReadModelRow>(
        &mut self,
        contract: &Contract,
        rows: &[R],
    ) -> Result<(), StoreError> {
        let columns = contract.columns.len();
        let per_statement = (self.max_binds() / columns).clamp(1, 5_000);
        let insert = format!(
            "INSERT INTO {} ({}) VALUES ",
            contract.qualified_table(),
            column_list(contract)
        );
        let on_conflict = on_conflict(contract);
        for chunk in rows.chunks(per_statement) {
            let mut stmt = Statement::<diesel::sqlite::Sqlite>::new(&insert);
            for (i, row) in chunk.iter().enumerate() {
                stmt = stmt
                    .sql(if i == 0 { "(" } else { ", (" })
                    .bind_many(columns, |q| row.bind_columns(q))
                    .sql(")");
            }
            self.run(stmt.sql(&on_conflict))
                .map_err(StoreError::query(format!(
                    "writing rows of {}",
                    contract.name
                )))?;
        }
        Ok(())
    }
}

/// Loads the rows of many keys at once (absent keys are simply missing from the result).
pub(super) fn load_rows<R: ReadModelRow, C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
    keys: &[R::Key],
) -> Result<Vec<R>, StoreError> {
    let key_columns = entity_key(contract);
    let per_statement = ((conn.max_binds() - 1) / key_columns.len().max(1)).clamp(1, 5_000);
    // A join with a VALUES list plans as a hash join on both backends; a long row-value
    // `IN (…)` list is planned as an OR chain by PostgreSQL and gets slow.
    let select = format!(
        "SELECT {} FROM {} AS t JOIN (VALUES ",
        contract
            .columns
            .iter()
            .map(|c| format!("t.{}", c.name))
            .collect::<Vec<_>>()
            .join(", "),
        contract.qualified_table()
    );
    let join: Vec<String> = key_columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("t.{c} = k.column{}", i + 1))
        .collect();
    let mut rows = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(per_statement) {
        let mut stmt = Statement::<C::Db>::new(&select);
        for (i, key) in chunk.iter().enumerate() {
            stmt = stmt
                .sql(if i == 0 { "(" } else { ", (" })
                .bind_many(key_columns.len(), |q| R::bind_key(key, q))
                .sql(")");
        }
        let stmt = stmt
            .sql(&format!(
                ") AS k ON {} WHERE t.model_version = ",
                join.join(" AND ")
            ))
            .bind(&version);
        let loaded: Vec<Loaded<R>> = conn.fetch(stmt).map_err(StoreError::query(format!(
            "loading rows of {}",
            contract.name
        )))?;
        rows.extend(loaded.into_iter().map(|l| l.0));
    }
    Ok(rows)
}
