//! Health: one agent per user with one stream (the user's health log), three turns a day.
//!
//! * morning: 85 % `health.sleep_logged` for the night ending today (10 % with schema
//!   version 1: `night_of`/`minutes`);
//! * midday: 60 % `health.heart_rate_measured` (around the user's own resting rate), else
//!   25 % `health.workout_logged`;
//! * evening: 90 % `health.steps_recorded` with the day's total.

use readmodel_runtime::{DomainEvent, NewEvent};
use serde_json::json;
use uuid::Uuid;

use super::{SplitMix64, Stream, Turn};
use crate::health::{HeartRateMeasured, SleepLogged, StepsRecorded, WorkoutLogged};

const ACTIVITIES: &[(&str, i64)] = &[
    ("run", 11),
    ("cycle", 8),
    ("swim", 9),
    ("yoga", 4),
    ("strength", 6),
    ("walk", 5),
];
/// Per mille: chance a sleep log is written with payload schema version 1.
const V1_PER_MILLE: u64 = 100;

/// One user's health log.
#[derive(Debug, Clone)]
pub(super) struct Health {
    stream: Stream,
    pub(super) user_id: Uuid,
    /// The user's typical resting heart rate.
    base_bpm: i64,
}

impl Health {
    pub(super) fn new(id: Uuid, user_id: Uuid, rng: &mut SplitMix64) -> Self {
        Self {
            stream: Stream::new(id),
            user_id,
            base_bpm: rng.between(50, 75),
        }
    }

    pub(super) fn turn(&mut self, turn: &mut Turn) -> Option<NewEvent> {
        let day = turn.today;
        match turn.round {
            0 => {
                if !turn.rng.chance(850) {
                    return None;
                }
                let minutes = turn.rng.between(300, 540);
                if turn.rng.chance(V1_PER_MILLE) {
                    let payload = json!({"night_of": day, "minutes": minutes});
                    return Some(
                        self.stream
                            .emit_raw(turn, SleepLogged::EVENT_TYPE, 1, payload),
                    );
                }
                let asleep_minutes = i32::try_from(minutes).unwrap_or(0);
                Some(self.stream.emit(
                    turn,
                    &SleepLogged {
                        day,
                        asleep_minutes,
                    },
                ))
            }
            1 => {
                if turn.rng.chance(600) {
                    let bpm = self.base_bpm + turn.rng.between(-4, 5);
                    let payload = HeartRateMeasured {
                        day,
                        resting_bpm: i32::try_from(bpm).unwrap_or(60),
                    };
                    return Some(self.stream.emit(turn, &payload));
                }
                if !turn.rng.chance(250) {
                    return None;
                }
                let (activity, per_minute) = *turn.rng.pick(ACTIVITIES);
                let minutes = turn.rng.between(15, 91);
                let payload = WorkoutLogged {
                    workout_id: turn.mint(),
                    day,
                    activity: activity.to_owned(),
                    duration_minutes: i32::try_from(minutes).unwrap_or(0),
                    calories: i32::try_from(minutes * per_minute).unwrap_or(0),
                };
                Some(self.stream.emit(turn, &payload))
            }
            _ => {
                if !turn.rng.chance(900) {
                    return None;
                }
                let steps = turn.rng.between(2_000, 16_000);
                Some(self.stream.emit(turn, &StepsRecorded { day, steps }))
            }
        }
    }
}
