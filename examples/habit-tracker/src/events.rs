//! The tracker's events, as `event_record` stores them.

use chrono::NaiveDate;
use readmodel_runtime::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A user started tracking a habit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(type = "tracker.habit_started")]
pub struct HabitStarted {
    /// The habit.
    pub habit_id: Uuid,
    /// What it is called.
    pub title: String,
}

/// A user did the habit on a day. Schema version 1 called `minutes` `duration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(type = "tracker.habit_done", schema_version = 2, upcast = upcast_habit_done)]
pub struct HabitDone {
    /// The habit.
    pub habit_id: Uuid,
    /// The day it was done.
    pub day: NaiveDate,
    /// Minutes spent.
    pub minutes: i32,
}

/// Turns a `tracker.habit_done` payload of an older schema version into the shape of the
/// newest (2), which the struct reads.
pub fn upcast_habit_done(
    schema_version: i32,
    mut payload: serde_json::Value,
) -> Result<serde_json::Value, String> {
    if schema_version == 1 {
        let fields = payload
            .as_object_mut()
            .ok_or("a version 1 payload is a JSON object")?;
        if let Some(minutes) = fields.remove("duration") {
            fields.insert("minutes".to_owned(), minutes);
        }
    }
    Ok(payload)
}
