//! A matrix of bad inputs, on both backends: one `error:` line each, a non-zero exit,
//! nothing lost or half-written.

use readmodel_tests::bin;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use readmodel_tests::events::{check_in_payload, event_line, stream, HABIT};
use readmodel_tests::{execute_sql, on_both_backends, replay, Db, Run, HABITS};

const CHECKINS: &str = "habits.checkins";
const STREAKS: &str = "habits.streaks";

on_both_backends!(
    import_line_errors_name_the_line_and_import_nothing,
    unknown_event_types_are_ignored_by_every_habits_model,
    unknown_schema_version_stops_the_run_naming_it,
    payload_missing_a_field_stops_the_run_naming_it,
    replay_bounds_out_of_range_are_refused,
    unknown_model_and_unknown_user_are_one_line_errors,
    missing_readmodels_table_names_it_and_says_migrate,
    missing_unique_index_is_refused_before_writing,
    import_conflicting_with_the_log_imports_nothing,
    import_refuses_events_that_do_not_decode_naming_line_type_and_reason,
);

/// Beyond the malformed-JSON and bad-user_id lines of e2e.rs: each bad line is reported
/// with its file and line number, and nothing of the file is imported.
fn import_line_errors_name_the_line_and_import_nothing(postgres: bool) {
    let db = Db::seeded(postgres, "2", "100", "8");
    let before = db.log_length();
    let s = stream(2);
    let good = |v| {
        event_line(
            &s,
            v,
            "habits.checked_in",
            2,
            &check_in_payload(HABIT, "2026-03-01"),
        )
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "stream_id is not a UUID",
            good(3).replace(&s, "7e57-not-a-uuid"),
            "invalid",
        ),
        (
            "occurred_at is missing",
            good(3).replace(r#""occurred_at":"2026-03-01T07:30:00Z","#, ""),
            "missing field `occurred_at`",
        ),
        (
            "occurred_at is not a timestamp",
            good(3).replace("2026-03-01T07:30:00Z", "yesterday"),
            "invalid",
        ),
        (
            "event_version is 0",
            good(3).replace(r#""event_version":3"#, r#""event_version":0"#),
            "event_version must be 1 or more",
        ),
        (
            "schema_version is 0",
            good(3).replace(r#""schema_version":2"#, r#""schema_version":0"#),
            "schema_version must be 1 or more",
        ),
        (
            "event_type is empty",
            good(3).replace("habits.checked_in", " "),
            "event_type is empty",
        ),
        ("not an object", "[1, 2, 3]".to_owned(), "invalid event"),
    ];
    for (what, bad, expected) in cases {
        let run = db.import("lines.jsonl", &[good(1), good(2), bad, good(4)]);
        let line = run.error_line();
        assert_eq!(run.code, Some(1), "{what}");
        assert!(line.contains("lines.jsonl:3:"), "{what}: {line}");
        assert!(line.contains(expected), "{what}: {line}");
        assert!(line.contains("nothing was imported"), "{what}: {line}");
        assert_eq!(db.log_length(), before, "{what}: events were imported");
    }
}

/// `import` decodes every event of a type some model consumes (upcasting older schema
/// versions): one that does not decode refuses the file with one line naming the line,
/// the type and the reason, and the log is unchanged. Types no model consumes are
/// imported and counted; `--unchecked` skips the check.
fn import_refuses_events_that_do_not_decode_naming_line_type_and_reason(postgres: bool) {
    let db = Db::seeded(postgres, "2", "100", "12");
    let before = db.log_length();
    let s = stream(6);
    let check_in =
        |v, schema, payload: &str| event_line(&s, v, "habits.checked_in", schema, payload);
    let good = |v| check_in(v, 2, &check_in_payload(HABIT, "2026-03-01"));
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "unknown schema_version",
            check_in(3, 9, &check_in_payload(HABIT, "2026-03-01")),
            &["unknown schema_version 9"],
        ),
        (
            "payload missing a field",
            check_in(3, 2, &format!(r#"{{"habit_id":"{HABIT}"}}"#)),
            &["missing field `day`"],
        ),
        (
            "payload field that does not parse",
            check_in(3, 2, &check_in_payload("not-a-uuid", "2026-03-01")),
            &["payload does not match"],
        ),
        (
            "an old schema version the upcast refuses",
            check_in(
                3,
                1,
                &format!(r#"{{"habit_id":"{HABIT}","date":"2026-03-01","day":"2026-03-01"}}"#),
            ),
            &["has both `date` and `day`"],
        ),
    ];
    for (what, bad, expected) in cases {
        let run = db.import("decode.jsonl", &[good(1), good(2), bad, good(4)]);
        assert_eq!(run.code, Some(1), "{what}");
        let line = run.error_line();
        assert!(line.contains("decode.jsonl:3:"), "{what}: {line}");
        assert!(
            line.contains("event type habits.checked_in does not decode"),
            "{what}: {line}"
        );
        for text in expected {
            assert!(line.contains(text), "{what}: {line}");
        }
        assert!(line.contains("nothing was imported"), "{what}: {line}");
        assert_eq!(db.log_length(), before, "{what}: events were imported");
    }

    // Upcast old versions decode; types no code declares are imported when allowed, and
    // counted.
    let lines = [
        good(1),
        check_in(
            2,
            1,
            &format!(r#"{{"habit_id":"{HABIT}","date":"2026-03-02"}}"#),
        ),
        event_line(&s, 3, "lifeos.never_heard_of", 3, r#"{"anything":true}"#),
    ];
    let path = db.scratch().join("mixed.jsonl");
    std::fs::write(&path, lines.join("\n")).expect("write");
    let path = path.display().to_string();
    let summary = db
        .run(&["--json", "import", "--file", &path, "--allow-unknown-types"])
        .json();
    assert_eq!(summary["imported"], 3, "{summary}");
    assert_eq!(summary["unconsumed"], 1, "{summary}");
    assert_eq!(db.log_length(), before + 3);
    let text = db.import_with(
        "other.jsonl",
        &[event_line(&s, 4, "lifeos.never_heard_of", 1, "{}")],
        &["--allow-unknown-types"],
    );
    assert!(
        text.ok().contains(
            "imported 1 events (1 of types no model consumes; 1 of types no event of this binary declares"
        ),
        "{}",
        text.stdout
    );

    // --unchecked imports what does not decode, and says it did not check.
    let unchecked = db.import_unchecked("v9.jsonl", &[check_in(5, 9, "{}")]);
    assert!(
        unchecked.ok().contains("without checking"),
        "{}",
        unchecked.stdout
    );
    assert_eq!(db.log_length(), before + 5);
}

/// `import` checks every type some model consumes, not only the habits': for each type
/// `list` names, a line whose payload is a number (no event's shape) is refused with the
/// line naming the type, and nothing is imported. Skipping any one type's check fails.
#[test]
fn import_checks_every_consumed_event_type() {
    let db = Db::new(false);
    let listed = db.run(&["--json", "list"]).json();
    let mut types: Vec<String> = listed
        .as_array()
        .expect("models")
        .iter()
        .flat_map(|model| model["consumed_events"].as_array().expect("types").clone())
        .map(|t| t.as_str().expect("a type").to_owned())
        .collect();
    types.sort();
    types.dedup();
    assert!(types.len() >= 10, "{types:?}");
    for (n, event_type) in types.iter().enumerate() {
        let line = event_line(&stream(100 + n as u32), 1, event_type, 1, "42");
        let run = db.import("one.jsonl", &[line]);
        assert_eq!(run.code, Some(1), "{event_type}: {}", run.stdout);
        let error = run.error_line();
        assert!(
            error.contains(&format!(
                "one.jsonl:1: event type {event_type} does not decode"
            )),
            "{event_type}: {error}"
        );
        assert_eq!(db.log_length(), 0, "{event_type} was imported");
    }
}

/// An event type no model consumes (nor any code declares: imported with
/// `--allow-unknown-types`) is imported and skipped by every run.
fn unknown_event_types_are_ignored_by_every_habits_model(postgres: bool) {
    let db = Db::seeded(postgres, "4", "600", "4");
    let sums = db.checksums(&HABITS);
    let s = stream(3);
    let lines: Vec<String> = (1..=5)
        .map(|v| event_line(&s, v, "lifeos.never_heard_of", 7, r#"{"anything":[1,2]}"#))
        .collect();
    assert!(db
        .import_with("unknown.jsonl", &lines, &["--allow-unknown-types"])
        .ok()
        .contains("imported 5"));
    let head = db.head();
    for model in HABITS {
        let report = db.run(&["--json", "run", "--model", model]).json();
        assert_eq!(report[0]["events_read"], 0, "{model}: {report}");
    }
    assert_eq!(
        db.checksums(&HABITS),
        sums,
        "an unconsumed event changed rows"
    );
    assert_eq!(db.checkpoints(&HABITS), vec![Some(head); 3]);
}

/// A bad event in the log stops every consuming model at the last good batch.
fn assert_stops_at(db: &Db, models: &[&str], bad: i64, expected: &[&str]) {
    for model in models {
        let checkpoint = db.checkpoint(model);
        let sum = db.checksum(model);
        let run = db.run(&["run", "--model", model]);
        let line = run.error_line();
        assert_eq!(run.code, Some(1));
        assert!(
            line.contains(&format!("model {model}: event {bad} (")),
            "{line}"
        );
        for text in expected {
            assert!(line.contains(text), "{model}: {line}");
        }
        assert_eq!(
            db.checkpoint(model),
            checkpoint,
            "{model}: checkpoint moved"
        );
        assert_eq!(db.checksum(model), sum, "{model}: rows changed");
        assert_eq!(db.last_run(model)["status"], "failed");
    }
}

fn unknown_schema_version_stops_the_run_naming_it(postgres: bool) {
    let db = Db::seeded(postgres, "4", "600", "5");
    let s = stream(4);
    db.import_unchecked(
        "v9.jsonl",
        &[event_line(
            &s,
            1,
            "habits.checked_in",
            9,
            &check_in_payload(HABIT, "2026-03-01"),
        )],
    )
    .ok();
    let bad = db.head();
    assert_stops_at(
        &db,
        &HABITS,
        bad,
        &[
            "habits.checked_in, schema_version 9",
            "unknown schema_version 9",
        ],
    );
}

fn payload_missing_a_field_stops_the_run_naming_it(postgres: bool) {
    let db = Db::seeded(postgres, "4", "600", "6");
    let s = stream(5);
    db.import_unchecked(
        "missing.jsonl",
        &[event_line(
            &s,
            1,
            "habits.checked_in",
            2,
            &format!(r#"{{"habit_id":"{HABIT}"}}"#),
        )],
    )
    .ok();
    let bad = db.head();
    assert_stops_at(&db, &HABITS, bad, &["missing field `day`"]);

    // A payload field that is there but not a UUID.
    let db = Db::seeded(postgres, "2", "200", "6");
    db.import_unchecked(
        "uuid.jsonl",
        &[event_line(
            &s,
            1,
            "habits.check_in_undone",
            1,
            &check_in_payload("not-a-uuid", "2026-03-01"),
        )],
    )
    .ok();
    let bad = db.head();
    assert_stops_at(&db, &HABITS, bad, &["habits.check_in_undone"]);
}

fn replay_bounds_out_of_range_are_refused(postgres: bool) {
    let db = Db::seeded(postgres, "3", "300", "7");
    let sums = db.checksums(&HABITS);
    let checkpoints = db.checkpoints(&HABITS);
    let cases: &[(&[&str], &str)] = &[
        (&["--from", "-5", "--to", "10"], "--from -5 is negative"),
        (&["--from=-5"], "--from -5 is negative"),
        (&["--to", "-1"], "--to -1 is negative"),
        (&["--full", "--to", "-1"], "--to -1 is negative"),
        (&["--from", "301", "--to", "301"], "beyond the log's head"),
        (&["--to", "301"], "beyond the log's head"),
        (&["--full", "--to", "100000"], "beyond the log's head"),
        (
            &["--from", "200", "--to", "100"],
            "--from 200 is after --to 100",
        ),
    ];
    for (args, expected) in cases {
        let mut full = vec!["run", "--model", CHECKINS];
        full.extend_from_slice(args);
        let run = db.run(&full);
        let line = run.error_line();
        assert_eq!(run.code, Some(1), "{args:?}");
        assert!(line.contains(expected), "{args:?}: {line}");
    }
    assert_eq!(db.checksums(&HABITS), sums, "a refused run wrote rows");
    assert_eq!(db.checkpoints(&HABITS), checkpoints);
    assert_eq!(db.head(), 300);
}

fn unknown_model_and_unknown_user_are_one_line_errors(postgres: bool) {
    let db = Db::seeded(postgres, "3", "300", "9");
    let sums = db.checksums(&HABITS);
    let commands: &[&[&str]] = &[
        &["run", "--model", "habits.nope"],
        &["run", "--model", "habits.nope", "--full"],
        &["checksum", "--model", "habits.nope"],
        &["status", "--model", "habits.nope"],
        &["describe", "habits.nope"],
        &["verify", "--model", "habits.nope"],
        &["dead-letters", "--model", "habits.nope"],
        &["cutover", "--model", "habits.nope", "--version", "1"],
        &["drop", "--model", "habits.nope", "--version", "1"],
    ];
    for args in commands {
        let run = db.run(args);
        let line = run.error_line();
        assert_eq!(run.code, Some(1), "{args:?}");
        assert!(line.contains("unknown model \"habits.nope\""), "{line}");
        for known in HABITS {
            assert!(line.contains(known), "{args:?} lists {known}: {line}");
        }
    }
    let stranger = "00000000-0000-4000-8000-00000000dead";
    for model in HABITS {
        let run = db.run(&["run", "--model", model, "--user", stranger]);
        let line = run.error_line();
        assert_eq!(run.code, Some(1));
        assert!(
            line.contains(&format!("user {stranger} has no events in the log")),
            "{line}"
        );
    }
    assert_eq!(db.checksums(&HABITS), sums);
}

fn missing_readmodels_table_names_it_and_says_migrate(postgres: bool) {
    let db = Db::seeded(postgres, "4", "500", "10");
    let sums = db.checksums(&HABITS);
    execute_sql(&db.url, "DROP TABLE readmodels.habit_streaks");
    for args in [
        &["run", "--model", STREAKS][..],
        &["run", "--model", STREAKS, "--full"],
        &["verify", "--model", STREAKS],
    ] {
        let run = db.run(args);
        let line = run.error_line();
        assert_eq!(run.code, Some(1), "{args:?}");
        assert!(line.contains("readmodels.habit_streaks"), "{line}");
        assert!(line.contains("run `replay migrate`"), "{line}");
    }
    // The other tables are untouched and still replay.
    for (i, model) in HABITS.iter().enumerate().filter(|(_, m)| **m != STREAKS) {
        assert_eq!(db.checksum(model), sums[i], "{model}");
        db.run(&["run", "--model", model, "--full"]).ok();
        assert_eq!(db.checksum(model), sums[i], "{model}");
    }
}

fn missing_unique_index_is_refused_before_writing(postgres: bool) {
    let db = Db::seeded(postgres, "4", "500", "11");
    execute_sql(&db.url, "DROP INDEX readmodels.habit_streaks_key");
    // New events: a catch-up that wrote anything would change rows and checkpoint.
    db.run(&[
        "generate", "--users", "4", "--events", "300", "--seed", "12",
    ])
    .ok();
    let sum = db.checksum(STREAKS);
    let checkpoint = db.checkpoint(STREAKS);
    let rows = db.count("readmodels.habit_streaks");
    for args in [
        &["run", "--model", STREAKS][..],
        &["run", "--model", STREAKS, "--full"],
    ] {
        let run = db.run(args);
        let line = run.error_line();
        assert_eq!(run.code, Some(1), "{args:?}");
        assert!(line.contains("table readmodels.habit_streaks"), "{line}");
        assert!(line.contains("(model_version, habit_id)"), "{line}");
        assert!(line.contains("nothing was written"), "{line}");
    }
    assert_eq!(db.checksum(STREAKS), sum, "a refused run changed rows");
    assert_eq!(db.checkpoint(STREAKS), checkpoint);
    assert_eq!(db.count("readmodels.habit_streaks"), rows);
}

/// The last line collides with an event already in the log: the whole import rolls back.
fn import_conflicting_with_the_log_imports_nothing(postgres: bool) {
    let db = Db::seeded(postgres, "2", "100", "13");
    let s = stream(6);
    let line = |v| {
        event_line(
            &s,
            v,
            "habits.checked_in",
            2,
            &check_in_payload(HABIT, "2026-03-01"),
        )
    };
    db.import("first.jsonl", &[line(1), line(2)]).ok();
    let before = db.log_length();
    let sums = db.checksums(&HABITS);
    let lines: Vec<String> = (3..=2000).map(line).chain([line(2)]).collect();
    let run = db.import("conflict.jsonl", &lines);
    let error = run.error_line();
    assert_eq!(run.code, Some(1));
    assert!(error.contains("nothing was imported"), "{error}");
    assert!(
        error.to_lowercase().contains("unique") || error.contains("UNIQUE"),
        "{error}"
    );
    // The last of 1,999 lines: the database's refusal is traced to it.
    assert!(
        error.contains(&format!(
            "conflict.jsonl:1999: stream {s} version 2 is already in the log"
        )),
        "{error}"
    );
    assert_eq!(db.log_length(), before, "a failed import left events");
    assert_eq!(db.checksums(&HABITS), sums);
}

/// Credentials that the server refuses: one line, the password never shown.
///
/// The test server trusts local connections, so a wrong password would be accepted for
/// any existing role. This test adds, for one role only, a `scram-sha-256` line at the
/// top of pg_hba.conf (other roles, and so other tests, keep trust), and also tries a role
/// that does not exist (refused whatever the password).
#[test]
fn wrong_postgres_credentials_are_one_line_without_the_password() {
    let db = Db::new(true);
    let role = require_password_for_role(&db.url);
    let with_credentials = |user: &str, password: &str| {
        db.url.replacen(
            "postgres://postgres@",
            &format!("postgres://{user}:{password}@"),
            1,
        )
    };
    let right = with_credentials(&role, "right-horse-battery");
    db.run(&["generate", "--users", "2", "--events", "50", "--seed", "1"])
        .ok();
    // The right password works (the role reads and writes as a superuser would).
    replay(&bin(), &right, &["status", "--model", CHECKINS]).ok();

    for (url, secret) in [
        (
            with_credentials(&role, "wrong-staple-9f3k"),
            "wrong-staple-9f3k",
        ),
        (
            with_credentials("nobody_here", "s3cret-xyzzy"),
            "s3cret-xyzzy",
        ),
    ] {
        for args in [&["status"][..], &["run", "--model", CHECKINS]] {
            let run = replay(&bin(), &url, args);
            let line = run.error_line();
            assert_eq!(run.code, Some(1));
            assert!(line.contains("cannot connect to postgres://"), "{line}");
            assert!(line.contains(":***@"), "{line}");
            assert!(!line.contains(secret), "the password leaked: {line}");
            assert!(
                line.contains("password authentication failed") || line.contains("does not exist"),
                "{line}"
            );
        }
    }
    assert_eq!(db.log_length(), 50);
}

/// Creates a login role that must authenticate with its password ("right-horse-battery").
fn require_password_for_role(url: &str) -> String {
    let role = "readmodel_pw_role".to_owned();
    let mut conn = diesel::PgConnection::establish(url).expect("connect");
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        hba_file: String,
    }
    let hba: Vec<Setting> = diesel::sql_query("SHOW hba_file")
        .load(&mut conn)
        .expect("hba_file");
    let path = &hba[0].hba_file;
    let text = std::fs::read_to_string(path).expect("read pg_hba.conf");
    let rule = format!("local all {role} scram-sha-256\n");
    if !text.contains(&rule) {
        // Written in place, so the file keeps its owner.
        std::fs::write(path, format!("{rule}{text}")).expect("write pg_hba.conf");
    }
    diesel::sql_query(format!(
        "DO $$ BEGIN CREATE ROLE {role} LOGIN SUPERUSER; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    ))
    .execute(&mut conn)
    .expect("create role");
    diesel::sql_query("SET password_encryption = 'scram-sha-256'")
        .execute(&mut conn)
        .expect("encryption");
    diesel::sql_query(format!("ALTER ROLE {role} PASSWORD 'right-horse-battery'"))
        .execute(&mut conn)
        .expect("password");
    diesel::sql_query("SELECT pg_reload_conf()")
        .execute(&mut conn)
        .expect("reload");
    // The postmaster reloads asynchronously: wait until the rule is in force.
    let refused = url.replacen(
        "postgres://postgres@",
        &format!("postgres://{role}:not-it@"),
        1,
    );
    let started = Instant::now();
    while diesel::PgConnection::establish(&refused).is_ok() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "pg_hba.conf was not reloaded"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    role
}

/// A SQLite database the process may read but not write: one line, nothing written.
///
/// Tests run as root in CI, and root ignores permission bits, so under root the binary
/// runs as an unprivileged uid (65534, "nobody") via `setuid` in the child; read-only
/// files and directory then really are read-only to it. As another user, chmod suffices.
#[test]
fn read_only_sqlite_database_is_one_line_and_writes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let db = Db::seeded(false, "3", "300", "14");
    db.run(&[
        "generate", "--users", "3", "--events", "100", "--seed", "15",
    ])
    .ok();
    let sums = db.checksums(&HABITS);
    let dir = db.dir.path().to_owned();
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    let root = is_root();
    // Under root the unprivileged child needs its own copy of the binary it can execute.
    let binary = if root {
        let copy = dir.join("replay-copy");
        std::fs::copy(bin(), &copy).expect("copy the binary");
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        copy
    } else {
        bin()
    };
    for file in &files {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).expect("chmod dir");
    let read_only = |args: &[&str]| {
        let mut cmd = Command::new(&binary);
        cmd.arg("--database-url")
            .arg(&db.url)
            .arg("--quiet")
            .args(args)
            .env_remove("DATABASE_URL")
            .current_dir("/");
        if root {
            cmd.uid(65534).gid(65534);
        }
        let out = output_of_fresh_binary(&mut cmd);
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let s = stream(7);
    let jsonl = std::env::temp_dir().join(format!("readmodel-ro-{}.jsonl", std::process::id()));
    std::fs::write(
        &jsonl,
        event_line(
            &s,
            1,
            "habits.checked_in",
            2,
            &check_in_payload(HABIT, "2026-03-01"),
        ),
    )
    .expect("jsonl");
    std::fs::set_permissions(&jsonl, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut lines = Vec::new();
    for args in [
        &["run", "--model", CHECKINS][..],
        &["run", "--model", STREAKS, "--full"],
        &["import", "--file", &jsonl.display().to_string()],
    ] {
        let run = read_only(args);
        let line = run.error_line().to_owned();
        assert_eq!(run.code, Some(1), "{args:?}");
        assert!(
            line.contains("readonly") || line.contains("read-only") || line.contains("read only"),
            "{args:?}: {line}"
        );
        lines.push(line);
    }
    println!("read-only SQLite (root: {root}): {lines:#?}");
    let _ = std::fs::remove_file(&jsonl);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    for file in &files {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let _ = std::fs::remove_file(dir.join("replay-copy"));
    assert_eq!(
        db.checksums(&HABITS),
        sums,
        "a read-only database was written"
    );
    assert_eq!(db.head(), 400);
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `cmd.output()` of a binary this test just wrote: while another test's child, forked
/// before the copy's file was closed, has not yet exec'd, it still holds the file open for
/// writing and exec fails with ETXTBSY ("Text file busy"), so that error is retried.
pub(crate) fn output_of_fresh_binary(cmd: &mut Command) -> std::process::Output {
    let mut tries = 0;
    loop {
        match cmd.output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result.expect("runs"),
        }
    }
}
