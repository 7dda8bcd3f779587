//! A full rebuild of the version readers use builds beside it and swaps in at once
//! (`replay::beside`): a reader polling the active rows, each read one statement (one
//! snapshot), sees all the old rows or all the new ones, never fewer rows than before nor
//! a mix; a rebuild killed half-way leaves every model as it was, and `--resume` finishes
//! it; workers (`run --full --workers N`) rebuild beside too; a rebuild is not swapped in
//! over a live version another process moved meanwhile.
//!
//! The live rows are marked before the rebuild (`action` gets a `#old` suffix), so that a
//! read tells old rows from rebuilt ones; events appended after the last catch-up make the
//! rebuilt model larger than the live one.

use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use readmodel_tests::child::{self, finish, wait_until};
use readmodel_tests::{bin, execute_sql, on_both_backends, Db, Reader, HABITS};

on_both_backends!(
    readers_see_the_old_rows_until_a_full_rebuild_swaps_in_the_new_ones,
    a_full_rebuild_of_several_models_killed_half_way_leaves_them_as_they_were,
    a_rebuild_is_not_swapped_in_over_a_live_version_another_process_moved,
);

const CHECKINS: &str = "habits.checkins";

/// A full rebuild of habits.checkins committing every batch of 200 events.
const FULL: [&str; 8] = [
    "run",
    "--model",
    CHECKINS,
    "--full",
    "--batch-size",
    "200",
    "--flush-seconds",
    "0",
];

/// Rows of the active version of habits.checkins and how many of them are marked old, in
/// one statement.
const READ: &str = "SELECT CAST(COUNT(*) AS TEXT) || ':' || CAST(COALESCE(SUM(CASE WHEN action LIKE '%#old' THEN 1 ELSE 0 END), 0) AS TEXT) AS value FROM readmodels.habit_checkins WHERE model_version = (SELECT active_version FROM readmodels.model_versions WHERE model = 'habits.checkins')";

/// Appends the events of the test: a first part, built, then a second, not built yet.
fn generate(db: &Db, seed: &str) {
    db.run(&[
        "generate", "--users", "20", "--events", "8000", "--seed", seed,
    ])
    .ok();
}

/// A database whose habits models are built over the first part of the log, marked old,
/// with the second part appended; and the checksums a fresh build of the whole log gives.
fn built_then_appended(postgres: bool) -> (Db, Vec<String>) {
    let reference = Db::new(postgres);
    generate(&reference, "31");
    generate(&reference, "32");
    run_habits(&reference, &[]);
    let db = Db::new(postgres);
    generate(&db, "31");
    run_habits(&db, &[]);
    generate(&db, "32");
    execute_sql(
        &db.url,
        "UPDATE readmodels.habit_checkins SET action = action || '#old'",
    );
    (db, reference.checksums(&HABITS))
}

fn run_habits(db: &Db, flags: &[&str]) {
    let mut args = vec!["run"];
    for model in HABITS {
        args.extend(["--model", model]);
    }
    args.extend(flags);
    db.run(&args).ok();
}

/// What the reader saw: each distinct `(rows, marked old)` in the order first seen, and
/// how many reads it made.
struct Seen {
    states: Vec<(i64, i64)>,
    reads: u64,
}

/// Polls [`READ`] until stopped; `reads` counts the reads made so far.
fn spawn_reader(url: String, stop: Arc<AtomicBool>, reads: Arc<AtomicU64>) -> JoinHandle<Seen> {
    std::thread::spawn(move || {
        let mut reader = Reader::open(&url);
        let mut seen = Seen {
            states: Vec::new(),
            reads: 0,
        };
        while !stop.load(Ordering::SeqCst) {
            let text = reader.texts(READ).pop().expect("one row");
            let (rows, old) = text.split_once(':').expect("rows:old");
            let state = (
                rows.parse().expect("a count"),
                old.parse().expect("a count"),
            );
            if seen.states.last() != Some(&state) {
                seen.states.push(state);
            }
            seen.reads += 1;
            reads.fetch_add(1, Ordering::SeqCst);
        }
        seen
    })
}

/// Every state the reader saw is the old model whole (`before` rows, all marked old) or
/// the rebuilt one (more rows, none marked old, and the same count each time).
fn assert_whole(seen: &Seen, before: i64, backend: &str) {
    let mut rebuilt = None;
    for &(rows, old) in &seen.states {
        if (rows, old) == (before, before) {
            continue;
        }
        assert_eq!(
            old, 0,
            "{backend}: a read saw {rows} rows, {old} of them old ({before} before): a mix"
        );
        assert!(
            rows > before,
            "{backend}: a read saw {rows} rows, fewer than the {before} before"
        );
        assert!(
            rebuilt.is_none_or(|r| r == rows),
            "{backend}: two rebuilt states: {:?}",
            seen.states
        );
        rebuilt = Some(rows);
    }
}

/// Starts `replay ARGS` stopped after its third flush (the rebuild has written part of
/// its scratch version), and waits until it is.
fn spawn_stopped_after_flushes(db: &Db, args: &[&str]) -> Child {
    spawn_stopped_at(db, args, "flushed@3")
}

/// Starts `replay ARGS` stopped at the pause `point`, and waits until it is.
fn spawn_stopped_at(db: &Db, args: &[&str], point: &str) -> Child {
    child::spawn_stopped_at(&bin(), &db.url, args, point)
}

/// Rows of scratch versions (negative) in habits.checkins.
fn scratch_rows(db: &Db) -> i64 {
    db.count("readmodels.habit_checkins WHERE model_version < 0")
}

/// Waits until the reader made `more` reads beyond those made so far.
fn wait_for_reads(reads: &AtomicU64, more: u64) {
    let target = reads.load(Ordering::SeqCst) + more;
    wait_until("the reader reads", || {
        reads.load(Ordering::SeqCst) >= target
    });
}

/// `run --model habits.checkins --full`, stopped after three flushes while a reader polls,
/// then let go: the reader sees the old rows while the scratch fills, then the rebuilt
/// ones, nothing between; the result equals a fresh build and no scratch row remains.
fn readers_see_the_old_rows_until_a_full_rebuild_swaps_in_the_new_ones(postgres: bool) {
    rebuild_while_reading(postgres, &[], "flushed@3");
}

/// The same with `--workers 2` on PostgreSQL, stopped at a worker's fourth flush: the
/// workers write beside the live rows and the coordinator swaps them in at the end.
#[test]
fn workers_rebuild_the_version_readers_use_beside_it_and_swap_it_in() {
    rebuild_while_reading(true, &["--workers", "2", "--partitions", "4"], "flush@4");
}

/// `run --model habits.checkins --full` with `extra` flags, stopped at the pause `point`
/// while a reader polls, then let go: the reader sees the old rows while the scratch
/// fills, then the rebuilt ones, nothing between; the result equals a fresh build and no
/// scratch row remains.
fn rebuild_while_reading(postgres: bool, extra: &[&str], point: &str) {
    let (db, reference) = built_then_appended(postgres);
    let backend = db.backend();
    let before = db.count("readmodels.habit_checkins WHERE model_version = 1");
    let (stop, reads) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let reader = spawn_reader(db.url.clone(), stop.clone(), reads.clone());
    let mut full = FULL.to_vec();
    full.extend(extra);
    let run = spawn_stopped_at(&db, &full, point);
    assert!(
        scratch_rows(&db) > 0,
        "{backend}: the rebuild writes beside the live rows"
    );
    wait_for_reads(&reads, 20);
    child::signal(&run, "CONT");
    let out = finish(run);
    out.ok();
    wait_for_reads(&reads, 20);
    stop.store(true, Ordering::SeqCst);
    let seen = reader.join().expect("the reader");
    assert!(seen.reads >= 40, "{backend}: {} reads", seen.reads);
    assert_eq!(
        seen.states.first(),
        Some(&(before, before)),
        "{backend}: {:?}",
        seen.states
    );
    assert_whole(&seen, before, backend);
    assert_eq!(
        seen.states.len(),
        2,
        "{backend}: old, then rebuilt: {:?}",
        seen.states
    );
    assert_eq!(db.checksum(CHECKINS), reference[0], "{backend}");
    assert_eq!(
        scratch_rows(&db),
        0,
        "{backend}: the scratch version was swapped in"
    );
}

/// A rebuild of the three habits models in one pass, SIGKILLed after three flushes while
/// a reader polls: every model keeps its checksum, readers saw only the old rows; then
/// `run --resume` continues the scratch rebuilds and swaps them in (equal to a fresh
/// build, no scratch row left).
fn a_full_rebuild_of_several_models_killed_half_way_leaves_them_as_they_were(postgres: bool) {
    let (db, reference) = built_then_appended(postgres);
    let backend = db.backend();
    let before = db.count("readmodels.habit_checkins WHERE model_version = 1");
    let sums = db.checksums(&HABITS);
    let (stop, reads) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let reader = spawn_reader(db.url.clone(), stop.clone(), reads.clone());
    let mut full = vec!["run"];
    for model in HABITS {
        full.extend(["--model", model]);
    }
    full.extend(["--full", "--batch-size", "200", "--flush-seconds", "0"]);
    let run = spawn_stopped_after_flushes(&db, &full);
    wait_for_reads(&reads, 20);
    child::signal(&run, "KILL");
    let killed = finish(run);
    assert_eq!(killed.code, None, "{backend}: killed by a signal");
    wait_for_reads(&reads, 20);
    assert_eq!(
        db.checksums(&HABITS),
        sums,
        "{backend}: the kill left every model as it was"
    );
    assert!(
        scratch_rows(&db) > 0,
        "{backend}: the killed rebuild's scratch rows"
    );
    run_habits(&db, &["--resume"]);
    wait_for_reads(&reads, 20);
    stop.store(true, Ordering::SeqCst);
    let seen = reader.join().expect("the reader");
    assert_eq!(
        seen.states.first(),
        Some(&(before, before)),
        "{backend}: {:?}",
        seen.states
    );
    assert_whole(&seen, before, backend);
    assert_eq!(
        db.checksums(&HABITS),
        reference,
        "{backend}: resumed, as a fresh build"
    );
    assert_eq!(
        scratch_rows(&db),
        0,
        "{backend}: the scratch version was swapped in"
    );
}

/// A full rebuild stopped after three flushes while another process catches the live
/// version up: let go, the rebuild refuses to swap (it would lose what the other process
/// applied), says so in one line and exits non-zero; the live rows are those the catch-up
/// wrote. Run again, as the message says, the rebuild swaps in.
fn a_rebuild_is_not_swapped_in_over_a_live_version_another_process_moved(postgres: bool) {
    let (db, reference) = built_then_appended(postgres);
    let backend = db.backend();
    let full = FULL;
    let run = spawn_stopped_after_flushes(&db, &full);
    db.run(&["run", "--model", CHECKINS]).ok();
    let caught_up = db.checksum(CHECKINS);
    child::signal(&run, "CONT");
    let refused = finish(run);
    assert_eq!(refused.code, Some(1), "{backend}: {}", refused.stderr);
    let line = refused.error_line();
    assert!(
        line.contains("habits.checkins v1 was not replaced by its rebuild")
            && line.contains("readers keep the live rows"),
        "{backend}: {line}"
    );
    assert_eq!(
        db.checksum(CHECKINS),
        caught_up,
        "{backend}: the live rows are the catch-up's"
    );
    let status = db.run(&["--json", "status", "--model", CHECKINS]).json();
    let runs = status[0]["runs"].as_array().expect("runs");
    let rebuild = runs.iter().find(|run| run["full_rebuild"] == true);
    assert_eq!(
        rebuild.map(|run| &run["status"]),
        Some(&serde_json::json!("failed")),
        "{backend}: {status}"
    );
    db.run(&full).ok();
    assert_eq!(db.checksum(CHECKINS), reference[0], "{backend}");
    assert_eq!(scratch_rows(&db), 0, "{backend}: no scratch row is left");
}
