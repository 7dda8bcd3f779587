//! Reliability (issue 7), end to end through the `replay` binary on both backends:
//!
//! 1. crash safety: SIGKILL at pseudo-random points of a full replay, then `--resume`;
//! 2. gap safety: concurrent writers committing event ids out of order while catch-up runs
//!    keep reading (PostgreSQL; on SQLite no gap can occur, see
//!    [`sqlite_writers_cannot_commit_ids_out_of_order`]);
//! 3. bad events in the log: strict by default, parked on request, listed and retried;
//! 4. a matrix of bad inputs: one `error:` line each, a non-zero exit, nothing lost or
//!    half-written;
//! 5. security: passwords never shown, SQL in names and values never executed.
//!
//! The registry keeps growing (finance, calendar, …), so these tests name the habits
//! models they rely on instead of counting "all models".
//!
//! Run them with `cargo test -p readmodel-tests --test reliability -- --nocapture` to see
//! the outcome counts ("SIGKILL resume: 10/10 identical on sqlite", …).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use readmodel_tests::{checksum, execute_sql, pg, query_texts, replay, Run};

const CHECKINS: &str = "habits.checkins";
const STREAKS: &str = "habits.streaks";
const MONTHLY: &str = "habits.monthly_completions";
const HABITS: [&str; 3] = [CHECKINS, STREAKS, MONTHLY];

const USER: &str = "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const HABIT: &str = "6f0c2a52-7d1b-4a53-9a4e-0a4b8f1a0c01";

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_replay-e2e"))
}

/// A fresh, migrated database of one backend.
struct Db {
    url: String,
    postgres: bool,
    /// Holds the SQLite files (and, on both backends, the test's JSONL files).
    dir: tempfile::TempDir,
}

impl Db {
    fn new(postgres: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = if postgres {
            pg::server().fresh_database()
        } else {
            dir.path().join("events.db").display().to_string()
        };
        let db = Db { url, postgres, dir };
        db.run(&["migrate"]).ok();
        db
    }

    fn backend(&self) -> &'static str {
        if self.postgres {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// A directory for files of the test (JSONL), removed with the database.
    fn scratch(&self) -> PathBuf {
        let dir = self.dir.path().join("files");
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    fn run(&self, args: &[&str]) -> Run {
        replay(&bin(), &self.url, args)
    }

    fn checksum(&self, model: &str) -> String {
        checksum(&bin(), &self.url, model)
    }

    fn checksums(&self) -> Vec<String> {
        HABITS.iter().map(|m| self.checksum(m)).collect()
    }

    fn head(&self) -> i64 {
        self.run(&["--json", "status", "--model", CHECKINS]).json()[0]["head"]
            .as_i64()
            .expect("head")
    }

    fn checkpoint(&self, model: &str) -> Option<i64> {
        self.run(&["--json", "status", "--model", model]).json()[0]["checkpoint"].as_i64()
    }

    fn checkpoints(&self) -> Vec<Option<i64>> {
        HABITS.iter().map(|m| self.checkpoint(m)).collect()
    }

    fn last_run(&self, model: &str) -> serde_json::Value {
        self.run(&["--json", "status", "--model", model]).json()[0]["runs"][0].clone()
    }

    /// `SELECT COUNT(*) FROM {from}`, straight from the database.
    fn count(&self, from: &str) -> i64 {
        let cast = if self.postgres { "::text" } else { "" };
        let texts = query_texts(
            &self.url,
            &format!("SELECT (COUNT(*)){cast} AS value FROM {from}"),
        );
        texts[0].parse().expect("a count")
    }

    /// Rows of `event_record`, counted without the binary.
    fn log_length(&self) -> i64 {
        self.count("event_record")
    }

    fn import(&self, name: &str, lines: &[String]) -> Run {
        let path = self.scratch().join(name);
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(&path, text).expect("write the JSONL file");
        self.run(&["import", "--file", &path.display().to_string()])
    }

    /// Generates events and brings the three habits models up to date.
    fn seeded(postgres: bool, users: &str, events: &str, seed: &str) -> Self {
        let db = Db::new(postgres);
        db.run(&[
            "generate", "--users", users, "--events", events, "--seed", seed,
        ])
        .ok();
        for model in HABITS {
            db.run(&["run", "--model", model]).ok();
        }
        db
    }
}

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn sqlite() {
                super::$scenario(false);
            }
            #[test]
            fn postgres() {
                super::$scenario(true);
            }
        }
    )*};
}

/// SplitMix64: deterministic pseudo-random numbers from a fixed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One event line for `replay import`.
fn event_line(stream: &str, version: i64, event_type: &str, schema: i32, payload: &str) -> String {
    format!(
        r#"{{"stream_id":"{stream}","event_version":{version},"event_type":"{event_type}","schema_version":{schema},"user_id":"{USER}","occurred_at":"2026-03-01T07:30:00Z","payload":{payload}}}"#
    )
}

fn check_in_payload(habit: &str, day: &str) -> String {
    format!(r#"{{"habit_id":"{habit}","day":"{day}"}}"#)
}

/// A stream id no generated event uses (`n` tells test streams apart).
fn stream(n: u32) -> String {
    format!("7e57{n:04x}-0000-4000-8000-000000000000")
}

// ---------------------------------------------------------------------------------------
// 1. Crash safety
// ---------------------------------------------------------------------------------------

on_both_backends!(
    sigkill_during_a_full_replay_then_resume_gives_the_uninterrupted_checksum,
    sigkill_during_an_import_imports_nothing,
);

/// How a killed run was completed.
#[derive(Debug, Default)]
struct KillOutcomes {
    attempts: u32,
    /// Killed after the run was recorded: `--resume` continued it.
    resumed: u32,
    /// ... of which the kill had left the rows incomplete (mid-rebuild).
    partial_rows: u32,
    /// Killed before the run was recorded, or after it succeeded: nothing to resume.
    nothing_to_resume: u32,
    identical: u32,
    mismatches: Vec<String>,
}

/// Kills `replay run --model habits.checkins --full --batch-size 200` (60k events of all
/// domains, about 13k of them check-ins or undos: some 65 commits) at pseudo-random
/// points, resumes, and compares checksums. Kills continue until 10 have landed inside a
/// run (after its run record), at most 30.
fn sigkill_during_a_full_replay_then_resume_gives_the_uninterrupted_checksum(postgres: bool) {
    let db = Db::new(postgres);
    db.run(&[
        "generate", "--users", "40", "--events", "60000", "--seed", "2027",
    ])
    .ok();
    let full = [
        "--quiet",
        "run",
        "--model",
        CHECKINS,
        "--full",
        "--batch-size",
        "200",
    ];
    // Two uninterrupted runs: the reference checksum (the same both times) and the
    // shorter of their durations, over which the kills are spread.
    let mut duration = Duration::MAX;
    let mut reference = String::new();
    for _ in 0..2 {
        let started = Instant::now();
        db.run(&full[1..]).ok();
        duration = duration.min(started.elapsed());
        let sum = db.checksum(CHECKINS);
        assert!(
            reference.is_empty() || reference == sum,
            "{reference} != {sum}"
        );
        reference = sum;
    }
    let budget = Instant::now();

    let mut rng = Rng(0x5EED_0007 + u64::from(postgres));
    let mut outcomes = KillOutcomes::default();
    // The window covers the process start and most of the run; a kill after the end of a
    // run (nothing to resume) is possible when a run happens to go faster.
    let window_ms = (duration.as_millis() as u64 * 9 / 10).max(50);
    // Under a loaded machine more kills land before a run is recorded: allow more tries.
    while (outcomes.resumed < 10 || outcomes.partial_rows < 5) && outcomes.attempts < 60 {
        outcomes.attempts += 1;
        let delay = Duration::from_millis(3 + rng.below(window_ms));
        let mut child = Command::new(bin())
            .arg("--database-url")
            .arg(&db.url)
            .args(full)
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the replay binary starts");
        std::thread::sleep(delay);
        // SIGKILL on unix; harmless if the run already ended.
        let _ = child.kill();
        child.wait().expect("reaped");

        let interrupted = db.checksum(CHECKINS) != reference;
        let resumed = db.run(&[
            "--json",
            "run",
            "--model",
            CHECKINS,
            "--resume",
            "--batch-size",
            "500",
        ]);
        if resumed.code == Some(0) {
            let report = resumed.json();
            assert_eq!(report[0]["status"], "succeeded", "{report}");
            assert!(report[0]["resumed_from"].is_i64(), "{report}");
            outcomes.resumed += 1;
            if interrupted {
                outcomes.partial_rows += 1;
            }
        } else {
            let line = resumed.error_line();
            assert!(line.contains("nothing to resume"), "{line}");
            assert!(
                !interrupted,
                "rows were incomplete but there was nothing to resume"
            );
            db.run(&["run", "--model", CHECKINS]).ok();
            outcomes.nothing_to_resume += 1;
        }
        let after = db.checksum(CHECKINS);
        if after == reference {
            outcomes.identical += 1;
        } else {
            outcomes.mismatches.push(format!(
                "kill #{} after {delay:?}: {after} != {reference}",
                outcomes.attempts
            ));
        }
    }
    println!(
        "SIGKILL resume: {}/{} identical on {} ({} resumed, {} of them with rows left \
         incomplete by the kill; {} with nothing to resume; full run {:?}, kills took {:?})",
        outcomes.identical,
        outcomes.attempts,
        db.backend(),
        outcomes.resumed,
        outcomes.partial_rows,
        outcomes.nothing_to_resume,
        duration,
        budget.elapsed(),
    );
    assert!(
        outcomes.mismatches.is_empty(),
        "resumed rows differ: {:?}",
        outcomes.mismatches
    );
    assert!(
        outcomes.resumed >= 10,
        "only {} of {} kills landed inside a run: {outcomes:?}",
        outcomes.resumed,
        outcomes.attempts
    );
    assert!(
        outcomes.partial_rows >= 5,
        "too few kills interrupted the rebuild itself: {outcomes:?}"
    );
    // A resumed run is recorded as such; the killed ones are abandoned, none left running.
    let runs = db.run(&["--json", "status", "--model", CHECKINS]).json();
    assert_eq!(runs[0]["runs"][0]["status"], "succeeded", "{runs}");
    let running = db.count("readmodels.replay_runs WHERE status = 'running'");
    assert_eq!(
        running, 0,
        "a killed run was left 'running' after its resume"
    );
}

/// SIGKILL while the one import transaction is writing: nothing of the file is in the log.
fn sigkill_during_an_import_imports_nothing(postgres: bool) {
    let db = Db::seeded(postgres, "3", "300", "1");
    let before = db.log_length();
    let sums = db.checksums();
    let lines: Vec<String> = (1..=60_000)
        .map(|v| {
            event_line(
                &stream(1),
                v,
                "habits.checked_in",
                2,
                &check_in_payload(HABIT, "2026-03-02"),
            )
        })
        .collect();
    let path = db.scratch().join("big.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    for line in &lines {
        writeln!(file, "{line}").expect("write");
    }
    file.flush().expect("flush");
    drop(file);

    let mut child = Command::new(bin())
        .arg("--database-url")
        .arg(&db.url)
        .args(["--quiet", "import", "--file"])
        .arg(&path)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the replay binary starts");
    // Wait until the insert transaction is visibly under way, then kill.
    let wal = PathBuf::from(format!("{}-wal", db.url));
    let started = Instant::now();
    let mut writing = false;
    while started.elapsed() < Duration::from_secs(60) {
        if child.try_wait().expect("poll").is_some() {
            break;
        }
        writing = if postgres {
            query_texts(
                &db.url,
                "SELECT COUNT(*)::text AS value FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND query LIKE 'INSERT INTO event_record%'",
            )[0]
                != "0"
        } else {
            // Uncommitted pages spill into the WAL while the transaction writes.
            std::fs::metadata(&wal).map_or(0, |m| m.len()) > 2 << 20
        };
        if writing {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let status = child.wait().expect("reaped");
    assert!(
        writing && status.code().is_none(),
        "the import was not killed while writing ({status:?} after {:?})",
        started.elapsed()
    );
    assert_eq!(
        db.log_length(),
        before,
        "a killed import left events behind"
    );
    assert_eq!(db.checksums(), sums);
    println!(
        "SIGKILL import on {}: killed after {:?} while inserting; log length unchanged ({before})",
        db.backend(),
        started.elapsed()
    );
    // The same file imports completely afterwards.
    db.run(&["import", "--file", &path.display().to_string()])
        .ok();
    assert_eq!(db.log_length(), before + lines.len() as i64);
}

// ---------------------------------------------------------------------------------------
// 2. Gap safety
// ---------------------------------------------------------------------------------------

const INSERT_PG: &str = "INSERT INTO event_record (stream_id, event_version, event_type, schema_version, user_id, occurred_at, recorded_at, payload) \
     VALUES ($1::uuid, $2, 'habits.checked_in', 2, $3::uuid, '2026-03-01T07:30:00Z'::timestamptz, now(), $4::jsonb)";

const INSERT_SQLITE: &str = "INSERT INTO event_record (stream_id, event_version, event_type, schema_version, user_id, occurred_at, recorded_at, payload) \
     VALUES (?, ?, 'habits.checked_in', 2, ?, '2026-03-01T07:30:00.000000Z', '2026-03-01T07:30:00.000000Z', ?)";

/// One writer thread: on its own connection, `BEGIN; INSERT; sleep 0–40 ms; COMMIT` until
/// told to stop, each event the next version of the writer's own stream (SQLite:
/// `BEGIN IMMEDIATE`). Returns how many events it committed.
fn spawn_writer(
    url: String,
    postgres: bool,
    n: u32,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<i64> {
    use diesel::sql_types::{BigInt, Text};
    std::thread::spawn(move || {
        let mut rng = Rng(u64::from(n) * 7919 + 1);
        let stream = stream(n);
        let payload = check_in_payload(HABIT, "2026-03-01");
        let mut version = 0i64;
        let mut pg = postgres.then(|| diesel::PgConnection::establish(&url).expect("connects"));
        let mut lite = (!postgres).then(|| {
            let mut c = diesel::SqliteConnection::establish(&url).expect("opens");
            diesel::sql_query("PRAGMA busy_timeout = 10000")
                .execute(&mut c)
                .expect("busy timeout");
            c
        });
        while !stop.load(Ordering::Relaxed) {
            version += 1;
            let pause = Duration::from_millis(rng.below(41));
            let insert = |sql: &'static str| {
                diesel::sql_query(sql)
                    .bind::<Text, _>(stream.clone())
                    .bind::<BigInt, _>(version)
                    .bind::<Text, _>(USER)
                    .bind::<Text, _>(payload.clone())
            };
            let committed = match (&mut pg, &mut lite) {
                (Some(c), _) => c.transaction(|c| {
                    insert(INSERT_PG).execute(c)?;
                    std::thread::sleep(pause);
                    diesel::QueryResult::Ok(())
                }),
                (_, Some(c)) => c.immediate_transaction(|c| {
                    insert(INSERT_SQLITE).execute(c)?;
                    std::thread::sleep(pause);
                    diesel::QueryResult::Ok(())
                }),
                _ => unreachable!(),
            };
            committed.expect("the writer's transaction commits");
        }
        version
    })
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// What a gap scenario saw.
struct Gaps {
    events: i64,
    catch_ups: u32,
    /// Snapshots of the log (`COUNT(*)`, `MAX(id)` in one statement) with a hole: a lower
    /// id not yet committed while a higher one was. Ids start at 1 and no writer rolls
    /// back, so a snapshot without holes has `COUNT(*) = MAX(id)`.
    holes_seen: u32,
    snapshots: u32,
    /// Events without their row after the final catch-up.
    missing: i64,
    rows: i64,
}

/// `writers` threads commit events for `duration` while the main thread keeps running
/// `replay run --model habits.checkins` (catch-up) and an observer looks for holes.
fn concurrent_writers_and_catch_ups(db: &Db, writers: u32, duration: Duration) -> Gaps {
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..writers)
        .map(|n| spawn_writer(db.url.clone(), db.postgres, n, Arc::clone(&stop)))
        .collect();
    let observer = {
        let (url, stop, postgres) = (db.url.clone(), Arc::clone(&stop), db.postgres);
        std::thread::spawn(move || {
            let sql = "SELECT CASE WHEN COUNT(*) = COALESCE(MAX(id), 0) THEN 'true' ELSE 'false' END AS value FROM event_record";
            let mut pg = postgres.then(|| diesel::PgConnection::establish(&url).expect("connects"));
            let mut lite = (!postgres).then(|| {
                let mut c = diesel::SqliteConnection::establish(&url).expect("opens");
                diesel::sql_query("PRAGMA busy_timeout = 10000")
                    .execute(&mut c)
                    .expect("busy timeout");
                c
            });
            let (mut holes, mut snapshots) = (0, 0);
            while !stop.load(Ordering::Relaxed) {
                snapshots += 1;
                let answer: Vec<Text> = match (&mut pg, &mut lite) {
                    (Some(c), _) => diesel::sql_query(sql).load(c),
                    (_, Some(c)) => diesel::sql_query(sql).load(c),
                    _ => unreachable!(),
                }
                .expect("the observer's query runs");
                if answer[0].value != "true" {
                    holes += 1;
                }
                std::thread::sleep(Duration::from_millis(3));
            }
            (holes, snapshots)
        })
    };
    let started = Instant::now();
    let mut catch_ups = 0;
    // At least three catch-ups overlap the writers, however slow the machine.
    while started.elapsed() < duration || catch_ups < 3 {
        db.run(&["run", "--model", CHECKINS]).ok();
        catch_ups += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let committed: i64 = handles
        .into_iter()
        .map(|h| h.join().expect("writer thread"))
        .sum();
    let (holes_seen, snapshots) = observer.join().expect("observer thread");
    db.run(&["run", "--model", CHECKINS]).ok();
    let events = db.log_length();
    assert_eq!(events, committed, "every committed event is in the log");
    Gaps {
        events,
        catch_ups,
        holes_seen,
        snapshots,
        missing: db.count(
            "event_record e WHERE NOT EXISTS (SELECT 1 FROM readmodels.habit_checkins c \
             WHERE c.model_version = 1 AND c.event_id = e.id)",
        ),
        rows: db.count("readmodels.habit_checkins WHERE model_version = 1"),
    }
}

/// 8 writers, each `BEGIN; INSERT; sleep 0–40 ms; COMMIT` on its own connection for
/// 1.5 s, so ids commit out of order (the observer sees holes), while catch-up runs keep
/// reading. The runtime waits until transactions that may still commit lower ids have
/// ended (`settled_head`), so no event is skipped.
#[test]
fn postgres_catch_up_never_skips_an_event_committed_out_of_id_order() {
    const WRITERS: u32 = 8;
    let db = Db::new(true);
    let gaps = concurrent_writers_and_catch_ups(&db, WRITERS, Duration::from_millis(1500));
    println!(
        "gap safety on postgres: {} events from {WRITERS} writers, holes in {}/{} snapshots of \
         the log, {} catch-up runs while writing; {} events missing a row, {} rows",
        gaps.events, gaps.holes_seen, gaps.snapshots, gaps.catch_ups, gaps.missing, gaps.rows
    );
    assert_eq!(gaps.missing, 0, "catch-up skipped events committed late");
    assert_eq!(gaps.rows, gaps.events, "every event has exactly one row");
    assert!(
        gaps.holes_seen > 0,
        "no id ever committed out of order: the test proved nothing"
    );
    let incremental = db.checksum(CHECKINS);
    db.run(&["run", "--model", CHECKINS, "--full"]).ok();
    assert_eq!(
        db.checksum(CHECKINS),
        incremental,
        "catch-up during writes differs from a rebuild"
    );
}

/// Why SQLite needs no settling: a writer takes the database's single write lock with its
/// first INSERT (here `BEGIN IMMEDIATE`) and holds it until COMMIT, and ids are assigned
/// under that lock (`INTEGER PRIMARY KEY` = max + 1), so transactions commit in id order
/// and every snapshot a reader takes is a prefix of the log. Two writers doing what the
/// PostgreSQL writers do leave no hole in any snapshot, and catch-up runs miss nothing.
#[test]
fn sqlite_writers_cannot_commit_ids_out_of_order() {
    let db = Db::new(false);
    let gaps = concurrent_writers_and_catch_ups(&db, 2, Duration::from_millis(1000));
    println!(
        "gap safety on sqlite: {} events from 2 writers, holes in {}/{} snapshots, {} catch-up \
         runs; {} events missing a row",
        gaps.events, gaps.holes_seen, gaps.snapshots, gaps.catch_ups, gaps.missing
    );
    assert_eq!(
        gaps.holes_seen, 0,
        "SQLite committed an id after a higher one"
    );
    assert!(gaps.snapshots > 10);
    assert_eq!(gaps.missing, 0);
    assert_eq!(gaps.rows, gaps.events);
}

// ---------------------------------------------------------------------------------------
// 3. Bad events in the log
// ---------------------------------------------------------------------------------------

on_both_backends!(bad_events_are_parked_on_request_listed_and_retried_after_a_fix);

fn bad_events_are_parked_on_request_listed_and_retried_after_a_fix(postgres: bool) {
    let db = Db::seeded(postgres, "5", "800", "3");
    let s = stream(1);
    db.import(
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
                &check_in_payload(HABIT, "2026-03-03"),
            ),
        ],
    )
    .ok();
    let head = db.head();
    let bad = head - 1;
    let checkpoint = db.checkpoint(CHECKINS);
    let before = db.checksum(CHECKINS);

    // Strict by default: stops at the bad event, naming id, type and reason.
    let line = db
        .run(&["run", "--model", CHECKINS])
        .error_line()
        .to_owned();
    assert!(
        line.contains(&format!("event {bad} (habits.checked_in")),
        "{line}"
    );
    assert!(line.contains("missing field `day`"), "{line}");
    assert_eq!(db.checkpoint(CHECKINS), checkpoint);
    assert_eq!(db.checksum(CHECKINS), before);

    // Parked on request: the run goes on past it.
    let report = db
        .run(&[
            "--json",
            "run",
            "--model",
            CHECKINS,
            "--on-bad-event",
            "park",
        ])
        .json();
    assert_eq!(report[0]["status"], "succeeded", "{report}");
    assert_eq!(db.checkpoint(CHECKINS), Some(head));
    let row = |id: i64| {
        db.count(&format!(
            "readmodels.habit_checkins WHERE model_version = 1 AND event_id = {id}"
        ))
    };
    assert_eq!((row(bad), row(head)), (0, 1));

    let letters = db
        .run(&["--json", "dead-letters", "--model", CHECKINS])
        .json();
    let letters = letters.as_array().expect("array");
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["event_id"], bad);
    assert_eq!(letters[0]["event_type"], "habits.checked_in");
    assert_eq!(letters[0]["model"], CHECKINS);
    let reason = letters[0]["reason"].as_str().expect("reason");
    assert!(reason.contains("missing field `day`"), "{reason}");
    let text = db.run(&["dead-letters"]).ok().to_owned();
    assert!(text.contains(&bad.to_string()) && text.contains("missing field"));
    // Other habits models that were not asked to park still stop at it.
    assert!(db
        .run(&["run", "--model", STREAKS])
        .error_line()
        .contains(&format!("event {bad} ")));

    // Fix the event in place (the log is otherwise immutable), then retry.
    execute_sql(
        &db.url,
        &format!(
            "UPDATE event_record SET payload = '{}' WHERE id = {bad}",
            check_in_payload(HABIT, "2026-03-02")
        ),
    );
    let retried = db
        .run(&["dead-letters", "--model", CHECKINS, "--retry"])
        .ok()
        .to_owned();
    assert!(retried.contains("1 parked event(s) now apply"), "{retried}");
    let letters = db
        .run(&["--json", "dead-letters", "--model", CHECKINS])
        .json();
    assert_eq!(letters, serde_json::json!([]));
    assert_eq!((row(bad), row(head)), (1, 1));
    let repaired = db.checksum(CHECKINS);
    db.run(&["run", "--model", CHECKINS, "--full"]).ok();
    assert_eq!(db.checksum(CHECKINS), repaired);
    assert_eq!(db.checkpoint(CHECKINS), Some(head));
}

// ---------------------------------------------------------------------------------------
// 4. Bad input matrix
// ---------------------------------------------------------------------------------------

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

/// An event type no model consumes is imported and skipped by every run.
fn unknown_event_types_are_ignored_by_every_habits_model(postgres: bool) {
    let db = Db::seeded(postgres, "4", "600", "4");
    let sums = db.checksums();
    let s = stream(3);
    let lines: Vec<String> = (1..=5)
        .map(|v| event_line(&s, v, "lifeos.never_heard_of", 7, r#"{"anything":[1,2]}"#))
        .collect();
    assert!(db
        .import("unknown.jsonl", &lines)
        .ok()
        .contains("imported 5"));
    let head = db.head();
    for model in HABITS {
        let report = db.run(&["--json", "run", "--model", model]).json();
        assert_eq!(report[0]["events_read"], 0, "{model}: {report}");
    }
    assert_eq!(db.checksums(), sums, "an unconsumed event changed rows");
    assert_eq!(db.checkpoints(), vec![Some(head); 3]);
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
    db.import(
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
    db.import(
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
    db.import(
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
    let sums = db.checksums();
    let checkpoints = db.checkpoints();
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
    assert_eq!(db.checksums(), sums, "a refused run wrote rows");
    assert_eq!(db.checkpoints(), checkpoints);
    assert_eq!(db.head(), 300);
}

fn unknown_model_and_unknown_user_are_one_line_errors(postgres: bool) {
    let db = Db::seeded(postgres, "3", "300", "9");
    let sums = db.checksums();
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
    assert_eq!(db.checksums(), sums);
}

fn missing_readmodels_table_names_it_and_says_migrate(postgres: bool) {
    let db = Db::seeded(postgres, "4", "500", "10");
    let sums = db.checksums();
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
    let sums = db.checksums();
    let lines: Vec<String> = (3..=2000).map(line).chain([line(2)]).collect();
    let run = db.import("conflict.jsonl", &lines);
    let error = run.error_line();
    assert_eq!(run.code, Some(1));
    assert!(error.contains("nothing was imported"), "{error}");
    assert!(
        error.to_lowercase().contains("unique") || error.contains("UNIQUE"),
        "{error}"
    );
    assert_eq!(db.log_length(), before, "a failed import left events");
    assert_eq!(db.checksums(), sums);
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
    let sums = db.checksums();
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
        let out = cmd.output().expect("runs");
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
    assert_eq!(db.checksums(), sums, "a read-only database was written");
    assert_eq!(db.head(), 400);
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

// ---------------------------------------------------------------------------------------
// 5. Security
// ---------------------------------------------------------------------------------------

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
    let sums = db.checksums();
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
    assert_eq!(db.checksums(), sums, "a rejected command changed rows");
    assert_eq!(db.log_length(), 300, "event_record survived");
    // Inside events, SQL is stored verbatim and replayed as data.
    let s = stream(8);
    let evil_type = "x'); DROP TABLE event_record; --";
    let evil_payload = r#"{"habit_id":"6f0c2a52-7d1b-4a53-9a4e-0a4b8f1a0c01","day":"2026-03-01","note":"'); DELETE FROM readmodels.habit_checkins; --"}"#;
    db.import(
        "evil.jsonl",
        &[
            event_line(&s, 1, evil_type, 1, r#"{"q":"' OR 1=1 --"}"#),
            event_line(&s, 2, "habits.checked_in", 2, evil_payload),
        ],
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
