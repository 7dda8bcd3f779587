//! Every SQLite write path must leave identical tables: the same rows as written, the same
//! checksum, after the insert pass and after the update pass.

use std::sync::{Arc, Mutex, PoisonError};

use diesel::connection::InstrumentationEvent;
use diesel::Connection as _;
use diesel::{QueryDsl, RunQueryDsl, SelectableHelper};
use projections::habits::{
    habit_checkins, habit_monthly_completions, habit_streaks, HabitCheckin, HabitMonthlyCompletion,
    HabitStreak,
};
use readmodel_runtime::{ReadModelRow, Registry, Store};

use super::write_path::{self, write, Model, Options, Path};
use super::{baseline, open_fresh};

/// Reads a model's whole table back through the derive's `Selectable`/`Queryable`.
trait ReadBack: Model {
    fn load(store: &mut Store) -> Vec<Self>;
}

macro_rules! read_back {
    ($model:ty, $table:ident) => {
        impl ReadBack for $model {
            fn load(store: &mut Store) -> Vec<Self> {
                let Store::Sqlite(conn) = store else {
                    panic!("the smoke test runs on SQLite");
                };
                let mut rows: Vec<Self> = $table::table
                    .select(<$model>::as_select())
                    .load(conn)
                    .expect("reading the table back");
                rows.sort_by_key(|row| row.key());
                rows
            }
        }
    };
}

read_back!(HabitCheckin, habit_checkins);
read_back!(HabitStreak, habit_streaks);
read_back!(HabitMonthlyCompletion, habit_monthly_completions);

/// Writes `rows` then their updates by `path`; returns the table after each pass and the
/// final checksum.
fn write_both_passes<M: ReadBack>(
    store: &mut Store,
    path: Path,
    rows: usize,
    chunk: usize,
) -> (Vec<M>, Vec<M>, String) {
    let contract = M::CONTRACT;
    baseline::clear(store, contract.name).expect("clearing the table");
    let inserted: Vec<M> = (0..rows as u64).map(|i| M::sample(i, 0)).collect();
    let updated: Vec<M> = (0..rows as u64).map(|i| M::sample(i, 1)).collect();
    write(store, path, &inserted, chunk).expect("the insert pass");
    let after_insert = M::load(store);
    write(store, path, &updated, chunk).expect("the update pass");
    let after_update = M::load(store);
    let sum = Registry::global()
        .expect("the registry")
        .get(contract.name)
        .expect("a registered model")
        .checksum(store, contract.version, None)
        .expect("the checksum");
    assert_eq!(sum.rows, rows as u64, "{} {path:?}", contract.name);
    (after_insert, after_update, sum.digest)
}

fn every_path_leaves_the_rows_written<M: ReadBack>(rows: usize, chunk: usize) {
    let mut fresh = open_fresh(&super::Options::default()).expect("a fresh SQLite database");
    let store = &mut fresh.store;
    let name = M::CONTRACT.name;
    let mut expected: Vec<M> = (0..rows as u64).map(|i| M::sample(i, 0)).collect();
    expected.sort_by_key(|row| row.key());
    let mut expected_updates: Vec<M> = (0..rows as u64).map(|i| M::sample(i, 1)).collect();
    expected_updates.sort_by_key(|row| row.key());
    // The update must change every row, or it would not show a missing `SET` column.
    assert!(
        expected.iter().zip(&expected_updates).all(|(a, b)| a != b),
        "{name}"
    );

    let mut sums = Vec::new();
    for &path in Path::on("sqlite") {
        let (inserted, updated, sum) = write_both_passes::<M>(store, path, rows, chunk);
        assert!(inserted == expected, "{name}: {} insert pass", path.name());
        assert!(
            updated == expected_updates,
            "{name}: {} update",
            path.name()
        );
        sums.push(sum);
    }
    assert_eq!(
        sums.len(),
        3,
        "{name}: statement, typed-vec and typed-fixed"
    );
    assert!(
        sums.iter().all(|sum| *sum == sums[0]),
        "{name}: checksums {sums:?}"
    );
}

#[test]
fn checkins_are_written_identically_every_way() {
    every_path_leaves_the_rows_written::<HabitCheckin>(1_200, 500);
}

#[test]
fn streaks_are_written_identically_every_way() {
    every_path_leaves_the_rows_written::<HabitStreak>(1_200, 500);
}

#[test]
fn monthly_completions_are_written_identically_every_way() {
    every_path_leaves_the_rows_written::<HabitMonthlyCompletion>(1_200, 500);
}

#[test]
fn the_benchmark_reports_every_model_and_pass_with_matching_checksums() {
    let options = Options {
        rows: 900,
        chunk: 400,
        runs: 2,
        ..Options::default()
    };
    let report = write_path::run(&options, &mut |_| {}).expect("the benchmark runs");
    assert_eq!(report.backend, "sqlite");
    assert_eq!(report.measurements.len(), 6);
    assert!(report.all_match(), "{}", report.table());
    for m in &report.measurements {
        assert_eq!(m.rows, 900);
        let paths: Vec<Path> = m.paths.iter().map(|p| p.path).collect();
        assert_eq!(paths, Path::on("sqlite"), "{}", report.table());
        for p in &m.paths {
            assert_eq!(p.rows_per_second.len(), 2);
            assert!(p.ratio.is_finite() && p.ratio > 0.0, "{}", report.table());
        }
        assert_eq!(m.paths[0].ratio, 1.0, "statement is the reference");
    }
}

/// The SQL of every statement diesel caches (prepares once and reuses) on the store's
/// SQLite connection from now on, as an instrumentation records it.
fn record_cached_statements(store: &mut Store) -> Arc<Mutex<Vec<String>>> {
    let Store::Sqlite(conn) = store else {
        panic!("the default benchmark database is SQLite");
    };
    let cached = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&cached);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::CacheQuery { sql, .. } = event {
            let mut sink = sink.lock().unwrap_or_else(PoisonError::into_inner);
            sink.push(sql.to_owned());
        }
    });
    cached
}

/// The `INSERT`s among `cached`, once `habit_checkins` is checked to hold `rows` rows by a
/// control query: a typed query with a static query id is cached, so the instrument sees
/// what diesel caches.
fn cached_inserts(store: &mut Store, cached: &Mutex<Vec<String>>, rows: usize) -> Vec<String> {
    let Store::Sqlite(conn) = store else {
        panic!("the default benchmark database is SQLite");
    };
    let counted: i64 = habit_checkins::table
        .count()
        .get_result(conn)
        .expect("counting the rows");
    assert_eq!(counted, rows as i64, "every row written once");
    let cached = cached.lock().unwrap_or_else(PoisonError::into_inner);
    assert!(
        cached.iter().any(|sql| sql.contains("COUNT(*)")),
        "the control query was not cached: {cached:#?}"
    );
    cached
        .iter()
        .filter(|sql| sql.contains("INSERT"))
        .cloned()
        .collect()
}

/// The statements diesel caches while `rows` are written by `path` in transactions of
/// `chunk`, twice.
fn statements_cached(path: Path, rows: usize, chunk: usize) -> Vec<String> {
    let mut fresh = open_fresh(&super::Options::default()).expect("a fresh SQLite database");
    let cached = record_cached_statements(&mut fresh.store);
    let rows: Vec<HabitCheckin> = (0..rows as u64)
        .map(|i| HabitCheckin::sample(i, 0))
        .collect();
    let updates: Vec<HabitCheckin> = (0..rows.len() as u64)
        .map(|i| HabitCheckin::sample(i, 1))
        .collect();
    write(&mut fresh.store, path, &rows, chunk).expect("the insert pass");
    write(&mut fresh.store, path, &updates, chunk).expect("the update pass");
    cached_inserts(&mut fresh.store, &cached, rows.len())
}

#[test]
fn diesel_prepares_every_typed_upsert_anew() {
    // A fixed-size array gives the statement a static query id, but diesel 2.3.14's
    // `DoUpdate` marks every upsert unsafe to cache (its `SET` list may be a no-op), so the
    // fixed-size upsert is prepared per execution like a slice's. When diesel starts
    // caching it, this fails: update the comment on the SQLite upsert in
    // readmodel-runtime/src/store/rows.rs and docs/PERFORMANCE.md.
    // 4 transactions of 300 rows = 256 + 2 × 16 + 3 × 4: 24 statements of three sizes.
    let fixed = statements_cached(Path::TypedFixed, 600, 300);
    assert_eq!(
        fixed,
        Vec::<String>::new(),
        "the fixed-size upsert is cached"
    );
    assert_eq!(
        statements_cached(Path::TypedVec, 600, 300),
        Vec::<String>::new()
    );
}

#[test]
fn diesel_prepares_the_insert_of_new_rows_once_per_size() {
    // What the runtime writes a full rebuild's new rows with on SQLite
    // (`ReadModelRow::insert_sqlite`, no `ON CONFLICT`): unlike the upsert above, diesel
    // caches it, so three transactions of 68 rows (64 + 4) prepare two statements.

    let mut fresh = open_fresh(&super::Options::default()).expect("a fresh SQLite database");
    let cached = record_cached_statements(&mut fresh.store);
    let Store::Sqlite(conn) = &mut fresh.store else {
        panic!("the default benchmark database is SQLite");
    };
    let rows: Vec<HabitCheckin> = (0..3 * 68).map(|i| HabitCheckin::sample(i, 0)).collect();
    for chunk in rows.chunks(68) {
        conn.transaction(|c| {
            let (head, tail) = chunk.split_at(64);
            let head: [&HabitCheckin; 64] = std::array::from_fn(|i| &head[i]);
            let tail: [&HabitCheckin; 4] = std::array::from_fn(|i| &tail[i]);
            HabitCheckin::insert_sqlite(c, head)?;
            HabitCheckin::insert_sqlite(c, tail)
        })
        .expect("an insert of new rows");
    }
    let inserts = cached_inserts(&mut fresh.store, &cached, rows.len());
    assert_eq!(inserts.len(), 2, "one statement per size: {inserts:#?}");
    assert!(
        inserts.iter().all(|sql| !sql.contains("ON CONFLICT")),
        "a plain insert: {inserts:#?}"
    );
}
