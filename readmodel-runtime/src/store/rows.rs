//! Statements on a read model's table, from its contract and its generated row codec:
//! loading rows by key, deleting a set of rows, idempotent multi-row upserts sized to the
//! backend's bind limit, COPY of rows known to be new, and reading a version's rows in key
//! order.

use diesel::deserialize::{self, QueryableByName};
use diesel::pg::PgConnection;
use diesel::row::NamedRow;
use diesel::sqlite::SqliteConnection;
use diesel::RunQueryDsl;
use uuid::Uuid;

use super::error::StoreError;
use super::statement::Statement;
use super::Conn;
use crate::contract::Contract;
use crate::field::Db;
use crate::rows::ReadModelRow;

/// Key columns without `model_version`, in key order.
pub(crate) fn entity_key(contract: &Contract) -> Vec<&'static str> {
    contract
        .idempotency_key
        .iter()
        .copied()
        .filter(|c| *c != "model_version")
        .collect()
}

/// Every column, in [`Contract::columns`] order, comma separated.
pub(crate) fn column_list(contract: &Contract) -> String {
    contract
        .columns
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A result row decoded by the generated row codec.
struct Loaded<R>(R);

impl<DB: Db, R: ReadModelRow> QueryableByName<DB> for Loaded<R> {
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
        R::read(row).map(Loaded)
    }
}

/// Which rows of a model version a deletion removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowSet {
    /// Every row of the version.
    WholeVersion,
    /// The rows of one user.
    User(Uuid),
    /// The rows of events `from..=to` (of one user with `user`).
    EventRange {
        /// First event id.
        from: i64,
        /// Last event id.
        to: i64,
        /// Only this user's rows.
        user: Option<Uuid>,
    },
}

/// Deletes a set of rows of `version`, in the caller's transaction; returns how many.
pub(crate) fn delete_rows<C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
    rows: RowSet,
) -> Result<usize, StoreError> {
    let stmt = Statement::<C::Db>::new(&format!(
        "DELETE FROM {} WHERE model_version = ",
        contract.qualified_table()
    ))
    .bind(&version);
    let stmt = match rows {
        RowSet::WholeVersion => stmt,
        RowSet::User(user) => stmt.sql(" AND user_id = ").bind(&user),
        RowSet::EventRange { from, to, user } => {
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

/// Deletes the row of `key` (only if it is `only_user`'s, with `only_user`).
pub(crate) fn delete_row<R: ReadModelRow, C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
    key: &R::Key,
    only_user: Option<Uuid>,
) -> Result<(), StoreError> {
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
    Ok(())
}

/// Loads the row of one key.
pub(crate) fn load_row<R: ReadModelRow, C: Conn>(
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

/// Loads the rows of many keys at once (absent keys are simply missing from the result).
pub(crate) fn load_rows<R: ReadModelRow, C: Conn>(
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

/// Why rows handed to [`Upsert::insert_new`] have no row in the table yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fresh {
    /// Proven: the version was emptied and the run knows every row it wrote since.
    Proven,
    /// By the timeline rule that a row's key holds its event's identity, which the runtime
    /// cannot check: a key that exists after all is upserted instead.
    ByEventIdentity,
}

/// Writes rows with the backend's fastest idempotent statement.
pub(crate) trait Upsert {
    /// Inserts or updates `rows` (distinct keys), in the caller's transaction.
    fn upsert<R: ReadModelRow>(
        &mut self,
        contract: &Contract,
        rows: &[&R],
    ) -> Result<(), StoreError>;

    /// Inserts `rows` (distinct keys without a row in the table, for the reason `fresh`),
    /// in the caller's transaction.
    fn insert_new<R: ReadModelRow>(
        &mut self,
        contract: &Contract,
        rows: &[&R],
        fresh: Fresh,
    ) -> Result<(), StoreError>;
}

/// [`Upsert::insert_new`] on either backend: `insert` writes `rows` with the backend's
/// statement for new rows (`verb` names it in the error), as it is when they are proven
/// new; for [`Fresh::ByEventIdentity`] inside a savepoint (nested in the open transaction,
/// diesel's `transaction` is one), upserting `rows` instead when a key exists after all.
fn insert_or_upsert<C, R>(
    conn: &mut C,
    contract: &Contract,
    rows: &[&R],
    fresh: Fresh,
    verb: &str,
    insert: impl FnOnce(&mut C) -> diesel::QueryResult<()>,
) -> Result<(), StoreError>
where
    C: Upsert + diesel::Connection,
    R: ReadModelRow,
{
    use diesel::result::{DatabaseErrorKind, Error};
    if rows.is_empty() {
        return Ok(());
    }
    let context = || format!("{verb} new rows into {}", contract.name);
    if fresh == Fresh::Proven {
        return insert(conn).map_err(StoreError::query(context()));
    }
    match conn.transaction(insert) {
        Ok(()) => Ok(()),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            conn.upsert(contract, rows)
        }
        Err(source) => Err(StoreError::query(context())(source)),
    }
}

impl Upsert for PgConnection {
    /// One statement per 10,000 rows, each column bound as one array:
    /// `INSERT … SELECT * FROM unnest($1, …, $n) ON CONFLICT …` parses once and sends no
    /// per-row placeholders.
    ///
    /// Hand-built because it is faster than diesel's typed upsert
    /// (`insert_into(..).values(&rows).on_conflict(key).do_update()`, one bind per value):
    /// typed/unnest 0.46–0.60 in `bench --bin write_path` (200,000 rows, 5,000 per
    /// transaction, the three habits models, insert and update).
    fn upsert<R: ReadModelRow>(
        &mut self,
        contract: &Contract,
        rows: &[&R],
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

    /// `COPY … FROM STDIN (FORMAT binary)` through diesel's `copy_from`: 1.36–1.76 times
    /// the `unnest` upsert's rows/s into an emptied table (`bench --bin write_path`), ×1.29
    /// log events/s for `bench --e2e`'s full rebuild of every model. With
    /// [`Fresh::ByEventIdentity`] inside a savepoint, upserting instead when a key exists.
    fn insert_new<R: ReadModelRow>(
        &mut self,
        contract: &Contract,
        rows: &[&R],
        fresh: Fresh,
    ) -> Result<(), StoreError> {
        insert_or_upsert(self, contract, rows, fresh, "copying", |c| {
            R::copy_pg(c, rows).map(drop)
        })
    }
}

/// Rows per statement of the typed SQLite writes (`$write`: `upsert_sqlite` or
/// `insert_sqlite`), largest first: a write takes each size that fits the bind limit as
/// often as it can, the smaller ones for the rest. At most 256: inside the flush's
/// transaction SQLite keeps the prior content of every page a multi-row statement changes
/// (its statement journal, in memory under `temp_store = MEMORY`; in a file, a 10M-event
/// rebuild peaked no lower), and the rows of a big table land on different pages (with
/// 4,096 rows, 13 MiB at the peak of a 10M-event rebuild; 256 rows were as fast). Each
/// size has a static query id, but diesel 2.3.14 marks every `DoUpdate` unsafe to cache,
/// so the upserts are still prepared per execution (pinned by the bench's
/// `diesel_prepares_every_typed_upsert_anew`); the inserts are prepared once per size.
macro_rules! sqlite_write_sizes {
    ($conn:expr, $rows:expr, $max:expr, $write:ident, [$($n:literal),+]) => {{
        let mut rest = $rows;
        $(
            if $n <= $max || $n == 1 {
                while let Some((head, tail)) = rest.split_first_chunk::<$n>() {
                    R::$write::<$n>($conn, *head)?;
                    rest = tail;
                }
            }
        )+
        debug_assert!(rest.is_empty(), "the last size is 1");
    }};
}

/// The most rows one SQLite statement can bind every column of.
fn rows_within_bind_limit(conn: &mut SqliteConnection, contract: &Contract) -> usize {
    conn.max_binds() / contract.columns.len().max(1)
}

impl Upsert for SqliteConnection {
    /// diesel's typed `insert_into(table).values([&row; N]).on_conflict(key).do_update()`
    /// in statements of fixed sizes (see [`ReadModelRow::upsert_sqlite`]), sized to the bind
    /// limit. Against the hand-built multi-row `VALUES` it replaced, `bench --bin
    /// write_path` (200,000 rows, 5,000 per transaction) measured 0.96–1.08 per model and
    /// pass (0.77–1.35 with up to 4,096 rows per statement), within the run-to-run noise,
    /// and `bench --e2e` the whole job (see docs/PERFORMANCE.md).
    fn upsert<R: ReadModelRow>(
        &mut self,
        contract: &Contract,
        rows: &[&R],
    ) -> Result<(), StoreError> {
        let max = rows_within_bind_limit(self, contract);
        let write = |conn: &mut Self| -> diesel::QueryResult<()> {
            sqlite_write_sizes!(conn, rows, max, upsert_sqlite, [256, 64, 16, 4, 1]);
            Ok(())
        };
        write(self).map_err(StoreError::query(format!(
            "writing rows of {}",
            contract.name
        )))
    }

    /// SQLite has no COPY: diesel's typed `INSERT` without `ON CONFLICT`, which diesel
    /// prepares once per statement size and connection (the upsert is parsed again for
    /// every statement). At most 64 rows per statement: the cached 256-row statements of
    /// 19 tables held 3.5–5 MiB more at the peak of `bench --scale-child` (1M events: 84.0
    /// against 80.2–80.5 MiB; 10M: 100.6–101.3 against 96.4 MiB), and 64 rows were as
    /// fast (1M: 5.3–5.5 s; 10M: 74.7 s against 76.1–84.0 s; the upsert alone: 5.7–5.9
    /// and 78.9–81.9 s). With [`Fresh::ByEventIdentity`] inside a savepoint, upserting
    /// instead when a key exists.
    fn insert_new<R: ReadModelRow>(
        &mut self,
        contract: &Contract,
        rows: &[&R],
        fresh: Fresh,
    ) -> Result<(), StoreError> {
        insert_or_upsert(self, contract, rows, fresh, "inserting", |conn| {
            let max = rows_within_bind_limit(conn, contract);
            sqlite_write_sizes!(conn, rows, max, insert_sqlite, [64, 16, 4, 1]);
            Ok(())
        })
    }
}

/// Rows read per page by [`KeyOrder`].
const PAGE: i64 = 10_000;

/// Reads a model version's rows page by page, in key order (text keys compared bytewise
/// on both backends).
pub(crate) struct KeyOrder<'c, R: ReadModelRow> {
    contract: &'c Contract,
    version: i32,
    user: Option<Uuid>,
    last: Option<R::Key>,
    done: bool,
}

impl<'c, R: ReadModelRow> KeyOrder<'c, R> {
    /// Pages over the rows of `version` (of one user's rows with `user`).
    pub(crate) fn new(contract: &'c Contract, version: i32, user: Option<Uuid>) -> Self {
        Self {
            contract,
            version,
            user,
            last: None,
            done: false,
        }
    }

    /// The next page; empty at the end.
    pub(crate) fn next_page<C: Conn>(&mut self, conn: &mut C) -> Result<Vec<R>, StoreError> {
        if self.done {
            return Ok(Vec::new());
        }
        let contract = self.contract;
        let key = entity_key(contract);
        let order = order_by::<C::Db>(contract, &key);
        let mut stmt = Statement::<C::Db>::new(&format!(
            "SELECT {} FROM {} WHERE model_version = ",
            column_list(contract),
            contract.qualified_table()
        ))
        .bind(&self.version);
        if let Some(user) = &self.user {
            stmt = stmt.sql(" AND user_id = ").bind(user);
        }
        if let Some(last) = &self.last {
            // Keyset pagination on the row value of the key.
            stmt = stmt
                .sql(&format!(" AND ({order}) > ("))
                .bind_many(key.len(), |q| R::bind_key(last, q))
                .sql(")");
        }
        let stmt = stmt.sql(&format!(" ORDER BY {order} LIMIT ")).bind(&PAGE);
        let page: Vec<Loaded<R>> = conn.fetch(stmt).map_err(StoreError::query(format!(
            "reading the rows of {} version {}",
            contract.name, self.version
        )))?;
        self.done = (page.len() as i64) < PAGE;
        self.last = page.last().map(|row| row.0.key());
        Ok(page.into_iter().map(|l| l.0).collect())
    }
}

/// The key columns, text ones with the bytewise collation, comma separated.
fn order_by<DB: Db>(contract: &Contract, key: &[&str]) -> String {
    key.iter()
        .map(|name| {
            let text = contract
                .columns
                .iter()
                .any(|c| c.name == *name && c.sorts_as_text);
            let collation = if text { DB::BYTEWISE_COLLATION } else { "" };
            format!("{name}{collation}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
