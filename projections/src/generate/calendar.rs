//! Calendar: one agent per user, one turn a day, remembering up to 8 upcoming entries
//! (one stream each; entries that have started are forgotten and get no more events).
//!
//! Per turn: 35 % scheduling a new entry 1 to 14 days ahead, between 08:00 and 19:00 UTC,
//! 15 to 120 minutes long (15 % with schema version 1: `ends_at` instead of
//! `duration_minutes`); 10 % rescheduling an upcoming entry to another slot; 5 %
//! cancelling one; else nothing.

use chrono::{DateTime, Duration, Utc};
use readmodel_runtime::{DomainEvent, NewEvent};
use serde_json::json;
use uuid::Uuid;

use super::{Stream, Turn};
use crate::calendar::{EventCancelled, EventRescheduled, EventScheduled};

const TITLES: &[&str] = &[
    "Dentist",
    "Team sync",
    "Lunch with Sam",
    "Yoga class",
    "1:1",
    "Car service",
    "Parents' evening",
    "Haircut",
];
const DURATIONS: &[i32] = &[15, 30, 45, 60, 90, 120];
const MAX_UPCOMING: usize = 8;
/// Per mille: chance a scheduling is written with payload schema version 1.
const V1_PER_MILLE: u64 = 150;

#[derive(Debug, Clone)]
struct Entry {
    stream: Stream,
    starts_at: DateTime<Utc>,
    minutes: i32,
}

/// One user's calendar.
#[derive(Debug, Clone)]
pub(super) struct Calendar {
    pub(super) user_id: Uuid,
    upcoming: Vec<Entry>,
}

impl Calendar {
    pub(super) fn new(user_id: Uuid) -> Self {
        Self {
            user_id,
            upcoming: Vec::new(),
        }
    }

    /// A random slot 1 to 14 days after the turn's day.
    fn slot(turn: &mut Turn) -> (DateTime<Utc>, i32) {
        let midnight = turn
            .today
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc();
        let start = midnight
            + Duration::days(turn.rng.between(1, 15))
            + Duration::hours(turn.rng.between(8, 20))
            + Duration::minutes(15 * turn.rng.between(0, 4));
        (start, *turn.rng.pick(DURATIONS))
    }

    pub(super) fn turn(&mut self, turn: &mut Turn) -> Option<NewEvent> {
        let now = turn.at;
        self.upcoming.retain(|e| e.starts_at > now);
        let roll = turn.rng.below(1000);
        if roll < 350 && self.upcoming.len() < MAX_UPCOMING {
            let (starts_at, minutes) = Self::slot(turn);
            let mut entry = Entry {
                stream: Stream::new(turn.mint()),
                starts_at,
                minutes,
            };
            let title = *turn.rng.pick(TITLES);
            let event = if turn.rng.chance(V1_PER_MILLE) {
                let ends_at = starts_at + Duration::minutes(i64::from(minutes));
                let payload = json!({
                    "entry_id": entry.stream.id,
                    "title": title,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                });
                entry
                    .stream
                    .emit_raw(turn, EventScheduled::EVENT_TYPE, 1, payload)
            } else {
                let payload = EventScheduled {
                    entry_id: entry.stream.id,
                    title: title.to_owned(),
                    starts_at,
                    duration_minutes: minutes,
                };
                entry.stream.emit(turn, &payload)
            };
            self.upcoming.push(entry);
            return Some(event);
        }
        if self.upcoming.is_empty() || roll >= 500 {
            return None;
        }
        let index = turn.rng.index(self.upcoming.len());
        if roll < 450 {
            let (starts_at, minutes) = Self::slot(turn);
            let entry = &mut self.upcoming[index];
            let payload = EventRescheduled {
                entry_id: entry.stream.id,
                from_starts_at: entry.starts_at,
                from_duration_minutes: entry.minutes,
                starts_at,
                duration_minutes: minutes,
            };
            entry.starts_at = starts_at;
            entry.minutes = minutes;
            return Some(entry.stream.emit(turn, &payload));
        }
        let mut entry = self.upcoming.swap_remove(index);
        let payload = EventCancelled {
            entry_id: entry.stream.id,
            starts_at: entry.starts_at,
            duration_minutes: entry.minutes,
        };
        Some(entry.stream.emit(turn, &payload))
    }
}
