//! Commands that only read never create, migrate or write a database: a mistyped SQLite
//! path is an error naming it, a keyword/value PostgreSQL string is a connection string
//! (never a file name), a read-only copy can be inspected, and a corrupt file is named
//! for what it is (event log or read models) with advice that works.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use readmodel_tests::{bin, pg, query_texts, replay, Db, Run, HABITS};

use crate::inputs::{is_root, output_of_fresh_binary};

const CHECKINS: &str = "habits.checkins";

/// Every command that reads, and the ones that write only to an existing database.
const ON_AN_EXISTING_DATABASE: &[&[&str]] = &[
    &["status"],
    &["status", "--model", CHECKINS],
    &["checksum", "--model", CHECKINS],
    &["dead-letters"],
    &["verify", "--model", CHECKINS],
    &["cutover", "--model", CHECKINS, "--version", "1"],
    &["drop", "--model", CHECKINS, "--version", "2"],
    &["dead-letters", "--model", CHECKINS, "--retry"],
];

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list the directory")
        .map(|e| e.expect("an entry").path())
        .collect();
    files.sort();
    files
}

#[test]
fn a_missing_sqlite_database_is_named_and_never_created() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let typo = dir.path().join("evnets.db");
    let url = typo.display().to_string();
    for args in ON_AN_EXISTING_DATABASE {
        let run = replay(&bin(), &url, args);
        let line = run.error_line();
        assert_eq!(run.code, Some(1), "{args:?}");
        assert!(
            line.starts_with(&format!("error: the event log {url}: does not exist")),
            "{args:?}: {line}"
        );
        assert!(
            files_in(dir.path()).is_empty(),
            "{args:?} created {:?}",
            files_in(dir.path())
        );
    }
    // The advice works: `migrate` creates it, and then they run.
    replay(&bin(), &url, &["migrate"]).ok();
    replay(&bin(), &url, &["status"]).ok();
}

/// Deleting the read-model file is the safe reset; a command that reads says so and does
/// not recreate it; the advice (`replay run --all`, which recreates and rebuilds) works.
#[test]
fn a_deleted_read_model_file_is_named_and_recreated_only_by_writing_commands() {
    let db = Db::seeded(false, "3", "300", "41");
    let sums = db.checksums(&HABITS);
    let readmodels = Path::new(&db.url).with_file_name("events.readmodels.db");
    std::fs::remove_file(&readmodels).expect("delete the read-model file");
    for args in [&["status"][..], &["checksum", "--model", CHECKINS]] {
        let run = db.run(args);
        let line = run.error_line();
        assert!(
            line.contains(&format!(
                "the read-model file {}: does not exist",
                readmodels.display()
            )),
            "{line}"
        );
        assert!(
            line.contains("`replay run --all` rebuilds the read models"),
            "{line}"
        );
        assert!(
            !readmodels.exists(),
            "{args:?} recreated the read-model file"
        );
    }
    db.run(&["run", "--all"]).ok();
    assert_eq!(db.checksums(&HABITS), sums);
}

/// A fresh PostgreSQL database: `status` and `checksum` refuse it as not migrated, and
/// create nothing in it (not even diesel's migration table, which listing migrations
/// through diesel creates).
#[test]
fn read_commands_neither_migrate_nor_write_postgres() {
    let url = pg::server().fresh_database();
    for args in [&["status"][..], &["checksum", "--model", CHECKINS]] {
        let run = replay(&bin(), &url, args);
        let line = run.error_line();
        assert!(line.contains("database is not migrated"), "{line}");
        assert!(line.contains("run `replay migrate` first"), "{line}");
    }
    let tables = query_texts(
        &url,
        "SELECT COUNT(*)::text AS value FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    );
    assert_eq!(tables, ["0"], "a read command created tables");
    // Once migrated, the read commands' session is read-only: they read, they cannot write.
    replay(&bin(), &url, &["migrate"]).ok();
    replay(&bin(), &url, &["status", "--model", CHECKINS]).ok();
}

/// `host=… dbname=… password=…` is a libpq connection string: it connects, and never
/// becomes a SQLite file named after it (password included); text with `=` and spaces
/// that is not one is refused without showing the password.
#[test]
fn keyword_value_strings_are_postgres_and_never_file_names() {
    let db = Db::new(true);
    db.run(&["generate", "--users", "2", "--events", "50", "--seed", "42"])
        .ok();
    let name = db
        .url
        .split_once("localhost/")
        .and_then(|(_, rest)| rest.split_once('?'))
        .map(|(name, _)| name)
        .expect("the database name");
    let socket = pg::server().socket_dir().display().to_string();
    let cwd = tempfile::tempdir().expect("a working directory");
    let run_in_cwd = |url: &str, args: &[&str]| {
        let out = Command::new(bin())
            .args(["--database-url", url, "--quiet"])
            .args(args)
            .env_remove("DATABASE_URL")
            .current_dir(cwd.path())
            .output()
            .expect("runs");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    };
    let secret = "S3cret-kv";
    let pairs = format!("host={socket} dbname={name} user=postgres password='{secret} x'");
    let status = run_in_cwd(&pairs, &["--json", "status", "--model", CHECKINS]);
    assert_eq!(status.json()[0]["head"], 50, "{}", status.stdout);
    let refused = run_in_cwd(
        &format!("server=db password={secret} dbname={name}"),
        &["status"],
    );
    let line = refused.error_line();
    assert!(line.contains("unsupported database URL"), "{line}");
    assert!(line.contains("password=***"), "{line}");
    for text in [&status.stdout, &status.stderr, &refused.stderr] {
        assert!(!text.contains(secret), "the password was shown: {text}");
    }
    assert!(
        files_in(cwd.path()).is_empty(),
        "files were created: {:?}",
        files_in(cwd.path())
    );
}

/// A copy whose files and directory are read-only (to an unprivileged user: under root,
/// the binary runs as uid 65534) answers `status`, `checksum` and `dead-letters` as the
/// original does, and is left byte for byte as it was, with no file beside it.
#[test]
fn a_read_only_copy_can_be_inspected() {
    let db = Db::seeded(false, "3", "300", "43");
    let copy = tempfile::tempdir().expect("a directory for the copy");
    for name in ["events.db", "events.readmodels.db"] {
        std::fs::copy(db.dir.path().join(name), copy.path().join(name)).expect("copy");
    }
    let root = is_root();
    let binary = if root {
        let binary = db.scratch().join("replay-copy");
        std::fs::copy(bin(), &binary).expect("copy the binary");
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        std::fs::set_permissions(db.dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        binary
    } else {
        bin()
    };
    let url = copy.path().join("events.db").display().to_string();
    let before: Vec<Vec<u8>> = files_in(copy.path())
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect();
    for file in files_in(copy.path()) {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    }
    std::fs::set_permissions(copy.path(), std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let commands: [&[&str]; 3] = [
        &["--json", "status", "--model", CHECKINS],
        &["--json", "checksum", "--model", CHECKINS],
        &["--json", "dead-letters"],
    ];
    for args in commands {
        let mut cmd = Command::new(&binary);
        cmd.args(["--database-url", &url, "--quiet"])
            .args(args)
            .env_remove("DATABASE_URL")
            .current_dir("/");
        if root {
            cmd.uid(65534).gid(65534);
        }
        let out = output_of_fresh_binary(&mut cmd);
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert_eq!(run.json(), db.run(args).json(), "{args:?}");
    }
    std::fs::set_permissions(copy.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let after: Vec<Vec<u8>> = files_in(copy.path())
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect();
    assert_eq!(
        after.len(),
        2,
        "files were added: {:?}",
        files_in(copy.path())
    );
    assert!(before == after, "the read-only copy changed");
}

/// Overwrites the first 100 bytes of `path` (SQLite's header).
fn corrupt(path: &Path) {
    let mut bytes = std::fs::read(path).expect("read");
    bytes[..100].fill(0x5a);
    std::fs::write(path, bytes).expect("write");
}

/// A corrupt event log is blamed on the event log, a corrupt read-model file on the
/// read-model file; for the latter the advice (delete it, `replay run --all`) restores
/// every model.
#[test]
fn a_corrupt_file_is_named_for_what_it_is() {
    let db = Db::seeded(false, "3", "300", "44");
    let sums = db.checksums(&HABITS);
    let dir = db.dir.path();
    let readmodels = dir.join("events.readmodels.db");

    let broken = tempfile::tempdir().expect("a directory");
    for name in ["events.db", "events.readmodels.db"] {
        std::fs::copy(dir.join(name), broken.path().join(name)).expect("copy");
    }
    let log = broken.path().join("events.db");
    corrupt(&log);
    for args in [&["status"][..], &["run", "--all"]] {
        let run = replay(&bin(), &log.display().to_string(), args);
        let line = run.error_line();
        assert!(
            line.starts_with(&format!(
                "error: the event log {}: file is not a database",
                log.display()
            )),
            "{line}"
        );
        assert!(!line.contains("readmodels.db"), "{line}");
    }

    corrupt(&readmodels);
    for args in [
        &["status"][..],
        &["run", "--all"],
        &["import", "--file", "/dev/null"],
    ] {
        let run = db.run(args);
        let line = run.error_line();
        assert!(
            line.starts_with(&format!(
                "error: the read-model file {}: file is not a database",
                readmodels.display()
            )),
            "{line}"
        );
        assert!(
            line.contains("delete it and run `replay run --all`"),
            "{line}"
        );
    }
    std::fs::remove_file(&readmodels).expect("delete it, as advised");
    db.run(&["run", "--all"]).ok();
    assert_eq!(db.checksums(&HABITS), sums);
}
