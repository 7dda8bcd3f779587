//! The reader API and the generated diesel glue, on real SQLite and PostgreSQL databases,
//! through the one connection type (`Store`): rows of the active version through diesel's
//! typed DSL, one given version, typed inserts, the checkpoint and the bounded
//! read-your-writes wait. The same code runs on both backends.

use readmodel_tests::bin;
use std::time::Duration;

use diesel::prelude::*;
use projections::habits::{habit_checkins, habit_streaks, HabitCheckin, HabitStreak};
use readmodel_runtime::reader::ReadError;
use readmodel_runtime::sql_types::Param;
use readmodel_runtime::{DatabaseUrl, Store};
use readmodel_tests::{pg, replay};

/// Generates the same log on `url` and replays every model.
fn replayed(url: &str) -> i64 {
    replay(&bin(), url, &["migrate"]).ok();
    replay(
        &bin(),
        url,
        &[
            "generate", "--users", "12", "--events", "3000", "--seed", "41",
        ],
    )
    .ok();
    replay(&bin(), url, &["run", "--all"]).ok();
    let status = replay(&bin(), url, &["--json", "status"]).json();
    status[0]["head"].as_i64().expect("head")
}

fn store(url: &str) -> Store {
    let url = DatabaseUrl::parse(url).expect("a valid URL");
    Store::open(&url, &projections::MIGRATIONS).expect("the database opens")
}

/// What a test reads from one backend, to compare with the other.
#[derive(Debug, PartialEq)]
struct Read {
    streaks: Vec<HabitStreak>,
    one_user: Vec<HabitStreak>,
    checkins_of_first_habit: usize,
}

fn read(url: &str, head: i64) -> Read {
    let conn = &mut store(url);
    let streaks: Vec<HabitStreak> = HabitStreak::active(conn)
        .expect("the active version")
        .order((habit_streaks::user_id, habit_streaks::habit_id))
        .load(conn)
        .expect("rows load");
    assert!(!streaks.is_empty(), "the replay wrote streaks");
    let user = streaks[0].user_id;
    let one_user: Vec<HabitStreak> = HabitStreak::active(conn)
        .expect("the active version")
        .filter(habit_streaks::user_id.eq(Param(user)))
        .order(habit_streaks::habit_id)
        .select(HabitStreak::as_select())
        .load(conn)
        .expect("one user's rows load");
    assert!(!one_user.is_empty());
    assert!(one_user.iter().all(|row| row.user_id == user));
    assert_eq!(
        one_user,
        streaks
            .iter()
            .filter(|row| row.user_id == user)
            .cloned()
            .collect::<Vec<_>>()
    );
    let habit = streaks[0].habit_id;
    let checkins: Vec<HabitCheckin> = HabitCheckin::active(conn)
        .expect("the active version")
        .filter(habit_checkins::habit_id.eq(Param(habit)))
        .order(habit_checkins::event_id)
        .load(conn)
        .expect("check-ins load");
    assert!(checkins.windows(2).all(|w| w[0].event_id < w[1].event_id));

    // Another version is read on its own: nothing there yet, then one typed insert.
    let version_2: Vec<HabitStreak> = HabitStreak::version(2).load(conn).expect("loads");
    assert!(version_2.is_empty());
    let mut copy = streaks[0].clone();
    copy.model_version = 2;
    diesel::insert_into(habit_streaks::table)
        .values(&copy)
        .execute(conn)
        .expect("a typed insert");
    let version_2: Vec<HabitStreak> = HabitStreak::version(2).load(conn).expect("loads");
    assert_eq!(version_2, vec![copy.clone()]);
    // ... and one typed update of the columns outside the key.
    copy.name = format!("{} (renamed)", copy.name);
    copy.longest_streak += 100;
    copy.last_day = None;
    let updated = diesel::update(
        HabitStreak::version(2).filter(habit_streaks::habit_id.eq(Param(copy.habit_id))),
    )
    .set(&copy)
    .execute(conn)
    .expect("a typed update");
    assert_eq!(updated, 1);
    let version_2: Vec<HabitStreak> = HabitStreak::version(2).load(conn).expect("loads");
    assert_eq!(version_2, vec![copy]);
    // Many rows in one typed insert (version 3, so the live rows stay as they are).
    // diesel's MultiConnection has no multi-row insert (SQLite's is not the generic
    // one), so it goes through the backend's own connection.
    let mut many: Vec<HabitStreak> = streaks.iter().take(3).cloned().collect();
    for row in &mut many {
        row.model_version = 3;
    }
    let insert = diesel::insert_into(habit_streaks::table).values(&many);
    let inserted = match conn {
        Store::Postgres(c) => insert.execute(c),
        Store::Sqlite(c) => insert.execute(c),
    }
    .expect("a typed multi-row insert");
    assert_eq!(inserted, many.len());
    let mut version_3: Vec<HabitStreak> = HabitStreak::version(3).load(conn).expect("loads");
    version_3.sort_by_key(|row| row.habit_id);
    many.sort_by_key(|row| row.habit_id);
    assert_eq!(version_3, many);

    // Read-your-writes: the model has applied the head, and not a later event.
    assert_eq!(
        HabitStreak::checkpoint(conn).expect("checkpoint"),
        Some(head)
    );
    assert_eq!(
        HabitStreak::wait_until_applied(conn, head, Duration::from_secs(1)).expect("applied"),
        head
    );
    match HabitStreak::wait_until_applied(conn, head + 1, Duration::from_millis(60)) {
        Err(ReadError::NotYetApplied {
            event_id, applied, ..
        }) => assert_eq!((event_id, applied), (head + 1, head)),
        other => panic!("expected NotYetApplied, got {other:?}"),
    }
    Read {
        streaks,
        one_user,
        checkins_of_first_habit: checkins.len(),
    }
}

#[test]
fn typed_reads_agree_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = dir.path().join("events.db").display().to_string();
    let postgres = pg::server().fresh_database();
    let head = replayed(&sqlite);
    assert_eq!(replayed(&postgres), head);
    let from_sqlite = read(&sqlite, head);
    let from_postgres = read(&postgres, head);
    assert!(from_sqlite.checkins_of_first_habit > 0);
    assert_eq!(from_sqlite, from_postgres);
}
