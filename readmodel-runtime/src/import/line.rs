//! One line of a JSON Lines file as an event: each field read on its own, so that what is
//! wrong is named by its field, and one rule for text both backends can store.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::source::NewEvent;

/// The fields of an event line.
const NAMES: [&str; 8] = [
    "stream_id",
    "event_version",
    "event_type",
    "schema_version",
    "user_id",
    "occurred_at",
    "recorded_at",
    "payload",
];

/// [`NAMES`], as the error for an unknown field lists them.
const FIELDS: &str = "stream_id, event_version, event_type, schema_version, user_id, occurred_at, recorded_at, payload";

/// What is wrong with one line of a JSON Lines file.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// Not UTF-8 text.
    #[error("not UTF-8 text (invalid byte at byte {} of the line)", .0.valid_up_to() + 1)]
    NotUtf8(std::str::Utf8Error),
    /// Not JSON.
    #[error("invalid JSON at column {column}: {reason}")]
    Json {
        /// 1-based column (character) of the line.
        column: usize,
        /// The parser's message.
        reason: String,
    },
    /// JSON, but not an object.
    #[error("invalid event: expected a JSON object with the event's fields, got {0}")]
    NotAnObject(&'static str),
    /// A required field is absent.
    #[error("missing field `{0}`")]
    Missing(&'static str),
    /// A field the format does not have.
    #[error("unknown field `{0}` (the fields are {FIELDS})")]
    Unknown(String),
    /// A field's value is not of the field's type.
    #[error("invalid {field}: {value} is not {expected}{}", detail(reason))]
    Field {
        /// The field.
        field: &'static str,
        /// The value, as written (shortened).
        value: String,
        /// What the field holds.
        expected: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// `event_version` below 1.
    #[error("event_version must be 1 or more, got {0}")]
    EventVersion(i64),
    /// An empty `event_type`.
    #[error("event_type is empty")]
    EmptyEventType,
    /// `schema_version` below 1.
    #[error("schema_version must be 1 or more, got {0}")]
    SchemaVersion(i32),
    /// Text holding U+0000: PostgreSQL stores it neither in text nor in JSON, so no
    /// backend's log accepts it (a file imports the same everywhere).
    #[error("{0} contains the character U+0000 (\\u0000), which PostgreSQL cannot store; no backend accepts it")]
    Nul(String),
}

fn detail(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    }
}

/// Parses one line (without its line break) into an event.
pub(super) fn parse_line(line: &str) -> Result<NewEvent, LineError> {
    let value: Value = serde_json::from_str(line).map_err(|e| LineError::Json {
        column: e.column(),
        reason: without_position(&e),
    })?;
    let mut fields = match value {
        Value::Object(fields) => fields,
        other => return Err(LineError::NotAnObject(kind(&other))),
    };
    // Before any field is read: a misspelled field is named as such, not as the field it
    // was meant to be.
    if let Some(unknown) = fields.keys().find(|k| !NAMES.contains(&k.as_str())) {
        return Err(LineError::Unknown(unknown.clone()));
    }
    let event = NewEvent {
        stream_id: required(&mut fields, "stream_id", "a UUID")?,
        event_version: required(&mut fields, "event_version", "an integer")?,
        event_type: required(&mut fields, "event_type", "a string")?,
        schema_version: optional(&mut fields, "schema_version", "a 32-bit integer")?.unwrap_or(1),
        user_id: required(&mut fields, "user_id", "a UUID")?,
        occurred_at: required(&mut fields, "occurred_at", TIMESTAMP)?,
        recorded_at: optional(&mut fields, "recorded_at", TIMESTAMP)?,
        payload: fields
            .remove("payload")
            .ok_or(LineError::Missing("payload"))?,
    };
    if event.event_version < 1 {
        return Err(LineError::EventVersion(event.event_version));
    }
    if event.event_type.trim().is_empty() {
        return Err(LineError::EmptyEventType);
    }
    if event.schema_version < 1 {
        return Err(LineError::SchemaVersion(event.schema_version));
    }
    if event.event_type.contains('\0') {
        return Err(LineError::Nul("event_type".to_owned()));
    }
    if let Some(path) = nul_in(&event.payload, "payload") {
        return Err(LineError::Nul(path));
    }
    Ok(event)
}

const TIMESTAMP: &str = "an RFC 3339 timestamp like 2026-03-01T07:30:00Z";

fn required<T: DeserializeOwned>(
    fields: &mut Map<String, Value>,
    field: &'static str,
    expected: &'static str,
) -> Result<T, LineError> {
    let value = fields.remove(field).ok_or(LineError::Missing(field))?;
    read(value, field, expected)
}

/// The field's value, `None` when absent or `null`.
fn optional<T: DeserializeOwned>(
    fields: &mut Map<String, Value>,
    field: &'static str,
    expected: &'static str,
) -> Result<Option<T>, LineError> {
    match fields.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => read(value, field, expected).map(Some),
    }
}

fn read<T: DeserializeOwned>(
    value: Value,
    field: &'static str,
    expected: &'static str,
) -> Result<T, LineError> {
    let shown = shortened(&value);
    serde_json::from_value(value).map_err(|e| LineError::Field {
        field,
        value: shown,
        expected,
        reason: why(&e),
    })
}

/// The path of the first string (or object key) under `value` holding U+0000.
fn nul_in(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(text) if text.contains('\0') => Some(path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_in(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let inner = format!("{path}.{}", key.replace('\0', "\\u0000"));
            if key.contains('\0') {
                Some(format!("the key of {inner}"))
            } else {
                nul_in(item, &inner)
            }
        }),
        _ => None,
    }
}

/// A value as JSON text, cut to 60 characters.
fn shortened(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// The parser's reason for a field, when it adds something to "is not <expected>".
fn why(error: &serde_json::Error) -> String {
    let reason = without_position(error);
    if reason.starts_with("invalid type") {
        String::new()
    } else {
        reason
    }
}

/// serde_json's message without its " at line L column C" (the line is the file's, and
/// the caller names it).
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"stream_id":"6f0c2a52-7d1b-4a53-9a4e-0a4b8f1a0c01","event_version":1,"event_type":"t.e","user_id":"0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","occurred_at":"2026-03-01T07:30:00Z","payload":{"a":["x"]}}"#;

    fn error(line: &str) -> String {
        parse_line(line).expect_err("refused").to_string()
    }

    #[test]
    fn a_good_line_parses_with_defaults() {
        let event = parse_line(GOOD).expect("parses");
        assert_eq!(event.schema_version, 1);
        assert_eq!(event.recorded_at, None);
        assert_eq!(event.payload, serde_json::json!({"a": ["x"]}));
    }

    #[test]
    fn every_refusal_names_its_field() {
        assert_eq!(
            error(&GOOD.replace("2026-03-01T07:30:00Z", "2026-13-01T07:30:00Z")),
            "invalid occurred_at: \"2026-13-01T07:30:00Z\" is not an RFC 3339 timestamp like 2026-03-01T07:30:00Z (input is out of range)"
        );
        assert_eq!(
            error(&GOOD.replace(r#""event_version":1"#, r#""event_version":"one""#)),
            "invalid event_version: \"one\" is not an integer"
        );
        assert!(
            error(&GOOD.replace("6f0c2a52-7d1b", "6f0c2a52-zz1b")).starts_with(
                "invalid stream_id: \"6f0c2a52-zz1b-4a53-9a4e-0a4b8f1a0c01\" is not a UUID ("
            )
        );
        assert_eq!(
            error(&GOOD.replace(r#""event_type":"t.e","#, "")),
            "missing field `event_type`"
        );
        assert!(error(&GOOD.replace("\"payload\"", "\"body\""))
            .starts_with("unknown field `body` (the fields are stream_id,"));
        assert_eq!(
            error("[1]"),
            "invalid event: expected a JSON object with the event's fields, got an array"
        );
        assert_eq!(
            error(r#"{"stream_id": }"#),
            "invalid JSON at column 15: expected value"
        );
    }

    #[test]
    fn nul_characters_are_refused_wherever_they_are() {
        assert_eq!(
            error(&GOOD.replace(r#"["x"]"#, r#"["x","a\u0000b"]"#)),
            "payload.a[1] contains the character U+0000 (\\u0000), which PostgreSQL cannot store; no backend accepts it"
        );
        assert!(error(&GOOD.replace(r#"{"a""#, r#"{"k\u0000""#))
            .starts_with("the key of payload.k\\u0000 contains"));
        assert!(error(&GOOD.replace("t.e", r"t.e\u0000")).starts_with("event_type contains"));
        // Other escapes are text like any other.
        assert!(parse_line(&GOOD.replace(r#""x""#, r#""\u0001\t""#)).is_ok());
    }
}
