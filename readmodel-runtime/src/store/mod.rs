//! The storage layer: connections to the two backends, migrations, URL parsing, and the
//! statements the layers above need, written once for both backends through one
//! connection trait: `statement` builds and binds SQL, `rows` reads and writes a model's
//! table from its contract and row codec, `schema` checks that table before a run writes
//! to it.
//!
//! Depends only on the value layer ([`contract`](crate::contract),
//! [`field`](crate::field), [`rows`](crate::rows), [`event`](crate::event)).

mod conn;
mod error;
mod migrations;
mod postgres;
pub(crate) mod rows;
pub(crate) mod schema;
mod sqlite;
pub(crate) mod statement;
mod url;

use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;

pub(crate) use self::conn::Conn;
pub use self::error::{MigrationStep, SchemaProblem, StoreError};
pub use self::migrations::Migrations;
use self::migrations::{apply, pending, RUNTIME_PG, RUNTIME_SQLITE};
pub(crate) use self::statement::{scalar_i64, transaction, visible_head, Statement, Value};
pub use self::url::{redact, DatabaseUrl};

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

    /// A second connection that only reads the event log (for a pipelined pass: one
    /// thread reads while another writes); no migration is applied.
    pub(crate) fn open_log_reader(url: &DatabaseUrl) -> Result<Self, StoreError> {
        match url {
            DatabaseUrl::Sqlite { main, .. } => Ok(Store::Sqlite(sqlite::open_log_reader(main)?)),
            DatabaseUrl::Postgres(raw) => Ok(Store::Postgres(postgres::open(raw)?)),
        }
    }

    /// Runs `body` in one transaction on this store, so that a body working through the
    /// store (many models' rows and checkpoints) commits or rolls back as one. A failure
    /// to begin or commit is reported with `context`.
    pub(crate) fn atomically<T, E: From<StoreError>>(
        &mut self,
        context: impl Fn() -> String,
        body: impl FnOnce(&mut Self) -> Result<T, E>,
    ) -> Result<T, E> {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        let driver = |source| StoreError::Transaction {
            context: context(),
            source,
        };
        with_conn!(&mut *self, |c| AnsiTransactionManager::begin_transaction(c)).map_err(driver)?;
        match body(self) {
            Ok(value) => {
                with_conn!(&mut *self, |c| AnsiTransactionManager::commit_transaction(
                    c
                ))
                .map_err(driver)?;
                Ok(value)
            }
            Err(error) => {
                // The body's error is the one to report; a failed rollback leaves the
                // connection unusable, which the next statement reports.
                let _ = with_conn!(
                    &mut *self,
                    |c| AnsiTransactionManager::rollback_transaction(c)
                );
                Err(error)
            }
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
