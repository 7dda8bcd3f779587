//! One error enum per layer. Every message is one line that names what was wrong and where.

use crate::event::DecodeError;

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
    /// The URL is not one the runtime understands.
    #[error("unsupported database URL {0:?}: expected postgres://…, sqlite://PATH or a file path")]
    UnsupportedUrl(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The database has not been migrated.
    #[error(
        "database is not migrated ({pending} migration(s) pending): run `replay migrate` first"
    )]
    NotMigrated {
        /// How many migrations are pending.
        pending: usize,
    },
    /// Transactions that may still commit events did not end in time.
    #[error("transactions older than the log's head are still running after {waited}s (oldest xid {xmin}, waiting for {xmax}); events below the head may still commit, so the run did not start: retry, or end long-running transactions")]
    Unsettled {
        /// Seconds waited.
        waited: u64,
        /// Oldest running xid.
        xmin: i64,
        /// The xid horizon waited for.
        xmax: i64,
    },
    /// A read-model table does not have the shape its contract needs.
    #[error("table {table}: {problem}")]
    Schema {
        /// The qualified table.
        table: String,
        /// What is wrong and what to do.
        problem: String,
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
}

impl From<diesel::result::Error> for StoreError {
    fn from(source: diesel::result::Error) -> Self {
        StoreError::Query {
            context: "committing a transaction".to_owned(),
            source,
        }
    }
}

impl From<diesel::result::Error> for ReplayError {
    fn from(source: diesel::result::Error) -> Self {
        ReplayError::Store(source.into())
    }
}

impl StoreError {
    pub(crate) fn query(context: impl Into<String>) -> impl FnOnce(diesel::result::Error) -> Self {
        let context = context.into();
        move |source| StoreError::Query { context, source }
    }
}

/// Errors of a replay run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// No model of that name is registered.
    #[error("unknown model {name:?}; registered models: {known}")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The registered names, comma separated.
        known: String,
    },
    /// An event payload could not be decoded for a model that consumes it.
    #[error("model {model}: {source}")]
    Decode {
        /// The model being replayed.
        model: &'static str,
        /// The decode failure, naming the event id and type.
        #[source]
        source: DecodeError,
    },
    /// Events arrived out of global order: a bug or a corrupt log, never ignored.
    #[error(
        "model {model}: event {id} arrived after event {previous}; replay requires ascending ids"
    )]
    OutOfOrder {
        /// The model being replayed.
        model: &'static str,
        /// The offending id.
        id: i64,
        /// The id before it.
        previous: i64,
    },
    /// The plan is not valid for this model; the message says which replay is.
    #[error("cannot replay {model} that way: {reason}")]
    InvalidPlan {
        /// The model.
        model: &'static str,
        /// Why, and what to run instead.
        reason: String,
    },
    /// `--user` names a user with no event in the log.
    #[error("user {user} has no events in the log")]
    UnknownUser {
        /// The user asked for.
        user: uuid::Uuid,
    },
    /// `--resume` found nothing unfinished.
    #[error("nothing to resume for {model}: {reason}")]
    NothingToResume {
        /// The model.
        model: &'static str,
        /// Why.
        reason: String,
    },
    /// A by-user rebuild produced a row of another user.
    #[error("model {model}: rebuilding user {user} produced a row of another user (key {key}); this model cannot be rebuilt by user, use --full")]
    OtherUsersRow {
        /// The model.
        model: &'static str,
        /// The user being rebuilt.
        user: uuid::Uuid,
        /// The offending row's key.
        key: String,
    },
    /// Another run of the same model moved its checkpoint while this one ran.
    #[error("another run of {model} moved its checkpoint from {expected} to {found} while this run was applying events; this run stopped without writing its batch (run one replay per model at a time)")]
    ConcurrentRun {
        /// The model.
        model: String,
        /// The checkpoint this run started its batch from.
        expected: i64,
        /// The checkpoint found.
        found: i64,
    },
    /// A handler panicked: a bug in the model, never ignored.
    #[error("model {model}: the handler panicked on event {id} ({event_type}): {message}")]
    HandlerPanicked {
        /// The model.
        model: &'static str,
        /// The event's id.
        id: i64,
        /// The event's type.
        event_type: String,
        /// The panic message.
        message: String,
    },
    /// A version operation was refused.
    #[error("{0}")]
    Version(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Errors of `replay import`.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not a valid event; nothing was imported.
    #[error("{path}:{line}: {reason}; nothing was imported")]
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Storage failed; nothing was imported.
    #[error("{0}; nothing was imported")]
    Store(#[from] StoreError),
}

/// Errors of the registry.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RegistryError {
    /// The binary links no read model.
    #[error("no read model is registered in this binary: declare models with #[derive(ReadModel)] in a crate the binary links, and name that crate in `readmodel_runtime::replay_main!(your_crate)`")]
    Empty,
    /// Two models were registered under one name.
    #[error("read model name {name:?} is registered twice (tables {first} and {second}); model names must be unique")]
    DuplicateName {
        /// The name.
        name: &'static str,
        /// The first model's table.
        first: String,
        /// The second model's table.
        second: String,
    },
    /// Two models were declared on one table.
    #[error("read models {first:?} and {second:?} both use table {table}; each model needs its own table")]
    SharedTable {
        /// The table.
        table: String,
        /// The first model.
        first: &'static str,
        /// The second model.
        second: &'static str,
    },
}
