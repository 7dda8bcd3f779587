//! A run that builds a model from its start into a table with no row leaves out the
//! table's `(user_id, model_version)` index while it fills it and builds it when the run
//! ends, however it ends (`store::user_index`): finished, failed, or killed (the model's
//! next run builds it). A rebuild beside live rows keeps the index readers use.

use std::process::Child;

use readmodel_tests::child::{self, finish, spawn, wait_until};
use readmodel_tests::events::{event_line, stream, HABIT};
use readmodel_tests::{bin, execute_sql, on_both_backends, query_texts, Db, HABITS};

on_both_backends!(
    a_first_build_leaves_the_user_index_out_until_its_end,
    a_build_killed_without_its_user_index_gets_it_back_on_the_next_run,
    a_failed_build_builds_the_user_index_it_left_out,
    a_rebuild_beside_live_rows_keeps_the_user_index,
);

/// A reader's open transaction that has read the empty table would make PostgreSQL's
/// `DROP INDEX` wait for it, and every reader after it wait too: the build gives up
/// leaving the index out after a short wait and goes on with it.
#[test]
fn a_reader_holding_the_table_does_not_hold_a_first_build_postgres() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let db = log(true);
    let mut reader = diesel::PgConnection::establish(&db.url).expect("PostgreSQL connects");
    reader
        .batch_execute("BEGIN; SELECT COUNT(*) FROM readmodels.habit_checkins")
        .expect("the reader's transaction reads the table");
    let mut run = spawn(&bin(), &db.url, &run_args(&["--full"]), &[]);
    wait_until("the build ends while a reader holds the table", || {
        child::exited(&mut run)
    });
    let out = finish(run);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(user_indexes(&db), ALL, "the index was kept, or built back");
    reader.batch_execute("COMMIT").expect("the reader ends");
}

/// A table whose `autovacuum_enabled` was set by its owner keeps that setting through a
/// first build (only the deferral's own pause is undone).
#[test]
fn a_first_build_leaves_autovacuum_set_by_the_owner_alone_postgres() {
    let db = log(true);
    execute_sql(
        &db.url,
        "ALTER TABLE readmodels.habit_checkins SET (autovacuum_enabled = false)",
    );
    db.run(&run_args(&["--full"])).ok();
    assert_eq!(user_indexes(&db), ALL);
    assert_eq!(
        autovacuum_paused(&db),
        ["habit_checkins"],
        "the owner's setting stays; the build's own pause of habit_streaks is undone"
    );
}

/// A first build gathers the planner's statistics of the tables it filled before reading
/// them back for their checksums: without them PostgreSQL sorts every remaining row for
/// each keyset page. `last_analyze` is set by an `ANALYZE` only, never by autovacuum; the
/// model the runs leave alone is not analyzed.
#[test]
fn a_first_build_gathers_the_statistics_of_the_tables_it_filled_postgres() {
    let db = log(true);
    db.run(&run_args(&["--full"])).ok();
    let analyzed = || {
        query_texts(
            &db.url,
            "SELECT relname::text AS value FROM pg_stat_user_tables \
             WHERE schemaname = 'readmodels' AND relname LIKE 'habit%' \
             AND last_analyze IS NOT NULL ORDER BY 1",
        )
    };
    wait_until("the statistics are reported", || analyzed().len() >= 2);
    assert_eq!(analyzed(), ["habit_checkins", "habit_streaks"]);
}

/// The two models the runs of these tests rebuild; the third habits model is left alone.
const REBUILT: [&str; 2] = ["habits.checkins", "habits.streaks"];

/// Every habits table's user index, when all exist.
const ALL: [&str; 3] = [
    "habit_checkins_user",
    "habit_monthly_completions_user",
    "habit_streaks_user",
];

fn log(postgres: bool) -> Db {
    let db = Db::new(postgres);
    db.run(&[
        "generate", "--users", "20", "--events", "8000", "--seed", "41",
    ])
    .ok();
    db
}

/// `replay run` of [`REBUILT`], committing every batch of 200 events, then `extra`.
fn run_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["run"];
    for model in REBUILT {
        args.extend(["--model", model]);
    }
    args.extend(["--batch-size", "200", "--flush-seconds", "0"]);
    args.extend(extra);
    args
}

/// The user indexes of the habits tables, by name.
fn user_indexes(db: &Db) -> Vec<String> {
    let sql = if db.backend() == "postgres" {
        "SELECT indexname::text AS value FROM pg_indexes WHERE schemaname = 'readmodels' AND indexname LIKE 'habit%user' ORDER BY 1"
    } else {
        "SELECT name AS value FROM readmodels.sqlite_master WHERE type = 'index' AND name LIKE 'habit%user' ORDER BY 1"
    };
    query_texts(&db.url, sql)
}

/// The habits tables whose autovacuum a build paused (PostgreSQL; SQLite has none).
fn autovacuum_paused(db: &Db) -> Vec<String> {
    if db.backend() != "postgres" {
        return Vec::new();
    }
    query_texts(
        &db.url,
        "SELECT c.relname::text AS value FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'readmodels' AND c.relname LIKE 'habit%' \
         AND EXISTS (SELECT 1 FROM unnest(c.reloptions) AS o \
         WHERE lower(o) = 'autovacuum_enabled=false') ORDER BY 1",
    )
}

/// What [`autovacuum_paused`] gives while [`REBUILT`] fill empty tables.
fn paused_while_building(db: &Db) -> Vec<String> {
    match db.backend() {
        "postgres" => vec!["habit_checkins".to_owned(), "habit_streaks".to_owned()],
        _ => Vec::new(),
    }
}

/// Starts `replay ARGS` stopped after its third flush, and waits until it is.
fn spawn_stopped_after_flushes(db: &Db, args: &[&str]) -> Child {
    child::spawn_stopped_at(&bin(), &db.url, args, "flushed@3")
}

/// The checksums of [`HABITS`] built over the same log by runs that keep every index:
/// rebuilds beside the rows of a first build.
fn built_with_every_index(postgres: bool) -> Vec<String> {
    let db = log(postgres);
    for model in HABITS {
        db.run(&["run", "--model", model]).ok();
    }
    for model in HABITS {
        db.run(&["run", "--model", model, "--full"]).ok();
    }
    assert_eq!(user_indexes(&db), ALL, "{}: indexes kept", db.backend());
    db.checksums(&HABITS)
}

fn a_first_build_leaves_the_user_index_out_until_its_end(postgres: bool) {
    let reference = built_with_every_index(postgres);
    // A first catch-up builds from the start as `--full` does.
    for extra in [&[][..], &["--full"][..]] {
        let db = log(postgres);
        let backend = db.backend();
        assert_eq!(user_indexes(&db), ALL, "{backend}: migrated");
        let run = spawn_stopped_after_flushes(&db, &run_args(extra));
        assert_eq!(
            user_indexes(&db),
            ["habit_monthly_completions_user"],
            "{backend} {extra:?}: the rebuilt models' indexes are left out while they fill"
        );
        assert_eq!(
            autovacuum_paused(&db),
            paused_while_building(&db),
            "{backend} {extra:?}: autovacuum paused while they fill"
        );
        child::signal(&run, "CONT");
        let out = finish(run);
        assert_eq!(out.code, Some(0), "{backend} {extra:?}: {}", out.stderr);
        assert_eq!(
            user_indexes(&db),
            ALL,
            "{backend} {extra:?}: built at the end"
        );
        assert!(
            autovacuum_paused(&db).is_empty(),
            "{backend} {extra:?}: autovacuum resumed"
        );
        db.run(&["run", "--model", "habits.monthly_completions"])
            .ok();
        assert_eq!(
            db.checksums(&HABITS),
            reference,
            "{backend} {extra:?}: the same rows as builds that kept every index"
        );
    }
}

fn a_build_killed_without_its_user_index_gets_it_back_on_the_next_run(postgres: bool) {
    let db = log(postgres);
    let backend = db.backend();
    let run = spawn_stopped_after_flushes(&db, &run_args(&["--full"]));
    child::signal(&run, "KILL");
    assert_eq!(finish(run).code, None, "{backend}: killed by a signal");
    assert_eq!(
        user_indexes(&db),
        ["habit_monthly_completions_user"],
        "{backend}: the kill left the indexes out"
    );
    assert_eq!(autovacuum_paused(&db), paused_while_building(&db));
    db.run(&run_args(&["--resume"])).ok();
    assert_eq!(user_indexes(&db), ALL, "{backend}: the next run built them");
    assert!(
        autovacuum_paused(&db).is_empty(),
        "{backend}: and resumed autovacuum"
    );
    db.run(&["run", "--model", "habits.monthly_completions"])
        .ok();
    assert_eq!(
        db.checksums(&HABITS),
        built_with_every_index(postgres),
        "{backend}: the killed build, continued, gives the rows of an uninterrupted one"
    );
}

fn a_failed_build_builds_the_user_index_it_left_out(postgres: bool) {
    let db = log(postgres);
    let backend = db.backend();
    let s = stream(1);
    let bad = event_line(
        &s,
        1,
        "habits.checked_in",
        2,
        &format!(r#"{{"habit_id":"{HABIT}"}}"#),
    );
    db.import_unchecked("bad.jsonl", &[bad]).ok();
    let run = db.run(&run_args(&["--full"]));
    assert!(
        run.error_line().contains("missing field `day`"),
        "{backend}: {}",
        run.stderr
    );
    assert_eq!(
        user_indexes(&db),
        ALL,
        "{backend}: built when the run failed"
    );
    assert_eq!(
        db.last_run(REBUILT[0])["status"],
        "failed",
        "{backend}: {}",
        run.stderr
    );
}

fn a_rebuild_beside_live_rows_keeps_the_user_index(postgres: bool) {
    let db = log(postgres);
    let backend = db.backend();
    db.run(&run_args(&[])).ok();
    let run = spawn_stopped_after_flushes(&db, &run_args(&["--full"]));
    assert_eq!(
        user_indexes(&db),
        ALL,
        "{backend}: readers of the live rows keep their index"
    );
    child::signal(&run, "CONT");
    let out = finish(run);
    assert_eq!(out.code, Some(0), "{backend}: {}", out.stderr);
    assert_eq!(user_indexes(&db), ALL, "{backend}: still there");
}
