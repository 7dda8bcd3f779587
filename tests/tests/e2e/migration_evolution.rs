//! `replay new-migration` after a model changed, against the test migrations that create
//! `test.notes` (`tests/migrations`): a version bump alone writes nothing; a new nullable
//! column is an `ALTER TABLE … ADD COLUMN` that applies to a database holding version 1's
//! rows (which stay as they were) and lets the new version build; a changed key is
//! refused with one line naming the safe way, writing nothing.
//!
//! Binaries: `replay-notes-v1`, `replay-notes-v2` (the same columns), `replay-notes-v3`
//! (a new nullable column `longest`), `replay-notes-v4` (keyed per user and day).

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use readmodel_runtime::{DatabaseUrl, Store};
use readmodel_tests::{binary, checksum, on_both_backends, query_texts, replay, Db};

const NOTES: &str = "test.notes";

on_both_backends!(a_new_column_is_added_to_the_table_older_versions_fill);

/// A copy of the test migrations (both backends) in `dir`.
fn copy_test_migrations(dir: &Path) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for backend in ["postgres", "sqlite"] {
        for entry in std::fs::read_dir(source.join(backend)).expect("test migrations") {
            let folder = entry.expect("an entry").path();
            let target = dir.join(backend).join(folder.file_name().expect("a name"));
            std::fs::create_dir_all(&target).expect("create the copy");
            for file in ["up.sql", "down.sql"] {
                std::fs::copy(folder.join(file), target.join(file)).expect("copy");
            }
        }
    }
}

/// The migration folders under `dir`, per backend, sorted.
fn folders(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for backend in ["postgres", "sqlite"] {
        for entry in std::fs::read_dir(dir.join(backend)).expect("a backend's directory") {
            all.push(entry.expect("an entry").path());
        }
    }
    all.sort();
    all
}

fn new_migration(bin: &Path, db: &Db, dir: &Path, timestamp: &str) -> readmodel_tests::Run {
    let dir = dir.display().to_string();
    replay(
        bin,
        &db.url,
        &[
            "new-migration",
            "--model",
            NOTES,
            "--dir",
            &dir,
            "--timestamp",
            timestamp,
        ],
    )
}

/// Runs a migration's `up.sql` on the database, as diesel would.
fn apply(db: &Db, up: &str) {
    let url = DatabaseUrl::parse(&db.url).expect("a database URL");
    let migrations = readmodel_tests::versioned::app().migrations;
    let mut store = Store::open(&url, &migrations).expect("the database opens");
    match &mut store {
        Store::Sqlite(c) => c.batch_execute(up),
        Store::Postgres(c) => c.batch_execute(up),
    }
    .expect("the generated migration applies");
}

fn a_new_column_is_added_to_the_table_older_versions_fill(postgres: bool) {
    let db = Db::new(postgres);
    let (v1, v2, v3, v4) = (
        binary("replay-notes-v1"),
        binary("replay-notes-v2"),
        binary("replay-notes-v3"),
        binary("replay-notes-v4"),
    );
    let dir = db.scratch().join("migrations");
    copy_test_migrations(&dir);
    let before = folders(&dir);

    // The contract of version 1 is what the migrations create, and version 2 only bumps
    // `version`: nothing to write.
    for bin in [&v1, &v2] {
        let run = new_migration(bin, &db, &dir, "2026-12-01-000000");
        assert_eq!(
            run.ok().trim(),
            format!(
                "nothing to migrate: the migrations in {} already create the tables of {NOTES} as declared",
                dir.display()
            )
        );
    }
    assert_eq!(
        folders(&dir),
        before,
        "an unchanged model wrote a migration"
    );

    // A changed key cannot be migrated in place.
    let run = new_migration(&v4, &db, &dir, "2026-12-01-000000");
    assert_eq!(
        run.error_line(),
        format!(
            "error: cannot migrate readmodels.test_notes in place for {NOTES} v4: the struct declares the key (model_version, user_id, day) but the migrations in {} give the table a unique index on (model_version, user_id); rows of older versions are keyed the old way, so build this version in a new table: bump `version` if you have not and declare a table of its own (e.g. `table = readmodels.test_notes_v4`), then run new-migration again",
            dir.join("postgres").display()
        )
    );
    assert_eq!(folders(&dir), before, "a refused migration wrote files");

    // Version 1 has rows when the new column arrives.
    db.with(&v1, &["migrate"]).ok();
    db.with(
        &v1,
        &["generate", "--users", "4", "--events", "120", "--seed", "6"],
    )
    .ok();
    db.with(&v1, &["run", "--all"]).ok();
    let v1_rows = checksum(&v1, &db.url, NOTES);

    let run = new_migration(&v3, &db, &dir, "2026-12-01-000000");
    assert!(
        run.ok()
            .starts_with("wrote migration 2026-12-01-000000_test_notes for 1 model(s)"),
        "{}",
        run.stdout
    );
    let backend = db.backend();
    let written = dir.join(backend).join("2026-12-01-000000_test_notes");
    let up = std::fs::read_to_string(written.join("up.sql")).expect("up.sql");
    let column_type = if postgres { "BIGINT" } else { "INTEGER" };
    assert!(
        up.contains(&format!(
            "\nALTER TABLE readmodels.test_notes ADD COLUMN longest {column_type};\n"
        )),
        "{up}"
    );
    assert!(!up.contains("CREATE TABLE"), "{up}");
    assert_eq!(
        std::fs::read_to_string(written.join("down.sql")).expect("down.sql"),
        "-- The schema `readmodels` belongs to the runtime: only the tables go.\nALTER TABLE readmodels.test_notes DROP COLUMN longest;\n"
    );

    apply(&db, &up);
    assert_eq!(
        checksum(&v1, &db.url, NOTES),
        v1_rows,
        "version 1's rows changed"
    );
    db.with(&v1, &["run", "--all"]).ok();
    db.with(&v3, &["run", "--model", NOTES, "--full"]).ok();
    let longest = query_texts(
        &db.url,
        &format!(
            "SELECT CAST(COUNT(longest) AS TEXT) AS value FROM readmodels.test_notes WHERE model_version = {}",
            3
        ),
    );
    assert_eq!(
        longest,
        ["4"],
        "every user's row of version 3 has its longest note"
    );
    assert_eq!(
        checksum(&v1, &db.url, NOTES),
        v1_rows,
        "version 1's rows changed"
    );
    assert_eq!(
        db.count("readmodels.test_notes WHERE model_version = 1 AND longest IS NULL"),
        4
    );

    // With the ALTER among the migrations, the table is as version 3 declares it.
    let run = new_migration(&v3, &db, &dir, "2026-12-02-000000");
    assert!(run.ok().starts_with("nothing to migrate"), "{}", run.stdout);
}
