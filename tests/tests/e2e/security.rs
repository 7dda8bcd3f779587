//! Security: passwords never shown, SQL in names and values never executed.

use readmodel_tests::bin;
use std::process::Command;

use readmodel_tests::events::{event_line, stream};
use readmodel_tests::{on_both_backends, query_texts, Db, Run, HABITS};

const CHECKINS: &str = "habits.checkins";
const STREAKS: &str = "habits.streaks";
const MONTHLY: &str = "habits.monthly_completions";

/// Runs the binary with the database URL in `DATABASE_URL` (not on the command line) and
/// debug logging on.
fn replay_with_env(url: &str, args: &[&str]) -> Run {
    let out = Command::new(bin())
        .arg("--quiet")
        .args(args)
        .env("DATABASE_URL", url)
        .env("READMODEL_LOG", "trace")
        .env("RUST_LOG", "trace")
        .output()
        .expect("runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The test server trusts local connections and ignores a password in the URL, so every
/// command succeeds; nothing it prints, on stdout or in trace logs, may show the password.
#[test]
fn passwords_never_appear_in_output_errors_or_logs() {
    const SECRET: &str = "Tr0ub4dor-and-3";
    let db = Db::new(true);
    db.run(&[
        "generate", "--users", "3", "--events", "300", "--seed", "16",
    ])
    .ok();
    let in_userinfo = db.url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{SECRET}@"),
        1,
    );
    let in_query = format!("{}&password={SECRET}", db.url);
    let unreachable = format!(
        "postgres://app:{SECRET}@localhost:1/app?host=/nonexistent-socket-dir&connect_timeout=2"
    );
    let commands: &[&[&str]] = &[
        &["status"],
        &["--json", "status", "--model", CHECKINS],
        &["run", "--model", CHECKINS],
        &["--json", "run", "--model", STREAKS, "--full"],
        &["checksum", "--model", CHECKINS],
        &["dead-letters"],
        &["verify", "--model", MONTHLY],
        &["run", "--model", "habits.nope"],
        &["run", "--model", CHECKINS, "--to", "999999"],
        &["--help"],
        &["run", "--help"],
    ];
    let mut checked = 0;
    for url in [&in_userinfo, &in_query] {
        assert!(url.contains(SECRET));
        for args in commands {
            let run = replay_with_env(url, args);
            assert!(run.code.is_some(), "{args:?}: {}", run.stderr);
            for text in [&run.stdout, &run.stderr] {
                assert!(
                    !text.contains(SECRET),
                    "{args:?} printed the password: {text}"
                );
            }
            checked += 1;
        }
        replay_with_env(url, &["status"]).ok();
    }
    let run = replay_with_env(&unreachable, &["status"]);
    let line = run.error_line();
    assert!(
        line.contains("postgres://app:***@localhost:1/app"),
        "{line}"
    );
    assert!(!run.stderr.contains(SECRET), "{}", run.stderr);
    // Nothing the runtime stored mentions it either (run errors are kept in replay_runs).
    let stored = db.count(&format!(
        "readmodels.replay_runs WHERE COALESCE(error, '') LIKE '%{SECRET}%' OR plan LIKE '%{SECRET}%'"
    ));
    assert_eq!(stored, 0);
    println!("passwords: {checked} commands checked, no password in stdout, stderr or logs");
}

on_both_backends!(sql_in_names_and_values_is_never_executed);

/// Model names only ever come from the registry and values are bound parameters: SQL
/// given as a model name, a user, a version or inside an event is data, never code.
fn sql_in_names_and_values_is_never_executed(postgres: bool) {
    let db = Db::seeded(postgres, "3", "300", "17");
    let sums = db.checksums(&HABITS);
    let evil = "x'; DROP TABLE event_record; --";
    for args in [
        &["run", "--model", evil][..],
        &["checksum", "--model", evil],
        &["status", "--model", evil],
        &["dead-letters", "--model", evil],
        &["describe", evil],
    ] {
        let run = db.run(args);
        let line = run.error_line();
        assert_eq!(run.code, Some(1));
        assert!(line.contains("unknown model"), "{line}");
        assert!(line.contains(CHECKINS), "lists the known models: {line}");
    }
    // Typed values are rejected by the argument parser (usage errors, exit code 2).
    for args in [
        &["run", "--model", CHECKINS, "--user", evil][..],
        &["checksum", "--model", CHECKINS, "--user", "1 OR 1=1"],
        &[
            "checksum",
            "--model",
            CHECKINS,
            "--version",
            "1; DELETE FROM event_record",
        ],
        &[
            "run",
            "--model",
            CHECKINS,
            "--to",
            "1); DROP TABLE event_record; --",
        ],
    ] {
        let run = db.run(args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        let errors: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{}", run.stderr);
        assert!(errors[0].contains("invalid value"), "{}", errors[0]);
    }
    assert_eq!(
        db.checksums(&HABITS),
        sums,
        "a rejected command changed rows"
    );
    assert_eq!(db.log_length(), 300, "event_record survived");
    // Inside events, SQL is stored verbatim and replayed as data.
    let s = stream(8);
    let evil_type = "x'); DROP TABLE event_record; --";
    let evil_payload = r#"{"habit_id":"6f0c2a52-7d1b-4a53-9a4e-0a4b8f1a0c01","day":"2026-03-01","note":"'); DELETE FROM readmodels.habit_checkins; --"}"#;
    db.import_with(
        "evil.jsonl",
        &[
            event_line(&s, 1, evil_type, 1, r#"{"q":"' OR 1=1 --"}"#),
            event_line(&s, 2, "habits.checked_in", 2, evil_payload),
        ],
        &["--allow-unknown-types"],
    )
    .ok();
    assert_eq!(db.log_length(), 302, "event_record survived");
    let stored = query_texts(
        &db.url,
        "SELECT event_type AS value FROM event_record WHERE event_type LIKE 'x%'",
    );
    assert_eq!(stored, vec![evil_type.to_owned()]);
    let rows = db.count("readmodels.habit_checkins");
    for model in HABITS {
        db.run(&["run", "--model", model]).ok();
    }
    assert_eq!(
        db.count("readmodels.habit_checkins WHERE model_version = 1 AND event_id = 302"),
        1
    );
    assert_eq!(
        db.count("readmodels.habit_checkins"),
        rows + 1,
        "rows survived"
    );
}
