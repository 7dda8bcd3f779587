//! Events as the runtime reads them from `event_record`, and as handlers see them.

use chrono::{DateTime, Utc};
use diesel::deserialize::{self, QueryableByName};
use diesel::row::NamedRow;
use uuid::Uuid;

use crate::field::Db;

/// A domain event payload type: the Rust side of one `event_type`.
///
/// Usually derived: `#[derive(DomainEvent)]` with `#[event(type = "habits.checked_in")]`
/// (the struct also derives serde's `Deserialize`, and `Serialize` to be appended with
/// [`outbox`](crate::outbox)).
///
/// # Schema versions and upcasting
///
/// A stored event keeps the payload shape it was written with, and its
/// `schema_version`; the struct is the newest shape. When the shape changes, bump the
/// version and name a function that turns older payloads into the newest shape:
/// `#[event(type = "…", schema_version = N, upcast = path::to::function)]` (the version
/// defaults to 1, `upcast` to none), where the function is
/// `fn(i32, serde_json::Value) -> Result<serde_json::Value, String>`, so the crate
/// depends on `serde_json`. Decoding a payload of version `v`:
///
/// * `v` below `N`: `upcast(v, payload)` is called once with the payload as JSON, and its
///   result is deserialized; its `Err(message)` is [`PayloadError::Upcast`]. Without
///   `upcast`, the payload is deserialized as it is;
/// * `v` = `N`: deserialized as it is;
/// * `v` below 1 or above `N`: [`PayloadError::UnknownSchemaVersion`].
///
/// A payload that does not decode stops a strict replay at that event, or is parked (see
/// the README's Bad events); `replay import` and [`outbox::append`](crate::outbox::append)
/// refuse it before it reaches the log. For example, version 1 called `amount_cents`
/// `cents`:
///
/// ```
/// use readmodel_runtime::{DomainEvent, PayloadError};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
/// #[event(type = "finance.expense_recorded", schema_version = 2, upcast = upcast_expense)]
/// struct ExpenseRecorded {
///     category: String,
///     amount_cents: i64,
/// }
///
/// fn upcast_expense(
///     schema_version: i32,
///     mut payload: serde_json::Value,
/// ) -> Result<serde_json::Value, String> {
///     if schema_version == 1 {
///         let fields = payload.as_object_mut().ok_or("not a JSON object")?;
///         let cents = fields.remove("cents").ok_or("a version 1 payload has `cents`")?;
///         fields.insert("amount_cents".to_owned(), cents);
///     }
///     Ok(payload)
/// }
///
/// let old = ExpenseRecorded::decode(1, r#"{"category":"food","cents":1250}"#)?;
/// let new = ExpenseRecorded::decode(2, r#"{"category":"food","amount_cents":1250}"#)?;
/// assert_eq!(old, new);
/// assert_eq!(
///     ExpenseRecorded::decode(1, r#"{"category":"food"}"#),
///     Err(PayloadError::Upcast("a version 1 payload has `cents`".to_owned()))
/// );
/// assert_eq!(
///     ExpenseRecorded::decode(3, "{}"),
///     Err(PayloadError::UnknownSchemaVersion { found: 3, latest: 2 })
/// );
/// # Ok::<(), PayloadError>(())
/// ```
pub trait DomainEvent: Sized {
    /// The `event_type` string in `event_record`.
    const EVENT_TYPE: &'static str;
    /// The newest payload schema version this type reads (older ones are upcast).
    const SCHEMA_VERSION: i32;
    /// A digest of the declaration (fields, types, `#[event(..)]` and serde attributes),
    /// part of the fingerprint of every model consuming it (see
    /// [`Fingerprint`](crate::Fingerprint)). The derive computes it; a hand-written
    /// implementation must change it whenever decoding changes.
    const FINGERPRINT: &'static str;
    /// Decodes a stored payload of the given schema version.
    fn decode(schema_version: i32, payload: &str) -> Result<Self, PayloadError>;
}

/// An event type a `#[derive(DomainEvent)]` declares, collected at start-up (`inventory`)
/// so that `replay import` can refuse types no code of the binary declares. Generated
/// code submits it; not public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct EventDeclaration {
    /// The `event_type` string.
    pub event_type: &'static str,
}

inventory::collect!(EventDeclaration);

/// The event types every `#[derive(DomainEvent)]` linked into the binary declares.
pub fn declared_event_types() -> impl Iterator<Item = &'static str> {
    inventory::iter::<EventDeclaration>
        .into_iter()
        .map(|d| d.event_type)
}

/// One row of `event_record`, payload still undecoded.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Global position; replay order.
    pub id: i64,
    /// The entity stream the event belongs to.
    pub stream_id: Uuid,
    /// Version within its stream, from 1.
    pub event_version: i64,
    /// E.g. `habits.checked_in`.
    pub event_type: String,
    /// Payload schema version.
    pub schema_version: i32,
    /// Owner of the event.
    pub user_id: Uuid,
    /// Domain time: handlers use this, never the wall clock.
    pub occurred_at: DateTime<Utc>,
    /// When the event was stored.
    pub recorded_at: DateTime<Utc>,
    /// The JSON body.
    pub payload: String,
}

impl<DB: Db> QueryableByName<DB> for StoredEvent {
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self> {
        Ok(Self {
            id: DB::read(row, "id")?,
            stream_id: DB::read(row, "stream_id")?,
            event_version: DB::read(row, "event_version")?,
            event_type: DB::read(row, "event_type")?,
            schema_version: DB::read(row, "schema_version")?,
            user_id: DB::read(row, "user_id")?,
            occurred_at: DB::read(row, "occurred_at")?,
            recorded_at: DB::read(row, "recorded_at")?,
            payload: DB::read(row, "payload")?,
        })
    }
}

/// Why a stored event could not be handed to a handler.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {id} ({event_type}, schema_version {schema_version}): {reason}")]
pub struct DecodeError {
    /// The event's id.
    pub id: i64,
    /// The event's type.
    pub event_type: String,
    /// The payload's schema version.
    pub schema_version: i32,
    /// What was wrong with the payload.
    #[source]
    pub reason: PayloadError,
}

/// Why a payload could not be decoded as its event type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The stored schema version is not one this build reads.
    #[error("unknown schema_version {found} (this build reads 1..={latest})")]
    UnknownSchemaVersion {
        /// The stored version.
        found: i32,
        /// The newest version this build reads.
        latest: i32,
    },
    /// An older payload, to be upcast, is not JSON.
    #[error("payload is not JSON: {0}")]
    NotJson(String),
    /// The upcast function refused the payload.
    #[error("{0}")]
    Upcast(String),
    /// The payload does not have the event type's shape.
    #[error("payload does not match: {0}")]
    Mismatch(String),
}

impl StoredEvent {
    /// Decodes the payload as `E`, keeping the envelope.
    pub fn decode<E: DomainEvent>(&self) -> Result<Event<E>, DecodeError> {
        let payload =
            E::decode(self.schema_version, &self.payload).map_err(|reason| DecodeError {
                id: self.id,
                event_type: self.event_type.clone(),
                schema_version: self.schema_version,
                reason,
            })?;
        Ok(Event {
            id: self.id,
            stream_id: self.stream_id,
            event_version: self.event_version,
            schema_version: self.schema_version,
            user_id: self.user_id,
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
            payload,
        })
    }
}

/// A decoded event as a handler receives it: the envelope plus the typed payload.
///
/// Derefs to the payload, so `event.habit_id` reads a payload field while `event.id`
/// and `event.occurred_at` read the envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<E> {
    /// Global position in `event_record`.
    pub id: i64,
    /// The entity stream.
    pub stream_id: Uuid,
    /// Version within the stream.
    pub event_version: i64,
    /// Schema version the payload was stored with (before upcasting).
    pub schema_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// Domain time.
    pub occurred_at: DateTime<Utc>,
    /// Storage time.
    pub recorded_at: DateTime<Utc>,
    /// The typed payload.
    pub payload: E,
}

impl<E> std::ops::Deref for Event<E> {
    type Target = E;
    fn deref(&self) -> &E {
        &self.payload
    }
}

/// Turns a payload of an older schema version (the first argument) into the newest
/// version's JSON shape.
pub type Upcast = fn(i32, serde_json::Value) -> Result<serde_json::Value, String>;

/// Decodes a payload that is at `schema_version` 1..=`latest`, upcasting older versions.
///
/// Used by `#[derive(DomainEvent)]`; `upcast` turns a payload of an older version into
/// the newest version's JSON shape.
pub fn decode_versioned<E: serde::de::DeserializeOwned>(
    schema_version: i32,
    latest: i32,
    payload: &str,
    upcast: Option<Upcast>,
) -> Result<E, PayloadError> {
    if schema_version < 1 || schema_version > latest {
        return Err(PayloadError::UnknownSchemaVersion {
            found: schema_version,
            latest,
        });
    }
    match upcast {
        Some(upcast) if schema_version < latest => {
            let value: serde_json::Value =
                serde_json::from_str(payload).map_err(|e| PayloadError::NotJson(e.to_string()))?;
            let value = upcast(schema_version, value).map_err(PayloadError::Upcast)?;
            E::deserialize(&value)
                .map_err(|_| mismatch(serde_path_to_error::deserialize::<_, E>(&value).err()))
        }
        _ => serde_json::from_str(payload).map_err(|e| {
            let mut json = serde_json::Deserializer::from_str(payload);
            match serde_path_to_error::deserialize::<_, E>(&mut json) {
                Err(traced) => mismatch(Some(traced)),
                Ok(_) => PayloadError::Mismatch(e.to_string()),
            }
        }),
    }
}

/// The payload's mismatch, naming the field (`habit.day`, `items[2]`) rather than a
/// column of the payload's text. Decoding again to trace the path only happens on
/// failure, so decoding at replay speed pays nothing for it.
fn mismatch(traced: Option<serde_path_to_error::Error<serde_json::Error>>) -> PayloadError {
    let Some(traced) = traced else {
        return PayloadError::Mismatch("it does not decode".to_owned());
    };
    let inner = traced.inner();
    let text = inner.to_string();
    let position = format!(" at line {} column {}", inner.line(), inner.column());
    let reason = text.strip_suffix(&position).unwrap_or(&text);
    let path = traced.path().to_string();
    PayloadError::Mismatch(if path == "." || path.is_empty() {
        reason.to_owned()
    } else {
        format!("field `{path}`: {reason}")
    })
}
