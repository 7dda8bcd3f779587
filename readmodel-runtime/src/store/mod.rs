//! The storage layer: connections to the two backends, migrations, URL parsing, and the
//! statements the layers above need, written once for both backends through one
//! connection trait: `statement` builds and binds SQL, `rows` reads and writes a model's
//! table from its contract and row codec, `schema` checks that table before a run writes
//! to it.
//!
//! Depends only on the value layer (`contract`,
//! [`field`](crate::field), [`rows`](crate::rows), [`event`](crate::event)).

mod conn;
mod connection;
mod error;
mod migrations;
mod postgres;
pub(crate) mod rows;
pub(crate) mod schema;
mod sqlite;
mod sqlite_files;
pub(crate) mod statement;
pub(crate) mod temp_files;
#[cfg(test)]
pub(crate) mod test_store;
mod url;
pub(crate) mod user_index;

pub(crate) use self::conn::Conn;
pub use self::connection::{MultiBackend, MultiField, MultiRawValue, MultiRow, Store};
pub use self::error::{MigrationStep, SchemaProblem, StoreError};
pub use self::migrations::Migrations;
use self::migrations::{apply, pending, RUNTIME_PG, RUNTIME_SQLITE};
pub use self::sqlite_files::SqliteFile;
pub(crate) use self::statement::{scalar_i64, transaction, visible_head, Statement, Value};
pub use self::url::{redact, DatabaseUrl};

/// What a command may do to the database it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Write, creating a missing SQLite database; pending migrations are applied to a
    /// SQLite database (PostgreSQL is migrated by `replay migrate`).
    Create,
    /// Write an existing database: a missing SQLite event log is an error naming its
    /// path (a deleted read-model file is recreated: that is the reset).
    Existing,
    /// Only read an existing database: nothing is created, migrated or written (a
    /// SQLite connection is `query_only`, and reads a file whose directory it cannot
    /// write as immutable; a PostgreSQL session is read-only), so a read-only copy can be
    /// inspected.
    ReadOnly,
}

/// What happened after an append committed: SQLite folds its write-ahead log back into
/// the file, PostgreSQL vacuums the log after a large append. The events are in the log
/// whatever happens here.
#[derive(Debug)]
pub enum Upkeep {
    /// Done, or nothing to do.
    Done,
    /// Skipped: a stop (SIGINT/SIGTERM) was asked for after the commit.
    Skipped,
    /// It failed (a full disk, a cancelled VACUUM): a warning, not the append's error.
    Failed(StoreError),
}

/// An append that committed.
#[derive(Debug)]
pub struct Appended {
    /// How many events it appended.
    pub count: usize,
    /// The work after the commit.
    pub upkeep: Upkeep,
}

fn transaction_error(context: &str, source: diesel::result::Error) -> StoreError {
    StoreError::Transaction {
        context: context.to_owned(),
        source,
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
        Self::open_for(url, migrations, Access::Create)
    }

    /// Opens the database named by `url` for `access` (see [`Access`]): only
    /// [`Access::Create`] creates a SQLite database, and [`Access::ReadOnly`] neither
    /// migrates nor writes.
    pub fn open_for(
        url: &DatabaseUrl,
        migrations: &Migrations,
        access: Access,
    ) -> Result<Self, StoreError> {
        match url {
            DatabaseUrl::Sqlite { main, readmodels } => {
                let mut conn = sqlite::open(main, readmodels, access)?;
                if access != Access::ReadOnly {
                    apply(&mut conn, &RUNTIME_SQLITE, migrations.sqlite)?;
                }
                Ok(Store::Sqlite(conn))
            }
            DatabaseUrl::Postgres(raw) => {
                let mut conn = postgres::open(raw)?;
                if access == Access::ReadOnly {
                    postgres::read_only(&mut conn)?;
                }
                Ok(Store::Postgres(conn))
            }
        }
    }

    /// A second connection that only reads the event log (for a pipelined pass: one
    /// thread reads while another writes); no migration is applied.
    pub(crate) fn open_log_reader(url: &DatabaseUrl) -> Result<Self, StoreError> {
        match url {
            DatabaseUrl::Sqlite { main, .. } => Ok(Store::Sqlite(sqlite::open_log_reader(main)?)),
            DatabaseUrl::Postgres(raw) => Ok(Store::Postgres(postgres::open(raw)?)),
        }
    }

    /// Another connection to the same database, for reading committed read-model rows
    /// alongside the main one (checksums computed in parallel); no migration is applied.
    pub(crate) fn open_row_reader(url: &DatabaseUrl) -> Result<Self, StoreError> {
        match url {
            DatabaseUrl::Sqlite { main, readmodels } => {
                Ok(Store::Sqlite(sqlite::open_row_reader(main, readmodels)?))
            }
            DatabaseUrl::Postgres(raw) => Ok(Store::Postgres(postgres::open(raw)?)),
        }
    }

    /// A connection reading a few committed rows at a time alongside the main one (a
    /// pass's loads of rows its caches dropped): as [`Store::open_row_reader`], with a
    /// 1 MiB page cache on SQLite (its lookups are scattered; 8 MiB cost a 10M-event
    /// rebuild as much peak memory).
    pub(crate) fn open_row_loader(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let mut store = Self::open_row_reader(url)?;
        if let Store::Sqlite(conn) = &mut store {
            use diesel::RunQueryDsl;
            diesel::sql_query("PRAGMA readmodels.cache_size = -1024")
                .execute(conn)
                .map_err(StoreError::query(
                    "setting the page cache of a row-loading connection",
                ))?;
        }
        Ok(store)
    }

    /// Begins a transaction that stays open across calls (a pass writes many batches of
    /// rows into it and commits them with the checkpoints); `context` names its purpose.
    pub(crate) fn begin(&mut self, context: &str) -> Result<(), StoreError> {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        with_conn!(&mut *self, |c| AnsiTransactionManager::begin_transaction(c))
            .map_err(|source| transaction_error(context, source))
    }

    /// Commits the transaction of [`Store::begin`].
    pub(crate) fn commit(&mut self, context: &str) -> Result<(), StoreError> {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        with_conn!(&mut *self, |c| AnsiTransactionManager::commit_transaction(
            c
        ))
        .map_err(|source| transaction_error(context, source))
    }

    /// Rolls back the transaction of [`Store::begin`].
    pub(crate) fn rollback(&mut self, context: &str) -> Result<(), StoreError> {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        with_conn!(
            &mut *self,
            |c| AnsiTransactionManager::rollback_transaction(c)
        )
        .map_err(|source| transaction_error(context, source))
    }

    /// Applies pending migrations (runtime tables first, then the application's).
    pub fn migrate(&mut self, migrations: &Migrations) -> Result<usize, StoreError> {
        match self {
            Store::Sqlite(c) => apply(c, &RUNTIME_SQLITE, migrations.sqlite),
            Store::Postgres(c) => apply(c, &RUNTIME_PG, migrations.postgres),
        }
    }

    /// Fails with [`StoreError::NotMigrated`] unless every migration is applied; reads
    /// the migrations' records without writing (a read-only store can be checked).
    pub fn ensure_migrated(&mut self, migrations: &Migrations) -> Result<(), StoreError> {
        let pending = match self {
            Store::Sqlite(c) => pending(
                c,
                &RUNTIME_SQLITE,
                migrations.sqlite,
                "SELECT COUNT(*) AS value FROM main.sqlite_master \
                 WHERE type = 'table' AND name = '__diesel_schema_migrations'",
            )?,
            Store::Postgres(c) => pending(
                c,
                &RUNTIME_PG,
                migrations.postgres,
                "SELECT COUNT(to_regclass('__diesel_schema_migrations')) AS value",
            )?,
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

    /// The number of events with ids from `first` to `last`.
    pub(crate) fn log_events_between(&mut self, first: i64, last: i64) -> Result<i64, StoreError> {
        with_conn!(self, |c| {
            let stmt = Statement::new("SELECT COUNT(*) AS value FROM event_record WHERE id >= ")
                .bind(&first)
                .sql(" AND id <= ")
                .bind(&last);
            let rows: Vec<Value<i64>> = c.fetch(stmt).map_err(StoreError::query(format!(
                "counting the events {first}..={last}"
            )))?;
            Ok(rows.first().map_or(0, |row| row.0))
        })
    }

    /// The number of events in the log.
    pub fn log_len(&mut self) -> Result<i64, StoreError> {
        with_conn!(self, |c| scalar_i64(
            c,
            "SELECT COUNT(*) AS value FROM event_record"
        ))
    }
}
