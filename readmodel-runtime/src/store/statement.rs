//! Statements built once for both backends: SQL text from the runtime and the registry,
//! every outside value bound; and the one-column results they read back.

use diesel::deserialize::QueryableByName;
use diesel::row::NamedRow;
use diesel::Connection;

use super::error::StoreError;
use super::Conn;
use crate::field::{Db, Field, Query};

/// A SQL statement with placeholders numbered for its backend and values bound in order.
///
/// SQL text only ever comes from the runtime and the registry (table and column names);
/// every value from outside is bound.
pub(crate) struct Statement<DB: Db> {
    pub(super) query: Query<DB>,
    binds: usize,
}

impl<DB: Db> Statement<DB> {
    pub(crate) fn new(sql: &str) -> Self {
        Self {
            query: diesel::sql_query(sql.to_owned()).into_boxed(),
            binds: 0,
        }
    }

    /// Appends SQL text.
    pub(crate) fn sql(mut self, sql: &str) -> Self {
        self.query = self.query.sql(sql);
        self
    }

    /// Appends a placeholder and binds `value` to it.
    pub(crate) fn bind<F: Field>(mut self, value: &F) -> Self {
        self.binds += 1;
        self.query = DB::bind(self.query.sql(DB::placeholder(self.binds)), value);
        self
    }

    /// Appends a placeholder for a JSON value (`JSONB` on PostgreSQL) and binds its text.
    pub(crate) fn bind_json(mut self, json: &String) -> Self {
        self.binds += 1;
        self.query = DB::bind(self.query.sql(DB::json_placeholder(self.binds)), json);
        self
    }

    /// Appends one `column = placeholder` per name, joined by `AND`, and lets `bind` bind
    /// exactly that many values in order.
    pub(crate) fn bind_equal(
        mut self,
        columns: &[&str],
        bind: impl FnOnce(Query<DB>) -> Query<DB>,
    ) -> Self {
        let text: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = {}", DB::placeholder(self.binds + i + 1)))
            .collect();
        self.binds += columns.len();
        self.query = bind(self.query.sql(text.join(" AND ")));
        self
    }

    /// Appends `n` comma-separated placeholders and lets `bind` bind exactly `n` values.
    pub(crate) fn bind_many(mut self, n: usize, bind: impl FnOnce(Query<DB>) -> Query<DB>) -> Self {
        let placeholders: Vec<String> = (1..=n).map(|i| DB::placeholder(self.binds + i)).collect();
        self.binds += n;
        self.query = bind(self.query.sql(placeholders.join(", ")));
        self
    }
}

/// A one-column result named `value`.
pub(crate) struct Value<T>(pub(crate) T);

impl<DB: Db, T: Field> QueryableByName<DB> for Value<T> {
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        DB::read(row, "value").map(Value)
    }
}

/// The first `value` of a query returning one `BIGINT` column, 0 when it returns no row.
pub(crate) fn scalar_i64<C: Conn>(conn: &mut C, sql: &str) -> Result<i64, StoreError> {
    let rows: Vec<Value<i64>> = conn
        .fetch(Statement::new(sql))
        .map_err(StoreError::query(sql.to_owned()))?;
    Ok(rows.first().map_or(0, |r| r.0))
}

/// The first `value` of a query returning one text column, empty when it returns no row.
pub(crate) fn scalar_text<C: Conn>(conn: &mut C, sql: &str) -> Result<String, StoreError> {
    let rows: Vec<Value<String>> = conn
        .fetch(Statement::new(sql))
        .map_err(StoreError::query(sql.to_owned()))?;
    Ok(rows.into_iter().next().map(|r| r.0).unwrap_or_default())
}

/// The highest committed `event_record.id` this connection can see, 0 for an empty log.
pub(crate) fn visible_head<C: Conn>(conn: &mut C) -> Result<i64, StoreError> {
    scalar_i64(
        conn,
        "SELECT COALESCE(MAX(id), 0) AS value FROM event_record",
    )
}

/// Runs `body` in one transaction. A failure to begin or commit is reported with
/// `context` (what the transaction was for); errors of `body` pass through unchanged.
pub(crate) fn transaction<C, T, E>(
    conn: &mut C,
    context: impl FnOnce() -> String,
    body: impl FnOnce(&mut C) -> Result<T, E>,
) -> Result<T, E>
where
    C: Connection,
    E: From<StoreError>,
{
    conn.transaction::<T, Failed<E>, _>(|c| body(c).map_err(Failed::Body))
        .map_err(|failed| match failed {
            Failed::Body(error) => error,
            Failed::Driver(source) => StoreError::Transaction {
                context: context(),
                source,
            }
            .into(),
        })
}

/// Keeps the body's own errors apart from the driver's begin/commit/rollback errors, which
/// diesel converts with `From`.
enum Failed<E> {
    Body(E),
    Driver(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for Failed<E> {
    fn from(source: diesel::result::Error) -> Self {
        Failed::Driver(source)
    }
}
