//! Replaying a model in memory, without a database: for unit tests of handlers with
//! hand-written events and exact expected rows.
//!
//! The same generated dispatch and the same [`Rows`](crate::rows::Rows) semantics as a real
//! replay; only the storage is a `BTreeMap` keyed like the table. Every event is applied
//! twice ([`crate::determinism`]), so a handler that does not depend only on the event
//! and the rows fails the test that feeds it.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::determinism::apply_twice;
use crate::event::{DecodeError, DomainEvent, StoredEvent};
use crate::rows::{BatchState, LoadFailed, Projection, ReadModelRow};

/// A model's rows held in memory, fed event by event.
pub struct InMemory<P: Projection> {
    rows: BTreeMap<<P::Row as ReadModelRow>::Key, P::Row>,
    last_id: i64,
}

impl<P: Projection> Default for InMemory<P> {
    fn default() -> Self {
        Self {
            rows: BTreeMap::new(),
            last_id: 0,
        }
    }
}

impl<P: Projection> std::fmt::Debug for InMemory<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemory")
            .field("model", &P::CONTRACT.name)
            .field("rows", &self.rows)
            .finish()
    }
}

impl<P: Projection> InMemory<P> {
    /// No rows yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one event, as a replay would (events of types the model does not consume
    /// are ignored). Ids must ascend, as in the log.
    ///
    /// # Panics
    /// If `event.id` does not follow the previous event's id: a test bug. If the handler
    /// is not deterministic: applied twice to the same rows it gave different rows (the
    /// message names the model, the event and the first differing column).
    pub fn apply(&mut self, event: &StoredEvent) -> Result<(), DecodeError> {
        assert!(
            event.id > self.last_id,
            "event ids must ascend: {} after {}",
            event.id,
            self.last_id
        );
        self.last_id = event.id;
        let mut state = BatchState::<P::Row>::default();
        {
            let rows = &self.rows;
            let mut load =
                |key: &<P::Row as ReadModelRow>::Key| -> Result<Option<Arc<P::Row>>, LoadFailed> {
                    Ok(rows.get(key).cloned().map(Arc::new))
                };
            match apply_twice::<P>(event, &mut state, &mut load) {
                Ok(decoded) => decoded?,
                Err(nondeterminism) => panic!("{nondeterminism}"),
            }
        }
        for (key, slot) in state.slots {
            if !slot.dirty {
                continue;
            }
            match slot.row {
                Some(row) => {
                    let mut row = Arc::unwrap_or_clone(row);
                    row.set_model_version(P::CONTRACT.version);
                    self.rows.insert(key, row);
                }
                None => {
                    self.rows.remove(&key);
                }
            }
        }
        Ok(())
    }

    /// Applies events in order, stopping at the first that does not decode.
    pub fn apply_all<'a>(
        &mut self,
        events: impl IntoIterator<Item = &'a StoredEvent>,
    ) -> Result<(), DecodeError> {
        events.into_iter().try_for_each(|e| self.apply(e))
    }

    /// The rows, in key order.
    pub fn rows(&self) -> Vec<P::Row> {
        self.rows.values().cloned().collect()
    }

    /// The row for `key`.
    pub fn get(&self, key: &<P::Row as ReadModelRow>::Key) -> Option<&P::Row> {
        self.rows.get(key)
    }
}

/// A stored event for tests: `payload` serialized at `E`'s newest schema version.
///
/// ```
/// # use readmodel_runtime::testing::stored;
/// # #[derive(serde::Serialize, serde::Deserialize, readmodel_runtime::DomainEvent)]
/// # #[event(type = "t.pinged")] struct Pinged { n: i32 }
/// let at = "2026-03-01T07:30:00Z".parse().unwrap();
/// let event = stored(1, uuid::Uuid::nil(), uuid::Uuid::nil(), 1, at, &Pinged { n: 3 });
/// assert_eq!(event.event_type, "t.pinged");
/// ```
pub fn stored<E: DomainEvent + Serialize>(
    id: i64,
    user_id: Uuid,
    stream_id: Uuid,
    event_version: i64,
    occurred_at: DateTime<Utc>,
    payload: &E,
) -> StoredEvent {
    StoredEvent {
        id,
        stream_id,
        event_version,
        event_type: E::EVENT_TYPE.to_owned(),
        schema_version: E::SCHEMA_VERSION,
        user_id,
        occurred_at,
        recorded_at: occurred_at,
        // Serializing a plain data struct into JSON does not fail; an empty object makes
        // the handler's decode error visible if it ever does.
        payload: serde_json::to_string(payload).unwrap_or_else(|_| "{}".to_owned()),
    }
}
