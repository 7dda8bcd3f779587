//! # habit-tracker
//!
//! A small application with its own read models, written from the readmodel README (whose
//! code blocks are this crate's code, checked by `tests/readme.rs`): two events
//! ([`events`], one with an older schema version upcast), a snapshot ([`HabitTotal`]) and a
//! timeline ([`DoneLog`]), their migrations for both backends, and the `replay` binary.
//! The application appends events with [`record_done`] and reads its models with
//! [`habits_after`], through one connection type on either backend.

pub mod events;
pub mod history;
pub mod reading;
pub mod recording;
pub mod totals;

use chrono::{DateTime, Duration, Utc};
use readmodel_runtime::GenerateSpec;
use readmodel_runtime::{DomainEvent, NewEvent};
use uuid::Uuid;

pub use events::{HabitDone, HabitStarted};
pub use history::{done_log, DoneLog};
pub use reading::habits_after;
pub use recording::record_done;
pub use totals::{habit_totals, HabitTotal};

readmodel_runtime::app! {
    migrations: { postgres: "migrations/postgres", sqlite: "migrations/sqlite" },
    generator: crate::demo_log, // optional: synthetic events for `replay generate`
}

/// A deterministic demo log: each user starts three habits, then does them now and then.
pub fn demo_log(spec: &GenerateSpec) -> Box<dyn Iterator<Item = NewEvent>> {
    let users = u64::from(spec.users.max(1));
    let seed = spec.seed;
    let start: DateTime<Utc> = DateTime::UNIX_EPOCH + Duration::days(20_500);
    Box::new((0..spec.events).map(move |i| {
        let user = i % users;
        let habit = (i / users) % 3;
        let habit_id = Uuid::from_u64_pair(seed ^ user, habit + 1);
        let at = start + Duration::minutes(i64::try_from(i).unwrap_or(0) * 37);
        let step = i64::try_from(i / users).unwrap_or(i64::MAX);
        let (event_type, schema_version, payload) = if i / users < 3 {
            (
                HabitStarted::EVENT_TYPE,
                HabitStarted::SCHEMA_VERSION,
                serde_json::json!({ "habit_id": habit_id, "title": format!("habit {habit}") }),
            )
        } else {
            (
                HabitDone::EVENT_TYPE,
                HabitDone::SCHEMA_VERSION,
                serde_json::json!({
                    "habit_id": habit_id,
                    "day": at.date_naive(),
                    "minutes": (i * 7 + seed) % 45 + 5,
                }),
            )
        };
        NewEvent {
            stream_id: habit_id,
            event_version: step + 1,
            event_type: event_type.to_owned(),
            schema_version,
            user_id: Uuid::from_u64_pair(seed, user),
            occurred_at: at,
            recorded_at: None,
            payload,
        }
    }))
}
