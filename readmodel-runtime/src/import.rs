//! Appending events to the log from JSON Lines (`replay import`) or from a generator
//! (`replay generate`): every event or none.

use std::io::BufRead;
use std::path::Path;

use chrono::Utc;

use crate::event::{DecodeError, PayloadError, StoredEvent};
use crate::source::{self, NewEvent};
use crate::store::{transaction, with_conn, Conn, Store, StoreError};

/// Errors of `replay import`.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not a valid event; nothing was imported.
    #[error("{path}:{line}: {reason}; nothing was imported")]
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: LineError,
    },
    /// An event of a type some model consumes does not decode as that type: it would stop
    /// every later strict replay of the model; nothing was imported.
    #[error("{path}:{line}: event type {event_type} does not decode: {reason}; nothing was imported (fix the line, or import it anyway with --unchecked)")]
    Undecodable {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The event's type.
        event_type: String,
        /// Why it does not decode.
        reason: PayloadError,
    },
    /// Storage failed; nothing was imported.
    #[error("{0}; nothing was imported")]
    Store(#[from] StoreError),
}

/// What is wrong with one line of a JSON Lines file.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// Not an event object.
    #[error("invalid event: {0}")]
    Invalid(#[from] serde_json::Error),
    /// `event_version` below 1.
    #[error("event_version must be 1 or more, got {0}")]
    EventVersion(i64),
    /// An empty `event_type`.
    #[error("event_type is empty")]
    EmptyEventType,
    /// `schema_version` below 1.
    #[error("schema_version must be 1 or more, got {0}")]
    SchemaVersion(i32),
}

/// Parses a JSON Lines file into events. Blank lines are skipped; the first bad line stops
/// the parse with its line number.
pub fn parse_jsonl(path: &Path) -> Result<Vec<NewEvent>, ImportError> {
    Ok(parse_jsonl_lines(path)?
        .into_iter()
        .map(|(_, event)| event)
        .collect())
}

/// Decodes each event with `decode` (which answers `None` for a type no model consumes)
/// and returns how many events are of such types; the first event that does not decode
/// refuses the file, naming its line. `events` are `(line number, event)` pairs.
pub fn check_decodes(
    path: &Path,
    events: &[(usize, NewEvent)],
    decode: impl Fn(&StoredEvent) -> Option<Result<(), DecodeError>>,
) -> Result<usize, ImportError> {
    let mut unconsumed = 0;
    for (line, event) in events {
        let stored = StoredEvent {
            id: *line as i64,
            stream_id: event.stream_id,
            event_version: event.event_version,
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            user_id: event.user_id,
            occurred_at: event.occurred_at,
            recorded_at: event.recorded_at.unwrap_or(event.occurred_at),
            payload: event.payload.to_string(),
        };
        match decode(&stored) {
            None => unconsumed += 1,
            Some(Ok(())) => {}
            Some(Err(error)) => {
                return Err(ImportError::Undecodable {
                    path: path.display().to_string(),
                    line: *line,
                    event_type: error.event_type,
                    reason: error.reason,
                })
            }
        }
    }
    Ok(unconsumed)
}

/// [`parse_jsonl`], keeping each event's 1-based line number.
pub fn parse_jsonl_lines(path: &Path) -> Result<Vec<(usize, NewEvent)>, ImportError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| ImportError::Read {
        path: shown.clone(),
        source,
    })?;
    let mut events = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| ImportError::Read {
            path: shown.clone(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let event = parse_line(&line).map_err(|reason| ImportError::Line {
            path: shown.clone(),
            line: index + 1,
            reason,
        })?;
        events.push((index + 1, event));
    }
    Ok(events)
}

fn parse_line(line: &str) -> Result<NewEvent, LineError> {
    let event: NewEvent = serde_json::from_str(line)?;
    if event.event_version < 1 {
        return Err(LineError::EventVersion(event.event_version));
    }
    if event.event_type.trim().is_empty() {
        return Err(LineError::EmptyEventType);
    }
    if event.schema_version < 1 {
        return Err(LineError::SchemaVersion(event.schema_version));
    }
    Ok(event)
}

/// Appends `events` in one transaction; ids follow the log's head in the given order.
pub fn append_all(store: &mut Store, events: &[NewEvent]) -> Result<usize, StoreError> {
    append_iter(store, events.iter().cloned())
}

/// Appends a stream of events in one transaction, holding only one chunk in memory.
pub fn append_iter(
    store: &mut Store,
    events: impl IntoIterator<Item = NewEvent>,
) -> Result<usize, StoreError> {
    const CHUNK: usize = 10_000;
    let now = Utc::now();
    let mut events = events.into_iter();
    let context = || "appending events to the log".to_owned();
    with_conn!(store, |c| c.bulk_append(|c| {
        transaction(c, context, |c| {
            let mut written = 0;
            loop {
                let chunk: Vec<NewEvent> = events.by_ref().take(CHUNK).collect();
                if chunk.is_empty() {
                    return Ok::<_, StoreError>(written);
                }
                written += source::append(c, &chunk, now)?;
            }
        })
    }))
}
