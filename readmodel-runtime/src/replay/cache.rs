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
//! that knowledge in about 2.2 bytes per key (`seen_keys`): a key they have never seen
//! has no row, and only a key they may have seen (written earlier and dropped, or a false
//! positive) is loaded. The filters of a pass share one memory budget; a cache whose next
//! filter does not fit it stops being complete, and its lane loads the keys its handlers
//! will read ahead of each batch, as a run that does not start from empty tables does.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::seen_keys::{FilterBudget, SeenKeys};
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

/// What one lane's cache may hold: its share of a pass's rows, and the filter budget of
/// the whole pass.
#[derive(Clone, Debug)]
pub struct CacheShare {
    pub(crate) rows: usize,
    pub(crate) filters: Arc<FilterBudget>,
}

impl CacheShare {
    /// `rows` rows for each lane, and a pass's filter budget for them all.
    pub(crate) fn new(rows: usize) -> Self {
        CacheShare {
            rows,
            filters: FilterBudget::for_a_pass(),
        }
    }
}

pub(crate) struct RowCache<R: ReadModelRow> {
    newer: BTreeMap<R::Key, Option<Arc<R>>>,
    older: BTreeMap<R::Key, Option<Arc<R>>>,
    complete: bool,
    /// Every key a turn dropped from a complete cache.
    seen: Option<SeenKeys<R::Key>>,
    filters: Arc<FilterBudget>,
    capacity: usize,
}

impl<R: ReadModelRow> RowCache<R> {
    /// An empty cache of `share`; `complete` when the table holds no row of the run's
    /// version.
    pub(crate) fn new(complete: bool, share: &CacheShare) -> Self {
        Self {
            newer: BTreeMap::new(),
            older: BTreeMap::new(),
            complete,
            seen: None,
            filters: share.filters.clone(),
            capacity: capacity_override().unwrap_or(share.rows).max(2),
        }
    }

    /// The filter budget this cache draws on.
    pub(crate) fn filters(&self) -> &FilterBudget {
        &self.filters
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
            let budget = &self.filters;
            let seen = self
                .seen
                .get_or_insert_with(|| SeenKeys::new(budget.clone()));
            if !self.older.keys().all(|key| seen.set(key)) {
                // A dropped key is not recorded: the cache can no longer prove a key new.
                // Its filters go back to the budget, for the caches that still can.
                self.complete = false;
                self.seen = None;
            }
        }
        self.older = std::mem::take(&mut self.newer);
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

    fn cache_of(complete: bool, rows: usize) -> RowCache<Row> {
        RowCache::new(complete, &CacheShare::new(rows))
    }

    #[test]
    fn a_complete_cache_proves_keys_new_after_dropping_rows() {
        let mut cache = cache_of(true, 4);
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
        let mut cache = cache_of(true, 4);
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
    fn rows_touched_again_survive_a_turn() {
        let mut cache = cache_of(false, 4);
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
        let mut cache = cache_of(true, 8);
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
        let mut cache = cache_of(true, 4);
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
        let mut cache = cache_of(true, 8);
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
        let mut cache = cache_of(false, 4);
        assert_eq!(cache.known(&7), None);
        cache.absorb(batch(&[1, 2]));
        assert!(!cache.has_no_row(&7));
        assert!(!cache.has_no_row(&1));
    }

    #[test]
    fn a_cache_whose_filter_does_not_fit_the_budget_stops_proving_keys_new() {
        let budget = FilterBudget::new(200_000);
        let share = CacheShare {
            rows: 4,
            filters: budget.clone(),
        };
        let (mut first, mut second) = (
            RowCache::<Row>::new(true, &share),
            RowCache::new(true, &share),
        );
        for cache in [&mut first, &mut second] {
            cache.absorb(batch(&[1, 2]));
            cache.absorb(batch(&[3, 4]));
        }
        assert!(first.is_complete(), "its first filter (106 KB) fit");
        assert!(!second.is_complete(), "no room for a second filter");
        assert_eq!(
            second.known(&9),
            None,
            "a key never written must be loaded now"
        );
        assert!(!second.has_no_row(&1));
        assert_eq!(first.known(&9), Some(None), "the first still proves it");
        assert_eq!(first.known(&1), None, "and knows row 1 was dropped");
        let held = budget.held();
        drop(first);
        assert_eq!(
            budget.held(),
            0,
            "a dropped cache gives its filter back ({held} bytes)"
        );
        let mut third = RowCache::<Row>::new(true, &share);
        third.absorb(batch(&[1, 2]));
        third.absorb(batch(&[3, 4]));
        assert!(third.is_complete(), "the bytes given back are taken again");
    }
}
