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
//! (no load at all). Once a turn drops rows, Bloom filters of every key dropped keep
//! that knowledge in under two bytes per key: a key they have never seen has no row, and
//! only a key they may have seen (written earlier and dropped, or a false positive) is
//! loaded. A filter full to the keys it was sized for is followed by one for twice as
//! many keys at a lower false-positive rate (a scalable Bloom filter), so false positives
//! stay under 1% of the keys checked however long the log: with filters of one rate,
//! each new filter added its rate to the last, and a 10M-event log loaded 15,000
//! never-written rows of each daily model, one round trip each.

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

/// The first Bloom filter is sized for this many keys at this false-positive rate; each
/// next one for twice the keys at [`SEEN_TIGHTENING`] times the rate, so that the rates of
/// all the filters checked add up to less than five times the first (1%). A small first
/// filter (105 KB) keeps the models with few rows small; the bits per key grow by half a
/// bit per filter.
const SEEN_KEYS: usize = 65_536;
const SEEN_FALSE_POSITIVES: f64 = 0.002;
const SEEN_TIGHTENING: f64 = 0.8;
/// The filters of one cache stop growing at this size in all (about 16M keys); past it,
/// the last filter takes every key and its false positives grow.
const SEEN_MAX_BYTES: usize = 32 * 1024 * 1024;
/// A fixed seed: which keys are loaded needlessly does not vary from run to run.
const SEEN_SEED: [u8; 32] = *b"readmodel row cache bloom seed 1";

pub(crate) struct RowCache<R: ReadModelRow> {
    newer: BTreeMap<R::Key, Option<Arc<R>>>,
    older: BTreeMap<R::Key, Option<Arc<R>>>,
    complete: bool,
    /// Every key a turn dropped from a complete cache.
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
            self.newer.insert(key, slot.row);
        }
        if self.newer.len() >= self.capacity / 2 {
            self.turn();
        }
    }

    /// Drops the older generation; the newer one becomes the older. A complete cache
    /// records the keys it drops: the only way a key it absorbed leaves it for good, so
    /// the filters hold every key the table may have that the cache does not, and a row
    /// touched in every batch costs no filter update until it is dropped.
    fn turn(&mut self) {
        if self.complete && !self.older.is_empty() {
            let seen = self.seen.get_or_insert_with(SeenKeys::new);
            for key in self.older.keys() {
                seen.set(key);
            }
            if seen.failed() {
                // Without a filter the cache can no longer prove a key new.
                self.complete = false;
                self.seen = None;
            }
        }
        self.older = std::mem::take(&mut self.newer);
    }
}

/// Bloom filters of every key a cache dropped, each for twice the keys of the one before
/// at a lower false-positive rate (see the module's documentation).
struct SeenKeys<K> {
    filters: Vec<Bloom<K>>,
    /// Keys set in the last filter, and the number it was sized for. A filter that
    /// cannot be added (past the cap) leaves the last one taking every key: it says
    /// "maybe" more often, never "no" for a key it was given.
    in_last: usize,
    last_sized_for: usize,
    /// The false-positive rate the last filter was sized for.
    last_rate: f64,
}

impl<K: std::hash::Hash> SeenKeys<K> {
    fn new() -> Self {
        Self::starting_at(SEEN_KEYS, SEEN_FALSE_POSITIVES)
    }

    /// Filters whose first is sized for `keys` keys at the rate `false_positives`.
    fn starting_at(keys: usize, false_positives: f64) -> Self {
        let mut seen = SeenKeys {
            filters: Vec::new(),
            in_last: 0,
            last_sized_for: 0,
            last_rate: false_positives,
        };
        seen.grow(keys, false_positives);
        seen
    }

    /// Adds a filter for `keys` keys at the rate `false_positives`, if it can be created.
    fn grow(&mut self, keys: usize, false_positives: f64) {
        if let Ok(filter) = Bloom::new_for_fp_rate_with_seed(keys, false_positives, &SEEN_SEED) {
            self.filters.push(filter);
            self.in_last = 0;
            self.last_sized_for = keys;
            self.last_rate = false_positives;
        }
    }

    fn bytes(&self) -> usize {
        self.filters.iter().map(|f| f.len() as usize / 8).sum()
    }

    fn set(&mut self, key: &K) {
        if self.in_last >= self.last_sized_for {
            let (keys, rate) = (self.last_sized_for * 2, self.last_rate * SEEN_TIGHTENING);
            let bytes = Bloom::<K>::compute_bitmap_size(keys, rate);
            if self.bytes() + bytes <= SEEN_MAX_BYTES {
                self.grow(keys, rate);
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
        fn insert_sqlite<const N: usize>(
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
    fn only_the_keys_a_turn_drops_are_recorded() {
        let mut cache = RowCache::<Row>::new(true, 4);
        cache.absorb(batch(&[1, 2]));
        assert!(cache.seen.is_none(), "nothing dropped yet");
        cache.absorb(batch(&[3, 4]));
        let recorded = |cache: &RowCache<Row>, key: u8| {
            cache.seen.as_ref().is_some_and(|seen| seen.check(&key))
        };
        assert!(
            recorded(&cache, 1) && recorded(&cache, 2),
            "1 and 2 were dropped"
        );
        assert!(
            !recorded(&cache, 3) && !recorded(&cache, 4),
            "3 and 4 are held"
        );
        assert_eq!(cache.known(&1), None, "a dropped row must be loaded");
        assert_eq!(cache.known(&3), Some(Some(Arc::new(Row(3)))));
        assert_eq!(cache.known(&9), Some(None), "never written");
        cache.absorb(batch(&[5, 6]));
        assert!(
            recorded(&cache, 3) && recorded(&cache, 4),
            "dropped in turn"
        );
        assert!(!recorded(&cache, 5) && !recorded(&cache, 6));
    }

    #[test]
    fn the_filters_of_dropped_keys_grow_with_the_keys_and_stay_selective() {
        // Seven times the keys the first filter is sized for: three full filters, the most
        // false positives before a fourth. A single filter of the first one's size would
        // answer "maybe seen" for most keys never set. (The real first filter's keys
        // divided by 64, for a quick test.)
        let first_keys = SEEN_KEYS / 64;
        let keys = 7 * first_keys as u64;
        let mut seen = SeenKeys::<u64>::starting_at(first_keys, SEEN_FALSE_POSITIVES);
        for key in 0..keys {
            seen.set(&key);
        }
        assert!(!seen.failed());
        assert!(
            (0..keys).step_by(997).all(|key| seen.check(&key)),
            "no false negative"
        );
        assert_eq!(
            seen.filters.len(),
            3,
            "for one, two and four times the first one's keys"
        );
        let probes = 100_000;
        let unseen = (keys..keys + probes).filter(|key| seen.check(key)).count();
        let bound = SEEN_FALSE_POSITIVES / (1.0 - SEEN_TIGHTENING);
        assert!(
            unseen as f64 <= bound * probes as f64,
            "{unseen} of {probes} keys never set look seen"
        );
        let first_bytes = seen.filters[0].len() as usize / 8;
        let mut one = Bloom::new_with_seed(first_bytes, first_keys, &SEEN_SEED).expect("a filter");
        for key in 0..keys {
            one.set(&key);
        }
        let saturated = (keys..keys + probes).filter(|key| one.check(key)).count();
        assert!(
            saturated > 50 * unseen,
            "one filter: {saturated}, growing: {unseen}"
        );
        assert!(seen.bytes() <= SEEN_MAX_BYTES);
    }

    /// Filters from the real first one, each marked full after one key of `0..keys`, so
    /// that every key asks for a bigger one.
    fn a_filter_per_key(keys: u64) -> SeenKeys<u64> {
        let mut seen = SeenKeys::<u64>::new();
        for key in 0..keys {
            seen.in_last = seen.last_sized_for;
            seen.set(&key);
        }
        seen
    }

    #[test]
    fn each_filter_is_sized_for_twice_the_keys_at_a_lower_rate() {
        let seen = a_filter_per_key(3);
        let bits_per_key: Vec<f64> = [1, 2, 4, 8]
            .iter()
            .zip(&seen.filters)
            .map(|(times, filter)| filter.len() as f64 / (times * SEEN_KEYS) as f64)
            .collect();
        assert_eq!(bits_per_key.len(), 4);
        for pair in bits_per_key.windows(2) {
            // A rate times 0.8 costs -ln 0.8 / ln² 2 = 0.46 bits per key more.
            assert!((pair[1] - pair[0] - 0.46).abs() < 0.01, "{bits_per_key:?}");
        }
        let last = SEEN_FALSE_POSITIVES * SEEN_TIGHTENING.powi(3);
        assert!((seen.last_rate - last).abs() < 1e-12, "{}", seen.last_rate);
    }

    #[test]
    fn the_filters_stop_growing_at_their_memory_bound() {
        let seen = a_filter_per_key(20);
        assert_eq!(seen.filters.len(), 8, "106 KB to 17 MB, then no more");
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
