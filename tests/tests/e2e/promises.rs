//! Promises the README and docs/OPERATING.md make, each with a test that fails when the
//! promise is broken, on both backends where it applies: one run of a model at a time,
//! by-user runs write only that user's rows, `rebuild = "full"` models refuse partial runs,
//! `checksum --version`, dead letters that still fail are parked again, and PostgreSQL's
//! catch-up gives up (exit 1) when transactions below the head do not end.

use readmodel_tests::binary;
use std::process::{Child, Command, Stdio};

use readmodel_tests::events::{event_line, stream, HABIT, USER};
use readmodel_tests::{checksum, on_both_backends, Db};

/// The SHA-256 of nothing: the digest of a version without rows.
const EMPTY_DIGEST: &str =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

on_both_backends!(
    full_rebuild_models_refuse_user_and_range_runs,
    a_by_user_run_refuses_to_write_another_users_row,
    checksum_version_reads_the_version_asked_for,
    dead_letters_that_still_fail_are_parked_again_on_retry,
    a_second_concurrent_run_of_a_model_is_refused,
);

/// A database with the test models' tables and a notes log of `users` users.
fn notes_db(postgres: bool, users: &str, events: &str) -> Db {
    let db = Db::new(postgres);
    db.with(&binary("replay-promises"), &["migrate"]).ok();
    db.with(
        &binary("replay-promises"),
        &[
            "generate", "--users", users, "--events", events, "--seed", "4",
        ],
    )
    .ok();
    db
}

fn full_rebuild_models_refuse_user_and_range_runs(postgres: bool) {
    let db = notes_db(postgres, "3", "60");
    let promises = binary("replay-promises");
    db.with(&promises, &["run", "--model", "test.full_only"])
        .ok();
    let before = checksum(&promises, &db.url, "test.full_only");
    let user = db.users()[0].clone();
    let expected = "error: cannot replay test.full_only that way: it declares rebuild = \"full\": \
        only `replay run --model test.full_only --full` or a catch-up \
        `replay run --model test.full_only` are valid";
    for partial in [["--user", user.as_str()], ["--from", "5"]] {
        let mut args = vec!["run", "--model", "test.full_only"];
        args.extend(partial);
        let run = db.with(&promises, &args);
        assert_eq!(run.error_line(), expected, "{partial:?}");
        assert_eq!(run.code, Some(1));
    }
    assert_eq!(checksum(&promises, &db.url, "test.full_only"), before);
    // What the message offers does work.
    db.with(&promises, &["run", "--model", "test.full_only", "--full"])
        .ok();
    assert_eq!(checksum(&promises, &db.url, "test.full_only"), before);
}

fn a_by_user_run_refuses_to_write_another_users_row(postgres: bool) {
    let db = notes_db(postgres, "3", "60");
    let promises = binary("replay-promises");
    db.with(&promises, &["run", "--model", "test.team_totals"])
        .ok();
    let before = db
        .with(
            &promises,
            &["--json", "checksum", "--model", "test.team_totals"],
        )
        .json();
    // Three users and the team row.
    assert_eq!(before["rows"], 4, "{before}");
    let user = db.users()[1].clone();
    // Every row but the user's: the team row and the other users'.
    let others = |db: &Db| {
        readmodel_tests::query_texts(
            &db.url,
            &format!(
                "SELECT {} AS value FROM readmodels.test_team_totals \
                 WHERE model_version = 1 AND user_id <> '{user}' ORDER BY value",
                if db.postgres {
                    "user_id::text || ':' || words::text"
                } else {
                    "user_id || ':' || words"
                }
            ),
        )
    };
    let others_before = others(&db);
    assert_eq!(others_before.len(), 3, "{others_before:?}");
    assert!(
        others_before[0].starts_with("00000000-0000-0000-0000-000000000000:"),
        "{others_before:?}"
    );
    let run = db.with(
        &promises,
        &["run", "--model", "test.team_totals", "--user", &user],
    );
    assert_eq!(
        run.error_line(),
        format!(
            "error: model test.team_totals: rebuilding user {user} produced a row of another \
             user (key 00000000-0000-0000-0000-000000000000); this model cannot be rebuilt by \
             user, use --full"
        )
    );
    assert_eq!(
        others(&db),
        others_before,
        "the refused run changed other rows"
    );
    // Nothing half-written: the user's own row is still there too, exactly as before.
    let after = db
        .with(
            &promises,
            &["--json", "checksum", "--model", "test.team_totals"],
        )
        .json();
    assert_eq!(after, before, "the refused run changed the user's own rows");
    // What the message offers does work.
    db.with(&promises, &["run", "--model", "test.team_totals", "--full"])
        .ok();
    let rebuilt = db
        .with(
            &promises,
            &["--json", "checksum", "--model", "test.team_totals"],
        )
        .json();
    assert_eq!(rebuilt, before);
}

fn checksum_version_reads_the_version_asked_for(postgres: bool) {
    let db = &Db::new(postgres);
    db.with(&binary("replay-notes-v1"), &["migrate"]).ok();
    db.with(
        &binary("replay-notes-v1"),
        &["generate", "--users", "4", "--events", "200", "--seed", "8"],
    )
    .ok();
    let sum = |name: &str, version: Option<&str>| {
        let mut args = vec![
            "--json",
            "checksum",
            "--model",
            "test.notes",
            "--allow-empty",
        ];
        if let Some(v) = version {
            args.extend(["--version", v]);
        }
        let json = db
            .with(&binary(&format!("replay-notes-{name}")), &args)
            .json();
        (
            json["version"].as_i64().expect("version"),
            json["rows"].as_u64().expect("rows"),
            json["digest"].as_str().expect("digest").to_owned(),
        )
    };
    db.with(
        &binary("replay-notes-v1"),
        &["run", "--model", "test.notes", "--full"],
    )
    .ok();
    let v1 = sum("v1", None);
    assert_eq!((v1.0, v1.1), (1, 4), "{v1:?}");
    // Before version 2 is built, asking for it (with --allow-empty) hashes no rows.
    assert_eq!(sum("v1", Some("2")), (2, 0, EMPTY_DIGEST.to_owned()));

    db.with(
        &binary("replay-notes-v2"),
        &["run", "--model", "test.notes", "--full"],
    )
    .ok();
    let v2 = sum("v2", None);
    assert_eq!((v2.0, v2.1), (2, 4), "{v2:?}");
    // Version 2 scores words double: same rows, another digest.
    assert_ne!(v2.2, v1.2);
    assert_eq!(sum("v2", Some("1")), v1, "version 1 read by the v2 binary");
    assert_eq!(sum("v1", Some("2")), v2, "version 2 read by the v1 binary");
    assert_eq!(sum("v1", Some("1")), v1);
    assert_eq!(db.count("readmodels.test_notes WHERE model_version = 2"), 4);
}

fn dead_letters_that_still_fail_are_parked_again_on_retry(postgres: bool) {
    let db = Db::seeded(postgres, "4", "400", "6");
    let checkins = "habits.checkins";
    let s = stream(3);
    db.import_unchecked(
        "bad.jsonl",
        &[
            event_line(
                &s,
                1,
                "habits.checked_in",
                2,
                &format!(r#"{{"habit_id":"{HABIT}"}}"#),
            ),
            event_line(
                &s,
                2,
                "habits.checked_in",
                2,
                &format!(r#"{{"habit_id":"{HABIT}","day":"2026-03-04"}}"#),
            ),
        ],
    )
    .ok();
    let head = db.head();
    let bad = head - 1;
    db.run(&["run", "--model", checkins, "--on-bad-event", "park"])
        .ok();
    let parked = db
        .run(&["--json", "dead-letters", "--model", checkins])
        .json();
    let rows = db.checksum(checkins);

    // Nothing fixed: the retry rebuilds, parks the event again, and says none applies.
    let retried = db
        .run(&["dead-letters", "--model", checkins, "--retry"])
        .ok()
        .to_owned();
    assert!(
        retried.contains("rebuilt habits.checkins: 0 parked event(s) now apply"),
        "{retried}"
    );
    let again = db
        .run(&["--json", "dead-letters", "--model", checkins])
        .json();
    let again = again.as_array().expect("an array");
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0]["event_id"], bad);
    assert_eq!(again[0]["reason"], parked[0]["reason"]);
    assert!(
        again[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("missing field `day`")),
        "{again:?}"
    );
    assert_eq!(db.checksum(checkins), rows, "the rebuild changed rows");
    assert_eq!(db.checkpoint(checkins), Some(head));
    // A plain strict run still stops at nothing: the model is past the parked event.
    db.run(&["run", "--model", checkins]).ok();
}

fn spawn(db: &Db, args: &[&str]) -> Child {
    Command::new(binary("replay-e2e"))
        .arg("--database-url")
        .arg(&db.url)
        .arg("--quiet")
        .args(args)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the replay binary starts")
}

fn a_second_concurrent_run_of_a_model_is_refused(postgres: bool) {
    let db = Db::new(postgres);
    db.run(&[
        "generate", "--users", "10", "--events", "6000", "--seed", "12",
    ])
    .ok();
    let model = "habits.checkins";
    // Tiny batches, each written and committed at once (`--flush-seconds 0`), keep the
    // first run busy for many transactions.
    let first = spawn(
        &db,
        &[
            "run",
            "--model",
            model,
            "--full",
            "--batch-size",
            "2",
            "--flush-seconds",
            "0",
        ],
    );
    while db.checkpoint(model).is_none_or(|c| c == 0) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let second = spawn(
        &db,
        &[
            "run",
            "--model",
            model,
            "--batch-size",
            "2",
            "--flush-seconds",
            "0",
        ],
    );
    let outputs = [first, second].map(|c| c.wait_with_output().expect("the run ends"));
    let failed: Vec<String> = outputs
        .iter()
        .filter(|o| !o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_owned())
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "exactly one of two concurrent runs must be refused: {failed:?}"
    );
    let line = &failed[0];
    let prefix = format!("error: another run of {model} moved its checkpoint from ");
    let suffix = " while this run was applying events; this run stopped without writing its \
        batch (run one replay per model at a time)";
    assert!(
        line.starts_with(&prefix) && line.ends_with(suffix) && !line.contains('\n'),
        "{line}"
    );
    let moved: Vec<i64> = line[prefix.len()..line.len() - suffix.len()]
        .split(" to ")
        .map(|n| n.parse().expect("a checkpoint"))
        .collect();
    assert!(moved[1] > moved[0], "{line}");
    // What the survivor left is what an uninterrupted rebuild writes.
    db.run(&["run", "--model", model]).ok();
    let survived = db.checksum(model);
    db.run(&["run", "--model", model, "--full"]).ok();
    assert_eq!(db.checksum(model), survived);
}

/// Runs `replay` with the settle timeout set in its environment.
fn run_with_timeout(db: &Db, timeout: &str, args: &[&str]) -> readmodel_tests::Run {
    let output = Command::new(binary("replay-e2e"))
        .arg("--database-url")
        .arg(&db.url)
        .arg("--quiet")
        .args(args)
        .env_remove("DATABASE_URL")
        .env("READMODEL_SETTLE_TIMEOUT_SECS", timeout)
        .output()
        .expect("the replay binary runs");
    readmodel_tests::Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn postgres_catch_up_exits_1_while_a_writer_holds_an_event_id_open() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;

    let db = Db::new(true);
    db.run(&["generate", "--users", "3", "--events", "300", "--seed", "2"])
        .ok();
    let model = "habits.checkins";
    let bad = run_with_timeout(&db, "soon", &["run", "--model", model]);
    assert_eq!(
        bad.error_line(),
        "error: READMODEL_SETTLE_TIMEOUT_SECS=\"soon\" is not a whole number of seconds"
    );

    // A writer that took an event id before the run: it could still commit an event below
    // the head, so the run must neither read past it nor wait forever.
    let head = db.head();
    let mut holder = diesel::PgConnection::establish(&db.url).expect("PostgreSQL connects");
    holder
        .batch_execute(&format!(
            "BEGIN; INSERT INTO event_record (stream_id, event_version, event_type, schema_version, user_id, occurred_at, payload) \
             VALUES ('7e570001-0000-4000-8000-000000000000', 1, 'habits.checked_in', 2, '{USER}', now(), \
             '{{\"habit_id\":\"{HABIT}\",\"day\":\"2026-03-01\"}}');"
        ))
        .expect("the transaction takes an event id");
    let run = run_with_timeout(&db, "1", &["run", "--model", model]);
    let line = run.error_line();
    assert_eq!(run.code, Some(1));
    let allocated = head + 1;
    assert!(
        line.starts_with(&format!(
            "error: 1 transaction(s) that took event ids up to {allocated} are still open after 1s (the oldest: backend pid "
        )) && line.ends_with(&format!(
            "events up to {allocated} may still commit, so the log is not read up to it yet: commit or end those transactions, or raise READMODEL_SETTLE_TIMEOUT_SECS"
        )),
        "{line}"
    );
    assert_eq!(
        db.checkpoint(model),
        None,
        "the refused run moved a checkpoint"
    );
    assert_eq!(db.count("readmodels.habit_checkins"), 0);

    holder.batch_execute("ROLLBACK").expect("rollback");
    run_with_timeout(&db, "1", &["run", "--model", model]).ok();
    // The rolled-back id will never appear: the run reaches it.
    assert_eq!(db.checkpoint(model), Some(allocated));
    assert_eq!(db.head(), head);
}
