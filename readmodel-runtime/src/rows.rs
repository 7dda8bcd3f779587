//! Rows of a read model and the in-memory state handlers change.
//!
//! Handlers never see a connection. A snapshot or aggregate handler gets [`Rows`], a view
//! of the model's current rows: reading a row the batch has not touched yet asks the
//! runtime to load it, and every change stays in memory until the runtime writes the
//! whole batch, with its checkpoint, in one transaction.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use diesel::deserialize;
use diesel::pg::{Pg, PgConnection};
use diesel::result::QueryResult;
use diesel::row::NamedRow;
use diesel::sqlite::SqliteConnection;

use crate::contract::Contract;
use crate::event::{DecodeError, StoredEvent};
use crate::field::{Db, Query};

/// A row type of a read model. Implemented by `#[derive(ReadModel)]`.
///
/// Its public face is the key, the canonical text and the owner; the statement plumbing
/// the replay engine uses (binding and reading columns) is hidden and may change.
/// Rows are plain data (`Send + Sync`): a replay shares them between the thread applying
/// the handlers and the thread writing them, without copying.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a read model: its struct needs `#[derive(ReadModel)]` and `#[read_model(...)]`",
    label = "not a `#[derive(ReadModel)]` struct"
)]
pub trait ReadModelRow: Clone + Debug + Send + Sync + 'static {
    /// The idempotency key without `model_version`: one field's type, or a tuple.
    type Key: Ord + std::hash::Hash + Clone + Debug + Send + 'static;
    /// This row's key.
    fn key(&self) -> Self::Key;
    /// Stamps the model version the runtime is writing.
    fn set_model_version(&mut self, version: i32);
    #[doc(hidden)]
    /// Binds every column, in [`Contract::columns`] order.
    fn bind_columns<DB: Db>(&self, query: Query<DB>) -> Query<DB>;
    #[doc(hidden)]
    /// Binds every column of `rows` as one PostgreSQL array per column, in
    /// [`Contract::columns`] order (for `INSERT … SELECT * FROM unnest(…)`).
    fn bind_pg_arrays(rows: &[&Self], query: Query<Pg>) -> Query<Pg>;
    #[doc(hidden)]
    /// Binds the key columns (without `model_version`), in key order.
    fn bind_key<DB: Db>(key: &Self::Key, query: Query<DB>) -> Query<DB>;
    #[doc(hidden)]
    /// Builds a row from a result row holding every column.
    fn read<'a, DB: Db>(row: &impl NamedRow<'a, DB>) -> deserialize::Result<Self>;
    /// Appends the canonical text of the row (without `model_version`), for checksums.
    fn write_canonical(&self, out: &mut String);
    /// The row's owner, when it has a `user_id` column.
    fn user_id(&self) -> Option<uuid::Uuid>;
    #[doc(hidden)]
    /// diesel's typed upsert of `N` rows in one statement on SQLite
    /// (`insert_into(table).values(rows).on_conflict(key).do_update()`); the array's size
    /// is part of the statement's type (a static query id).
    fn upsert_sqlite<const N: usize>(
        conn: &mut SqliteConnection,
        rows: [&Self; N],
    ) -> QueryResult<usize>;
    #[doc(hidden)]
    /// diesel's typed `INSERT` of `N` rows in one statement on SQLite, without
    /// `ON CONFLICT`: only for rows whose keys have no row in the table. Unlike the
    /// upsert, diesel prepares it once per size and connection.
    fn insert_sqlite<const N: usize>(
        conn: &mut SqliteConnection,
        rows: [&Self; N],
    ) -> QueryResult<usize>;
    #[doc(hidden)]
    /// COPY of `rows` into the table on PostgreSQL (`copy_from(table).from_insertable`):
    /// only for rows whose keys have no row in the table, since COPY does not upsert.
    fn copy_pg(conn: &mut PgConnection, rows: &[&Self]) -> QueryResult<usize>;
}

/// A read model: its contract and its event dispatch. Implemented by `#[handlers]` on the
/// impl block of a `#[derive(ReadModel)]` struct.
#[diagnostic::on_unimplemented(
    message = "read model `{Self}` has no handlers",
    label = "add `#[handlers] impl {Self} {{ ... }}` with one handler per event of `events = [...]`"
)]
pub trait Projection: Send + Sync + 'static {
    /// The row type.
    type Row: ReadModelRow;
    /// The contract.
    const CONTRACT: &'static Contract;
    /// Decodes `event` and runs its handler. Events the model does not consume are ignored.
    fn apply(event: &StoredEvent, rows: &mut Rows<'_, Self::Row>) -> Result<(), DecodeError>;
}

#[derive(Debug)]
pub(crate) struct Slot<R> {
    /// Shared with the cache and with a flush being written: a handler's change copies
    /// the row only while another holder still has it (`Arc::make_mut`).
    pub(crate) row: Option<Arc<R>>,
    pub(crate) dirty: bool,
    /// The row was loaded (from the table or the runtime's cache) and existed: writing
    /// it again must update it, whatever the cache, which handed it over, still knows.
    pub(crate) stored: bool,
}

/// The rows one batch has read or changed, keyed like the table.
#[derive(Debug)]
pub(crate) struct BatchState<R: ReadModelRow> {
    pub(crate) slots: BTreeMap<R::Key, Slot<R>>,
    /// A load failed: the loader kept the reason, the batch must not be written.
    pub(crate) load_failed: bool,
}

impl<R: ReadModelRow> Default for BatchState<R> {
    fn default() -> Self {
        Self {
            slots: BTreeMap::new(),
            load_failed: false,
        }
    }
}

impl<R: ReadModelRow> BatchState<R> {
    /// Keeps what a later application read and changed; a row changed earlier stays
    /// marked changed even when the later one only read it, and keeps what was known of
    /// it being stored.
    pub(crate) fn merge(&mut self, applied: BatchState<R>) {
        self.load_failed |= applied.load_failed;
        for (key, slot) in applied.slots {
            match self.slots.get_mut(&key) {
                Some(existing) => {
                    existing.row = slot.row;
                    existing.dirty |= slot.dirty;
                }
                None => {
                    self.slots.insert(key, slot);
                }
            }
        }
    }
}

/// A row could not be loaded; the loader keeps the reason for the runtime to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LoadFailed;

/// Loads one row by key; the runtime's side of [`Rows`].
pub(crate) type Loader<'a, R> =
    dyn FnMut(&<R as ReadModelRow>::Key) -> Result<Option<Arc<R>>, LoadFailed> + 'a;

/// The model's rows as a handler sees them.
///
/// Keys are the idempotency key without `model_version` (the runtime adds it): one field's
/// type, or a tuple when the key has several fields. A transfer handler, for example,
/// calls `rows.modify(from, ..)` and `rows.modify(to, ..)` and both rows are written with
/// the same batch.
pub struct Rows<'a, R: ReadModelRow> {
    state: &'a mut BatchState<R>,
    loader: &'a mut Loader<'a, R>,
}

impl<'a, R: ReadModelRow> Rows<'a, R> {
    pub(crate) fn new(state: &'a mut BatchState<R>, loader: &'a mut Loader<'a, R>) -> Self {
        Self { state, loader }
    }

    fn slot(&mut self, key: &R::Key) -> &mut Slot<R> {
        if !self.state.slots.contains_key(key) {
            let row = if self.state.load_failed {
                None
            } else {
                (self.loader)(key).unwrap_or_else(|LoadFailed| {
                    self.state.load_failed = true;
                    None
                })
            };
            self.state.slots.insert(
                key.clone(),
                Slot {
                    stored: row.is_some(),
                    row,
                    dirty: false,
                },
            );
        }
        // Inserted just above when missing.
        self.state
            .slots
            .get_mut(key)
            .unwrap_or_else(|| unreachable!("slot inserted above"))
    }

    /// The current row for `key`, if there is one.
    pub fn get(&mut self, key: &R::Key) -> Option<&R> {
        self.slot(key).row.as_deref()
    }

    /// Inserts or replaces the row with this row's key.
    pub fn put(&mut self, row: R) {
        self.replace(row.key(), Some(Arc::new(row)));
    }

    /// Deletes the row for `key` (a no-op when there is none).
    pub fn delete(&mut self, key: &R::Key) {
        self.replace(key.clone(), None);
    }

    /// Sets the row of `key` without reading it first.
    fn replace(&mut self, key: R::Key, row: Option<Arc<R>>) {
        match self.state.slots.get_mut(&key) {
            Some(slot) => {
                slot.row = row;
                slot.dirty = true;
            }
            None => {
                let slot = Slot {
                    row,
                    dirty: true,
                    stored: false,
                };
                self.state.slots.insert(key, slot);
            }
        }
    }

    /// Changes the row for `key` in place, starting from `init()` when there is none.
    pub fn modify(&mut self, key: R::Key, init: impl FnOnce() -> R, change: impl FnOnce(&mut R)) {
        let slot = self.slot(&key);
        let mut row = slot.row.take().unwrap_or_else(|| Arc::new(init()));
        change(Arc::make_mut(&mut row));
        slot.row = Some(row);
        slot.dirty = true;
    }

    /// Appends timeline rows: each is put under its own key.
    pub fn append(&mut self, rows: impl IntoIterator<Item = R>) {
        for row in rows {
            self.put(row);
        }
    }
}
