//! Rows carried from one batch to the next, so that snapshot and aggregate handlers do not
//! reload the rows they touched a batch ago.
//!
//! The cache holds at most `capacity` rows; past that it empties itself, so memory depends
//! on the capacity, never on the log. After a full rebuild deleted the version's rows, every
//! row in the table was written by this run: until the cache first overflows it is
//! *complete*, and a key it does not hold is known to have no row (no load at all).

use std::collections::BTreeMap;

use crate::rows::{BatchState, ReadModelRow};

/// Rows the cache may hold before it empties itself (10–20 MiB of typical rows).
pub(crate) const DEFAULT_CAPACITY: usize = 50_000;

pub(crate) struct RowCache<R: ReadModelRow> {
    rows: BTreeMap<R::Key, Option<R>>,
    complete: bool,
    capacity: usize,
}

impl<R: ReadModelRow> RowCache<R> {
    /// An empty cache; `complete` when the table holds no row of the run's version.
    pub(crate) fn new(complete: bool, capacity: usize) -> Self {
        Self {
            rows: BTreeMap::new(),
            complete,
            capacity,
        }
    }

    /// `Some(row or None)` when the cache knows the key's state, `None` when it does not.
    pub(crate) fn known(&self, key: &R::Key) -> Option<Option<R>> {
        match self.rows.get(key) {
            Some(state) => Some(state.clone()),
            None if self.complete => Some(None),
            None => None,
        }
    }

    /// Whether every key's state is known without asking the table.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete
    }

    /// Whether the table is known to hold no row of `key` (the cache is complete and has
    /// no row for it: never written by this run, or deleted).
    pub(crate) fn has_no_row(&self, key: &R::Key) -> bool {
        self.complete && !matches!(self.rows.get(key), Some(Some(_)))
    }

    /// Takes in a committed batch's final row states (read or written).
    pub(crate) fn absorb(&mut self, state: BatchState<R>) {
        for (key, slot) in state.slots {
            self.rows.insert(key, slot.row);
        }
        if self.rows.len() > self.capacity {
            self.rows.clear();
            self.complete = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::Slot;

    #[derive(Clone, Debug, PartialEq)]
    struct Row(u8);

    impl ReadModelRow for Row {
        type Key = u8;
        fn key(&self) -> u8 {
            self.0
        }
        fn set_model_version(&mut self, _: i32) {}
        fn bind_columns<DB: crate::field::Db>(
            &self,
            q: crate::field::Query<DB>,
        ) -> crate::field::Query<DB> {
            q
        }
        fn bind_pg_arrays(
            _: &[Self],
            q: crate::field::Query<diesel::pg::Pg>,
        ) -> crate::field::Query<diesel::pg::Pg> {
            q
        }
        fn bind_key<DB: crate::field::Db>(
            _: &u8,
            q: crate::field::Query<DB>,
        ) -> crate::field::Query<DB> {
            q
        }
        fn read<'a, DB: crate::field::Db>(
            _: &impl diesel::row::NamedRow<'a, DB>,
        ) -> diesel::deserialize::Result<Self> {
            Ok(Row(0))
        }
        fn write_canonical(&self, _: &mut String) {}
        fn user_id(&self) -> Option<uuid::Uuid> {
            None
        }
        fn upsert_sqlite<const N: usize>(
            _: &mut diesel::SqliteConnection,
            _: &[Self; N],
        ) -> diesel::QueryResult<usize> {
            unreachable!("not written in these tests")
        }
        fn copy_pg(_: &mut diesel::PgConnection, _: &[Self]) -> diesel::QueryResult<usize> {
            unreachable!("not written in these tests")
        }
    }

    fn batch(rows: &[u8]) -> BatchState<Row> {
        let mut state = BatchState::default();
        for &r in rows {
            state.slots.insert(
                r,
                Slot {
                    row: Some(Row(r)),
                    dirty: true,
                },
            );
        }
        state
    }

    #[test]
    fn a_complete_cache_answers_every_key_until_it_overflows() {
        let mut cache = RowCache::<Row>::new(true, 3);
        assert_eq!(cache.known(&7), Some(None));
        cache.absorb(batch(&[1, 2]));
        assert_eq!(cache.known(&1), Some(Some(Row(1))));
        assert!(!cache.has_no_row(&1), "row 1 was written");
        assert!(cache.has_no_row(&7), "row 7 never was");
        cache.absorb(batch(&[3, 4]));
        assert!(
            !cache.is_complete(),
            "overflow forgets, so the cache is no longer complete"
        );
        assert_eq!(cache.known(&1), None);
        assert_eq!(cache.known(&7), None);
        assert!(
            !cache.has_no_row(&7),
            "an incomplete cache proves no absence"
        );
    }
}
