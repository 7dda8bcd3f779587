//! The replay layer's error.

use std::fmt;

use crate::event::DecodeError;
use crate::store::StoreError;

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
    /// A full rebuild of the version readers use was not swapped in: the live version
    /// moved while the rebuild ran (another process keeps it current).
    #[error("{model} v{version} was not replaced by its rebuild: its checkpoint moved from event {was} to {checkpoint} while the rebuild ran (another process keeps it current); readers keep the live rows. Stop that process, then run the rebuild again")]
    LiveMovedOn {
        /// The model.
        model: &'static str,
        /// The live version.
        version: i32,
        /// Its checkpoint when the rebuild ended.
        checkpoint: i64,
        /// Its checkpoint when the rebuild was planned.
        was: i64,
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
        reason: NoResume,
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
        model: &'static str,
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
    /// `--check-determinism` (or `verify`): a handler gave different rows for one event.
    #[error(transparent)]
    Nondeterministic(#[from] crate::determinism::Nondeterminism),
    /// Workers' partitions of the model are ahead of its own checkpoint: a run of the
    /// whole model from that checkpoint would apply their events to those rows twice.
    #[error("model {model}: workers' partitions have reached event {partitions} but the model's checkpoint is {checkpoint}; finish them with `replay worker` or `replay run --workers N`, or rebuild with `replay run --model {model} --full`")]
    WorkersAhead {
        /// The model.
        model: &'static str,
        /// The furthest partition checkpoint.
        partitions: i64,
        /// The model's own checkpoint.
        checkpoint: i64,
    },
    /// A worker's lease on a partition was claimed by another worker (it expired while
    /// this one paused): the flush was rolled back.
    #[error("model {model}: the lease on partition {partition} was lost to another worker (token {token} is no longer current); the flush was rolled back")]
    LeaseLost {
        /// The model.
        model: String,
        /// The partition.
        partition: u32,
        /// This worker's token.
        token: i64,
    },
    /// A partition's handler wrote a row of a user of another partition: the split result
    /// would differ from a single run.
    #[error("model {model}: partition {partition} of {of} wrote a row of user {user} (partition {found}), key {key}, while applying events up to {event}; this model's handlers write other users' rows, so it cannot be split: declare it rebuild = \"full\"")]
    ForeignPartitionRow {
        /// The model.
        model: &'static str,
        /// The partition being applied.
        partition: u32,
        /// Of how many.
        of: u32,
        /// The row's user.
        user: String,
        /// The row's partition.
        found: u32,
        /// The row's key.
        key: String,
        /// The last event applied before the row was written.
        event: i64,
    },
    /// `--workers` above 1 on SQLite.
    #[error("SQLite allows one writer at a time: --workers above 1 needs PostgreSQL")]
    WorkersNeedPostgres,
    /// The thread writing a pass's rows stopped (it panicked, or an earlier write failed
    /// and its error is reported instead).
    #[error("the thread writing the pass's rows stopped: {reason}")]
    WriterStopped {
        /// Why.
        reason: String,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why `--resume` has nothing to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoResume {
    /// The model version has never run.
    NeverRun,
    /// Its latest run succeeded.
    LastSucceeded {
        /// That run.
        run_id: i64,
    },
    /// The latest run's recorded plan cannot be read back.
    UnreadablePlan {
        /// That run.
        run_id: i64,
        /// The JSON error.
        error: String,
    },
}

impl fmt::Display for NoResume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoResume::NeverRun => f.write_str("it has no run yet"),
            NoResume::LastSucceeded { run_id } => write!(f, "its last run (#{run_id}) succeeded"),
            NoResume::UnreadablePlan { run_id, error } => {
                write!(f, "run #{run_id} has an unreadable plan ({error})")
            }
        }
    }
}
