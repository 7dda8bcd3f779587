//! End-to-end: the `replay` binary against real SQLite files and a real PostgreSQL server.
//! Every scenario runs on both backends.

use readmodel_tests::bin;
use std::path::{Path, PathBuf};

use readmodel_tests::{on_both_backends, pg, replay, Db};

const MODELS: [&str; 3] = [
    "habits.checkins",
    "habits.monthly_completions",
    "habits.streaks",
];

/// The tables of [`MODELS`], in that order.
const TABLES: [&str; 3] = [
    "readmodels.habit_checkins",
    "readmodels.habit_monthly_completions",
    "readmodels.habit_streaks",
];

on_both_backends!(
    replaying_twice_gives_identical_checksums,
    catch_up_applies_only_new_events,
    unknown_model_is_one_clear_error,
    malformed_jsonl_names_the_line_and_imports_nothing,
    undecodable_payload_names_the_event_and_keeps_the_checkpoint,
    a_panicking_handler_fails_the_run_with_one_line,
);

/// An overflow on a hostile amount: the strict policy fails the run with one line; under
/// `--on-bad-event park` the event is parked with the panic message and its batch redone
/// without it (the panic struck mid-`modify`, after the row was taken out of its slot).
fn a_panicking_handler_fails_the_run_with_one_line(postgres: bool) {
    let db = &Db::new(postgres);
    let dir = tempfile::tempdir().expect("temp dir");
    let expense = |version: u32, transaction: &str, amount: i64| {
        format!(
            r#"{{"stream_id":"6f0c2a52-7d1b-4a53-9a4e-0a4b8f1a0c0{version}","event_version":1,"event_type":"finance.expense_recorded","schema_version":2,"user_id":"0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","occurred_at":"2026-03-01T07:30:00Z","payload":{{"transaction_id":"{transaction}","account_id":"5a0c2a52-7d1b-4a53-9a4e-0a4b8f1a0c01","category":"rent","amount_cents":{amount}}}}}"#
        )
    };
    let file = write_file(
        dir.path(),
        "huge.jsonl",
        &format!(
            "{}\n{}\n{}\n",
            expense(1, "7a0c2a52-7d1b-4a53-9a4e-0a4b8f1a0c01", 100),
            expense(2, "7a0c2a52-7d1b-4a53-9a4e-0a4b8f1a0c02", i64::MAX),
            expense(3, "7a0c2a52-7d1b-4a53-9a4e-0a4b8f1a0c03", 50),
        ),
    );
    db.run(&["import", "--file", &file.display().to_string()])
        .ok();
    let run = db.run(&["run", "--model", "finance.monthly_spend"]);
    let line = run.error_line();
    assert!(
        line.contains("the handler panicked on event 2 (finance.expense_recorded)"),
        "{line}"
    );
    assert!(line.contains("overflow"), "{line}");
    let sum = readmodel_tests::replay(
        &bin(),
        &db.url,
        &[
            "--json",
            "checksum",
            "--model",
            "finance.monthly_spend",
            "--allow-empty",
        ],
    )
    .json();
    assert_eq!(sum["rows"], 0, "the failed batch was written");

    let parked = db
        .run(&[
            "--json",
            "run",
            "--model",
            "finance.monthly_spend",
            "--on-bad-event",
            "park",
        ])
        .json();
    assert_eq!(parked[0]["status"], "succeeded", "{parked}");
    let letters = db
        .run(&["--json", "dead-letters", "--model", "finance.monthly_spend"])
        .json();
    let letters = letters.as_array().expect("array");
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["event_id"], 2);
    let reason = letters[0]["reason"].as_str().expect("a reason");
    assert!(
        reason.contains("panicked") && reason.contains("overflow"),
        "{reason}"
    );
    // Events 1 and 3 both count: the row event 2 had half-changed was rebuilt.
    let cast = if postgres { "::text" } else { "" };
    let row = readmodel_tests::query_texts(
        &db.url,
        &format!(
            "SELECT (spent_cents{cast} || ' ' || expenses{cast}) AS value \
             FROM readmodels.finance_monthly_spend"
        ),
    );
    assert_eq!(row, vec!["150 2".to_owned()]);

    // Read one event at a time, the row events 1 and 3 change is held between reads (a
    // pass flushes later): the redo after event 2's panic must start from it as event 1
    // left it, not from what the panic left of it.
    db.run(&[
        "run",
        "--model",
        "finance.monthly_spend",
        "--full",
        "--batch-size",
        "1",
        "--on-bad-event",
        "park",
    ])
    .ok();
    let again = readmodel_tests::query_texts(
        &db.url,
        &format!(
            "SELECT (spent_cents{cast} || ' ' || expenses{cast}) AS value \
             FROM readmodels.finance_monthly_spend"
        ),
    );
    assert_eq!(again, row, "parked and redone one event at a time");
}

fn replaying_twice_gives_identical_checksums(postgres: bool) {
    let db = &Db::new(postgres);
    db.run(&[
        "generate", "--users", "15", "--events", "4000", "--seed", "7",
    ])
    .ok();
    db.run(&["run", "--all", "--full"]).ok();
    let first = db.checksums(&MODELS);
    assert!(first.iter().all(|c| c.starts_with("sha256:")), "{first:?}");
    // Not vacuous: the digests cover every row the tables hold (and the digest itself is
    // checked against an independent oracle in cross_backend.rs and golden.rs).
    for (model, table) in MODELS.iter().zip(TABLES) {
        let sum = db.run(&["--json", "checksum", "--model", model]).json();
        let rows = db.count(&format!("{table} WHERE model_version = 1"));
        assert!(rows > 0, "{model} has no rows");
        assert_eq!(
            sum["rows"], rows,
            "{model}: checksum rows vs SELECT COUNT(*)"
        );
    }
    db.run(&["run", "--all", "--full"]).ok();
    assert_eq!(
        db.checksums(&MODELS),
        first,
        "a second full replay changed rows"
    );
    db.run(&["run", "--all"]).ok();
    assert_eq!(
        db.checksums(&MODELS),
        first,
        "running again without truncation changed rows"
    );
    let runs = db.run(&["--json", "run", "--all"]).json();
    for run in runs.as_array().expect("array") {
        assert_eq!(run["events_read"], 0, "catch-up re-read events: {run}");
    }
}

fn catch_up_applies_only_new_events(postgres: bool) {
    let db = &Db::new(postgres);
    db.run(&[
        "generate", "--users", "10", "--events", "3000", "--seed", "11",
    ])
    .ok();
    let half = db.head() / 2;
    let half_text = half.to_string();
    db.run(&["run", "--all", "--full", "--to", &half_text]).ok();
    assert_eq!(db.checkpoint("habits.streaks"), Some(half));
    db.run(&["run", "--all"]).ok();
    let incremental = db.checksums(&MODELS);
    db.run(&["run", "--all", "--full"]).ok();
    assert_eq!(
        db.checksums(&MODELS),
        incremental,
        "catch-up in two steps differs from one full replay"
    );
}

fn unknown_model_is_one_clear_error(postgres: bool) {
    let db = &Db::new(postgres);
    let run = db.run(&["run", "--model", "habits.nope"]);
    let line = run.error_line();
    assert!(line.contains("unknown model \"habits.nope\""), "{line}");
    assert!(
        line.contains("habits.streaks"),
        "the message lists the known models: {line}"
    );
    assert_eq!(run.code, Some(1));
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path
}

const GOOD_LINE: &str = r#"{"stream_id":"6f0c2a52-7d1b-4a53-9a4e-0a4b8f1a0c01","event_version":1,"event_type":"habits.unrelated","user_id":"0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","occurred_at":"2026-03-01T07:30:00Z","payload":{"x":1}}"#;

fn malformed_jsonl_names_the_line_and_imports_nothing(postgres: bool) {
    let db = &Db::new(postgres);
    let dir = tempfile::tempdir().expect("temp dir");
    let second = GOOD_LINE.replace("\"event_version\":1", "\"event_version\":2");
    let file = write_file(
        dir.path(),
        "events.jsonl",
        &format!("{GOOD_LINE}\n{second}\n{{\"stream_id\": oops}}\n"),
    );
    let run = db.run(&["import", "--file", &file.display().to_string()]);
    let line = run.error_line();
    assert!(
        line.contains("events.jsonl:3:"),
        "the message names line 3: {line}"
    );
    assert!(line.contains("nothing was imported"), "{line}");
    assert_eq!(db.head(), 0, "a failed import wrote events");

    let bad_uuid = GOOD_LINE.replace("0b1e2c3d-4e5f", "not-a-uuid");
    let file = write_file(
        dir.path(),
        "uuid.jsonl",
        &format!("{GOOD_LINE}\n{bad_uuid}\n"),
    );
    let line = db
        .run(&["import", "--file", &file.display().to_string()])
        .error_line()
        .to_owned();
    assert!(line.contains("uuid.jsonl:2:"), "{line}");
    assert_eq!(db.head(), 0);

    let file = write_file(
        dir.path(),
        "ok.jsonl",
        &format!("{GOOD_LINE}\n\n{second}\n"),
    );
    // `habits.unrelated` is declared by no event of the binary.
    let file = file.display().to_string();
    db.run(&["import", "--file", &file, "--allow-unknown-types"])
        .ok();
    assert_eq!(db.head(), 2);
}

fn undecodable_payload_names_the_event_and_keeps_the_checkpoint(postgres: bool) {
    let db = &Db::new(postgres);
    db.run(&["generate", "--users", "5", "--events", "800", "--seed", "3"])
        .ok();
    db.run(&["run", "--all", "--full"]).ok();
    let before = db.checksums(&MODELS);
    let checkpoint = db.checkpoint("habits.checkins");
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = GOOD_LINE
        .replace("habits.unrelated", "habits.checked_in")
        .replace("\"schema_version\":1,", "");
    let file = write_file(dir.path(), "bad.jsonl", &format!("{bad}\n"));
    db.run(&[
        "import",
        "--file",
        &file.display().to_string(),
        "--unchecked",
    ])
    .ok();
    let bad_id = db.head();
    let run = db.run(&["run", "--model", "habits.checkins"]);
    let line = run.error_line();
    assert!(
        line.contains(&format!("event {bad_id} (habits.checked_in")),
        "the message names the event id and type: {line}"
    );
    assert_eq!(
        db.checksums(&MODELS),
        before,
        "a failed replay changed rows"
    );
    assert_eq!(
        db.checkpoint("habits.checkins"),
        checkpoint,
        "a failed replay moved the checkpoint"
    );
    let status = db.run(&["--json", "status"]).json();
    let runs = status
        .as_array()
        .expect("array")
        .iter()
        .find(|s| s["model"] == "habits.checkins")
        .expect("model")["runs"]
        .clone();
    assert_eq!(runs[0]["status"], "failed", "{runs}");
}

#[test]
fn unreachable_databases_are_one_line_errors_without_passwords() {
    let missing_dir = "/nonexistent-readmodel-dir/events.db";
    let line = replay(&bin(), missing_dir, &["status"])
        .error_line()
        .to_owned();
    assert!(
        line.contains("cannot connect to /nonexistent-readmodel-dir/events.db"),
        "{line}"
    );

    let url =
        "postgres://app:hunter2@localhost:1/app?host=/nonexistent-socket-dir&connect_timeout=2";
    let line = replay(&bin(), url, &["status"]).error_line().to_owned();
    assert!(
        line.contains("cannot connect to postgres://app:***@localhost:1/app"),
        "{line}"
    );
    assert!(!line.contains("hunter2"), "the password leaked: {line}");
}

#[test]
fn postgres_must_be_migrated_before_use() {
    let url = pg::server().fresh_database();
    let line = replay(&bin(), &url, &["status"]).error_line().to_owned();
    assert!(line.contains("run `replay migrate` first"), "{line}");
}

#[test]
fn deleting_the_sqlite_readmodels_file_is_a_safe_reset() {
    let db = Db::new(false);
    db.run(&[
        "generate", "--users", "5", "--events", "1500", "--seed", "5",
    ])
    .ok();
    db.run(&["run", "--all", "--full"]).ok();
    let before = db.checksums(&MODELS);
    let readmodels = db.url.replace("events.db", "events.readmodels.db");
    std::fs::remove_file(&readmodels).expect("the read-model file exists");
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{readmodels}{suffix}"));
    }
    // A command that only reads names the missing file and leaves it missing; `migrate`
    // recreates it.
    let status = db.run(&["status"]);
    assert!(
        status
            .error_line()
            .contains("events.readmodels.db: does not exist"),
        "{}",
        status.stderr
    );
    db.run(&["migrate"]).ok();
    assert_eq!(
        db.checkpoint("habits.streaks"),
        None,
        "the reset kept a checkpoint"
    );
    db.run(&["run", "--all"]).ok();
    assert_eq!(
        db.checksums(&MODELS),
        before,
        "rebuilding after the reset gave other rows"
    );
    assert_eq!(db.head(), 1500, "the reset touched the event log");
}
