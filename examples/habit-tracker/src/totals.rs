//! A snapshot: one row per habit, with how often and how long it was done.

use chrono::{DateTime, NaiveDate, Utc};
use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use uuid::Uuid;

use crate::events::{HabitDone, HabitStarted};

/// One row per habit: how often and how long it was done.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "tracker.habit_totals",
    domain = "tracker",
    version = 1,
    kind = "snapshot",
    events = [HabitStarted, HabitDone],
    key = (model_version, habit_id),
    table = readmodels::habit_totals,
)]
pub struct HabitTotal {
    /// Model version.
    pub model_version: i32,
    /// The habit.
    pub habit_id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Its title; empty until `tracker.habit_started` is seen.
    pub title: String,
    /// Times done.
    pub times_done: i64,
    /// Minutes spent in total.
    pub minutes: i64,
    /// The last day it was done.
    pub last_done: Option<NaiveDate>,
    /// `occurred_at` of the last event applied.
    pub updated_at: DateTime<Utc>,
}

#[handlers]
impl HabitTotal {
    fn started(event: &Event<HabitStarted>, rows: &mut Rows<'_, Self>) {
        rows.modify(
            event.habit_id,
            || Self::empty(event.habit_id, event.user_id, event.occurred_at),
            |row| {
                row.title.clone_from(&event.title);
                row.updated_at = event.occurred_at;
            },
        );
    }

    fn done(event: &Event<HabitDone>, rows: &mut Rows<'_, Self>) {
        rows.modify(
            event.habit_id,
            || Self::empty(event.habit_id, event.user_id, event.occurred_at),
            |row| {
                row.times_done += 1;
                row.minutes += i64::from(event.minutes);
                row.last_done = row.last_done.max(Some(event.day));
                row.updated_at = event.occurred_at;
            },
        );
    }

    fn empty(habit_id: Uuid, user_id: Uuid, at: DateTime<Utc>) -> Self {
        HabitTotal {
            model_version: Self::MODEL_VERSION,
            habit_id,
            user_id,
            title: String::new(),
            times_done: 0,
            minutes: 0,
            last_done: None,
            updated_at: at,
        }
    }
}
