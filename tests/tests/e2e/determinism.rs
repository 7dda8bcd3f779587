//! The runtime's determinism check, which needs no second replay: every event applied
//! twice to copies of its rows. A handler that depends on hidden state (a counter behind a
//! function of another module, which the compile-time scan cannot see) fails
//! `run --check-determinism`, `verify` and `testing::InMemory` with one line naming the
//! model, the event and the first differing column; deterministic models pass, on both
//! backends.

use readmodel_tests::binary;

use readmodel_tests::{checksum, on_both_backends, Db};

const NOTES: &str = "test.notes";

on_both_backends!(
    a_drifting_handler_fails_run_check_determinism_and_verify_with_one_line,
    every_lifeos_model_passes_the_check_and_builds_the_same_rows,
);

fn assert_names_the_drift(line: &str) {
    assert!(line.contains("test.notes is not deterministic"), "{line}");
    assert!(line.contains("event 1 (test.note_written)"), "{line}");
    assert!(line.contains("column score"), "{line}");
}

fn a_drifting_handler_fails_run_check_determinism_and_verify_with_one_line(postgres: bool) {
    let db = Db::new(postgres);
    let (drifting, steady) = (binary("replay-notes-drifting"), binary("replay-notes-v1"));
    db.with(&steady, &["migrate"]).ok();
    db.with(
        &steady,
        &["generate", "--users", "3", "--events", "60", "--seed", "4"],
    )
    .ok();

    // The drifting handler fails the checked run at its first event, writing nothing.
    let run = db.with(&drifting, &["run", "--model", NOTES, "--check-determinism"]);
    assert_eq!(run.code, Some(1));
    assert_names_the_drift(run.error_line());
    assert_eq!(db.count("readmodels.test_notes"), 0, "rows were written");
    assert_eq!(
        db.with(&steady, &["--json", "status", "--model", NOTES])
            .json()[0]["checkpoint"],
        serde_json::Value::Null
    );

    // A deterministic handler passes the check, and the check changes no row.
    db.with(&steady, &["run", "--model", NOTES, "--check-determinism"])
        .ok();
    let built = checksum(&steady, &db.url, NOTES);
    db.with(&steady, &["run", "--model", NOTES, "--full"]).ok();
    assert_eq!(checksum(&steady, &db.url, NOTES), built);
    db.with(&steady, &["verify", "--model", NOTES]).ok();

    // …though an unchecked run of it goes through: only the check sees the drift…
    db.with(&drifting, &["run", "--model", NOTES, "--full"])
        .ok();
    assert_ne!(checksum(&steady, &db.url, NOTES), built);
    // …and `verify` checks by default.
    let verify = db.with(&drifting, &["verify", "--model", NOTES]);
    assert_eq!(verify.code, Some(1));
    assert_names_the_drift(verify.error_line());
}

/// Every LifeOS model passes `run --all --check-determinism`, and the checked run builds
/// exactly the rows of an unchecked one.
fn every_lifeos_model_passes_the_check_and_builds_the_same_rows(postgres: bool) {
    let db = Db::new(postgres);
    db.run(&[
        "generate", "--users", "6", "--events", "3000", "--seed", "9",
    ])
    .ok();
    let checked = db
        .run(&[
            "--json",
            "run",
            "--all",
            "--check-determinism",
            "--batch-size",
            "500",
        ])
        .json();
    let models: Vec<String> = checked
        .as_array()
        .expect("reports")
        .iter()
        .map(|r| r["model"].as_str().expect("model").to_owned())
        .collect();
    assert!(models.len() >= 19, "{models:?}");
    let names: Vec<&str> = models.iter().map(String::as_str).collect();
    let sums = db.checksums(&names);
    db.run(&["run", "--all", "--full"]).ok();
    assert_eq!(db.checksums(&names), sums);
}
