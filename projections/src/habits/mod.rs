//! # Habits
//!
//! A user tracks habits ("Meditate", "Run 5 km") and checks them in day by day. Each habit
//! is one event stream (`stream_id` = `habit_id`) of these [`events`]:
//!
//! | event type | payload |
//! |---|---|
//! | `habits.habit_created` | [`HabitCreated`] |
//! | `habits.checked_in` (schema version 2; 1 is upcast) | [`HabitCheckedIn`] |
//! | `habits.check_in_undone` | [`HabitCheckInUndone`] |
//! | `habits.habit_archived` | [`HabitArchived`] |
//!
//! Three read models, one of each kind:
//!
//! * [`HabitCheckin`] — timeline `habits.checkins` (`readmodels.habit_checkins`): one row per
//!   check-in or undo, keyed by the event.
//! * [`HabitStreak`] — snapshot `habits.streaks` (`readmodels.habit_streaks`): one row per
//!   live habit with its current and longest streak; archiving a habit deletes its row.
//! * [`HabitMonthlyCompletion`] — aggregate `habits.monthly_completions`
//!   (`readmodels.habit_monthly_completions`): check-ins minus undos per habit and month.
//!
//! Handlers are pure: everything they write comes from the event (its envelope and
//! payload) and the current row. The streak arithmetic lives in plain functions
//! ([`StreakRules`]) so that it can be tested without a database.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use uuid::Uuid;

pub mod events;

pub use events::{HabitArchived, HabitCheckInUndone, HabitCheckedIn, HabitCreated};

/// The `action` of a [`HabitCheckin`] row for a check-in.
pub const ACTION_CHECKED_IN: &str = "checked_in";
/// The `action` of a [`HabitCheckin`] row for an undo.
pub const ACTION_UNDONE: &str = "undone";

/// The first day of `day`'s month: the `month` of a [`HabitMonthlyCompletion`] row.
pub fn first_of_month(day: NaiveDate) -> NaiveDate {
    // Day 1 exists in every month, so `with_day(1)` cannot fail; fall back to `day` anyway.
    day.with_day(1).unwrap_or(day)
}

/// Timeline: every check-in and every undo, in log order.
///
/// One check-in or undo.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "habits.checkins",
    domain = "habits",
    version = 1,
    kind = "timeline",
    events = [HabitCheckedIn, HabitCheckInUndone],
    key = (model_version, event_id),
    table = readmodels::habit_checkins,
    replay_start_version = 0,
    rebuild = "partial",
)]
pub struct HabitCheckin {
    /// Model version.
    pub model_version: i32,
    /// The event's global position (`event_record.id`).
    pub event_id: i64,
    /// Owner.
    pub user_id: Uuid,
    /// The habit.
    pub habit_id: Uuid,
    /// The day checked in or taken back.
    pub day: NaiveDate,
    /// [`ACTION_CHECKED_IN`] or [`ACTION_UNDONE`].
    pub action: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

#[handlers]
impl HabitCheckin {
    /// A check-in appends a `checked_in` row.
    pub(crate) fn checked_in(event: &Event<HabitCheckedIn>) -> Vec<HabitCheckin> {
        vec![HabitCheckin {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            habit_id: event.habit_id,
            day: event.day,
            action: ACTION_CHECKED_IN.to_owned(),
            occurred_at: event.occurred_at,
        }]
    }

    /// An undo appends an `undone` row (the check-in's row stays: this is a timeline).
    pub(crate) fn undone(event: &Event<HabitCheckInUndone>) -> Vec<HabitCheckin> {
        vec![HabitCheckin {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            habit_id: event.habit_id,
            day: event.day,
            action: ACTION_UNDONE.to_owned(),
            occurred_at: event.occurred_at,
        }]
    }
}

/// Snapshot: one row per live habit with its streaks. See [`StreakRules`] for the rules.
///
/// A habit and its streaks.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "habits.streaks",
    domain = "habits",
    version = 1,
    kind = "snapshot",
    events = [HabitCreated, HabitCheckedIn, HabitCheckInUndone, HabitArchived],
    key = (model_version, habit_id),
    table = readmodels::habit_streaks,
    replay_start_version = 0,
    rebuild = "partial",
)]
pub struct HabitStreak {
    /// Model version.
    pub model_version: i32,
    /// The habit.
    pub habit_id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// The habit's name; empty until `habits.habit_created` is seen.
    pub name: String,
    /// Check-ins a week the user aims for, if set.
    pub target_per_week: Option<i32>,
    /// Consecutive checked-in days ending at `last_day` (0 when `last_day` is `None`).
    pub current_streak: i32,
    /// The longest `current_streak` ever reached (undos do not lower it).
    pub longest_streak: i32,
    /// The latest day checked in, as far as the streak is concerned.
    pub last_day: Option<NaiveDate>,
    /// Check-ins minus undos, never below 0.
    pub total_check_ins: i64,
    /// `occurred_at` of the last event applied to the row.
    pub updated_at: DateTime<Utc>,
}

#[handlers]
impl HabitStreak {
    /// Creates the row, or names a row that check-ins created first.
    pub(crate) fn created(event: &Event<HabitCreated>, rows: &mut Rows<'_, HabitStreak>) {
        rows.modify(
            event.habit_id,
            || StreakRules::new_row(event.habit_id, event.user_id, event.occurred_at),
            |row| StreakRules::created(row, event),
        );
    }

    /// Extends, restarts or keeps the streak; counts the check-in.
    pub(crate) fn checked_in(event: &Event<HabitCheckedIn>, rows: &mut Rows<'_, HabitStreak>) {
        rows.modify(
            event.habit_id,
            || StreakRules::new_row(event.habit_id, event.user_id, event.occurred_at),
            |row| StreakRules::checked_in(row, event.day, event.occurred_at),
        );
    }

    /// Takes a check-in back; a habit without a row is left without one.
    pub(crate) fn undone(event: &Event<HabitCheckInUndone>, rows: &mut Rows<'_, HabitStreak>) {
        if let Some(row) = rows.get(&event.habit_id) {
            let mut row = row.clone();
            StreakRules::undone(&mut row, event.day, event.occurred_at);
            rows.put(row);
        }
    }

    /// Archiving deletes the habit's row.
    pub(crate) fn archived(event: &Event<HabitArchived>, rows: &mut Rows<'_, HabitStreak>) {
        rows.delete(&event.habit_id);
    }
}

/// Aggregate: net completions (check-ins minus undos) per user, habit and month.
///
/// One habit's month.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "habits.monthly_completions",
    domain = "habits",
    version = 1,
    kind = "aggregate",
    events = [HabitCheckedIn, HabitCheckInUndone],
    key = (model_version, user_id, habit_id, month),
    table = readmodels::habit_monthly_completions,
    replay_start_version = 0,
    rebuild = "partial",
)]
pub struct HabitMonthlyCompletion {
    /// Model version.
    pub model_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// The habit.
    pub habit_id: Uuid,
    /// First day of the month of the checked-in `day` (not of `occurred_at`).
    pub month: NaiveDate,
    /// Check-in events for days of the month.
    pub check_ins: i64,
    /// Undo events for days of the month.
    pub undos: i64,
    /// `check_ins - undos`.
    pub completions: i64,
}

#[handlers]
impl HabitMonthlyCompletion {
    /// Counts a check-in in its day's month.
    pub(crate) fn checked_in(
        event: &Event<HabitCheckedIn>,
        rows: &mut Rows<'_, HabitMonthlyCompletion>,
    ) {
        let month = first_of_month(event.day);
        rows.modify(
            (event.user_id, event.habit_id, month),
            || empty_month(event.user_id, event.habit_id, month),
            |row| {
                row.check_ins += 1;
                row.completions = row.check_ins - row.undos;
            },
        );
    }

    /// Counts an undo in its day's month.
    pub(crate) fn undone(
        event: &Event<HabitCheckInUndone>,
        rows: &mut Rows<'_, HabitMonthlyCompletion>,
    ) {
        let month = first_of_month(event.day);
        rows.modify(
            (event.user_id, event.habit_id, month),
            || empty_month(event.user_id, event.habit_id, month),
            |row| {
                row.undos += 1;
                row.completions = row.check_ins - row.undos;
            },
        );
    }
}

/// A month row with nothing counted yet.
fn empty_month(user_id: Uuid, habit_id: Uuid, month: NaiveDate) -> HabitMonthlyCompletion {
    HabitMonthlyCompletion {
        model_version: HabitMonthlyCompletion::MODEL_VERSION,
        user_id,
        habit_id,
        month,
        check_ins: 0,
        undos: 0,
        completions: 0,
    }
}

/// The streak rules of [`HabitStreak`]: pure functions of (row, event fields) → row.
///
/// The row keeps only `last_day` and `current_streak`, not the set of checked-in days, so
/// the rules are exact for check-ins that arrive in day order and deliberately
/// conservative otherwise:
///
/// * **Check-in of `day`** — `total_check_ins += 1`, then
///   * no `last_day`: the streak starts, `current_streak = 1`, `last_day = day`;
///   * `day == last_day + 1`: the streak grows by one, `last_day = day`;
///   * `day > last_day + 1`: a gap, the streak restarts at 1, `last_day = day`;
///   * `day == last_day` (a second check-in of the same day) or `day < last_day` (a
///     late check-in of an earlier day): the streak is unchanged — an earlier day could
///     only lengthen it if it filled a gap the row no longer remembers.
///
///   `longest_streak = max(longest_streak, current_streak)`.
/// * **Undo of `day`** — `total_check_ins -= 1` (not below 0), then
///   * `day == last_day` and `current_streak > 1`: the streak's days are consecutive, so
///     it now ends the day before: `current_streak -= 1`, `last_day = day - 1`;
///   * `day == last_day` and `current_streak <= 1`: nothing earlier is known to be part
///     of a streak: `current_streak = 0`, `last_day = None`;
///   * any other day: the streak is unchanged.
///
///   `longest_streak` is a record and is never lowered by an undo. (When the day had been
///   checked in twice, undoing one of them still shortens the streak: the row cannot tell.)
///
/// Every change also sets `updated_at` to the event's `occurred_at`.
#[derive(Debug, Clone, Copy)]
pub struct StreakRules;

impl StreakRules {
    /// The row of a habit no event has touched yet.
    pub fn new_row(habit_id: Uuid, user_id: Uuid, occurred_at: DateTime<Utc>) -> HabitStreak {
        HabitStreak {
            model_version: HabitStreak::MODEL_VERSION,
            habit_id,
            user_id,
            name: String::new(),
            target_per_week: None,
            current_streak: 0,
            longest_streak: 0,
            last_day: None,
            total_check_ins: 0,
            updated_at: occurred_at,
        }
    }

    /// Applies `habits.habit_created`: name, target and owner.
    pub fn created(row: &mut HabitStreak, event: &Event<HabitCreated>) {
        row.user_id = event.user_id;
        row.name.clone_from(&event.name);
        row.target_per_week = event.target_per_week;
        row.updated_at = event.occurred_at;
    }

    /// Applies a check-in of `day`.
    pub fn checked_in(row: &mut HabitStreak, day: NaiveDate, occurred_at: DateTime<Utc>) {
        row.total_check_ins += 1;
        match row.last_day {
            None => {
                row.current_streak = 1;
                row.last_day = Some(day);
            }
            Some(last) if day > last => {
                row.current_streak = if last.succ_opt() == Some(day) {
                    row.current_streak.saturating_add(1)
                } else {
                    1
                };
                row.last_day = Some(day);
            }
            Some(_) => {}
        }
        row.longest_streak = row.longest_streak.max(row.current_streak);
        row.updated_at = occurred_at;
    }

    /// Applies an undo of `day`.
    pub fn undone(row: &mut HabitStreak, day: NaiveDate, occurred_at: DateTime<Utc>) {
        row.total_check_ins = (row.total_check_ins - 1).max(0);
        if row.last_day == Some(day) {
            match day.pred_opt() {
                Some(previous) if row.current_streak > 1 => {
                    row.current_streak -= 1;
                    row.last_day = Some(previous);
                }
                _ => {
                    row.current_streak = 0;
                    row.last_day = None;
                }
            }
        }
        row.updated_at = occurred_at;
    }
}

#[cfg(test)]
mod tests;
