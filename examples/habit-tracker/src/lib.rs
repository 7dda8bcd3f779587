//! # habit-tracker
//!
//! A small application with its own read models, written from the readmodel README: two
//! events, a snapshot ([`HabitTotal`]) and a timeline ([`DoneLog`]), their migrations for
//! both backends, and the `replay` binary. Applications read the models through the
//! generated tables (`habit_totals`, `done_log`) and the reader API.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use readmodel_runtime::cli::GenerateSpec;
use readmodel_runtime::{handlers, DomainEvent, Event, NewEvent, ReadModel, Rows};
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

/// A user did the habit on a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(type = "tracker.habit_done")]
pub struct HabitDone {
    /// The habit.
    pub habit_id: Uuid,
    /// The day it was done.
    pub day: NaiveDate,
    /// Minutes spent.
    pub minutes: i32,
}

/// Snapshot: one row per habit with how often and how long it was done.
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

readmodel_runtime::app! {
    migrations: { postgres: "migrations/postgres", sqlite: "migrations/sqlite" },
    generator: crate::demo_log,
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
        let (event_type, payload) = if i / users < 3 {
            (
                "tracker.habit_started",
                serde_json::json!({ "habit_id": habit_id, "title": format!("habit {habit}") }),
            )
        } else {
            (
                "tracker.habit_done",
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
            schema_version: 1,
            user_id: Uuid::from_u64_pair(seed, user),
            occurred_at: at,
            recorded_at: None,
            payload,
        }
    }))
}
