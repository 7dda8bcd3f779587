//! Appending from the application (`outbox::append`) through the one connection type, on
//! both backends: the events commit with the application's own write and come back with
//! their ids, a rolled-back transaction appends nothing, an event a model cannot decode is
//! refused before anything is written, and 8 concurrent application transactions each
//! read their own write once `replay follow` has applied its id.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use projections::habits::{habit_checkins, HabitCheckedIn, HabitCheckin};
use readmodel_runtime::outbox::{self, OutboxError, OutboxEvent};
use readmodel_runtime::sql_types::Param;
use readmodel_runtime::{DatabaseUrl, DomainEvent, Store};
use readmodel_tests::{on_both_backends, Db};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::follow::Follower;

const CHECKINS: &str = "habits.checkins";

/// How long a reader waits for its write to be applied before the test fails.
const PATIENCE: Duration = Duration::from_secs(180);

on_both_backends!(
    events_commit_with_the_application_write_and_return_their_ids,
    a_rolled_back_transaction_appends_nothing,
    an_event_that_does_not_decode_is_refused_before_anything_is_written,
    eight_concurrent_application_transactions_each_read_their_own_write,
);

diesel::table! {
    /// The application's own table, written in the transaction that appends its events.
    app_check_ins (id) {
        id -> BigInt,
        note -> Text,
    }
}

/// The application's connection (its table created on first use).
fn open(url: &str) -> Store {
    let url = DatabaseUrl::parse(url).expect("a valid URL");
    let mut store = Store::open(&url, &projections::MIGRATIONS).expect("the database opens");
    diesel::sql_query(
        "CREATE TABLE IF NOT EXISTS app_check_ins (id BIGINT PRIMARY KEY, note TEXT NOT NULL)",
    )
    .execute(&mut store)
    .expect("the application's table");
    store
}

fn day(n: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, n, 7, 30, 0)
        .single()
        .expect("a day of March 2026")
}

/// Check-in number `version` of `habit`, on March `version`.
fn check_in(habit: Uuid, user: Uuid, version: u32) -> OutboxEvent {
    let at = day(version);
    let payload = HabitCheckedIn {
        habit_id: habit,
        day: at.date_naive(),
    };
    OutboxEvent::new(habit, i64::from(version), user, at, &payload).expect("a check-in")
}

/// The application's own write.
fn save_note(conn: &mut Store, id: i64, text: &str) -> QueryResult<usize> {
    diesel::insert_into(app_check_ins::table)
        .values((app_check_ins::id.eq(id), app_check_ins::note.eq(text)))
        .execute(conn)
}

/// The check-in rows of `habit`, in log order.
fn check_ins_of(store: &mut Store, habit: Uuid) -> Vec<HabitCheckin> {
    HabitCheckin::active(store)
        .expect("the active version")
        .filter(habit_checkins::habit_id.eq(Param(habit)))
        .order(habit_checkins::event_id)
        .load(store)
        .expect("check-ins load")
}

fn notes(store: &mut Store) -> Vec<String> {
    app_check_ins::table
        .select(app_check_ins::note)
        .order(app_check_ins::id)
        .load(store)
        .expect("notes load")
}

fn events_commit_with_the_application_write_and_return_their_ids(postgres: bool) {
    let db = Db::seeded(postgres, "3", "200", "5");
    let head = db.head();
    let mut store = open(&db.url);
    let (habit, user) = (Uuid::from_u128(0xA11), Uuid::from_u128(0xB22));
    let events: Vec<OutboxEvent> = (1..=3).map(|v| check_in(habit, user, v)).collect();
    let ids = store
        .transaction(|conn| {
            save_note(conn, 1, "three check-ins")?;
            outbox::append(conn, &events)
        })
        .expect("the transaction commits");
    assert_eq!(
        ids,
        [head + 1, head + 2, head + 3],
        "the ids after the head"
    );
    assert_eq!(notes(&mut store), ["three check-ins"]);

    db.run(&["run", "--model", CHECKINS]).ok();
    HabitCheckin::wait_until_applied(&mut store, ids[2], PATIENCE).expect("applied");
    let rows = check_ins_of(&mut store, habit);
    let seen: Vec<(i64, Uuid, String)> = rows
        .iter()
        .map(|r| (r.event_id, r.user_id, r.day.to_string()))
        .collect();
    let expected: Vec<(i64, Uuid, String)> = (1..=3)
        .map(|v| (ids[v - 1], user, format!("2026-03-{v:02}")))
        .collect();
    assert_eq!(seen, expected, "each id is its event's");
}

fn a_rolled_back_transaction_appends_nothing(postgres: bool) {
    let db = Db::new(postgres);
    let mut store = open(&db.url);
    let (habit, user) = (Uuid::from_u128(0xA12), Uuid::from_u128(0xB23));
    let rolled_back: Result<Vec<i64>, OutboxError> = store.transaction(|conn| {
        save_note(conn, 1, "rolled back")?;
        let ids = outbox::append(conn, &[check_in(habit, user, 1)])?;
        assert_eq!(ids.len(), 1, "appended inside the transaction");
        Err(diesel::result::Error::RollbackTransaction.into())
    });
    assert!(rolled_back.is_err());
    assert_eq!(
        db.log_length(),
        0,
        "the rolled-back event is not in the log"
    );
    assert!(notes(&mut store).is_empty());

    // The next transaction's event is the only one a replay sees.
    let ids = store
        .transaction(|conn| {
            save_note(conn, 2, "committed")?;
            outbox::append(conn, &[check_in(habit, user, 2)])
        })
        .expect("commits");
    db.run(&["run", "--model", CHECKINS]).ok();
    HabitCheckin::wait_until_applied(&mut store, ids[0], PATIENCE).expect("applied");
    let rows = check_ins_of(&mut store, habit);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (rows[0].event_id, rows[0].day),
        (ids[0], day(2).date_naive())
    );
    assert_eq!(notes(&mut store), ["committed"]);
    assert_eq!(db.log_length(), 1);
}

/// `habits.checked_in` as another build might write it: schema version 2 without the
/// `day` the LifeOS models read.
#[derive(Debug, Serialize, Deserialize, DomainEvent)]
#[event(type = "habits.checked_in", schema_version = 2)]
struct CheckedInWithoutDay {
    habit_id: Uuid,
}

fn an_event_that_does_not_decode_is_refused_before_anything_is_written(postgres: bool) {
    let db = Db::new(postgres);
    let mut store = open(&db.url);
    let (habit, user) = (Uuid::from_u128(0xA13), Uuid::from_u128(0xB24));
    let without_day = OutboxEvent::new(
        habit,
        2,
        user,
        day(2),
        &CheckedInWithoutDay { habit_id: habit },
    )
    .expect("it decodes as its own type");
    let refused = outbox::append(&mut store, &[check_in(habit, user, 1), without_day]);
    match &refused {
        Err(OutboxError::Undecodable {
            index: 1,
            event_type,
            schema_version: 2,
            reason,
        }) => {
            assert_eq!(event_type, "habits.checked_in");
            assert!(
                reason.to_string().contains("missing field `day`"),
                "{reason}"
            );
        }
        other => panic!("expected the second event refused, got {other:?}"),
    }
    let message = refused.expect_err("refused").to_string();
    assert!(
        message.starts_with(
            "event 1 of the append (habits.checked_in, schema_version 2) does not decode: "
        ) && message.ends_with("; nothing was appended"),
        "{message}"
    );

    let payload = HabitCheckedIn {
        habit_id: habit,
        day: day(1).date_naive(),
    };
    let version_0 = OutboxEvent::new(habit, 0, user, day(1), &payload).expect("a check-in");
    match outbox::append(&mut store, &[version_0]) {
        Err(OutboxError::EventVersion {
            index: 0,
            event_version: 0,
            ..
        }) => {}
        other => panic!("expected event_version 0 refused, got {other:?}"),
    }
    assert_eq!(db.log_length(), 0, "nothing was appended");
}

/// Rounds each application writer runs: append one check-in, wait for it, read it.
const ROUNDS: u32 = 5;

/// Application writer `n`, on its own connection: each round appends a check-in of its own
/// habit with a note in one transaction, waits until `habits.checkins` has applied the id
/// it was given, and reads that row back. Returns the ids.
fn application_writer(url: &str, n: u32) -> Vec<i64> {
    let mut store = open(url);
    let habit = Uuid::from_u128(0xAB17_0000 + u128::from(n));
    let user = Uuid::from_u128(0xF00D_0000 + u128::from(n));
    (1..=ROUNDS)
        .map(|round| {
            let event = check_in(habit, user, round);
            let ids = store
                .transaction(|conn| {
                    save_note(conn, i64::from(n * 100 + round), "check-in")?;
                    outbox::append(conn, &[event])
                })
                .expect("the application's transaction commits");
            let [id] = ids[..] else {
                panic!("one id per event, got {ids:?}")
            };
            let applied = HabitCheckin::wait_until_applied(&mut store, id, PATIENCE)
                .unwrap_or_else(|e| panic!("writer {n}, round {round}: {e}"));
            assert!(applied >= id);
            let mine: Vec<HabitCheckin> = HabitCheckin::active(&mut store)
                .expect("the active version")
                .filter(habit_checkins::event_id.eq(id))
                .load(&mut store)
                .expect("the row loads");
            let seen: Vec<(Uuid, Uuid, DateTime<Utc>)> = mine
                .iter()
                .map(|r| (r.habit_id, r.user_id, r.occurred_at))
                .collect();
            assert_eq!(
                seen,
                [(habit, user, day(round))],
                "writer {n}, round {round}: the row of event {id}"
            );
            id
        })
        .collect()
}

fn eight_concurrent_application_transactions_each_read_their_own_write(postgres: bool) {
    let db = Db::new(postgres);
    drop(open(&db.url));
    let follower = Follower::start(&db, &["--model", CHECKINS, "--poll-seconds", "0.05"]);
    let writers: Vec<_> = (0..8)
        .map(|n| {
            let url = db.url.clone();
            std::thread::spawn(move || application_writer(&url, n))
        })
        .collect();
    let mut ids = BTreeSet::new();
    for writer in writers {
        for id in writer.join().expect("an application writer") {
            assert!(ids.insert(id), "id {id} given twice");
        }
    }
    assert_eq!(ids.len(), 8 * ROUNDS as usize);
    assert_eq!(db.log_length(), 8 * i64::from(ROUNDS));
    let output = follower.terminate();
    assert!(
        output.status.success(),
        "follow: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
