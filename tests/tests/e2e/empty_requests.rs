//! Requests for nothing are errors, or say so: a checksum of a version or a user without
//! rows, a drop of a version nothing records, zero users or batches; and `verify` after a
//! run that found no event gives an answer instead of advice that does not help.

use readmodel_tests::{on_both_backends, Db};

const STREAKS: &str = "habits.streaks";

on_both_backends!(
    checksums_and_drops_of_nothing_are_refused,
    zero_users_events_or_batches_are_usage_errors,
    verify_after_a_run_over_an_empty_log_answers,
);

fn checksums_and_drops_of_nothing_are_refused(postgres: bool) {
    let db = Db::seeded(postgres, "3", "300", "61");
    let sum = db.checksum(STREAKS);
    let stranger = "00000000-0000-4000-8000-00000000dead";
    let mut wrong = Vec::new();
    for (args, expected) in [
        (
            &["checksum", "--model", STREAKS, "--version", "99"][..],
            "error: habits.streaks v99 has no rows; nothing to checksum (--allow-empty prints the digest of no rows)".to_owned(),
        ),
        (
            &["checksum", "--model", STREAKS, "--user", stranger],
            format!("error: habits.streaks v1 user {stranger} has no rows; nothing to checksum (--allow-empty prints the digest of no rows)"),
        ),
        (
            &["drop", "--model", STREAKS, "--version", "99"],
            "error: habits.streaks has no version 99 to drop: no row, run or checkpoint records it; nothing was deleted".to_owned(),
        ),
    ] {
        let run = db.run(args);
        if run.code != Some(1) || run.stderr.trim_end() != expected {
            wrong.push(format!("{args:?}: exit {:?}: {}", run.code, run.stderr));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Asked for explicitly, the digest of no rows is an answer.
    let empty = db
        .run(&[
            "--json",
            "checksum",
            "--model",
            STREAKS,
            "--version",
            "99",
            "--allow-empty",
        ])
        .json();
    assert_eq!(empty["rows"], 0);
    assert_eq!(
        empty["digest"],
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(db.checksum(STREAKS), sum, "a refused drop changed rows");
}

fn zero_users_events_or_batches_are_usage_errors(postgres: bool) {
    let db = Db::new(postgres);
    let mut wrong = Vec::new();
    for (args, flag) in [
        (&["generate", "--users", "0"][..], "--users"),
        (&["generate", "--events", "0"], "--events"),
        (&["run", "--all", "--max-batches", "0"], "--max-batches"),
    ] {
        let run = db.run(args);
        let refused = format!("error: invalid value '0' for '{flag} ");
        if run.code != Some(2) || !run.stderr.starts_with(&refused) {
            wrong.push(format!("{args:?}: exit {:?}: {}", run.code, run.stderr));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(db.log_length(), 0);
    assert!(db.last_run(STREAKS).is_null(), "a refused run was recorded");
}

/// A run over an empty log succeeds without a checkpoint; `verify` then compares the live
/// rows with a rebuild from no event (a match) instead of asking for that run again. A
/// model never run is still told to run first, and that advice works.
fn verify_after_a_run_over_an_empty_log_answers(postgres: bool) {
    let db = Db::new(postgres);
    let never = db.run(&["verify", "--model", STREAKS]);
    assert!(
        never
            .error_line()
            .contains("it has never been replayed; run `replay run --model habits.streaks` first"),
        "{}",
        never.stderr
    );
    db.run(&["run", "--model", STREAKS]).ok();
    // A catch-up that found no event: `status` counts it rather than listing it.
    let status = db.run(&["--json", "status", "--model", STREAKS]).json();
    assert_eq!(status[0]["empty_catch_ups"], 1, "{status}");
    assert_eq!(db.checkpoint(STREAKS), None);
    let json = db.run(&["--json", "verify", "--model", STREAKS]).json();
    assert_eq!(json["checkpoint"], 0, "{json}");
    assert_eq!(json["live"]["rows"], 0, "{json}");
    assert_eq!(json["rebuilt"]["rows"], 0, "{json}");
}
