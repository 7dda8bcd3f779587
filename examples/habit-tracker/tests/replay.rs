//! The example application end to end: its own `replay` binary migrates, generates a demo
//! log, replays both models on SQLite and PostgreSQL with equal checksums, and the
//! application reads its rows back through the reader API.

use std::path::PathBuf;
use std::time::Duration;

use diesel::prelude::*;
use habit_tracker::{done_log, habit_totals, DoneLog, HabitTotal};
use readmodel_runtime::sql_types::Param;
use readmodel_runtime::{DatabaseUrl, Store};
use readmodel_tests::{checksum, pg, replay};

const MODELS: [&str; 2] = ["tracker.done_log", "tracker.habit_totals"];

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tracker-replay"))
}

/// Replays a demo log into `url`; returns the log's head and the models' checksums.
fn replayed(url: &str) -> (i64, Vec<String>) {
    replay(&bin(), url, &["migrate"]).ok();
    let listed = replay(&bin(), url, &["list"]);
    for model in MODELS {
        assert!(listed.ok().contains(model), "`replay list` shows {model}");
    }
    replay(
        &bin(),
        url,
        &["generate", "--users", "6", "--events", "900", "--seed", "3"],
    )
    .ok();
    replay(&bin(), url, &["run", "--all"]).ok();
    let status = replay(&bin(), url, &["--json", "status"]).json();
    let head = status[0]["head"].as_i64().expect("head");
    let sums = MODELS.iter().map(|m| checksum(&bin(), url, m)).collect();
    (head, sums)
}

/// What the application reads: every habit's totals, and one habit's log.
#[derive(Debug, PartialEq)]
struct Read {
    totals: Vec<HabitTotal>,
    log: Vec<DoneLog>,
}

macro_rules! read_on {
    ($conn:expr, $head:expr) => {{
        let conn = $conn;
        HabitTotal::wait_until_applied(conn, $head, Duration::from_secs(5)).expect("applied");
        let totals: Vec<HabitTotal> = HabitTotal::active(conn)
            .expect("the active version")
            .order(habit_totals::habit_id)
            .load(conn)
            .expect("totals load");
        let habit = totals.first().expect("a habit").habit_id;
        let log: Vec<DoneLog> = DoneLog::active(conn)
            .expect("the active version")
            .filter(done_log::habit_id.eq(Param(habit)))
            .order(done_log::event_id)
            .load(conn)
            .expect("the log loads");
        let total = totals
            .iter()
            .find(|t| t.habit_id == habit)
            .expect("its totals");
        assert_eq!(usize::try_from(total.times_done).ok(), Some(log.len()));
        assert_eq!(
            total.minutes,
            log.iter().map(|e| i64::from(e.minutes)).sum::<i64>()
        );
        assert_eq!(total.last_done, log.iter().map(|e| e.day).max());
        Read { totals, log }
    }};
}

fn read(url: &str, head: i64) -> Read {
    let url = DatabaseUrl::parse(url).expect("a valid URL");
    match Store::open(&url, &habit_tracker::MIGRATIONS).expect("opens") {
        Store::Sqlite(mut conn) => read_on!(&mut conn, head),
        Store::Postgres(mut conn) => read_on!(&mut conn, head),
    }
}

#[test]
fn replays_on_both_backends_with_equal_checksums_and_reads_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = dir.path().join("tracker.db").display().to_string();
    let postgres = pg::server().fresh_database();
    let (head, sqlite_sums) = replayed(&sqlite);
    let (pg_head, pg_sums) = replayed(&postgres);
    assert_eq!(head, pg_head);
    assert_eq!(sqlite_sums, pg_sums);
    let from_sqlite = read(&sqlite, head);
    assert_eq!(from_sqlite.totals.len(), 18, "6 users with 3 habits each");
    assert!(!from_sqlite.log.is_empty());
    assert_eq!(from_sqlite, read(&postgres, head));
}
