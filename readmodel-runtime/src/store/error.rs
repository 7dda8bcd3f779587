//! The storage layer's error: connecting, migrating, querying.

use std::fmt;

/// Errors of the storage layer: connecting, migrating, querying.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or reached.
    #[error("cannot connect to {target}: {reason}")]
    Connect {
        /// The database URL, password removed.
        target: String,
        /// The driver's message, password removed.
        reason: String,
    },
    /// One of a SQLite database's two files cannot be used: it is missing, not a
    /// database, corrupt, or unreadable.
    #[error("{file} {path}: {reason}")]
    SqliteFile {
        /// Which file.
        file: super::SqliteFile,
        /// Its path.
        path: String,
        /// What is wrong, and what to do about it.
        reason: String,
    },
    /// The URL is not one the runtime understands.
    #[error("unsupported database URL {0:?}: expected postgres://…, libpq keyword/value pairs (host=… dbname=…), sqlite://PATH or a file path")]
    UnsupportedUrl(String),
    /// Applying or listing migrations failed.
    #[error("migration failed: {source}")]
    Migration {
        /// What the runtime was doing with the migrations.
        step: MigrationStep,
        /// diesel's migration error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database has not been migrated.
    #[error(
        "database is not migrated ({pending} migration(s) pending): run `replay migrate` first"
    )]
    NotMigrated {
        /// How many migrations are pending.
        pending: usize,
    },
    /// Transactions that took event ids up to the head did not end in time.
    #[error("{transactions} transaction(s) that took event ids up to {head} are still open after {waited}s (the oldest: backend pid {oldest_pid}, open {oldest_seconds}s); events up to {head} may still commit, so the log is not read up to it yet: commit or end those transactions, or raise READMODEL_SETTLE_TIMEOUT_SECS")]
    Unsettled {
        /// Seconds waited.
        waited: u64,
        /// The log's head waited for (the sequence's last id).
        head: i64,
        /// Transactions still holding ids up to it.
        transactions: usize,
        /// The oldest one's backend.
        oldest_pid: i32,
        /// How long it has been open, in seconds (0 if not visible to this role).
        oldest_seconds: i64,
    },
    /// An environment setting of the runtime has a value it cannot use.
    #[error("{name}={value:?} is not {expected}")]
    BadSetting {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A read-model table does not have the shape its contract needs.
    #[error("table {table}: {problem}")]
    Schema {
        /// The qualified table.
        table: String,
        /// What is wrong.
        problem: SchemaProblem,
    },
    /// A statement failed.
    #[error("{context}: {source}")]
    Query {
        /// What the runtime was doing.
        context: String,
        /// The driver's error.
        #[source]
        source: diesel::result::Error,
    },
    /// Beginning or committing a transaction failed.
    #[error("{context}: cannot begin or commit the transaction: {source}")]
    Transaction {
        /// What the transaction was for.
        context: String,
        /// The driver's error.
        #[source]
        source: diesel::result::Error,
    },
}

impl StoreError {
    /// Wraps a driver error with what the runtime was doing when it failed.
    pub(crate) fn query(context: impl Into<String>) -> impl FnOnce(diesel::result::Error) -> Self {
        let context = context.into();
        move |source| StoreError::Query { context, source }
    }
}

/// What the runtime was doing with migrations when one failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationStep {
    /// Applying pending migrations.
    Apply,
    /// Listing pending migrations.
    ListPending,
}

impl fmt::Display for MigrationStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MigrationStep::Apply => "applying migrations",
            MigrationStep::ListPending => "listing pending migrations",
        })
    }
}

/// Why a read-model table cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaProblem {
    /// The table does not exist.
    Missing {
        /// The model the table is for.
        model: &'static str,
    },
    /// No unique index covers exactly the idempotency key.
    NoKeyIndex {
        /// The idempotency key's columns.
        key: Vec<String>,
    },
}

impl fmt::Display for SchemaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaProblem::Missing { model } => write!(
                f,
                "it does not exist; run `replay migrate`, and check that a migration creates it for model {model}"
            ),
            SchemaProblem::NoKeyIndex { key } => {
                let key = key.join(", ");
                write!(
                    f,
                    "no unique index on the idempotency key ({key}), so upserts cannot be idempotent; nothing was written; add `CREATE UNIQUE INDEX … ({key})` to its migration"
                )
            }
        }
    }
}
