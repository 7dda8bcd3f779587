//! The events of the calendar domain: the payloads stored in `event_record.payload`.
//!
//! Every calendar entry (a meeting, an appointment) is its own stream (`stream_id` =
//! `entry_id`). Rescheduling and cancelling carry the slot they free, so that aggregates
//! can move time between weeks without remembering every entry.

use chrono::{DateTime, Utc};
use readmodel_runtime::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::upcast;

/// `calendar.event_scheduled`: the user put an entry in their calendar.
///
/// # Schema versions
///
/// * **2** (current): `{"entry_id", "title", "starts_at", "duration_minutes"}`.
/// * **1**: the end was given as a timestamp instead of a length:
///   `{"entry_id", "title", "starts_at", "ends_at"}`. Version 1 payloads are upcast by
///   [`upcast_event_scheduled`], which replaces `ends_at` by
///   `duration_minutes = (ends_at - starts_at)` in whole minutes (an end before the start
///   is rejected), so handlers only ever see version 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "calendar.event_scheduled", schema_version = 2, upcast = upcast_event_scheduled)]
pub struct EventScheduled {
    /// The entry (also the stream id).
    pub entry_id: Uuid,
    /// What it is.
    pub title: String,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// How long it lasts, in minutes.
    pub duration_minutes: i32,
}

/// Upcasts a `calendar.event_scheduled` payload of schema version `from_version` to
/// version 2: version 1 had `ends_at` where version 2 has `duration_minutes`.
pub fn upcast_event_scheduled(
    from_version: i32,
    mut payload: serde_json::Value,
) -> Result<serde_json::Value, String> {
    const TYPE: &str = "calendar.event_scheduled";
    match from_version {
        1 => {
            let object = upcast::object(TYPE, &mut payload)?;
            let time = |field: &str| -> Result<DateTime<Utc>, String> {
                let text = object
                    .get(field)
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(|| format!("{TYPE} v1 payload has no `{field}` timestamp"))?;
                text.parse()
                    .map_err(|e| format!("{TYPE} v1 `{field}` is not a timestamp: {e}"))
            };
            let minutes = (time("ends_at")? - time("starts_at")?).num_minutes();
            let minutes = i32::try_from(minutes)
                .ok()
                .filter(|m| *m >= 0)
                .ok_or_else(|| format!("{TYPE} v1 payload ends before it starts"))?;
            object.remove("ends_at");
            object.insert("duration_minutes".to_owned(), minutes.into());
            Ok(payload)
        }
        2 => Ok(payload),
        other => Err(upcast::unknown_version(TYPE, other)),
    }
}

/// `calendar.event_rescheduled`: the entry moved to another slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "calendar.event_rescheduled")]
pub struct EventRescheduled {
    /// The entry.
    pub entry_id: Uuid,
    /// The start of the slot it leaves.
    pub from_starts_at: DateTime<Utc>,
    /// The length of the slot it leaves, in minutes.
    pub from_duration_minutes: i32,
    /// The new start.
    pub starts_at: DateTime<Utc>,
    /// The new length, in minutes.
    pub duration_minutes: i32,
}

/// `calendar.event_cancelled`: the entry was called off. No event of its stream follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "calendar.event_cancelled")]
pub struct EventCancelled {
    /// The entry.
    pub entry_id: Uuid,
    /// The start of the slot it frees.
    pub starts_at: DateTime<Utc>,
    /// The length of the slot it frees, in minutes.
    pub duration_minutes: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v1_scheduled_is_upcast_from_an_end_to_a_duration() {
        let v1 = json!({
            "entry_id": "00000000-0000-4000-8000-000000000001",
            "title": "Dentist",
            "starts_at": "2026-03-02T09:00:00Z",
            "ends_at": "2026-03-02T10:30:00Z"
        });
        let event = EventScheduled::decode(1, &v1.to_string()).expect("v1 decodes");
        assert_eq!(event.duration_minutes, 90);
        assert_eq!(event.title, "Dentist");
        assert!(EventScheduled::decode(2, &v1.to_string()).is_err());
        let backwards =
            json!({"starts_at": "2026-03-02T09:00:00Z", "ends_at": "2026-03-02T08:00:00Z"});
        assert!(upcast_event_scheduled(1, backwards).is_err());
        assert!(upcast_event_scheduled(1, json!({"starts_at": "x", "ends_at": "y"})).is_err());
        assert!(upcast_event_scheduled(3, json!({})).is_err());
    }
}
