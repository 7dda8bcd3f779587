//! Bloom filters of the keys a complete row cache dropped (see `cache`), and the memory
//! the filters of one pass share.
//!
//! A filter full to the keys it was sized for is followed by one for twice as many keys
//! at a lower false-positive rate (a scalable Bloom filter), so false positives stay
//! under 1% of the keys checked however many keys are recorded: with filters of one
//! rate, each new filter added its rate to the last, and a 10M-event log loaded 15,000
//! never-written rows of each daily model, one round trip each.
//!
//! Every filter of a pass comes out of one [`FilterBudget`]: a 100M-event log held
//! 177 MiB at its peak when each cache had a budget of its own. When a cache's next
//! filter does not fit, its last one takes keys until one in twenty unseen keys looks
//! seen; then the cache gives up proving keys new (its filters are freed for the others)
//! rather than let an overfull filter answer "maybe" for every key.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use bloomfilter::Bloom;

/// The first Bloom filter is sized for this many keys at this false-positive rate; each
/// next one for twice the keys at [`SEEN_TIGHTENING`] times the rate, so that the rates of
/// all the filters checked add up to less than five times the first (0.25%). A small
/// first filter (130 KB) keeps the models with few rows small; the bits per key grow by
/// half a bit per filter. Each false positive is a needless load, one round trip: at
/// 0.2% for the first, the daily models of a 10M-event log loaded 5,600 rows each that
/// were never written; a quarter of the rate costs 2.9 bits per key more.
pub(super) const SEEN_KEYS: usize = 65_536;
pub(super) const SEEN_FALSE_POSITIVES: f64 = 0.0005;
pub(super) const SEEN_TIGHTENING: f64 = 0.8;
/// Past the budget, the last filter takes keys beyond those it was sized for until its
/// false positives reach this rate (2.1 to 2.2 times its keys): a needless load for one key in
/// twenty costs less than loading every batch's keys ahead of it, as a cache that stopped
/// proving keys new does (docs/PERFORMANCE.md).
pub(super) const SEEN_OVERFULL_RATE: f64 = 0.05;
/// A fixed seed: which keys are loaded needlessly does not vary from run to run.
const SEEN_SEED: [u8; 32] = *b"readmodel row cache bloom seed 1";

/// The bytes the filters of one pass may hold in all: those of a 10M-event log of the 19
/// LifeOS models (12.3 MiB) fit, and a 100M-event pass stays under 100 MiB, where 16 MiB
/// took it to 100.6 MiB (docs/PERFORMANCE.md).
pub(crate) const PASS_FILTER_BYTES: usize = 13 * 1024 * 1024;

/// The environment variable that sets [`PASS_FILTER_BYTES`], in bytes: more on a machine
/// with memory to spare (about 2.2 MB per million keys a model writes), little in tests, so
/// that a small log takes the path a 100M-event log relies on (caches that give up
/// proving keys new, and load them instead).
pub const FILTER_BYTES_VAR: &str = "READMODEL_FILTER_BYTES";

/// The bytes in [`FILTER_BYTES_VAR`], if set to a number.
fn bytes_override() -> Option<usize> {
    static OVERRIDE: OnceLock<Option<usize>> = OnceLock::new();
    *OVERRIDE.get_or_init(|| std::env::var(FILTER_BYTES_VAR).ok()?.trim().parse().ok())
}

/// The memory the filters of one pass's caches share.
#[derive(Debug)]
pub(crate) struct FilterBudget {
    total: usize,
    held: AtomicUsize,
    peak: AtomicUsize,
}

impl FilterBudget {
    /// A budget of `bytes`.
    pub(crate) fn new(bytes: usize) -> Arc<Self> {
        Arc::new(FilterBudget {
            total: bytes,
            held: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    /// A pass's budget: [`PASS_FILTER_BYTES`], or [`FILTER_BYTES_VAR`] when set.
    pub(crate) fn for_a_pass() -> Arc<Self> {
        Self::new(bytes_override().unwrap_or(PASS_FILTER_BYTES))
    }

    /// Takes `bytes` from the budget, if it has them.
    fn reserve(&self, bytes: usize) -> bool {
        let total = self.total;
        let taken = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(bytes).filter(|&after| after <= total)
            });
        match taken {
            Ok(before) => {
                self.peak.fetch_max(before + bytes, Ordering::AcqRel);
                true
            }
            Err(_) => false,
        }
    }

    fn release(&self, bytes: usize) {
        self.held.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// The bytes the filters hold now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    /// The bytes the budget was given.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    /// The most bytes the filters held at once.
    pub(crate) fn peak(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }
}

/// Bloom filters of every key a cache dropped, each for twice the keys of the one before
/// at a lower false-positive rate (see the module's documentation). Their bytes are taken
/// from a [`FilterBudget`] and given back when they are dropped.
pub(super) struct SeenKeys<K> {
    filters: Vec<Bloom<K>>,
    /// Keys set in the last filter, and the number it was sized for (0 before the first).
    in_last: usize,
    last_sized_for: usize,
    /// The keys and false-positive rate the next filter is sized for.
    next_keys: usize,
    next_rate: f64,
    budget: Arc<FilterBudget>,
    /// The bytes taken from `budget`.
    reserved: usize,
}

impl<K: std::hash::Hash> SeenKeys<K> {
    /// No filter yet: the first key set asks the budget for one.
    pub(super) fn new(budget: Arc<FilterBudget>) -> Self {
        Self::starting_at(SEEN_KEYS, SEEN_FALSE_POSITIVES, budget)
    }

    /// Filters whose first is sized for `keys` keys at the rate `false_positives`.
    fn starting_at(keys: usize, false_positives: f64, budget: Arc<FilterBudget>) -> Self {
        SeenKeys {
            filters: Vec::new(),
            in_last: 0,
            last_sized_for: 0,
            next_keys: keys,
            next_rate: false_positives,
            budget,
            reserved: 0,
        }
    }

    /// Adds the next filter, if the budget has room for it and it can be created.
    fn grow(&mut self) -> bool {
        let (keys, rate) = (self.next_keys, self.next_rate);
        let bytes = Bloom::<K>::compute_bitmap_size(keys, rate);
        if !self.budget.reserve(bytes) {
            return false;
        }
        match Bloom::new_for_fp_rate_with_seed(keys, rate, &SEEN_SEED) {
            Ok(filter) => {
                self.filters.push(filter);
                self.reserved += bytes;
                self.in_last = 0;
                self.last_sized_for = keys;
                self.next_keys = keys.saturating_mul(2);
                self.next_rate = rate * SEEN_TIGHTENING;
                true
            }
            Err(_) => {
                self.budget.release(bytes);
                false
            }
        }
    }

    /// Records `key`. `false` when it could not be (the next filter did not fit the
    /// budget, and the last one is as full as [`SEEN_OVERFULL_RATE`] allows): the filters
    /// no longer hold every key dropped, and prove nothing.
    #[must_use]
    pub(super) fn set(&mut self, key: &K) -> bool {
        if self.in_last >= self.last_sized_for && !self.grow() && !self.last_takes_one_more() {
            return false;
        }
        match self.filters.last_mut() {
            Some(last) => {
                last.set(key);
                self.in_last += 1;
                true
            }
            None => false,
        }
    }

    /// Whether the last filter, given one more key, keeps its false positives within
    /// [`SEEN_OVERFULL_RATE`]: (1 − e^(−k·n/m))^k for n keys, m bits and k hashes.
    fn last_takes_one_more(&self) -> bool {
        self.filters.last().is_some_and(|last| {
            let hashes = f64::from(last.number_of_hash_functions());
            let keys = (self.in_last + 1) as f64;
            let rate = (1.0 - (-hashes * keys / last.len() as f64).exp()).powf(hashes);
            rate <= SEEN_OVERFULL_RATE
        })
    }

    /// Whether `key` may have been set: `false` only for a key never set.
    pub(super) fn check(&self, key: &K) -> bool {
        self.filters.iter().any(|filter| filter.check(key))
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.reserved
    }
}

impl<K> Drop for SeenKeys<K> {
    fn drop(&mut self) {
        self.budget.release(self.reserved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> Arc<FilterBudget> {
        FilterBudget::new(PASS_FILTER_BYTES)
    }

    #[test]
    fn the_filters_of_dropped_keys_grow_with_the_keys_and_stay_selective() {
        // Seven times the keys the first filter is sized for: three full filters, the most
        // false positives before a fourth. A single filter of the first one's size would
        // answer "maybe seen" for most keys never set. (The real first filter's keys
        // divided by 64, for a quick test.)
        let first_keys = SEEN_KEYS / 64;
        let keys = 7 * first_keys as u64;
        let mut seen = SeenKeys::<u64>::starting_at(first_keys, SEEN_FALSE_POSITIVES, budget());
        assert!((0..keys).all(|key| seen.set(&key)), "room for every key");
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
    }

    /// Filters from the real first one, each marked full after one key of `0..keys`, so
    /// that every key asks for a bigger one; `false` once one did not fit `budget`.
    fn a_filter_per_key(keys: u64, budget: &Arc<FilterBudget>) -> (SeenKeys<u64>, bool) {
        let mut seen = SeenKeys::<u64>::new(budget.clone());
        for key in 0..keys {
            seen.in_last = seen.last_sized_for;
            if !seen.set(&key) {
                return (seen, false);
            }
        }
        (seen, true)
    }

    #[test]
    fn each_filter_is_sized_for_twice_the_keys_at_a_lower_rate() {
        let (seen, recorded) = a_filter_per_key(4, &budget());
        assert!(recorded);
        let bits_per_key: Vec<f64> = [1, 2, 4, 8]
            .iter()
            .zip(&seen.filters)
            .map(|(times, filter)| filter.len() as f64 / (times * SEEN_KEYS) as f64)
            .collect();
        assert_eq!(bits_per_key.len(), 4);
        let first = Bloom::<u64>::compute_bitmap_size(SEEN_KEYS, SEEN_FALSE_POSITIVES) * 8;
        assert_eq!(
            seen.filters[0].len() as usize,
            first,
            "the first filter's rate"
        );
        for pair in bits_per_key.windows(2) {
            // A rate times 0.8 costs -ln 0.8 / ln² 2 = 0.46 bits per key more.
            assert!((pair[1] - pair[0] - 0.46).abs() < 0.01, "{bits_per_key:?}");
        }
        let next = SEEN_FALSE_POSITIVES * SEEN_TIGHTENING.powi(4);
        assert!((seen.next_rate - next).abs() < 1e-12, "{}", seen.next_rate);
        assert_eq!(seen.next_keys, 16 * SEEN_KEYS);
    }

    #[test]
    fn a_filter_that_does_not_fit_the_budget_is_refused_and_every_byte_comes_back() {
        let budget = budget();
        let (seen, recorded) = a_filter_per_key(20, &budget);
        assert!(
            recorded,
            "each filter holds one key: the last takes the rest"
        );
        assert_eq!(seen.filters.len(), 6, "130 KB to 4.8 MB, 9.1 MB in all");
        assert_eq!(budget.held(), seen.bytes());
        assert!(budget.held() <= PASS_FILTER_BYTES);
        assert!(
            (0..20).all(|key| seen.check(&key)),
            "every key is still set"
        );
        let peak = budget.peak();
        drop(seen);
        assert_eq!(budget.held(), 0, "dropped filters give their bytes back");
        assert_eq!(budget.peak(), peak, "the peak stays");
    }

    #[test]
    fn past_the_budget_the_last_filter_takes_keys_until_it_is_too_full() {
        // A first filter for 1,024 keys, and no room for a second.
        let (keys, rate) = (SEEN_KEYS / 64, SEEN_FALSE_POSITIVES);
        let budget = FilterBudget::new(Bloom::<u64>::compute_bitmap_size(keys, rate) + 1);
        let mut seen = SeenKeys::<u64>::starting_at(keys, rate, budget.clone());
        let taken = (0u64..).take_while(|key| seen.set(key)).count();
        assert_eq!(seen.filters.len(), 1);
        assert!(
            (keys * 20 / 10..keys * 22 / 10).contains(&taken),
            "{taken} keys for a filter of {keys}: 2.1 times (2.2 for the later, tighter ones)"
        );
        let probes = 100_000;
        let unseen = (1u64 << 40..(1 << 40) + probes)
            .filter(|key| seen.check(key))
            .count();
        assert!(
            (0.03..=0.06).contains(&(unseen as f64 / probes as f64)),
            "{unseen} of {probes} keys never set look seen"
        );
        assert!(
            (0..taken as u64).all(|key| seen.check(&key)),
            "no false negative"
        );
    }

    #[test]
    fn caches_share_one_budget() {
        let first = Bloom::<u64>::compute_bitmap_size(SEEN_KEYS, SEEN_FALSE_POSITIVES);
        let budget = FilterBudget::new(first * 3 + first / 2);
        let mut seen: Vec<SeenKeys<u64>> = (0..4).map(|_| SeenKeys::new(budget.clone())).collect();
        let recorded: Vec<bool> = seen.iter_mut().map(|s| s.set(&1)).collect();
        assert_eq!(
            recorded,
            [true, true, true, false],
            "room for three first filters"
        );
        seen.truncate(1);
        assert_eq!(budget.held(), first);
        let mut again = SeenKeys::<u64>::new(budget.clone());
        assert!(again.set(&1), "the freed bytes are taken again");
        assert_eq!(budget.peak(), first * 3);
    }
}
