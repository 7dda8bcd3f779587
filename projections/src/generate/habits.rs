//! Habits: one agent per habit, one turn a day.
//!
//! * a habit not created yet emits `habits.habit_created`;
//! * otherwise, rarely (0.2 %, once it has 3 check-ins) `habits.habit_archived` — the
//!   habit then gets no further events, and a new habit of the same user joins the next
//!   day;
//! * sometimes (6 %) `habits.check_in_undone` of its last check-in, when it has one not
//!   yet undone;
//! * with the habit's own adherence (40 % to 95 %) `habits.checked_in`, for the current
//!   day or, 3 % of the time, late for the day before; 10 % of check-ins are written with
//!   schema version 1 (`date` instead of `day`);
//! * or nothing that day.

use chrono::NaiveDate;
use readmodel_runtime::{DomainEvent, NewEvent};
use serde_json::json;
use uuid::Uuid;

use super::{Agent, SplitMix64, Stream, Turn};
use crate::habits::{HabitArchived, HabitCheckInUndone, HabitCheckedIn, HabitCreated};

/// Per mille: chance a habit with enough check-ins is archived on a given day.
const ARCHIVE_PER_MILLE: u64 = 2;
/// Check-ins a habit needs before it may be archived.
const ARCHIVE_AFTER_CHECK_INS: u32 = 3;
/// Per mille: chance the last check-in is undone on a given day.
const UNDO_PER_MILLE: u64 = 60;
/// Per mille: chance a check-in is for the day before.
const LATE_PER_MILLE: u64 = 30;
/// Per mille: chance a check-in is written with payload schema version 1.
const V1_PER_MILLE: u64 = 100;

const NAMES: &[&str] = &[
    "Meditate",
    "Read 20 pages",
    "Run 5 km",
    "Drink 2 l of water",
    "Stretch",
    "Journal",
    "No sugar",
    "Practice guitar",
    "Walk 10 000 steps",
    "Learn Spanish",
    "Floss",
    "Sleep before 23:00",
];

/// One habit.
#[derive(Debug, Clone)]
pub(super) struct Habit {
    stream: Stream,
    pub(super) user_id: Uuid,
    created: bool,
    pub(super) archived: bool,
    /// Per mille: chance of a check-in on a given day.
    adherence: u64,
    check_ins: u32,
    /// The last check-in's day, while it is not undone.
    undoable: Option<NaiveDate>,
}

impl Habit {
    pub(super) fn new(id: Uuid, user_id: Uuid, rng: &mut SplitMix64) -> Self {
        Self {
            stream: Stream::new(id),
            user_id,
            created: false,
            archived: false,
            adherence: 400 + rng.below(551),
            check_ins: 0,
            undoable: None,
        }
    }

    pub(super) fn turn(&mut self, turn: &mut Turn) -> Option<NewEvent> {
        let habit_id = self.stream.id;
        if !self.created {
            self.created = true;
            let name = *turn.rng.pick(NAMES);
            let target = match turn.rng.below(6) {
                0 => None,
                n => Some(i32::try_from(n).unwrap_or(0) + 2),
            };
            let payload = HabitCreated {
                habit_id,
                name: name.to_owned(),
                target_per_week: target,
            };
            return Some(self.stream.emit(turn, &payload));
        }
        if self.check_ins >= ARCHIVE_AFTER_CHECK_INS && turn.rng.chance(ARCHIVE_PER_MILLE) {
            self.archived = true;
            let replacement = Habit::new(turn.mint(), self.user_id, turn.rng);
            turn.joining.push(Agent::Habit(replacement));
            return Some(self.stream.emit(turn, &HabitArchived { habit_id }));
        }
        if self.undoable.is_some() && turn.rng.chance(UNDO_PER_MILLE) {
            let day = self.undoable.take()?;
            self.check_ins = self.check_ins.saturating_sub(1);
            return Some(
                self.stream
                    .emit(turn, &HabitCheckInUndone { habit_id, day }),
            );
        }
        if !turn.rng.chance(self.adherence) {
            return None;
        }
        let today = turn.today;
        let day = if turn.rng.chance(LATE_PER_MILLE) {
            today.pred_opt().unwrap_or(today)
        } else {
            today
        };
        self.check_ins += 1;
        self.undoable = Some(day);
        Some(if turn.rng.chance(V1_PER_MILLE) {
            let payload = json!({"habit_id": habit_id, "date": day});
            self.stream
                .emit_raw(turn, HabitCheckedIn::EVENT_TYPE, 1, payload)
        } else {
            self.stream.emit(turn, &HabitCheckedIn { habit_id, day })
        })
    }
}
