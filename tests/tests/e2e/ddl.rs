//! DDL from contracts (`replay schema`, `replay new-migration`) and the generated binary
//! (`replay_main!`, the empty-registry refusal), against real SQLite files and PostgreSQL.

use readmodel_tests::bin;
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use readmodel_runtime::{DatabaseUrl, Store};
use readmodel_tests::{checksum, pg, replay};

fn workspace_migrations() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations")
}

/// Every registered model's name, as `replay list --json` gives them.
fn model_names(url: &str) -> Vec<String> {
    let list = replay(&bin(), url, &["--json", "list"]).json();
    let names: Vec<String> = list
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|m| m["name"].as_str().expect("a name").to_owned())
        .collect();
    assert_eq!(names.len(), 19, "the LifeOS models: {names:?}");
    names
}

/// Runs several statements on the database behind `url`, as a migration tool would.
fn execute_batch(url: &str, sql: &str) {
    let url = DatabaseUrl::parse(url).expect("a valid URL");
    let mut store = Store::open(&url, &projections::MIGRATIONS).expect("the database opens");
    match &mut store {
        Store::Sqlite(c) => c.batch_execute(sql),
        Store::Postgres(c) => c.batch_execute(sql),
    }
    .expect("the DDL applies");
}

/// Builds every model from the committed migrations, swaps every table for what
/// `replay schema` prints, and rebuilds: the runtime's table and unique-key check must
/// accept the generated tables, and the rows must be the same.
fn schema_output_replaces_the_committed_tables(url: &str, backend: &str) {
    replay(&bin(), url, &["migrate"]).ok();
    replay(
        &bin(),
        url,
        &[
            "generate", "--users", "20", "--events", "4000", "--seed", "11",
        ],
    )
    .ok();
    replay(&bin(), url, &["run", "--all", "--full"]).ok();
    let names = model_names(url);
    let before: Vec<String> = names.iter().map(|m| checksum(&bin(), url, m)).collect();

    let statements = replay(
        &bin(),
        url,
        &["--json", "schema", "--all", "--backend", backend],
    )
    .json();
    let statements = statements.as_array().expect("a JSON array");
    assert_eq!(statements.len(), names.len());
    let down: String = statements
        .iter()
        .map(|s| s["down"].as_str().expect("down SQL"))
        .collect();
    execute_batch(url, &down);
    let missing = replay(&bin(), url, &["run", "--model", &names[0], "--full"]);
    assert_eq!(missing.code, Some(1), "a run without its table must fail");

    let up = replay(&bin(), url, &["schema", "--all", "--backend", backend]);
    execute_batch(url, up.ok());
    replay(&bin(), url, &["run", "--all", "--full"]).ok();
    let after: Vec<String> = names.iter().map(|m| checksum(&bin(), url, m)).collect();
    assert_eq!(
        before, after,
        "rows rebuilt into the generated tables differ"
    );
}

#[test]
fn schema_output_passes_the_table_check_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir.path().join("events.db").display().to_string();
    schema_output_replaces_the_committed_tables(&url, "sqlite");
}

#[test]
fn schema_output_passes_the_table_check_on_postgres() {
    let url = pg::server().fresh_database();
    schema_output_replaces_the_committed_tables(&url, "postgres");
}

/// The LifeOS migrations are `replay new-migration --domain D` output, byte for byte: a
/// change to a model's struct that is not followed by a regenerated migration fails here.
#[test]
fn committed_migrations_are_what_new_migration_writes() {
    let committed = workspace_migrations();
    let scratch = tempfile::tempdir().expect("temp dir");
    let db = scratch.path().join("events.db").display().to_string();
    let mut domains = 0;
    for entry in std::fs::read_dir(committed.join("postgres")).expect("migrations/postgres") {
        let folder = entry.expect("a directory entry").file_name();
        let folder = folder.to_str().expect("a UTF-8 name");
        let (timestamp, domain) = folder.split_once('_').expect("TIMESTAMP_NAME");
        let out = scratch.path().join("out");
        let dir = out.display().to_string();
        replay(
            &bin(),
            &db,
            &[
                "new-migration",
                "--domain",
                domain,
                "--timestamp",
                timestamp,
                "--dir",
                &dir,
            ],
        )
        .ok();
        for backend in ["postgres", "sqlite"] {
            for file in ["up.sql", "down.sql"] {
                let path = |root: &Path| root.join(backend).join(folder).join(file);
                let expected = std::fs::read_to_string(path(&committed)).expect("committed file");
                let generated = std::fs::read_to_string(path(&out)).expect("generated file");
                assert_eq!(
                    generated, expected,
                    "{backend}/{folder}/{file} is not what `replay new-migration --domain {domain}` writes"
                );
            }
        }
        domains += 1;
    }
    assert_eq!(domains, 8, "one migration per LifeOS domain");
}

#[test]
fn new_migration_writes_nothing_it_cannot_finish() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let db = scratch.path().join("events.db").display().to_string();
    let dir = scratch.path().join("migrations");
    let dir_arg = dir.display().to_string();
    let args = |extra: &[&'static str]| {
        let mut args = vec!["new-migration", "--dir", dir_arg.as_str()];
        args.extend_from_slice(extra);
        args
    };

    let ok = replay(
        &bin(),
        &db,
        &args(&[
            "--model",
            "habits.streaks",
            "--timestamp",
            "2026-01-02-030405",
        ]),
    );
    assert!(
        ok.ok().contains("2026-01-02-030405_habits_streaks"),
        "{}",
        ok.stdout
    );
    for backend in ["postgres", "sqlite"] {
        let up = std::fs::read_to_string(
            dir.join(backend)
                .join("2026-01-02-030405_habits_streaks/up.sql"),
        )
        .expect("up.sql written");
        assert!(
            up.contains("CREATE TABLE readmodels.habit_streaks ("),
            "{up}"
        );
        assert!(
            !up.contains("habit_checkins"),
            "only the model asked for: {up}"
        );
    }

    // Asked again, the table exists as declared: nothing to write.
    let again = replay(
        &bin(),
        &db,
        &args(&[
            "--model",
            "habits.streaks",
            "--timestamp",
            "2026-01-03-030405",
        ]),
    );
    assert!(
        again.ok().starts_with("nothing to migrate"),
        "{}",
        again.stdout
    );

    // Another model's table, into the folder that exists.
    let again = replay(
        &bin(),
        &db,
        &args(&[
            "--model",
            "habits.checkins",
            "--name",
            "habits_streaks",
            "--timestamp",
            "2026-01-02-030405",
        ]),
    );
    assert_eq!(again.code, Some(1));
    assert!(
        again.error_line().contains("already exists"),
        "{}",
        again.stderr
    );

    for (extra, message) in [
        (
            &["--all", "--name", "Bad-Name"][..],
            "invalid migration name \"Bad-Name\"",
        ),
        (
            &["--all", "--timestamp", "yesterday"][..],
            "invalid migration timestamp \"yesterday\"",
        ),
        (&[][..], "no model selected"),
        (
            &["--domain", "nope"][..],
            "no registered model is in domain \"nope\"",
        ),
        (&["--model", "nope.model"][..], "nope.model"),
    ] {
        let run = replay(&bin(), &db, &args(extra));
        assert_eq!(run.code, Some(1), "{extra:?}: {}", run.stderr);
        assert!(
            run.error_line().contains(message),
            "{extra:?}: {}",
            run.stderr
        );
    }
    let written: Vec<_> = std::fs::read_dir(dir.join("postgres"))
        .expect("postgres dir")
        .collect();
    assert_eq!(written.len(), 1, "refused runs wrote nothing");
}

#[test]
fn a_binary_without_models_refuses_model_commands() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let db = scratch.path().join("events.db").display().to_string();
    let empty = PathBuf::from(env!("CARGO_BIN_EXE_replay-no-models"));
    for command in [
        &["list"][..],
        &["run", "--all"],
        &["status"],
        &["schema", "--all"],
    ] {
        let run = replay(&empty, &db, command);
        assert_eq!(run.code, Some(1), "{command:?} must fail: {}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.error_line()
                .contains("no read model is registered in this binary"),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{command:?} printed {}", run.stdout);
    }
    // The log itself is still usable.
    replay(&empty, &db, &["migrate"]).ok();
    // And the generated binary, which names its crate, finds every model.
    assert_eq!(model_names(&db).len(), 19);
}
