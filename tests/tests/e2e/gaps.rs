//! Gap safety: concurrent writers committing event ids out of order while catch-up runs
//! keep reading (PostgreSQL; on SQLite no gap can occur, see
//! [`sqlite_writers_cannot_commit_ids_out_of_order`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use readmodel_tests::writers::{connect, spawn_writers};
use readmodel_tests::Db;

const CHECKINS: &str = "habits.checkins";

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
    // Each writer's transaction sleeps 0–40 ms after its insert: ids commit out of order.
    let (stop, handles) = spawn_writers(&db.url, db.postgres, writers);
    let observer = {
        let (url, stop, postgres) = (db.url.clone(), Arc::clone(&stop), db.postgres);
        std::thread::spawn(move || {
            let sql = "SELECT CASE WHEN COUNT(*) = COALESCE(MAX(id), 0) THEN 'true' ELSE 'false' END AS value FROM event_record";
            let (mut pg, mut lite) = connect(&url, postgres);
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
