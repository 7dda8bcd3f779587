//! Handlers and streak rules as pure functions.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use readmodel_runtime::testing::InMemory;
use readmodel_runtime::StoredEvent;
use uuid::Uuid;

use super::HabitStreak;
use super::*;

const USER: Uuid = Uuid::from_u64_pair(1, 1);
const HABIT: Uuid = Uuid::from_u64_pair(2, 2);

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 7, 30, 0)
        .single()
        .expect("valid time")
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).expect("valid day")
}

fn envelope<E>(id: i64, occurred_at: DateTime<Utc>, payload: E) -> Event<E> {
    Event {
        id,
        stream_id: HABIT,
        event_version: id,
        schema_version: 1,
        user_id: USER,
        occurred_at,
        recorded_at: occurred_at + Duration::seconds(1),
        payload,
    }
}

#[test]
fn check_in_appends_one_checked_in_row() {
    let event = envelope(
        42,
        at(2),
        HabitCheckedIn {
            habit_id: HABIT,
            day: day(1),
        },
    );
    let rows = HabitCheckin::checked_in(&event);
    assert_eq!(
        rows,
        vec![HabitCheckin {
            model_version: HabitCheckin::MODEL_VERSION,
            event_id: 42,
            user_id: USER,
            habit_id: HABIT,
            day: day(1),
            action: ACTION_CHECKED_IN.to_owned(),
            occurred_at: at(2),
        }]
    );
}

#[test]
fn undo_appends_one_undone_row_keyed_by_its_own_event() {
    let event = envelope(
        43,
        at(2),
        HabitCheckInUndone {
            habit_id: HABIT,
            day: day(1),
        },
    );
    let rows = HabitCheckin::undone(&event);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].event_id, 43);
    assert_eq!(rows[0].action, ACTION_UNDONE);
    assert_eq!(rows[0].day, day(1));
    assert_eq!(rows[0].model_version, HabitCheckin::MODEL_VERSION);
}

#[test]
fn a_late_check_in_keeps_its_own_day_and_time() {
    // Recorded on the 9th for the 8th: `day` comes from the payload, `occurred_at` from
    // the envelope, and neither is taken from the other.
    let event = envelope(
        7,
        at(9),
        HabitCheckedIn {
            habit_id: HABIT,
            day: day(8),
        },
    );
    assert_eq!(
        HabitCheckin::checked_in(&event),
        vec![HabitCheckin {
            model_version: 1,
            event_id: 7,
            user_id: Uuid::from_u64_pair(1, 1),
            habit_id: Uuid::from_u64_pair(2, 2),
            day: NaiveDate::from_ymd_opt(2026, 3, 8).expect("date"),
            action: "checked_in".to_owned(),
            occurred_at: Utc
                .with_ymd_and_hms(2026, 3, 9, 7, 30, 0)
                .single()
                .expect("time"),
        }]
    );
    let undo = envelope(
        8,
        at(10),
        HabitCheckInUndone {
            habit_id: HABIT,
            day: day(8),
        },
    );
    assert_eq!(
        HabitCheckin::undone(&undo),
        vec![HabitCheckin {
            model_version: 1,
            event_id: 8,
            user_id: Uuid::from_u64_pair(1, 1),
            habit_id: Uuid::from_u64_pair(2, 2),
            day: NaiveDate::from_ymd_opt(2026, 3, 8).expect("date"),
            action: "undone".to_owned(),
            occurred_at: Utc
                .with_ymd_and_hms(2026, 3, 10, 7, 30, 0)
                .single()
                .expect("time"),
        }]
    );
}

fn fresh() -> HabitStreak {
    StreakRules::new_row(HABIT, USER, at(1))
}

fn check_in(row: &mut HabitStreak, d: u32) {
    StreakRules::checked_in(row, day(d), at(d));
}

fn undo(row: &mut HabitStreak, d: u32) {
    StreakRules::undone(row, day(d), at(d));
}

#[test]
fn created_names_the_habit_and_keeps_counters() {
    let mut row = fresh();
    check_in(&mut row, 1);
    let event = envelope(
        3,
        at(2),
        HabitCreated {
            habit_id: HABIT,
            name: "Read".to_owned(),
            target_per_week: Some(5),
        },
    );
    StreakRules::created(&mut row, &event);
    assert_eq!(row.name, "Read");
    assert_eq!(row.target_per_week, Some(5));
    assert_eq!(row.total_check_ins, 1);
    assert_eq!(row.current_streak, 1);
    assert_eq!(row.updated_at, at(2));
}

#[test]
fn consecutive_days_grow_the_streak_and_a_gap_restarts_it() {
    let mut row = fresh();
    for d in 1..=3 {
        check_in(&mut row, d);
    }
    assert_eq!((row.current_streak, row.longest_streak), (3, 3));
    assert_eq!(row.last_day, Some(day(3)));
    check_in(&mut row, 5);
    assert_eq!((row.current_streak, row.longest_streak), (1, 3));
    assert_eq!(row.last_day, Some(day(5)));
    assert_eq!(row.total_check_ins, 4);
    assert_eq!(row.updated_at, at(5));
}

#[test]
fn same_day_and_earlier_day_check_ins_count_but_keep_the_streak() {
    let mut row = fresh();
    check_in(&mut row, 4);
    check_in(&mut row, 5);
    check_in(&mut row, 5);
    check_in(&mut row, 1);
    assert_eq!(row.current_streak, 2);
    assert_eq!(row.last_day, Some(day(5)));
    assert_eq!(row.total_check_ins, 4);
}

#[test]
fn undoing_the_last_day_shortens_the_streak_by_one() {
    let mut row = fresh();
    for d in 1..=3 {
        check_in(&mut row, d);
    }
    undo(&mut row, 3);
    assert_eq!(row.current_streak, 2);
    assert_eq!(row.last_day, Some(day(2)));
    assert_eq!(row.longest_streak, 3, "a record is never lowered");
    assert_eq!(row.total_check_ins, 2);
    // Checking the day in again restores the streak.
    check_in(&mut row, 3);
    assert_eq!((row.current_streak, row.last_day), (3, Some(day(3))));
}

#[test]
fn undoing_a_one_day_streak_clears_it() {
    let mut row = fresh();
    check_in(&mut row, 1);
    check_in(&mut row, 3);
    undo(&mut row, 3);
    assert_eq!((row.current_streak, row.last_day), (0, None));
    assert_eq!(row.total_check_ins, 1);
    check_in(&mut row, 4);
    assert_eq!((row.current_streak, row.last_day), (1, Some(day(4))));
}

#[test]
fn undoing_another_day_only_decrements_the_total_never_below_zero() {
    let mut row = fresh();
    check_in(&mut row, 1);
    check_in(&mut row, 2);
    undo(&mut row, 1);
    assert_eq!((row.current_streak, row.last_day), (2, Some(day(2))));
    assert_eq!(row.total_check_ins, 1);
    let mut empty = fresh();
    undo(&mut empty, 1);
    assert_eq!(empty.total_check_ins, 0);
    assert_eq!((empty.current_streak, empty.last_day), (0, None));
}

#[test]
fn months_start_on_the_first() {
    assert_eq!(first_of_month(day(31)), day(1));
    assert_eq!(
        first_of_month(NaiveDate::from_ymd_opt(2028, 2, 29).expect("leap day")),
        NaiveDate::from_ymd_opt(2028, 2, 1).expect("date")
    );
}

#[test]
fn empty_month_counts_nothing() {
    let row = empty_month(USER, HABIT, day(1));
    assert_eq!((row.check_ins, row.undos, row.completions), (0, 0, 0));
    assert_eq!(row.model_version, HabitMonthlyCompletion::MODEL_VERSION);
}

#[test]
fn contracts_are_as_declared() {
    use readmodel_runtime::{Kind, Projection, RebuildStrategy};

    let checkins = <HabitCheckin as Projection>::CONTRACT;
    assert_eq!(checkins.name, "habits.checkins");
    assert_eq!(checkins.kind, Kind::Timeline);
    assert_eq!(checkins.idempotency_key, ["model_version", "event_id"]);
    assert_eq!(checkins.qualified_table(), "readmodels.habit_checkins");
    assert_eq!(
        checkins.consumed_events,
        ["habits.checked_in", "habits.check_in_undone"]
    );

    let streaks = <HabitStreak as Projection>::CONTRACT;
    assert_eq!(streaks.kind, Kind::Snapshot);
    assert_eq!(streaks.idempotency_key, ["model_version", "habit_id"]);
    assert_eq!(streaks.table, "habit_streaks");
    assert_eq!(streaks.consumed_events.len(), 4);

    let monthly = <HabitMonthlyCompletion as Projection>::CONTRACT;
    assert_eq!(monthly.kind, Kind::Aggregate);
    assert_eq!(
        monthly.idempotency_key,
        ["model_version", "user_id", "habit_id", "month"]
    );
    assert_eq!(monthly.table, "habit_monthly_completions");

    for contract in [checkins, streaks, monthly] {
        assert_eq!(contract.domain, "habits");
        assert_eq!(contract.version, 1);
        assert_eq!(contract.schema, "readmodels");
        assert_eq!(contract.rebuild_strategy, RebuildStrategy::Partial);
        assert!(contract.has_user_column());
    }
}

#[test]
fn rows_are_keyed_without_model_version() {
    use readmodel_runtime::ReadModelRow;

    let row = fresh();
    assert_eq!(row.key(), HABIT);
    let month = empty_month(USER, HABIT, day(1));
    assert_eq!(month.key(), (USER, HABIT, day(1)));
    let event = envelope(
        9,
        at(3),
        HabitCheckedIn {
            habit_id: HABIT,
            day: day(3),
        },
    );
    assert_eq!(HabitCheckin::checked_in(&event)[0].key(), 9);
}

/// The migrations create exactly the columns the contracts declare, in SQLite.
#[test]
fn sqlite_migration_matches_the_contracts() {
    use readmodel_runtime::Projection;

    let sql = include_str!("../../../migrations/sqlite/2026-11-27-000100_habits/up.sql");
    for contract in [
        <HabitCheckin as Projection>::CONTRACT,
        <HabitStreak as Projection>::CONTRACT,
        <HabitMonthlyCompletion as Projection>::CONTRACT,
    ] {
        let create = format!("CREATE TABLE readmodels.{} (", contract.table);
        let start = sql.find(&create).expect("table is created") + create.len();
        let body = &sql[start..start + sql[start..].find(");").expect("table ends")];
        let columns: Vec<(&str, &str, bool)> = body
            .lines()
            .map(|line| line.trim().trim_end_matches(','))
            .filter(|line| !line.is_empty())
            .map(|line| {
                let mut words = line.split_whitespace();
                let name = words.next().expect("name");
                let ty = words.next().expect("type");
                (name, ty, !line.ends_with("NOT NULL"))
            })
            .collect();
        let declared: Vec<(&str, &str, bool)> = contract
            .columns
            .iter()
            .map(|c| (c.name, c.sqlite_type, c.nullable))
            .collect();
        assert_eq!(columns, declared, "{}", contract.table);
        let key = format!(
            "CREATE UNIQUE INDEX readmodels.{table}_key\n    ON {table} ({})",
            contract.idempotency_key.join(", "),
            table = contract.table
        );
        let key_one_line = key.replace("\n    ", " ");
        assert!(
            sql.contains(&key) || sql.contains(&key_one_line),
            "unique index on the key of {}",
            contract.table
        );
    }
}

// The models through their handlers, as a replay feeds them (`InMemory`): hand-written
// events and every column of the expected rows, worked out by hand from the rules in the
// module docs.

const OTHER_USER: Uuid = Uuid::from_u64_pair(1, 2);
const OTHER_HABIT: Uuid = Uuid::from_u64_pair(2, 3);
const THIRD_HABIT: Uuid = Uuid::from_u64_pair(2, 4);

fn date(month: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, d).expect("valid day")
}

fn time(month: u32, d: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, d, hour, 0, 0)
        .single()
        .expect("valid time")
}

/// A stored event of `habit`'s stream (its version is its id: one stream per test).
fn event<E>(id: i64, user: Uuid, habit: Uuid, when: DateTime<Utc>, payload: &E) -> StoredEvent
where
    E: readmodel_runtime::DomainEvent + serde::Serialize,
{
    readmodel_runtime::testing::stored(id, user, habit, id, when, payload)
}

fn checked(id: i64, user: Uuid, habit: Uuid, when: DateTime<Utc>, d: NaiveDate) -> StoredEvent {
    event(
        id,
        user,
        habit,
        when,
        &HabitCheckedIn {
            habit_id: habit,
            day: d,
        },
    )
}

fn undone(id: i64, user: Uuid, habit: Uuid, when: DateTime<Utc>, d: NaiveDate) -> StoredEvent {
    event(
        id,
        user,
        habit,
        when,
        &HabitCheckInUndone {
            habit_id: habit,
            day: d,
        },
    )
}

#[test]
fn streaks_through_the_handlers_from_creation_to_archive() {
    let mut model = InMemory::<HabitStreak>::new();
    let apply = |model: &mut InMemory<HabitStreak>, e: StoredEvent| {
        model.apply(&e).expect("the event decodes");
    };
    let created = HabitCreated {
        habit_id: HABIT,
        name: "Read".to_owned(),
        target_per_week: Some(5),
    };
    apply(&mut model, event(1, USER, HABIT, time(3, 1, 6), &created));
    assert_eq!(
        model.rows(),
        vec![HabitStreak {
            model_version: 1,
            habit_id: HABIT,
            user_id: USER,
            name: "Read".to_owned(),
            target_per_week: Some(5),
            current_streak: 0,
            longest_streak: 0,
            last_day: None,
            total_check_ins: 0,
            updated_at: time(3, 1, 6),
        }]
    );

    // Three consecutive days: a streak of 3.
    apply(
        &mut model,
        checked(2, USER, HABIT, time(3, 1, 20), date(3, 1)),
    );
    apply(
        &mut model,
        checked(3, USER, HABIT, time(3, 2, 20), date(3, 2)),
    );
    apply(
        &mut model,
        checked(4, USER, HABIT, time(3, 3, 20), date(3, 3)),
    );
    assert_eq!(
        model.rows(),
        vec![HabitStreak {
            model_version: 1,
            habit_id: HABIT,
            user_id: USER,
            name: "Read".to_owned(),
            target_per_week: Some(5),
            current_streak: 3,
            longest_streak: 3,
            last_day: Some(date(3, 3)),
            total_check_ins: 3,
            updated_at: time(3, 3, 20),
        }]
    );

    // A gap (the 4th and 5th missed): the streak restarts at 1, the record stays 3; the
    // 7th grows it to 2.
    apply(
        &mut model,
        checked(5, USER, HABIT, time(3, 6, 20), date(3, 6)),
    );
    apply(
        &mut model,
        checked(6, USER, HABIT, time(3, 7, 20), date(3, 7)),
    );
    assert_eq!(
        model.get(&HABIT).map(|r| (
            r.current_streak,
            r.longest_streak,
            r.last_day,
            r.total_check_ins
        )),
        Some((2, 3, Some(date(3, 7)), 5))
    );

    // Undoing the last day (the 7th), recorded on the 8th: the streak ends on the 6th.
    apply(
        &mut model,
        undone(7, USER, HABIT, time(3, 8, 9), date(3, 7)),
    );
    assert_eq!(
        model.rows(),
        vec![HabitStreak {
            model_version: 1,
            habit_id: HABIT,
            user_id: USER,
            name: "Read".to_owned(),
            target_per_week: Some(5),
            current_streak: 1,
            longest_streak: 3,
            last_day: Some(date(3, 6)),
            total_check_ins: 4,
            updated_at: time(3, 8, 9),
        }]
    );

    // Archiving deletes the row.
    let archived = HabitArchived { habit_id: HABIT };
    apply(&mut model, event(8, USER, HABIT, time(3, 9, 9), &archived));
    assert_eq!(model.rows(), vec![]);
    assert!(model.get(&HABIT).is_none());
}

#[test]
fn check_ins_before_creation_make_an_unnamed_row_that_creation_names() {
    let mut model = InMemory::<HabitStreak>::new();
    model
        .apply(&checked(
            1,
            OTHER_USER,
            OTHER_HABIT,
            time(4, 4, 8),
            date(4, 4),
        ))
        .expect("decodes");
    assert_eq!(
        model.rows(),
        vec![HabitStreak {
            model_version: 1,
            habit_id: OTHER_HABIT,
            user_id: OTHER_USER,
            name: String::new(),
            target_per_week: None,
            current_streak: 1,
            longest_streak: 1,
            last_day: Some(date(4, 4)),
            total_check_ins: 1,
            updated_at: time(4, 4, 8),
        }]
    );
    let created = HabitCreated {
        habit_id: OTHER_HABIT,
        name: "Walk".to_owned(),
        target_per_week: Some(3),
    };
    model
        .apply(&event(2, OTHER_USER, OTHER_HABIT, time(4, 5, 8), &created))
        .expect("decodes");
    // An undo of a habit nothing created leaves it without a row.
    model
        .apply(&undone(3, USER, THIRD_HABIT, time(4, 5, 9), date(4, 5)))
        .expect("decodes");
    assert_eq!(
        model.rows(),
        vec![HabitStreak {
            model_version: 1,
            habit_id: OTHER_HABIT,
            user_id: OTHER_USER,
            name: "Walk".to_owned(),
            target_per_week: Some(3),
            current_streak: 1,
            longest_streak: 1,
            last_day: Some(date(4, 4)),
            total_check_ins: 1,
            updated_at: time(4, 5, 8),
        }]
    );
}

#[test]
fn monthly_completions_through_the_handlers() {
    let mut model = InMemory::<HabitMonthlyCompletion>::new();
    let events = [
        // USER, HABIT: two March days, then April 1st.
        checked(1, USER, HABIT, time(3, 30, 21), date(3, 30)),
        checked(2, USER, HABIT, time(3, 31, 21), date(3, 31)),
        checked(3, USER, HABIT, time(4, 1, 21), date(4, 1)),
        // Undo of March 31st, recorded in April: it counts in March (the day's month).
        undone(4, USER, HABIT, time(4, 2, 7), date(3, 31)),
        // Undo of April 1st: April's only check-in is taken back.
        undone(5, USER, HABIT, time(4, 2, 8), date(4, 1)),
        // A second habit of the same user, checked in for March 31st on April 1st.
        checked(6, USER, OTHER_HABIT, time(4, 1, 6), date(3, 31)),
        // Another user's habit, in April.
        checked(7, OTHER_USER, THIRD_HABIT, time(4, 3, 6), date(4, 3)),
        checked(8, OTHER_USER, THIRD_HABIT, time(4, 4, 6), date(4, 4)),
    ];
    model.apply_all(&events).expect("the events decode");
    let row =
        |user, habit, month: NaiveDate, check_ins, undos, completions| HabitMonthlyCompletion {
            model_version: 1,
            user_id: user,
            habit_id: habit,
            month,
            check_ins,
            undos,
            completions,
        };
    assert_eq!(
        model.rows(),
        vec![
            row(USER, HABIT, date(3, 1), 2, 1, 1),
            row(USER, HABIT, date(4, 1), 1, 1, 0),
            row(USER, OTHER_HABIT, date(3, 1), 1, 0, 1),
            row(OTHER_USER, THIRD_HABIT, date(4, 1), 2, 0, 2),
        ]
    );
}
