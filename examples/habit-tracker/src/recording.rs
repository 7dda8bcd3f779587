//! Appending events from the application.

use chrono::{DateTime, Utc};
use diesel::Connection;
use readmodel_runtime::outbox::{self, OutboxError, OutboxEvent};
use readmodel_runtime::Store;
use uuid::Uuid;

use crate::events::HabitDone;

/// Records that `user` did `habit` at `at` for `minutes`, as event number `version` of the
/// habit's stream. The application's own writes and the event commit in one transaction,
/// or neither does. Returns the event's id.
pub fn record_done(
    conn: &mut Store,
    user: Uuid,
    habit: Uuid,
    version: i64,
    at: DateTime<Utc>,
    minutes: i32,
) -> Result<i64, OutboxError> {
    conn.transaction(|conn| {
        // ... the application's own writes on `conn` (diesel::insert_into(..)) ...
        let done = HabitDone {
            habit_id: habit,
            day: at.date_naive(),
            minutes,
        };
        let event = OutboxEvent::new(habit, version, user, at, &done)?;
        let ids = outbox::append(conn, &[event])?;
        Ok(ids[0]) // one id per event, in order
    })
}
