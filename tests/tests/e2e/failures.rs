//! Every failure tells the truth about what was committed: a full disk (SQLite), SIGINT
//! before and after an append's commit, a failed VACUUM after it (PostgreSQL), and
//! SQLite importers waiting for each other's locks instead of failing.

use std::path::Path;
use std::process::Command;

use diesel::{Connection, RunQueryDsl};
use readmodel_tests::child::{exited, finish, signal, sleeping, spawn, wait_until};
use readmodel_tests::events::{check_in_payload, event_line, stream, HABIT};
use readmodel_tests::{bin, on_both_backends, query_texts, Db, Run, HABITS};

on_both_backends!(
    sigint_before_the_commit_rolls_the_append_back_and_exits_130,
    sigint_after_the_commit_reports_the_commit,
    concurrent_importers_all_commit,
);

/// `n` check-ins of stream `s` (versions `from..from + n`), one JSONL line each.
fn check_ins(s: u32, from: i64, n: i64) -> Vec<String> {
    (from..from + n)
        .map(|v| {
            event_line(
                &stream(s),
                v,
                "habits.checked_in",
                2,
                &check_in_payload(HABIT, "2026-03-01"),
            )
        })
        .collect()
}

/// Writes `lines` to `name` in the database's scratch directory; returns its path.
fn file(db: &Db, name: &str, lines: &[String]) -> String {
    let path = db.scratch().join(name);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write the JSONL file");
    path.display().to_string()
}

/// The one line of stderr starting with `warning: `.
fn warning(run: &Run) -> &str {
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 1, "one warning expected: {}", run.stderr);
    warnings[0]
}

/// Runs `replay ARGS` with every file it writes limited to `bytes` (RLIMIT_FSIZE, set by
/// the shell's `ulimit -f` in 512-byte blocks), SIGXFSZ ignored: a write past the limit
/// then fails with EFBIG, as one fails with ENOSPC on a full disk, instead of killing the
/// process. Deterministic, and needs no privilege (a tmpfs would need `mount`).
fn with_file_size_limit(db: &Db, bytes: u64, args: &[&str]) -> Run {
    let out = Command::new("sh")
        .args([
            "-c",
            r#"trap "" XFSZ; ulimit -f "$1"; shift; exec "$@""#,
            "sh",
        ])
        .arg((bytes / 512).to_string())
        .arg(bin())
        .args(["--database-url", &db.url, "--quiet"])
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("sh runs");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// On a SQLite database whose files may not grow past a limit: an append that fits in
/// the write-ahead log but not in the main file commits, and says so (the checkpoint after
/// it is what fails: a warning, exit 0); an append that does not fit commits nothing and
/// says so; a run stops at its last committed flush, and catching up from there gives
/// the rows a rebuild gives. Every reported outcome is checked against the database.
#[test]
fn a_full_disk_leaves_exactly_what_each_command_reports() {
    let db = Db::new(false);
    let main = Path::new(&db.url).to_owned();
    db.run(&[
        "generate", "--users", "20", "--events", "20000", "--seed", "3",
    ])
    .ok();
    assert_eq!(db.log_length(), 20_000);

    // Room for the write-ahead log, not for the main file to grow by 600 kB more.
    let generated = with_file_size_limit(
        &db,
        size(&main) + 600_000,
        &[
            "generate", "--users", "20", "--events", "3000", "--seed", "4",
        ],
    );
    assert_eq!(generated.code, Some(0), "{}", generated.stderr);
    assert!(
        generated.stdout.contains("generated 3000 event(s)"),
        "{}",
        generated.stdout
    );
    let line = warning(&generated);
    assert!(line.contains("the 3000 events were generated and committed, but the work after the commit failed: PRAGMA main.wal_checkpoint(TRUNCATE)"), "{line}");
    assert!(
        line.contains("the events are in the log (do not append them again)"),
        "{line}"
    );
    assert_eq!(
        db.log_length(),
        23_000,
        "the warning said the events are in"
    );

    let imported = with_file_size_limit(
        &db,
        size(&main) + 600_000,
        &[
            "import",
            "--file",
            &file(&db, "fits.jsonl", &check_ins(1, 1, 3000)),
        ],
    );
    assert_eq!(imported.code, Some(0), "{}", imported.stderr);
    assert!(
        imported.stdout.contains("imported 3000 events"),
        "{}",
        imported.stdout
    );
    assert!(warning(&imported).contains("the 3000 events were imported and committed"));
    assert_eq!(
        db.log_length(),
        26_000,
        "the warning said the events are in"
    );

    // No room for the write-ahead log of the append: nothing is committed, and that is
    // what the error says.
    let refused = with_file_size_limit(
        &db,
        1_000_000,
        &[
            "import",
            "--file",
            &file(&db, "big.jsonl", &check_ins(2, 1, 6000)),
        ],
    );
    let line = refused.error_line();
    assert_eq!(refused.code, Some(1));
    assert!(line.contains("; nothing was imported"), "{line}");
    assert_eq!(
        db.log_length(),
        26_000,
        "the error said nothing was imported"
    );
    let refused = with_file_size_limit(
        &db,
        1_000_000,
        &[
            "generate", "--users", "20", "--events", "6000", "--seed", "5",
        ],
    );
    let line = refused.error_line();
    assert_eq!(refused.code, Some(1));
    assert!(line.ends_with("; no event was appended"), "{line}");
    assert_eq!(
        db.log_length(),
        26_000,
        "the error said no event was appended"
    );

    // A run with room for a few flushes: it fails, the failure is recorded, and rows and
    // checkpoint are those of the last committed flush (catching up from it ends where a
    // rebuild from the log ends).
    let head = db.head();
    let run = with_file_size_limit(
        &db,
        size(&main.with_file_name("events.readmodels.db")) + 300_000,
        &[
            "run",
            "--model",
            HABITS[0],
            "--model",
            HABITS[1],
            "--flush-rows",
            "20",
            "--batch-size",
            "500",
        ],
    );
    let line = run.error_line();
    assert_eq!(run.code, Some(1));
    assert!(line.contains("writing the rows and checkpoints"), "{line}");
    let mut partial = false;
    for model in &HABITS[..2] {
        assert_eq!(db.last_run(model)["status"], "failed", "{model}");
        let checkpoint = db.checkpoint(model).unwrap_or(0);
        assert!(
            checkpoint < head,
            "{model} reached the head despite the failure"
        );
        partial |= checkpoint > 0;
    }
    assert!(
        partial,
        "no flush committed: the limit left no room for one"
    );
    for model in &HABITS[..2] {
        db.run(&["run", "--model", model]).ok();
        assert_eq!(db.checkpoint(model), Some(head), "{model}");
        assert!(
            db.run(&["verify", "--model", model]).ok().contains("match"),
            "{model}"
        );
    }
}

/// A connection of the test's own, with the database's write lock (SQLite: `BEGIN
/// IMMEDIATE`; PostgreSQL: `LOCK TABLE event_record IN EXCLUSIVE MODE`, which INSERT
/// waits for), or a lock only VACUUM waits for (`SHARE UPDATE EXCLUSIVE`).
enum Holder {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

impl Holder {
    fn take(db: &Db, sqlite: &str, postgres: &str) -> Self {
        let mut holder = if db.postgres {
            Holder::Postgres(diesel::PgConnection::establish(&db.url).expect("connects"))
        } else {
            Holder::Sqlite(diesel::SqliteConnection::establish(&db.url).expect("opens"))
        };
        let sql = if db.postgres { postgres } else { sqlite };
        for statement in sql.split(';').filter(|s| !s.trim().is_empty()) {
            holder.execute(statement);
        }
        holder
    }

    fn execute(&mut self, sql: &str) {
        match self {
            Holder::Sqlite(c) => diesel::sql_query(sql).execute(c),
            Holder::Postgres(c) => diesel::sql_query(sql).execute(c),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Whether a backend of this test's database waits on a lock running a statement that
/// starts with `statement`; its pid.
fn waiting_backend(db: &Db, statement: &str) -> Option<String> {
    query_texts(
        &db.url,
        &format!(
            "SELECT pid::text AS value FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND query LIKE '{statement}%'"
        ),
    )
    .into_iter()
    .next()
}

/// SIGINT (twice) while the import waits inside its transaction (for a lock the test
/// holds): once the lock is released the import rolls back, exits 130, and says nothing
/// was imported; the log is unchanged.
fn sigint_before_the_commit_rolls_the_append_back_and_exits_130(postgres: bool) {
    let db = Db::seeded(postgres, "2", "100", "31");
    let path = file(&db, "five.jsonl", &check_ins(3, 1, 5));
    let mut holder = Holder::take(
        &db,
        "BEGIN IMMEDIATE",
        "BEGIN; LOCK TABLE event_record IN EXCLUSIVE MODE",
    );
    let mut import = spawn(&bin(), &db.url, &["import", "--file", &path], &[]);
    // Waiting inside the transaction: for the INSERT's lock (PostgreSQL says which
    // statement waits; SQLite's only lock wait in an import is its INSERT's, its busy
    // handler sleeping).
    wait_until(
        "the import waits for the lock inside its transaction",
        || {
            exited(&mut import)
                || if postgres {
                    waiting_backend(&db, "INSERT INTO event_record").is_some()
                } else {
                    sleeping(&import)
                }
        },
    );
    // Twice: an insisting operator does not cut the report short.
    signal(&import, "INT");
    signal(&import, "INT");
    holder.execute("ROLLBACK");
    let run = finish(import);
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    let line = run.error_line();
    assert_eq!(
        line,
        "error: interrupted by SIGINT before the commit: the transaction was rolled back; nothing was imported"
    );
    assert_eq!(db.log_length(), 100, "the error said nothing was imported");
}

/// SIGINT while the work after the commit waits (SQLite: the WAL checkpoint, for a reader
/// the test holds; PostgreSQL: the VACUUM after a large append, for a lock the test
/// holds): the events are in, the report says so, the exit code is 0. On PostgreSQL a
/// VACUUM that fails (cancelled) is a warning that says the events are in.
fn sigint_after_the_commit_reports_the_commit(postgres: bool) {
    let db = Db::new(postgres);
    // PostgreSQL vacuums after appends of 100,000 events or more.
    let (events, args): (i64, Vec<String>) = if postgres {
        let generate = [
            "generate", "--users", "20", "--events", "100000", "--seed", "32",
        ];
        (100_000, generate.map(String::from).to_vec())
    } else {
        let path = file(&db, "five.jsonl", &check_ins(4, 1, 5));
        (5, vec!["import".into(), "--file".into(), path])
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut holder = Holder::take(
        &db,
        "BEGIN; SELECT COUNT(*) FROM event_record",
        "BEGIN; LOCK TABLE event_record IN SHARE UPDATE EXCLUSIVE MODE",
    );
    let busy = [("READMODEL_BUSY_TIMEOUT_SECS", "600")];
    let mut append = spawn(&bin(), &db.url, &args, &busy);
    wait_until("the append commits and waits after its commit", || {
        exited(&mut append)
            || (db.log_length() == events
                && (!postgres || waiting_backend(&db, "VACUUM").is_some()))
    });
    signal(&append, "INT");
    holder.execute(if postgres { "COMMIT" } else { "ROLLBACK" });
    let run = finish(append);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let verb = if postgres { "generated" } else { "imported" };
    assert!(
        run.stdout.contains(&format!("{verb} {events} event")),
        "{}",
        run.stdout
    );
    assert_eq!(
        warning(&run),
        format!("warning: interrupted by SIGINT after the commit: the {events} events were {verb} and are in the log")
    );
    assert_eq!(db.log_length(), events, "the report said the events are in");
    if !postgres {
        return;
    }
    // A VACUUM that fails after the commit: a warning, and the events are in.
    let mut holder = Holder::take(
        &db,
        "",
        "BEGIN; LOCK TABLE event_record IN SHARE UPDATE EXCLUSIVE MODE",
    );
    let generate = [
        "generate", "--users", "20", "--events", "100000", "--seed", "33",
    ];
    let mut append = spawn(&bin(), &db.url, &generate, &[]);
    let mut vacuum = None;
    wait_until("the VACUUM after the commit waits", || {
        vacuum = waiting_backend(&db, "VACUUM");
        vacuum.is_some() || exited(&mut append)
    });
    let pid = vacuum.expect("a waiting VACUUM");
    assert_eq!(
        query_texts(
            &db.url,
            &format!("SELECT pg_cancel_backend({pid})::text AS value")
        ),
        ["true"]
    );
    holder.execute("COMMIT");
    let run = finish(append);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let line = warning(&run);
    assert!(line.starts_with("warning: the 100000 events were generated and committed, but the work after the commit failed: VACUUM (ANALYZE) event_record: "), "{line}");
    assert!(
        line.ends_with("the events are in the log (do not append them again)"),
        "{line}"
    );
    assert_eq!(
        db.log_length(),
        200_000,
        "the warning said the events are in"
    );
}

/// Importers running together all commit. On SQLite an importer that opens the files
/// while another connection holds the read-model file's lock (as a connection closing
/// after its import does, to checkpoint and delete its write-ahead log) waits for it: the
/// busy timeout is set before the file is ATTACHed.
fn concurrent_importers_all_commit(postgres: bool) {
    let db = Db::new(postgres);
    if !postgres {
        let readmodels = Path::new(&db.url).with_file_name("events.readmodels.db");
        let mut holder =
            diesel::SqliteConnection::establish(&readmodels.display().to_string()).expect("opens");
        for sql in ["PRAGMA locking_mode = EXCLUSIVE", "BEGIN EXCLUSIVE"] {
            diesel::sql_query(sql).execute(&mut holder).expect(sql);
        }
        let path = file(&db, "locked.jsonl", &check_ins(5, 1, 3));
        let mut import = spawn(&bin(), &db.url, &["import", "--file", &path], &[]);
        wait_until("the importer waits for the lock (or fails)", || {
            exited(&mut import) || sleeping(&import)
        });
        drop(holder);
        let run = finish(import);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_eq!(db.log_length(), 3);
    }
    let before = db.log_length();
    let loops: Vec<_> = (0..4u32)
        .map(|worker| {
            let url = db.url.clone();
            let paths: Vec<String> = (0..25)
                .map(|i| {
                    let s = 100 + worker * 100 + i;
                    file(&db, &format!("w{worker}-{i}.jsonl"), &check_ins(s, 1, 4))
                })
                .collect();
            std::thread::spawn(move || {
                paths
                    .iter()
                    .map(|path| finish(spawn(&bin(), &url, &["import", "--file", path], &[])))
                    .filter(|run| run.code != Some(0))
                    .map(|run| run.stderr)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let failures: Vec<String> = loops
        .into_iter()
        .flat_map(|l| l.join().expect("an import loop"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of 100 imports failed: {failures:?}",
        failures.len()
    );
    assert_eq!(db.log_length(), before + 400);
}
