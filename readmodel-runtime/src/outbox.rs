//! Appending events from the application: typed events into `event_record`, inside the
//! application's own transaction (an outbox: the domain change and the events that
//! describe it commit together, or neither does), returning the ids the log gave them.
//!
//! ```no_run
//! # use chrono::{DateTime, Utc};
//! # use diesel::Connection;
//! # use readmodel_runtime::{DomainEvent, Store};
//! # use readmodel_runtime::outbox::{self, OutboxError, OutboxEvent};
//! # #[derive(serde::Serialize, serde::Deserialize, DomainEvent)]
//! # #[event(type = "habits.checked_in")]
//! # struct CheckedIn { habit_id: uuid::Uuid }
//! # fn save_check_in(_: &mut Store) -> diesel::QueryResult<()> { Ok(()) }
//! # fn example(store: &mut Store, habit: uuid::Uuid, user: uuid::Uuid, version: i64, at: DateTime<Utc>) -> Result<(), OutboxError> {
//! let ids: Vec<i64> = store.transaction(|conn| {
//!     save_check_in(conn)?; // the application's own write
//!     let event = OutboxEvent::new(habit, version, user, at, &CheckedIn { habit_id: habit })?;
//!     outbox::append(conn, &[event])
//! })?;
//! // Read-your-writes: `Model::wait_until_applied(store, ids[0], timeout)`.
//! # Ok(()) }
//! ```
//!
//! Each event is checked as `replay import` checks a line, before anything is written: its
//! envelope, and its payload decoded by every model of the binary that consumes its type
//! (and, when it is made, by its own type). On PostgreSQL the ids are gap-safe as every
//! append is: the log's id default gives the writing transaction its transaction id
//! before the id, so a replay never reads past an id a transaction in flight may still
//! commit.

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use serde::Serialize;
use uuid::Uuid;

use crate::event::{DomainEvent, PayloadError};
use crate::registry::{Registry, RegistryError};
use crate::source::{self, NewEvent};
use crate::store::{with_conn, Store, StoreError};

/// An event the application appends: an envelope and a typed payload, whose
/// `event_type` and `schema_version` are its type's ([`DomainEvent`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent(NewEvent);

impl OutboxEvent {
    /// Event number `event_version` (from 1) of stream `stream_id`, owned by `user_id`,
    /// that happened at `occurred_at`, with `payload`. Fails when the payload does not
    /// serialize to JSON (a map with keys that are not strings), or does not decode back
    /// as `E`.
    pub fn new<E: DomainEvent + Serialize>(
        stream_id: Uuid,
        event_version: i64,
        user_id: Uuid,
        occurred_at: DateTime<Utc>,
        payload: &E,
    ) -> Result<Self, OutboxError> {
        let payload = serde_json::to_value(payload).map_err(|source| OutboxError::Serialize {
            event_type: E::EVENT_TYPE,
            source,
        })?;
        // A payload whose serialization its own type cannot read back (a field skipped
        // when serializing, renamed one way only) would stop every replay of it.
        if let Err(reason) = E::decode(E::SCHEMA_VERSION, &payload.to_string()) {
            return Err(OutboxError::NotReadBack {
                event_type: E::EVENT_TYPE,
                reason,
            });
        }
        Ok(OutboxEvent(NewEvent {
            stream_id,
            event_version,
            event_type: E::EVENT_TYPE.to_owned(),
            schema_version: E::SCHEMA_VERSION,
            user_id,
            occurred_at,
            recorded_at: None,
            payload,
        }))
    }

    /// The event as it will be stored (`recorded_at`: the append's time).
    pub fn as_new_event(&self) -> &NewEvent {
        &self.0
    }
}

/// Why an append failed; nothing was appended.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// A payload does not serialize to JSON.
    #[error("a {event_type} payload does not serialize to JSON: {source}")]
    Serialize {
        /// The event's type.
        event_type: &'static str,
        /// serde_json's reason.
        #[source]
        source: serde_json::Error,
    },
    /// A payload, serialized, does not decode as its own type.
    #[error("a {event_type} payload, serialized, does not decode as {event_type}: {reason}")]
    NotReadBack {
        /// The event's type.
        event_type: &'static str,
        /// Why it does not decode.
        reason: PayloadError,
    },
    /// An event's `event_version` is below 1.
    #[error("event {index} of the append ({event_type}): event_version must be 1 or more, got {event_version}; nothing was appended")]
    EventVersion {
        /// Its position in the append, from 0.
        index: usize,
        /// Its type.
        event_type: String,
        /// The version given.
        event_version: i64,
    },
    /// An event does not decode as its type, or as a model of this binary reads that
    /// type: every strict replay of the model would stop on it.
    #[error("event {index} of the append ({event_type}, schema_version {schema_version}) does not decode: {reason}; nothing was appended")]
    Undecodable {
        /// Its position in the append, from 0.
        index: usize,
        /// Its type.
        event_type: String,
        /// Its payload's schema version.
        schema_version: i32,
        /// Why it does not decode.
        reason: PayloadError,
    },
    /// The models of this binary could not be collected.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Writing to the log failed.
    #[error("{0}; nothing was appended")]
    Store(#[from] StoreError),
    /// A statement of the transaction failed (the application's own, or its commit).
    #[error("the transaction failed: {0}")]
    Transaction(#[from] diesel::result::Error),
}

/// A connection events can be appended on: a [`Store`], PostgreSQL, or SQLite (for a
/// transaction opened on the backend's own connection, such as SQLite's
/// `immediate_transaction`).
pub trait AppendConnection: diesel::Connection + sealed::Sealed {
    #[doc(hidden)]
    fn append_returning_ids(
        &mut self,
        events: &[NewEvent],
        recorded_at: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for diesel::pg::PgConnection {}
    impl Sealed for diesel::sqlite::SqliteConnection {}
    impl Sealed for crate::store::Store {}
}

macro_rules! append_connection {
    ($conn:ty) => {
        impl AppendConnection for $conn {
            fn append_returning_ids(
                &mut self,
                events: &[NewEvent],
                recorded_at: DateTime<Utc>,
            ) -> Result<Vec<i64>, StoreError> {
                source::append_returning_ids(self, events, recorded_at)
            }
        }
    };
}

append_connection!(PgConnection);
append_connection!(SqliteConnection);

impl AppendConnection for Store {
    fn append_returning_ids(
        &mut self,
        events: &[NewEvent],
        recorded_at: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        with_conn!(self, |c| source::append_returning_ids(
            c,
            events,
            recorded_at
        ))
    }
}

/// Appends `events` to the log in order and returns the ids they were given, in the same
/// order. Call it inside the application's transaction (`conn.transaction(|conn| ..)`),
/// so that the events commit with the application's own writes, or not at all; outside
/// one, the events commit together in a transaction of their own.
///
/// Every event is checked before anything is written (see the module documentation);
/// the first that fails refuses the append, naming its position. After the transaction
/// commits, a model's `wait_until_applied(conn, id, timeout)` waits for an id returned
/// here (a replay must be running: `replay follow`, `worker`, or `run`).
pub fn append<C: AppendConnection>(
    conn: &mut C,
    events: &[OutboxEvent],
) -> Result<Vec<i64>, OutboxError> {
    let registry = Registry::global()?;
    for (index, OutboxEvent(event)) in events.iter().enumerate() {
        check(registry, index, event)?;
    }
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let events: Vec<NewEvent> = events.iter().map(|e| e.0.clone()).collect();
    let now = Utc::now();
    // A savepoint inside the application's transaction, or a transaction of its own.
    conn.transaction(|conn| Ok(conn.append_returning_ids(&events, now)?))
}

/// What `replay import` checks of a line: the envelope, and that the payload decodes
/// for every model consuming its type.
fn check(registry: &Registry, index: usize, event: &NewEvent) -> Result<(), OutboxError> {
    if event.event_version < 1 {
        return Err(OutboxError::EventVersion {
            index,
            event_type: event.event_type.clone(),
            event_version: event.event_version,
        });
    }
    match registry.decodes(&event.as_stored(0)) {
        Some(Err(error)) => Err(OutboxError::Undecodable {
            index,
            event_type: error.event_type,
            schema_version: error.schema_version,
            reason: error.reason,
        }),
        Some(Ok(())) | None => Ok(()),
    }
}
