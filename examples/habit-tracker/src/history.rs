//! A timeline: every time a habit was done.

use chrono::{DateTime, NaiveDate, Utc};
use readmodel_runtime::{handlers, Event, ReadModel};
use uuid::Uuid;

use crate::events::HabitDone;

/// Timeline: every time a habit was done.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "tracker.done_log",
    domain = "tracker",
    kind = "timeline",
    events = [HabitDone],
    key = (model_version, event_id),
    table = readmodels::done_log,
)]
pub struct DoneLog {
    /// Model version.
    pub model_version: i32,
    /// The event's position in the log.
    pub event_id: i64,
    /// Owner.
    pub user_id: Uuid,
    /// The habit.
    pub habit_id: Uuid,
    /// The day it was done.
    pub day: NaiveDate,
    /// Minutes spent.
    pub minutes: i32,
    /// When it was recorded as happening.
    pub occurred_at: DateTime<Utc>,
}

#[handlers]
impl DoneLog {
    fn done(event: &Event<HabitDone>) -> Vec<Self> {
        vec![DoneLog {
            model_version: Self::MODEL_VERSION,
            event_id: event.id,
            user_id: event.user_id,
            habit_id: event.habit_id,
            day: event.day,
            minutes: event.minutes,
            occurred_at: event.occurred_at,
        }]
    }
}
