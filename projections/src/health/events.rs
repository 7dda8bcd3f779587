//! The events of the health domain: the payloads stored in `event_record.payload`.
//!
//! Each user's measurements form one stream (`stream_id` = the user's health log, one per
//! user and device). Every payload names the calendar `day` it is about, which may differ
//! from the UTC date of `occurred_at` (a night's sleep is logged the next morning).

use chrono::NaiveDate;
use readmodel_runtime::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::upcast;

/// `health.steps_recorded`: the step counter synced; `steps` is the day's total so far,
/// so a later record of the same day replaces an earlier one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "health.steps_recorded")]
pub struct StepsRecorded {
    /// The day counted.
    pub day: NaiveDate,
    /// Steps that day so far.
    pub steps: i64,
}

/// `health.sleep_logged`: the night before `day` was slept.
///
/// # Schema versions
///
/// * **2** (current): `{"day": "2026-03-02", "asleep_minutes": 431}`.
/// * **1**: `{"night_of": "2026-03-02", "minutes": 431}` — the same values under other
///   names. Version 1 payloads are upcast by [`upcast_sleep_logged`] (`night_of` renamed
///   to `day`, `minutes` to `asleep_minutes`), so handlers only ever see version 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "health.sleep_logged", schema_version = 2, upcast = upcast_sleep_logged)]
pub struct SleepLogged {
    /// The day the night ended on.
    pub day: NaiveDate,
    /// Minutes asleep.
    pub asleep_minutes: i32,
}

/// Upcasts a `health.sleep_logged` payload of schema version `from_version` to version 2:
/// version 1 called the fields `night_of` and `minutes`.
pub fn upcast_sleep_logged(
    from_version: i32,
    mut payload: serde_json::Value,
) -> Result<serde_json::Value, String> {
    const TYPE: &str = "health.sleep_logged";
    match from_version {
        1 => {
            let object = upcast::object(TYPE, &mut payload)?;
            upcast::rename(TYPE, object, "night_of", "day")?;
            upcast::rename(TYPE, object, "minutes", "asleep_minutes")?;
            Ok(payload)
        }
        2 => Ok(payload),
        other => Err(upcast::unknown_version(TYPE, other)),
    }
}

/// `health.heart_rate_measured`: the resting heart rate of `day`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "health.heart_rate_measured")]
pub struct HeartRateMeasured {
    /// The day measured.
    pub day: NaiveDate,
    /// Resting heart rate, beats per minute.
    pub resting_bpm: i32,
}

/// `health.workout_logged`: a workout was done on `day`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "health.workout_logged")]
pub struct WorkoutLogged {
    /// The workout.
    pub workout_id: Uuid,
    /// The day.
    pub day: NaiveDate,
    /// E.g. `run`, `swim`, `yoga`.
    pub activity: String,
    /// Length in minutes.
    pub duration_minutes: i32,
    /// Active kilocalories.
    pub calories: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v1_sleep_is_upcast_by_renaming_both_fields() {
        let v1 = json!({"night_of": "2026-03-02", "minutes": 431});
        let event = SleepLogged::decode(1, &v1.to_string()).expect("v1 decodes");
        assert_eq!(
            event,
            SleepLogged {
                day: NaiveDate::from_ymd_opt(2026, 3, 2).expect("day"),
                asleep_minutes: 431
            }
        );
        assert!(SleepLogged::decode(2, &v1.to_string()).is_err());
        assert!(upcast_sleep_logged(1, json!({"minutes": 1, "asleep_minutes": 2})).is_err());
        assert!(upcast_sleep_logged(0, json!({})).is_err());
    }
}
