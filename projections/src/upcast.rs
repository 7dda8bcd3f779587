//! Helpers for the upcasting functions of versioned events (`#[event(upcast = ...)]`).

use serde_json::{Map, Value};

/// The payload as a JSON object, or an error naming the event type.
pub(crate) fn object<'a>(
    event_type: &str,
    payload: &'a mut Value,
) -> Result<&'a mut Map<String, Value>, String> {
    payload
        .as_object_mut()
        .ok_or_else(|| format!("{event_type} payload is not a JSON object"))
}

/// Renames field `from` to `to` in an object payload. A payload without `from` is left as
/// it is (deserialization then reports any missing field); one with both is rejected as
/// ambiguous.
pub(crate) fn rename(
    event_type: &str,
    object: &mut Map<String, Value>,
    from: &str,
    to: &str,
) -> Result<(), String> {
    if let Some(value) = object.remove(from) {
        if object.contains_key(to) {
            return Err(format!("{event_type} payload has both `{from}` and `{to}`"));
        }
        object.insert(to.to_owned(), value);
    }
    Ok(())
}

/// The error for a schema version the event type does not know.
pub(crate) fn unknown_version(event_type: &str, version: i32) -> String {
    format!("{event_type} has no schema version {version}")
}
