//! Versions that keep serving (blue/green): two binaries of `test.notes` (v1 scores a
//! word 1, v2 scores it 2) follow one log; v2's follower switches readers once it has
//! caught up (`follow --cutover-when-caught-up`), v1's keeps v1 current for a rollback.
//! And what one binary says when readers use a version it does not build.

use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, RunQueryDsl};
use readmodel_tests::child::{finish, signal, spawn, wait_until};
use readmodel_tests::events::Rng;
use readmodel_tests::{binary, checksum, on_both_backends, Db, Reader};

const NOTES: &str = "test.notes";

on_both_backends!(one_binary_says_where_readers_are_and_what_to_run,);

/// A database with v1 built and active over 600 notes of 6 users.
fn built_by_v1(postgres: bool) -> Db {
    let db = Db::new(postgres);
    let v1 = binary("replay-notes-v1");
    db.with(&v1, &["migrate"]).ok();
    db.with(
        &v1,
        &["generate", "--users", "6", "--events", "600", "--seed", "5"],
    )
    .ok();
    db.with(&v1, &["run", "--model", NOTES]).ok();
    db
}

/// v2's binary alone: `run` builds v2 and says readers stay on v1 and how to cut over;
/// `status` says readers use v1, maintained by another build; a rollback to v1 behind the
/// log sends the operator to the build that maintains v1, and works once it has run.
fn one_binary_says_where_readers_are_and_what_to_run(postgres: bool) {
    let db = built_by_v1(postgres);
    let (v1, v2) = (binary("replay-notes-v1"), binary("replay-notes-v2"));
    let backend = db.backend();
    let ran = db.with(&v2, &["run", "--all"]).ok().to_owned();
    let cutover = "replay cutover --model test.notes --version 2";
    let note = format!("readers of test.notes stay on v1 until cutover: `{cutover}`");
    assert!(ran.contains(&note), "{backend}: {ran}");
    let status = db.with(&v2, &["status"]).ok().to_owned();
    let line = "test.notes: readers use v1, maintained by another build (checkpoint 600, lag 0); this binary builds v2 (checkpoint 600, lag 0)";
    assert!(status.contains(line), "{backend}: {status}");
    let json = db.with(&v2, &["--json", "status"]).json();
    assert_eq!(json[0]["active_checkpoint"], 600, "{backend}: {json}");
    // The suggested command works.
    let words: Vec<&str> = cutover.split(' ').skip(1).collect();
    db.with(&v2, &words).ok();

    db.with(
        &v1,
        &["generate", "--users", "6", "--events", "60", "--seed", "77"],
    )
    .ok();
    db.with(&v2, &["run", "--all"]).ok();
    let status = db.with(&v1, &["status"]).ok().to_owned();
    let line = "test.notes: readers use v2, maintained by another build (checkpoint 660, lag 0); this binary builds v1 (checkpoint 600, lag 60)";
    assert!(status.contains(line), "{backend}: {status}");
    let refused = db.with(&v2, &["cutover", "--model", NOTES, "--version", "1"]);
    let line = refused.error_line();
    assert!(
        line.contains("v1 is built by another build (this binary builds v2)")
            && line.contains("from the binary declaring version 1"),
        "{backend}: {line}"
    );
    assert!(
        !line.contains("catch it up with `replay run --model test.notes` first"),
        "{backend}: sends the v2 operator to advance v2: {line}"
    );
    db.with(&v1, &["run", "--model", NOTES]).ok();
    db.with(&v2, &["cutover", "--model", NOTES, "--version", "1"])
        .ok();
    let ran = db.with(&v1, &["run", "--all"]).ok().to_owned();
    assert!(!ran.contains("stay on"), "{backend}: v1 is read: {ran}");
}

/// One read of what readers see, in one statement (one snapshot): the active version,
/// its checkpoint, its rows' count, notes and score, and what the log holds up to that
/// checkpoint (users, notes, words).
const READ: &str = "WITH a AS (SELECT active_version AS v FROM readmodels.model_versions WHERE model = 'test.notes'), \
c AS (SELECT last_event_id AS at FROM readmodels.replay_checkpoints, a WHERE model = 'test.notes' AND model_version = a.v AND scope = 'all'), \
r AS (SELECT COUNT(*) AS n, COALESCE(SUM(notes), 0) AS notes, COALESCE(SUM(score), 0) AS score FROM readmodels.test_notes, a WHERE model_version = a.v), \
e AS (SELECT COUNT(DISTINCT user_id) AS users, COUNT(*) AS notes, COALESCE(SUM((payload->>'words')::bigint), 0) AS words FROM event_record, c WHERE event_type = 'test.note_written' AND id <= c.at) \
SELECT a.v || ':' || c.at || ':' || r.n || ':' || r.notes || ':' || r.score || ':' || e.users || ':' || e.notes || ':' || e.words AS value FROM a, c, r, e";

/// What the readers saw: the versions in the order they were active, and the reads.
#[derive(Debug, Default)]
struct Seen {
    versions: Vec<i64>,
    reads: u64,
    last_checkpoint: i64,
}

/// Polls [`READ`] every 2 ms until `stop`: every read is a complete version (a row per
/// user with notes, and scores of its weight, for exactly the events up to its
/// checkpoint), and the checkpoint never goes back.
fn spawn_reader(url: String, stop: Arc<AtomicBool>) -> JoinHandle<Seen> {
    std::thread::spawn(move || {
        let mut reader = Reader::open(&url);
        let mut seen = Seen::default();
        while !stop.load(Ordering::SeqCst) {
            let text = reader.texts(READ).pop().expect("one row");
            let f: Vec<i64> = text
                .split(':')
                .map(|x| x.parse().expect("a number"))
                .collect();
            let [v, at, rows, notes, score, users, logged, words] = f[..] else {
                panic!("{text}");
            };
            assert_eq!(
                (rows, notes, score),
                (users, logged, v * words),
                "v{v} at {at} is incomplete: {text}"
            );
            assert!(
                at >= seen.last_checkpoint,
                "readers' checkpoint went back from {} to {at} (v{v})",
                seen.last_checkpoint
            );
            seen.last_checkpoint = at;
            if seen.versions.last() != Some(&v) {
                seen.versions.push(v);
            }
            seen.reads += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
        seen
    })
}

/// Writer `n`: `BEGIN; INSERT a note; sleep 0–20 ms; COMMIT` until `stop` (ids commit out
/// of order), each note its own user's (one of 3 per writer).
fn spawn_note_writer(url: String, n: u64, stop: Arc<AtomicBool>) -> JoinHandle<i64> {
    std::thread::spawn(move || {
        let mut conn = diesel::PgConnection::establish(&url).expect("connects");
        let mut rng = Rng(n * 7919 + 3);
        let mut written = 0i64;
        while !stop.load(Ordering::Relaxed) {
            let user = uuid::Uuid::from_u64_pair(900 + n, rng.below(3)).to_string();
            let words = i64::try_from(rng.below(100)).expect("small");
            let pause = Duration::from_millis(rng.below(21));
            conn.transaction(|c| {
                diesel::sql_query("INSERT INTO event_record (stream_id, event_version, event_type, schema_version, user_id, occurred_at, recorded_at, payload) SELECT $1::uuid, COALESCE(MAX(event_version), 0) + 1, 'test.note_written', 1, $1::uuid, now(), now(), jsonb_build_object('words', $2::bigint) FROM event_record WHERE stream_id = $1::uuid")
                    .bind::<Text, _>(&user)
                    .bind::<BigInt, _>(words)
                    .execute(c)?;
                std::thread::sleep(pause);
                diesel::QueryResult::Ok(())
            })
            .expect("the note commits");
            written += 1;
        }
        written
    })
}

/// `follow --model test.notes` from `bin`, polling the log every 50 ms.
fn follower(db: &Db, bin: &str, extra: &[&str]) -> Child {
    deployment(db, bin, "follow", extra)
}

/// `COMMAND --model test.notes` (`follow` or `worker`) from `bin`, polling the log every
/// 50 ms.
fn deployment(db: &Db, bin: &str, command: &str, extra: &[&str]) -> Child {
    let mut args = vec![command, "--model", NOTES, "--poll-seconds", "0.05"];
    args.extend(extra);
    spawn(&binary(bin), &db.url, &args, &[])
}

/// Whether `version`'s checkpoint has reached the log's last event.
fn at_head(db: &Db, version: i32) -> bool {
    let sql = format!("readmodels.replay_checkpoints WHERE model = 'test.notes' AND model_version = {version} AND scope = 'all' AND last_event_id >= (SELECT MAX(id) FROM event_record)");
    db.count(&sql) == 1
}

/// Whether readers use v2.
fn readers_on_v2(db: &Db) -> bool {
    db.count("readmodels.model_versions WHERE model = 'test.notes' AND active_version = 2") == 1
}

/// The test: v1 and v2 followers on PostgreSQL while 3 writers append and a
/// reader polls; v2's switches readers once caught up, v1's keeps v1 current, a rollback
/// works, and each version equals a full rebuild of it.
#[test]
fn blue_green_followers_switch_readers_once_v2_has_caught_up() {
    blue_green(&["follow", "--cutover-when-caught-up", "--batch-size", "50"]);
}

/// The same with v2 deployed as a worker (`worker --cutover-when-caught-up`): readers
/// switch once every partition of v2 has caught up.
#[test]
fn blue_green_a_v2_worker_switches_readers_once_every_partition_has_caught_up() {
    blue_green(&[
        "worker",
        "--cutover-when-caught-up",
        "--partitions",
        "4",
        "--batch-size",
        "50",
    ]);
}

/// v1 followed by v1's binary, v2 built by v2's binary as `v2` says (`COMMAND` and its
/// flags), while 3 writers append and a reader polls: readers switch to v2 once it has
/// caught up, v1 stays current, a rollback works, and each version equals a full rebuild
/// of it.
fn blue_green(v2: &[&str]) {
    let db = built_by_v1(true);
    let stop_reading = Arc::new(AtomicBool::new(false));
    let reader = spawn_reader(db.url.clone(), stop_reading.clone());
    let stop_writing = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|n| spawn_note_writer(db.url.clone(), n, stop_writing.clone()))
        .collect();
    let old = follower(&db, "replay-notes-v1", &[]);
    let new = deployment(&db, "replay-notes-v2", v2[0], &v2[1..]);
    wait_until("v2's deployment switches readers", || readers_on_v2(&db));
    let switched_at = db.head();
    wait_until("more notes after the switch", || {
        db.head() > switched_at + 30
    });
    stop_writing.store(true, Ordering::SeqCst);
    let written: i64 = writers
        .into_iter()
        .map(|w| w.join().expect("a writer"))
        .sum();
    assert!(written > 30, "{written} notes written");
    wait_until("both versions reach the head", || {
        at_head(&db, 1) && at_head(&db, 2)
    });
    // Rollback from either binary: v1 is current.
    db.with(
        &binary("replay-notes-v2"),
        &["cutover", "--model", NOTES, "--version", "1"],
    )
    .ok();
    std::thread::sleep(Duration::from_millis(50));
    stop_reading.store(true, Ordering::SeqCst);
    let seen = reader.join().expect("the reader");
    assert_eq!(seen.versions, vec![1, 2, 1], "{seen:?}");
    assert!(seen.reads > 10, "{seen:?}");
    for child in [old, new] {
        signal(&child, "TERM");
        let out = finish(child);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
    }
    for (bin, version) in [("replay-notes-v1", 1), ("replay-notes-v2", 2)] {
        let followed = checksum(&binary(bin), &db.url, NOTES);
        db.with(&binary(bin), &["run", "--model", NOTES, "--full"])
            .ok();
        let rebuilt = checksum(&binary(bin), &db.url, NOTES);
        assert_eq!(followed, rebuilt, "v{version} followed != rebuilt");
    }
}
