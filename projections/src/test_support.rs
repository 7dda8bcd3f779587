//! Helpers for the models' unit tests: fixed ids, times and hand-written stored events.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use readmodel_runtime::StoredEvent;
use uuid::Uuid;

/// A fixed id: `Uuid::from_u64_pair(n, n)`.
pub(crate) const fn id(n: u64) -> Uuid {
    Uuid::from_u64_pair(n, n)
}

/// 2026-`month`-`day` at `hour`:00 UTC.
pub(crate) fn at(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, hour, 0, 0)
        .single()
        .expect("valid time")
}

/// 2026-`month`-`day`.
pub(crate) fn day(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).expect("valid day")
}

/// A stored event with an explicit event type, schema version and raw JSON payload (for
/// older payload versions).
pub(crate) fn raw(
    id: i64,
    user_id: Uuid,
    stream_id: Uuid,
    occurred_at: DateTime<Utc>,
    event_type: &str,
    schema_version: i32,
    payload: serde_json::Value,
) -> StoredEvent {
    StoredEvent {
        id,
        stream_id,
        event_version: id,
        event_type: event_type.to_owned(),
        schema_version,
        user_id,
        occurred_at,
        recorded_at: occurred_at,
        payload: payload.to_string(),
    }
}
