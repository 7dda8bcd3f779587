//! The events of the habits domain: the payloads stored in `event_record.payload`.
//!
//! Every habit is its own stream (`stream_id` = `habit_id`). Payloads name the habit again
//! so that a payload read on its own is complete.

use chrono::NaiveDate;
use readmodel_runtime::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `habits.habit_created`: a user started tracking a habit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(type = "habits.habit_created")]
pub struct HabitCreated {
    /// The new habit (also the stream id).
    pub habit_id: Uuid,
    /// What the user calls it.
    pub name: String,
    /// How many check-ins a week the user aims for, if they set a target.
    #[serde(default)]
    pub target_per_week: Option<i32>,
}

/// `habits.checked_in`: the habit was done on `day`.
///
/// # Schema versions
///
/// * **2** (current): `{"habit_id": "…", "day": "2026-03-01"}`.
/// * **1**: the same, but the day was called `date`: `{"habit_id": "…", "date": "2026-03-01"}`.
///   Version 1 payloads are upcast by [`upcast_checked_in`] (the field is renamed) before
///   they are deserialized, so handlers only ever see version 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(type = "habits.checked_in", schema_version = 2, upcast = upcast_checked_in)]
pub struct HabitCheckedIn {
    /// The habit.
    pub habit_id: Uuid,
    /// The calendar day the habit was done (the user's day, not necessarily the day of
    /// `occurred_at`: a check-in may be recorded for yesterday).
    pub day: NaiveDate,
}

/// Upcasts a `habits.checked_in` payload of schema version `from_version` to the current
/// shape (version 2): version 1 called the day `date`, version 2 calls it `day`.
///
/// A version 1 payload that already has `day` (and no `date`) is accepted as is; one with
/// neither field is left for deserialization to reject with serde's message.
pub fn upcast_checked_in(
    from_version: i32,
    mut payload: serde_json::Value,
) -> Result<serde_json::Value, String> {
    match from_version {
        1 => {
            let object = payload
                .as_object_mut()
                .ok_or_else(|| "habits.checked_in v1 payload is not a JSON object".to_owned())?;
            if let Some(date) = object.remove("date") {
                if object.contains_key("day") {
                    return Err("habits.checked_in v1 payload has both `date` and `day`".to_owned());
                }
                object.insert("day".to_owned(), date);
            }
            Ok(payload)
        }
        2 => Ok(payload),
        other => Err(format!("habits.checked_in has no schema version {other}")),
    }
}

/// `habits.check_in_undone`: the user took back a check-in of `day` (e.g. tapped by
/// mistake).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(type = "habits.check_in_undone")]
pub struct HabitCheckInUndone {
    /// The habit.
    pub habit_id: Uuid,
    /// The day whose check-in is taken back.
    pub day: NaiveDate,
}

/// `habits.habit_archived`: the user stopped tracking the habit. No event of the habit's
/// stream follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(type = "habits.habit_archived")]
pub struct HabitArchived {
    /// The habit.
    pub habit_id: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v1_check_in_is_upcast_by_renaming_date_to_day() {
        let v1 = json!({"habit_id": "6f0c2a4e-0000-4000-8000-000000000001", "date": "2026-03-01"});
        let v2 = upcast_checked_in(1, v1).expect("upcast");
        assert_eq!(
            v2,
            json!({"habit_id": "6f0c2a4e-0000-4000-8000-000000000001", "day": "2026-03-01"})
        );
        let event: HabitCheckedIn = serde_json::from_value(v2).expect("decodes");
        assert_eq!(
            event.day,
            NaiveDate::from_ymd_opt(2026, 3, 1).expect("date")
        );
    }

    #[test]
    fn upcast_rejects_ambiguous_and_unknown_versions() {
        let both = json!({"habit_id": "6f0c2a4e-0000-4000-8000-000000000001", "date": "2026-03-01", "day": "2026-03-02"});
        assert!(upcast_checked_in(1, both).is_err());
        assert!(upcast_checked_in(1, json!([1, 2])).is_err());
        assert!(upcast_checked_in(3, json!({})).is_err());
    }

    #[test]
    fn derived_decode_reads_both_check_in_versions() {
        assert_eq!(HabitCheckedIn::EVENT_TYPE, "habits.checked_in");
        assert_eq!(HabitCheckedIn::SCHEMA_VERSION, 2);
        let habit_id = "6f0c2a4e-0000-4000-8000-000000000001";
        let v1 = format!(r#"{{"habit_id":"{habit_id}","date":"2026-03-01"}}"#);
        let v2 = format!(r#"{{"habit_id":"{habit_id}","day":"2026-03-01"}}"#);
        let old = HabitCheckedIn::decode(1, &v1).expect("v1 decodes");
        let new = HabitCheckedIn::decode(2, &v2).expect("v2 decodes");
        assert_eq!(old, new);
        assert!(HabitCheckedIn::decode(2, &v1).is_err(), "v2 has no `date`");
        assert!(HabitCheckedIn::decode(3, &v2).is_err());
        assert_eq!(HabitArchived::EVENT_TYPE, "habits.habit_archived");
        assert_eq!(HabitCreated::SCHEMA_VERSION, 1);
    }

    #[test]
    fn created_without_target_decodes() {
        let event: HabitCreated = serde_json::from_value(json!({
            "habit_id": "6f0c2a4e-0000-4000-8000-000000000001",
            "name": "Read"
        }))
        .expect("decodes");
        assert_eq!(event.target_per_week, None);
    }
}
