//! Rows carried from one batch to the next, so that snapshot and aggregate handlers do not
//! reload the rows they touched a batch ago.
//!
//! The cache holds at most `capacity` rows in two generations: rows absorbed since the
//! last turn, and those of the turn before. When the newer generation reaches half the
//! capacity, the older one is dropped and the newer one takes its place, so rows the
//! handlers keep touching stay while memory depends on the capacity, never on the log.
//!
//! After a full rebuild deleted the version's rows, every row in the table was written by
//! this run, so the cache is *complete*: a key it never absorbed is known to have no row
//! (no load at all). Once a turn drops rows, Bloom filters of every key absorbed keep
//! that knowledge in about a byte per key: a key they have never seen has no row, and
//! only a key they may have seen (written earlier and dropped, or a false positive) is
//! loaded. A filter full to the keys it was sized for is followed by one twice its size,
//! so the false positives stay rare however long the log (one filter of fixed size let
//! them grow to two in five keys over 10M events, each a load).

use std::collections::BTreeMap;
use std::sync::Arc;

use bloomfilter::Bloom;

use crate::rows::{BatchState, ReadModelRow};

/// Rows the cache may hold before it empties itself (10–20 MiB of typical rows).
pub(crate) const DEFAULT_CAPACITY: usize = 50_000;

/// The environment variable that sets every row cache's capacity, in rows, for tests: a
/// small log through a cache of a few rows takes the paths a 10M-event log relies on
/// (turns, the Bloom filter of dropped keys, reloads of dropped rows).
pub const CACHE_ROWS_VAR: &str = "READMODEL_CACHE_ROWS";

/// The capacity in [`CACHE_ROWS_VAR`], if set to a number.
fn capacity_override() -> Option<usize> {
    static OVERRIDE: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    *OVERRIDE.get_or_init(|| std::env::var(CACHE_ROWS_VAR).ok()?.trim().parse().ok())
}

/// The first Bloom filter's size: 4 Mi bits, so that 500,000 keys have about two false
/// positives in a hundred (each a needless load, on a read connection of its own); each
/// next filter is twice the size of the one before, for twice the keys.
const SEEN_BYTES: usize = 512 * 1024;
const SEEN_KEYS: usize = 500_000;
/// The filters of one cache stop growing at this size in all (about 30M keys); past it,
/// the last filter takes every key and its false positives grow.
const SEEN_MAX_BYTES: usize = 32 * 1024 * 1024;
/// A fixed seed: which keys are loaded needlessly does not vary from run to run.
const SEEN_SEED: [u8; 32] = *b"readmodel row cache bloom seed 1";

pub(crate) struct RowCache<R: ReadModelRow> {
    newer: BTreeMap<R::Key, Option<Arc<R>>>,
    older: BTreeMap<R::Key, Option<Arc<R>>>,
    complete: bool,
    /// Every key absorbed, once a turn has dropped rows of a complete cache.
    seen: Option<SeenKeys<R::Key>>,
    capacity: usize,
}

impl<R: ReadModelRow> RowCache<R> {
    /// An empty cache; `complete` when the table holds no row of the run's version.
    pub(crate) fn new(complete: bool, capacity: usize) -> Self {
        Self {
            newer: BTreeMap::new(),
            older: BTreeMap::new(),
            complete,
            seen: None,
            capacity: capacity_override().unwrap_or(capacity).max(2),
        }
    }

    fn held(&self, key: &R::Key) -> Option<&Option<Arc<R>>> {
        self.newer.get(key).or_else(|| self.older.get(key))
    }

    /// Whether the table is known to hold no row the cache does not: complete, and the
    /// key absent from every row it dropped.
    fn never_seen(&self, key: &R::Key) -> bool {
        self.complete && self.seen.as_ref().is_none_or(|seen| !seen.check(key))
    }

    /// `Some(row or None)` when the cache knows the key's state, `None` when it does not.
    pub(crate) fn known(&self, key: &R::Key) -> Option<Option<Arc<R>>> {
        match self.held(key) {
            Some(state) => Some(state.clone()),
            None if self.never_seen(key) => Some(None),
            None => None,
        }
    }

    /// Like [`RowCache::known`], but hands a held row over instead of sharing it, so that
    /// a handler changing it copies nothing. The batch that took it gives it back with
    /// [`RowCache::absorb`], and must remember that a row it took exists (the cache no
    /// longer says so; see `Slot::stored`). A batch that is discarded instead must
    /// [`RowCache::distrust`] the cache.
    pub(crate) fn take(&mut self, key: &R::Key) -> Option<Option<Arc<R>>> {
        // A key written without being read (`Rows::put`) can be in both generations: the
        // older state is stale, and must not stay behind to be found later.
        let older = self.older.remove(key);
        if let Some(state) = self.newer.remove(key).or(older) {
            return Some(state);
        }
        self.never_seen(key).then_some(None)
    }

    /// Forgets every row and proves no key absent any more: rows a discarded batch took
    /// are held nowhere, though the table may have them.
    pub(crate) fn distrust(&mut self) {
        self.newer.clear();
        self.older.clear();
        self.complete = false;
        self.seen = None;
    }

    /// Whether a key the cache does not hold is known to have no row in the table (a full
    /// rebuild): no handler's read needs to be looked for ahead of time, and the few keys
    /// that were dropped are loaded one by one.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete
    }

    /// Whether the table is known to hold no row of `key` (the cache is complete and has
    /// no row for it: never written by this run, or deleted).
    pub(crate) fn has_no_row(&self, key: &R::Key) -> bool {
        match self.held(key) {
            Some(state) => self.complete && state.is_none(),
            None => self.never_seen(key),
        }
    }

    /// Takes in a committed batch's final row states (read or written).
    pub(crate) fn absorb(&mut self, state: BatchState<R>) {
        for (key, slot) in state.slots {
            if let Some(seen) = &mut self.seen {
                seen.set(&key);
            }
            self.newer.insert(key, slot.row);
        }
        if self.newer.len() >= self.capacity / 2 {
            self.turn();
        }
    }

    /// Drops the older generation; the newer one becomes the older.
    fn turn(&mut self) {
        if self.complete && self.seen.is_none() && !self.older.is_empty() {
            let mut seen = SeenKeys::new();
            for key in self.older.keys().chain(self.newer.keys()) {
                seen.set(key);
            }
            self.seen = Some(seen);
        }
        if self.seen.as_ref().is_some_and(SeenKeys::failed) {
            // Without a filter the cache can no longer prove a key new.
            self.complete = false;
            self.seen = None;
        }
        self.older = std::mem::take(&mut self.newer);
    }
}

/// Bloom filters of every key a cache absorbed, each twice the size of the one before
/// (see the module's documentation).
struct SeenKeys<K> {
    filters: Vec<Bloom<K>>,
    /// Keys set in the last filter, and the number it was sized for. A filter that
    /// cannot be added (past the cap) leaves the last one taking every key: it says
    /// "maybe" more often, never "no" for a key it was given.
    in_last: usize,
    last_sized_for: usize,
}

impl<K: std::hash::Hash> SeenKeys<K> {
    fn new() -> Self {
        Self::starting_at(SEEN_BYTES, SEEN_KEYS)
    }

    /// Filters whose first has `bytes` for `keys` keys.
    fn starting_at(bytes: usize, keys: usize) -> Self {
        let mut seen = SeenKeys {
            filters: Vec::new(),
            in_last: 0,
            last_sized_for: 0,
        };
        seen.grow(bytes, keys);
        seen
    }

    /// Adds a filter of `bytes` for `keys` keys, if it can be created.
    fn grow(&mut self, bytes: usize, keys: usize) {
        if let Ok(filter) = Bloom::new_with_seed(bytes, keys, &SEEN_SEED) {
            self.filters.push(filter);
            self.in_last = 0;
            self.last_sized_for = keys;
        }
    }

    fn bytes(&self) -> usize {
        self.filters.iter().map(|f| f.len() as usize / 8).sum()
    }

    fn set(&mut self, key: &K) {
        if self.in_last >= self.last_sized_for {
            let bytes = self
                .filters
                .last()
                .map_or(SEEN_BYTES, |f| f.len() as usize / 4);
            if self.bytes() + bytes <= SEEN_MAX_BYTES {
                self.grow(bytes, self.last_sized_for * 2);
            }
        }
        if let Some(last) = self.filters.last_mut() {
            last.set(key);
            self.in_last += 1;
        }
    }

    fn check(&self, key: &K) -> bool {
        self.filters.iter().any(|filter| filter.check(key))
    }

    /// Not even the first filter could be created: no key is recorded.
    fn failed(&self) -> bool {
        self.filters.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Contract, Kind, RebuildStrategy};
    use crate::replay::write::RowWrites;
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
            _: &[&Self],
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
            _: [&Self; N],
        ) -> diesel::QueryResult<usize> {
            unreachable!("not written in these tests")
        }
        fn copy_pg(_: &mut diesel::PgConnection, _: &[&Self]) -> diesel::QueryResult<usize> {
            unreachable!("not written in these tests")
        }
    }

    fn batch(rows: &[u8]) -> BatchState<Row> {
        let mut state = BatchState::default();
        for &r in rows {
            state.slots.insert(
                r,
                Slot {
                    row: Some(Arc::new(Row(r))),
                    dirty: true,
                    stored: false,
                },
            );
        }
        state
    }

    #[test]
    fn a_complete_cache_proves_keys_new_after_dropping_rows() {
        let mut cache = RowCache::<Row>::new(true, 4);
        assert_eq!(cache.known(&7), Some(None));
        cache.absorb(batch(&[1, 2]));
        assert_eq!(cache.known(&1), Some(Some(Arc::new(Row(1)))));
        assert!(!cache.has_no_row(&1), "row 1 was written");
        assert!(cache.has_no_row(&7), "row 7 never was");
        cache.absorb(batch(&[3, 4]));
        cache.absorb(batch(&[5, 6]));
        assert!(cache.is_complete(), "the filter keeps it complete");
        assert_eq!(
            cache.known(&1),
            None,
            "row 1 was dropped: it must be loaded"
        );
        assert!(!cache.has_no_row(&1), "row 1 was written and dropped");
        assert_eq!(
            cache.known(&5),
            Some(Some(Arc::new(Row(5)))),
            "the last turn stays"
        );
        assert_eq!(cache.known(&7), Some(None), "row 7 was never written");
        assert!(cache.has_no_row(&7));
    }

    #[test]
    fn the_filters_of_dropped_keys_grow_with_the_keys_and_stay_selective() {
        // Four times the keys the first filter is sized for: a single filter of its size
        // would answer "maybe seen" for most keys never set. (The sizes of the real
        // filters divided by 64, for a quick test.)
        let (first_bytes, first_keys) = (SEEN_BYTES / 64, SEEN_KEYS / 64);
        let keys = 4 * first_keys as u64;
        let mut seen = SeenKeys::<u64>::starting_at(first_bytes, first_keys);
        for key in 0..keys {
            seen.set(&key);
        }
        assert!(!seen.failed());
        assert!(
            (0..keys).step_by(997).all(|key| seen.check(&key)),
            "no false negative"
        );
        let unseen = (keys..keys + 20_000).filter(|key| seen.check(key)).count();
        assert!(
            unseen < 1_000,
            "{unseen} of 20,000 keys never set look seen"
        );
        let mut one = Bloom::new_with_seed(first_bytes, first_keys, &SEEN_SEED).expect("a filter");
        for key in 0..keys {
            one.set(&key);
        }
        let saturated = (keys..keys + 20_000).filter(|key| one.check(key)).count();
        assert!(
            saturated > 10 * unseen,
            "one filter: {saturated}, growing: {unseen}"
        );
        assert_eq!(
            seen.filters.len(),
            3,
            "one, twice and four times the first size"
        );
        assert!(seen.bytes() <= SEEN_MAX_BYTES);
    }

    #[test]
    fn the_filters_stop_growing_at_their_memory_bound() {
        let mut seen = SeenKeys::<u64>::new();
        // Each filter full after one key: every key asks for a bigger one.
        for key in 0..20 {
            seen.in_last = seen.last_sized_for;
            seen.set(&key);
        }
        assert_eq!(seen.filters.len(), 6, "512 KiB to 16 MiB, then no more");
        assert!(seen.bytes() <= SEEN_MAX_BYTES, "{} bytes", seen.bytes());
        assert!((0..20).all(|key| seen.check(&key)), "every key still set");
    }

    #[test]
    fn rows_touched_again_survive_a_turn() {
        let mut cache = RowCache::<Row>::new(false, 4);
        cache.absorb(batch(&[1, 2]));
        cache.absorb(batch(&[1, 3]));
        assert_eq!(
            cache.known(&1),
            Some(Some(Arc::new(Row(1)))),
            "touched in the last turn"
        );
        assert_eq!(cache.known(&2), None, "dropped with the older turn");
    }

    #[test]
    fn a_taken_row_leaves_the_cache_until_given_back() {
        let mut cache = RowCache::<Row>::new(true, 8);
        cache.absorb(batch(&[1]));
        assert_eq!(cache.take(&1), Some(Some(Arc::new(Row(1)))));
        assert_eq!(cache.take(&7), Some(None), "never written");
        // The cache alone would now prove row 1 absent: the slot's `stored` says it is not.
        assert!(cache.has_no_row(&1));
        cache.absorb(batch(&[1]));
        assert!(!cache.has_no_row(&1), "given back");
        cache.take(&1);
        cache.distrust();
        assert_eq!(cache.known(&1), None, "a discarded batch took it: load it");
        assert_eq!(cache.known(&7), None, "nothing is proven absent any more");
        assert!(!cache.has_no_row(&7));
    }

    #[test]
    fn taking_a_key_held_in_both_generations_leaves_neither() {
        let mut cache = RowCache::<Row>::new(true, 4);
        cache.absorb(batch(&[1, 2]));
        let mut deleted = batch(&[2]);
        deleted.slots.values_mut().for_each(|slot| slot.row = None);
        cache.absorb(deleted);
        assert_eq!(cache.take(&2), Some(None), "the newer state: deleted");
        assert_eq!(cache.held(&2), None, "the older, stale row is gone too");
    }

    static CONTRACT: Contract = Contract {
        name: "test.rows",
        domain: "test",
        version: 3,
        kind: Kind::Snapshot,
        consumed_events: &[],
        replay_start_version: 0,
        idempotency_key: &["model_version", "id"],
        rebuild_strategy: RebuildStrategy::Full,
        schema: "readmodels",
        table: "rows",
        columns: &[],
        fingerprint: crate::Fingerprint::of(&[]),
    };

    #[test]
    fn a_row_taken_from_a_complete_cache_is_updated_not_inserted() {
        let mut cache = RowCache::<Row>::new(true, 8);
        cache.absorb(batch(&[1]));
        let mut state = BatchState::default();
        for key in [1, 2] {
            let row = cache.take(&key).and_then(|held| held);
            let stored = row.is_some();
            let row = Some(Arc::new(Row(key)));
            state.slots.insert(
                key,
                Slot {
                    row,
                    dirty: true,
                    stored,
                },
            );
        }
        let writes = RowWrites::sort(&CONTRACT, 3, None, &mut state, &cache).expect("sorted");
        assert_eq!(
            writes.upserts(),
            vec![1],
            "row 1 exists: COPY would collide"
        );
        assert_eq!(writes.fresh(), vec![2]);
    }

    #[test]
    fn an_incomplete_cache_proves_no_absence() {
        let mut cache = RowCache::<Row>::new(false, 4);
        assert_eq!(cache.known(&7), None);
        cache.absorb(batch(&[1, 2]));
        assert!(!cache.has_no_row(&7));
        assert!(!cache.has_no_row(&1));
    }
}
