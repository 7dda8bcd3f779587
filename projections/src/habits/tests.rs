//! Handlers and streak rules as pure functions.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
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
fn timeline_handlers_are_deterministic() {
    let event = envelope(
        7,
        at(9),
        HabitCheckedIn {
            habit_id: HABIT,
            day: day(9),
        },
    );
    assert_eq!(
        HabitCheckin::checked_in(&event),
        HabitCheckin::checked_in(&event)
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
