//! Connections to the two backends, migrations, and the few statement shapes the runtime
//! needs, written once for both through [`Conn`].

mod postgres;
pub(crate) mod schema;
mod sqlite;
mod url;

use diesel::deserialize::QueryableByName;
use diesel::migration::MigrationSource;
use diesel::pg::{Pg, PgConnection};
use diesel::result::QueryResult;
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use crate::error::StoreError;
use crate::field::{Db, Field, Query};

pub use self::url::{redact, DatabaseUrl};

/// The runtime's own tables (event log and replay bookkeeping), per backend.
const RUNTIME_PG: EmbeddedMigrations = diesel_migrations::embed_migrations!("migrations/postgres");
const RUNTIME_SQLITE: EmbeddedMigrations =
    diesel_migrations::embed_migrations!("migrations/sqlite");

/// An application's read-model migrations, one set per backend (diesel_cli layout).
#[derive(Clone, Copy)]
pub struct Migrations {
    /// `migrations/postgres`, embedded with `embed_migrations!`.
    pub postgres: &'static EmbeddedMigrations,
    /// `migrations/sqlite`, embedded with `embed_migrations!`.
    pub sqlite: &'static EmbeddedMigrations,
}

/// Lets a `&'static EmbeddedMigrations` be passed where diesel takes a source by value.
struct Source(&'static EmbeddedMigrations);

impl<DB: diesel::backend::Backend> MigrationSource<DB> for Source {
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<DB>>>> {
        <EmbeddedMigrations as MigrationSource<DB>>::migrations(self.0)
    }
}

impl std::fmt::Debug for Migrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Migrations { .. }")
    }
}

/// An open database: SQLite (the embedded default) or PostgreSQL.
pub enum Store {
    /// SQLite, with the read-model database ATTACHed as `readmodels`.
    Sqlite(SqliteConnection),
    /// PostgreSQL, with read models in schema `readmodels`.
    Postgres(PgConnection),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.backend_name())
    }
}

/// Runs the same generic code on whichever connection the store holds.
macro_rules! with_conn {
    ($store:expr, |$conn:ident| $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($conn) => $body,
            $crate::store::Store::Postgres($conn) => $body,
        }
    };
}
pub(crate) use with_conn;

impl Store {
    /// Opens the database named by `url`. A SQLite file is created and migrated on first
    /// use; PostgreSQL must be migrated with [`Store::migrate`] (`replay migrate`).
    pub fn open(url: &DatabaseUrl, migrations: &Migrations) -> Result<Self, StoreError> {
        match url {
            DatabaseUrl::Sqlite { main, readmodels } => {
                let mut conn = sqlite::open(main, readmodels)?;
                apply(&mut conn, &RUNTIME_SQLITE, migrations.sqlite)?;
                Ok(Store::Sqlite(conn))
            }
            DatabaseUrl::Postgres(raw) => Ok(Store::Postgres(postgres::open(raw)?)),
        }
    }

    /// Applies pending migrations (runtime tables first, then the application's).
    pub fn migrate(&mut self, migrations: &Migrations) -> Result<usize, StoreError> {
        match self {
            Store::Sqlite(c) => apply(c, &RUNTIME_SQLITE, migrations.sqlite),
            Store::Postgres(c) => apply(c, &RUNTIME_PG, migrations.postgres),
        }
    }

    /// Fails with [`StoreError::NotMigrated`] unless every migration is applied.
    pub fn ensure_migrated(&mut self, migrations: &Migrations) -> Result<(), StoreError> {
        let pending = match self {
            Store::Sqlite(c) => pending(c, &RUNTIME_SQLITE, migrations.sqlite)?,
            Store::Postgres(c) => pending(c, &RUNTIME_PG, migrations.postgres)?,
        };
        match pending {
            0 => Ok(()),
            pending => Err(StoreError::NotMigrated { pending }),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// The highest `event_record.id`, 0 for an empty log.
    pub fn log_head(&mut self) -> Result<i64, StoreError> {
        with_conn!(self, |c| visible_head(c))
    }

    /// The number of events in the log.
    pub fn log_len(&mut self) -> Result<i64, StoreError> {
        with_conn!(self, |c| scalar_i64(
            c,
            "SELECT COUNT(*) AS value FROM event_record"
        ))
    }
}

fn apply<C>(
    conn: &mut C,
    runtime: &'static EmbeddedMigrations,
    app: &'static EmbeddedMigrations,
) -> Result<usize, StoreError>
where
    C: MigrationHarness<<C as Connection>::Backend> + Connection,
{
    let mut applied = 0;
    for source in [runtime, app] {
        applied += conn
            .run_pending_migrations(Source(source))
            .map_err(|e| StoreError::Migration(e.to_string()))?
            .len();
    }
    Ok(applied)
}

fn pending<C>(
    conn: &mut C,
    runtime: &'static EmbeddedMigrations,
    app: &'static EmbeddedMigrations,
) -> Result<usize, StoreError>
where
    C: MigrationHarness<<C as Connection>::Backend> + Connection,
{
    let mut count = 0;
    for source in [runtime, app] {
        count += conn
            .pending_migrations(Source(source))
            .map_err(|e| StoreError::Migration(e.to_string()))?
            .len();
    }
    Ok(count)
}

/// The operations the runtime needs from a connection, for both backends alike.
pub(crate) trait Conn:
    Connection + schema::Introspect + crate::replay::write::Upsert
{
    /// The backend.
    type Db: Db;
    /// Runs a statement, returning the affected row count.
    fn run(&mut self, stmt: Statement<Self::Db>) -> QueryResult<usize>;
    /// Runs a query, returning its rows.
    fn fetch<T: QueryableByName<Self::Db> + 'static>(
        &mut self,
        stmt: Statement<Self::Db>,
    ) -> QueryResult<Vec<T>>;
    /// The largest number of bind parameters one statement may carry.
    fn max_binds(&mut self) -> usize;
    /// The highest event id below which no event can still appear (see
    /// `postgres::settled_head`; SQLite has one writer at a time, so ids commit in order).
    fn settled_head(&mut self) -> Result<i64, StoreError>;
    /// Runs `append` (one transaction appending to the log) with bulk-load settings.
    fn bulk_append<T>(
        &mut self,
        append: impl FnOnce(&mut Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>;
}

impl Conn for PgConnection {
    type Db = Pg;
    fn run(&mut self, stmt: Statement<Pg>) -> QueryResult<usize> {
        stmt.query.execute(self)
    }
    fn fetch<T: QueryableByName<Pg> + 'static>(
        &mut self,
        stmt: Statement<Pg>,
    ) -> QueryResult<Vec<T>> {
        stmt.query.load(self)
    }
    fn max_binds(&mut self) -> usize {
        // The protocol's Bind message counts parameters in a 16-bit field.
        65_535
    }
    fn settled_head(&mut self) -> Result<i64, StoreError> {
        postgres::settled_head(self)
    }
    fn bulk_append<T>(
        &mut self,
        append: impl FnOnce(&mut Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        append(self)
    }
}

impl Conn for SqliteConnection {
    type Db = Sqlite;
    fn run(&mut self, stmt: Statement<Sqlite>) -> QueryResult<usize> {
        stmt.query.execute(self)
    }
    fn fetch<T: QueryableByName<Sqlite> + 'static>(
        &mut self,
        stmt: Statement<Sqlite>,
    ) -> QueryResult<Vec<T>> {
        stmt.query.load(self)
    }
    fn max_binds(&mut self) -> usize {
        sqlite::max_variable_number(self)
    }
    fn settled_head(&mut self) -> Result<i64, StoreError> {
        // A writer holds SQLite's write lock from its first insert to its commit, so a
        // higher id can never become visible before a lower one.
        visible_head(self)
    }
    fn bulk_append<T>(
        &mut self,
        append: impl FnOnce(&mut Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        sqlite::with_append_tuning(self, append)
    }
}

/// A SQL statement with placeholders numbered for its backend and values bound in order.
///
/// SQL text only ever comes from the runtime and the registry (table and column names);
/// every value from outside is bound.
pub(crate) struct Statement<DB: Db> {
    query: Query<DB>,
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

/// The highest committed `event_record.id` this connection can see, 0 for an empty log.
pub(crate) fn visible_head<C: Conn>(conn: &mut C) -> Result<i64, StoreError> {
    scalar_i64(
        conn,
        "SELECT COALESCE(MAX(id), 0) AS value FROM event_record",
    )
}

pub(crate) fn scalar_i64<C: Conn>(conn: &mut C, sql: &str) -> Result<i64, StoreError> {
    let rows: Vec<crate::ledger::Value<i64>> = conn
        .fetch(Statement::new(sql))
        .map_err(StoreError::query(sql.to_owned()))?;
    Ok(rows.first().map_or(0, |r| r.0))
}
