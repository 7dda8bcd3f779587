//! Concurrent writers appending to `event_record` on connections of their own, as an
//! application's writers would while `replay follow` (or `worker`) keeps models current.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, RunQueryDsl};

use crate::events::{check_in_payload, stream, Rng};

const INSERT_PG: &str = "INSERT INTO event_record (stream_id, event_version, event_type, schema_version, user_id, occurred_at, recorded_at, payload) \
     VALUES ($1::uuid, $2, 'habits.checked_in', 2, $3::uuid, '2026-03-01T07:30:00Z'::timestamptz, now(), $4::jsonb)";

const INSERT_SQLITE: &str = "INSERT INTO event_record (stream_id, event_version, event_type, schema_version, user_id, occurred_at, recorded_at, payload) \
     VALUES (?, ?, 'habits.checked_in', 2, ?, '2026-03-01T07:30:00.000000Z', '2026-03-01T07:30:00.000000Z', ?)";

/// A connection of its own to the log at `url`: PostgreSQL's, or SQLite's (waiting up to
/// 10 s for another writer's lock).
pub fn connect(
    url: &str,
    postgres: bool,
) -> (
    Option<diesel::PgConnection>,
    Option<diesel::SqliteConnection>,
) {
    let pg = postgres.then(|| diesel::PgConnection::establish(url).expect("connects"));
    let lite = (!postgres).then(|| {
        let mut c = diesel::SqliteConnection::establish(url).expect("opens");
        diesel::sql_query("PRAGMA busy_timeout = 10000")
            .execute(&mut c)
            .expect("busy timeout");
        c
    });
    (pg, lite)
}

/// Writer `n`: on its own connection, `BEGIN; INSERT a check-in; sleep 0–40 ms; COMMIT`
/// until `stop` is set, each event the next version of the writer's own stream, a
/// check-in of its own user's own habit (writers' users fall in different partitions, and
/// a habit belongs to one user, as a split by user requires) on a pseudo-random day of
/// March 2026 (SQLite: `BEGIN IMMEDIATE`). On PostgreSQL the pause
/// inside the transaction makes ids commit out of order. Returns the events committed.
pub fn spawn_writer(url: String, postgres: bool, n: u32, stop: Arc<AtomicBool>) -> JoinHandle<i64> {
    std::thread::spawn(move || {
        let mut rng = Rng(u64::from(n) * 7919 + 1);
        let stream = stream(n);
        let user = uuid::Uuid::from_u128(0xF00D_0000 + u128::from(n)).to_string();
        let habit = uuid::Uuid::from_u128(0xAB17_0000 + u128::from(n)).to_string();
        let mut version = 0i64;
        let (mut pg, mut lite) = connect(&url, postgres);
        while !stop.load(Ordering::Relaxed) {
            version += 1;
            let pause = Duration::from_millis(rng.below(41));
            let payload = check_in_payload(&habit, &format!("2026-03-{:02}", 1 + rng.below(28)));
            let insert = |sql: &'static str| {
                diesel::sql_query(sql)
                    .bind::<Text, _>(stream.clone())
                    .bind::<BigInt, _>(version)
                    .bind::<Text, _>(user.clone())
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

/// `count` writers ([`spawn_writer`]) until the returned flag is set; join the handles
/// for the events each committed.
pub fn spawn_writers(
    url: &str,
    postgres: bool,
    count: u32,
) -> (Arc<AtomicBool>, Vec<JoinHandle<i64>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let handles = (0..count)
        .map(|n| spawn_writer(url.to_owned(), postgres, n, Arc::clone(&stop)))
        .collect();
    (stop, handles)
}
