//! The example application end to end, on SQLite and PostgreSQL: its own `replay` binary
//! migrates, generates a demo log and replays both models with equal checksums; a schema
//! version 1 `tracker.habit_done` (its `minutes` then called `duration`) is upcast; the
//! application appends an event ([`record_done`]) and reads it back once applied
//! ([`habits_after`], the README's example), the same code on both backends.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use habit_tracker::{done_log, habit_totals, habits_after, record_done, DoneLog, HabitTotal};
use readmodel_runtime::sql_types::Param;
use readmodel_runtime::{DatabaseUrl, Store};
use readmodel_tests::{checksum, pg, replay};
use uuid::Uuid;

const MODELS: [&str; 2] = ["tracker.done_log", "tracker.habit_totals"];

/// The user and habit of the events the test writes itself.
const USER: Uuid = Uuid::from_u128(0x0b1e_2c3d_4e5f_4a6b_8c7d_9e0f_1a2b_3c4d);
const HABIT: Uuid = Uuid::from_u128(0x6f0c_2a52_7d1b_4a53_9a4e_0a4b_8f1a_0c01);

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tracker-replay"))
}

fn open(url: &str) -> Store {
    let url = DatabaseUrl::parse(url).expect("a valid URL");
    Store::open(&url, &habit_tracker::MIGRATIONS).expect("opens")
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

/// What the application reads: every habit's totals, one habit's log, and the totals of
/// the habit the test wrote itself.
#[derive(Debug, PartialEq)]
struct Read {
    totals: Vec<HabitTotal>,
    log: Vec<DoneLog>,
    mine: Vec<HabitTotal>,
}

fn read(conn: &mut Store, head: i64) -> (Vec<HabitTotal>, Vec<DoneLog>) {
    HabitTotal::wait_until_applied(conn, head, Duration::from_secs(5)).expect("applied");
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
    (totals, log)
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 7, 30, 0)
        .single()
        .expect("a day of March 2026")
}

/// Imports the start of [`HABIT`] and a schema version 1 check of it (17 minutes, then
/// called `duration`), then the application records 23 more minutes and reads its habits.
fn upcast_then_appended_then_read(url: &str) -> Vec<HabitTotal> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("v1.jsonl");
    let line = |version: u32, event_type: &str, schema: u32, payload: String| {
        format!(
            r#"{{"stream_id":"{HABIT}","event_version":{version},"event_type":"{event_type}","schema_version":{schema},"user_id":"{USER}","occurred_at":"2026-03-0{version}T07:30:00Z","payload":{payload}}}"#
        )
    };
    let lines = [
        line(
            1,
            "tracker.habit_started",
            1,
            format!(r#"{{"habit_id":"{HABIT}","title":"stretch"}}"#),
        ),
        line(
            2,
            "tracker.habit_done",
            1,
            format!(r#"{{"habit_id":"{HABIT}","day":"2026-03-02","duration":17}}"#),
        ),
    ];
    std::fs::write(&file, lines.join("\n")).expect("writes the file");
    let file = file.display().to_string();
    replay(&bin(), url, &["import", "--file", &file]).ok();

    let mut conn = open(url);
    let id = record_done(&mut conn, USER, HABIT, 3, at(3), 23).expect("appended");
    replay(&bin(), url, &["run", "--all"]).ok();
    let mine = habits_after(&mut conn, USER, id).expect("read after the write");
    let upcast: Vec<i32> = DoneLog::active(&mut conn)
        .expect("the active version")
        .filter(done_log::habit_id.eq(Param(HABIT)))
        .order(done_log::event_id)
        .select(done_log::minutes)
        .load(&mut conn)
        .expect("the log loads");
    assert_eq!(
        upcast,
        [17, 23],
        "version 1's `duration` is read as `minutes`"
    );
    mine
}

fn run(url: &str) -> (Vec<String>, Read) {
    let (head, sums) = replayed(url);
    let (totals, log) = read(&mut open(url), head);
    let mine = upcast_then_appended_then_read(url);
    (sums, Read { totals, log, mine })
}

#[test]
fn replays_appends_and_reads_back_alike_on_both_backends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = dir.path().join("tracker.db").display().to_string();
    let postgres = pg::server().fresh_database();
    let (sqlite_sums, from_sqlite) = run(&sqlite);
    let (pg_sums, from_postgres) = run(&postgres);
    assert_eq!(sqlite_sums, pg_sums);
    assert_eq!(from_sqlite.totals.len(), 18, "6 users with 3 habits each");
    assert!(!from_sqlite.log.is_empty());
    let mine: Vec<(&str, i64, i64)> = from_sqlite
        .mine
        .iter()
        .map(|t| (t.title.as_str(), t.times_done, t.minutes))
        .collect();
    assert_eq!(mine, [("stretch", 2, 40)]);
    assert_eq!(from_sqlite, from_postgres);
}

#[test]
fn help_and_version_describe_the_tracker() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir.path().join("tracker.db").display().to_string();
    let help = replay(&bin(), &url, &["--help"]);
    assert_eq!(
        help.ok().lines().next(),
        Some(env!("CARGO_PKG_DESCRIPTION")),
        "the crate's own description, by default"
    );
    let version = replay(&bin(), &url, &["--version"]);
    assert_eq!(version.ok().trim(), "habit-tracker 0.1.0");
}
