//! A model's code changed without a version bump: the rows of a version are built by one
//! code fingerprint. A catch-up by other code is refused with one line naming the three
//! ways out; `run --full` and `verify --accept` (when the rows are the same) clear it;
//! `verify --accept` of a change that alters rows refuses and records nothing.
//!
//! Binaries of `test.notes` version 1: `replay-notes-v1` (a note scores its words),
//! `replay-notes-v1-refactored` (the handler rewritten, the same rows) and
//! `replay-notes-v1-rescored` (words score triple: other rows).

use std::path::{Path, PathBuf};

use readmodel_tests::{binary, checksum, on_both_backends, Db, Run};

const NOTES: &str = "test.notes";

on_both_backends!(
    a_changed_handler_is_refused_until_rebuilt_or_accepted,
    a_full_rebuild_records_its_code_when_it_deletes_the_rows,
);

struct Binaries {
    v1: PathBuf,
    refactored: PathBuf,
    rescored: PathBuf,
}

fn binaries() -> Binaries {
    Binaries {
        v1: binary("replay-notes-v1"),
        refactored: binary("replay-notes-v1-refactored"),
        rescored: binary("replay-notes-v1-rescored"),
    }
}

/// A binary's fingerprint of `test.notes`, as `describe --json` prints it.
fn fingerprint(db: &Db, bin: &Path) -> String {
    let json = db.with(bin, &["--json", "describe", NOTES]).json();
    json["fingerprint"]
        .as_str()
        .expect("a fingerprint")
        .to_owned()
}

/// The fingerprint recorded for the version `bin` declares, as `status --json` shows it.
fn recorded(db: &Db, bin: &Path) -> Option<String> {
    let json = db.with(bin, &["--json", "status", "--model", NOTES]).json();
    json[0]["recorded_fingerprint"].as_str().map(str::to_owned)
}

/// The one line a catch-up by `ours` over rows built by `theirs` is refused with.
fn refusal(theirs: &str, ours: &str) -> String {
    format!(
        "error: {NOTES} v1 was built by other code (fingerprint {theirs}; this binary's is {ours}): bump `version` to build this code beside it, rebuild its rows with this code with `replay run --model {NOTES} --full`, or, if the change leaves rows as they are, prove it with `replay verify --model {NOTES} --accept`"
    )
}

fn assert_refused(run: &Run, line: &str) {
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert_eq!(run.error_line(), line);
}

/// A database with notes and `test.notes` v1 built by `replay-notes-v1`.
fn built_by_v1(postgres: bool, b: &Binaries) -> Db {
    let db = Db::new(postgres);
    db.with(&b.v1, &["migrate"]).ok();
    db.with(
        &b.v1,
        &[
            "generate", "--users", "5", "--events", "300", "--seed", "21",
        ],
    )
    .ok();
    db.with(&b.v1, &["run", "--all"]).ok();
    db
}

fn a_changed_handler_is_refused_until_rebuilt_or_accepted(postgres: bool) {
    let b = binaries();
    let db = built_by_v1(postgres, &b);
    let (v1, refactored, rescored) = (
        fingerprint(&db, &b.v1),
        fingerprint(&db, &b.refactored),
        fingerprint(&db, &b.rescored),
    );
    assert!(v1 != refactored && v1 != rescored && refactored != rescored);
    assert_eq!(recorded(&db, &b.v1).as_deref(), Some(v1.as_str()));
    let built = checksum(&b.v1, &db.url, NOTES);
    db.with(
        &b.v1,
        &["generate", "--users", "5", "--events", "40", "--seed", "22"],
    )
    .ok();

    // Every catch-up by the changed binary is refused before it writes anything.
    let line = refusal(&v1, &rescored);
    let mut catch_ups: Vec<&[&str]> = vec![
        &["run", "--all"],
        &["run", "--model", NOTES],
        &["run", "--model", NOTES, "--resume"],
        &[
            "run",
            "--model",
            NOTES,
            "--full",
            "--user",
            "00000000-0000-0015-0000-000000000001",
        ],
        &["follow", "--all"],
    ];
    if postgres {
        catch_ups.push(&["worker", "--all", "--exit-when-caught-up"]);
        catch_ups.push(&["run", "--all", "--workers", "2"]);
    }
    for args in catch_ups {
        assert_refused(&db.with(&b.rescored, args), &line);
    }
    assert_eq!(
        checksum(&b.v1, &db.url, NOTES),
        built,
        "a refused run wrote rows"
    );
    let status = db.with(&b.rescored, &["status", "--model", NOTES]);
    assert!(
        status.ok().contains(&format!(
            "built by other code: fingerprint {v1}, this binary's is {rescored}"
        )),
        "{}",
        status.stdout
    );

    // A change that alters rows cannot be accepted, and nothing is recorded.
    let run = db.with(&b.rescored, &["verify", "--model", NOTES, "--accept"]);
    assert!(run.error_line().starts_with(&format!(
        "error: {NOTES} v1 is not what this binary rebuilds (first differing key: "
    )));
    assert!(run.error_line().ends_with(&format!("this binary's code changes the rows, so its fingerprint was not recorded; bump `version` to build it beside the live rows, or rebuild its rows with this code with `replay run --model {NOTES} --full`")));
    assert_eq!(recorded(&db, &b.v1).as_deref(), Some(v1.as_str()));
    assert_refused(&db.with(&b.rescored, &["run", "--all"]), &line);

    // A refactor is: verify --accept records its fingerprint, and it catches up.
    assert_refused(
        &db.with(&b.refactored, &["run", "--all"]),
        &refusal(&v1, &refactored),
    );
    db.with(&b.refactored, &["verify", "--model", NOTES, "--accept"])
        .ok();
    assert_eq!(recorded(&db, &b.v1).as_deref(), Some(refactored.as_str()));
    db.with(&b.refactored, &["run", "--all"]).ok();
    // The binary that built the rows is now the other code.
    assert_refused(
        &db.with(&b.v1, &["run", "--all"]),
        &refusal(&refactored, &v1),
    );
    let caught_up = checksum(&b.v1, &db.url, NOTES);

    // A full rebuild clears it, recording its own code.
    db.with(&b.rescored, &["run", "--model", NOTES, "--full"])
        .ok();
    assert_eq!(recorded(&db, &b.v1).as_deref(), Some(rescored.as_str()));
    assert_ne!(checksum(&b.v1, &db.url, NOTES), caught_up);
    db.with(&b.rescored, &["run", "--all"]).ok();
    assert_refused(&db.with(&b.v1, &["run", "--all"]), &refusal(&rescored, &v1));
    // And so does `verify --accept` by the code that matches the rows.
    db.with(&b.v1, &["run", "--model", NOTES, "--full"]).ok();
    assert_eq!(checksum(&b.v1, &db.url, NOTES), caught_up);
    db.with(&b.refactored, &["verify", "--model", NOTES, "--accept"])
        .ok();
    db.with(&b.refactored, &["run", "--all"]).ok();
}

/// The new code is recorded in the transaction that deletes the rows: a `--full` refused
/// before it deletes anything records nothing, and one stopped after deleting them has
/// recorded its code (the old binary may not catch up the half-rebuilt rows; the new one
/// may resume).
fn a_full_rebuild_records_its_code_when_it_deletes_the_rows(postgres: bool) {
    let b = binaries();
    let db = built_by_v1(postgres, &b);
    let (v1, rescored) = (fingerprint(&db, &b.v1), fingerprint(&db, &b.rescored));

    let refused = db.with(
        &b.rescored,
        &["run", "--model", NOTES, "--full", "--from", "5"],
    );
    assert!(
        refused
            .error_line()
            .contains("a full rebuild must start at its replay_start_version"),
        "{}",
        refused.stderr
    );
    assert_eq!(recorded(&db, &b.v1).as_deref(), Some(v1.as_str()));
    assert_refused(
        &db.with(&b.rescored, &["run", "--all"]),
        &refusal(&v1, &rescored),
    );

    db.with(
        &b.rescored,
        &[
            "run",
            "--model",
            NOTES,
            "--full",
            "--batch-size",
            "50",
            "--max-batches",
            "1",
        ],
    )
    .ok();
    // Readers use v1: the stopped rebuild wrote beside its rows, which v1's code built.
    assert_eq!(recorded(&db, &b.v1).as_deref(), Some(v1.as_str()));
    db.with(&b.rescored, &["run", "--model", NOTES, "--resume"])
        .ok();
    assert_eq!(recorded(&db, &b.v1).as_deref(), Some(rescored.as_str()));
    assert_refused(&db.with(&b.v1, &["run", "--all"]), &refusal(&rescored, &v1));
    let resumed = checksum(&b.v1, &db.url, NOTES);
    db.with(&b.rescored, &["run", "--model", NOTES, "--full"])
        .ok();
    assert_eq!(checksum(&b.v1, &db.url, NOTES), resumed);
}
