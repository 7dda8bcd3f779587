//! Appending events to the log from JSON Lines (`replay import`) or from a generator
//! (`replay generate`): every event or none.

use std::io::BufRead;
use std::path::Path;

use chrono::Utc;

use crate::error::{ImportError, StoreError};
use crate::source::{self, NewEvent};
use crate::store::{with_conn, Conn, Store};

/// Parses a JSON Lines file into events. Blank lines are skipped; the first bad line stops
/// the parse with its line number.
pub fn parse_jsonl(path: &Path) -> Result<Vec<NewEvent>, ImportError> {
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
        events.push(event);
    }
    Ok(events)
}

fn parse_line(line: &str) -> Result<NewEvent, String> {
    let event: NewEvent = serde_json::from_str(line).map_err(|e| format!("invalid event: {e}"))?;
    if event.event_version < 1 {
        return Err(format!(
            "event_version must be 1 or more, got {}",
            event.event_version
        ));
    }
    if event.event_type.trim().is_empty() {
        return Err("event_type is empty".to_owned());
    }
    if event.schema_version < 1 {
        return Err(format!(
            "schema_version must be 1 or more, got {}",
            event.schema_version
        ));
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
    with_conn!(store, |c| c.bulk_append(|c| {
        diesel::Connection::transaction::<_, StoreError, _>(c, |c| {
            let mut written = 0;
            loop {
                let chunk: Vec<NewEvent> = events.by_ref().take(CHUNK).collect();
                if chunk.is_empty() {
                    return Ok(written);
                }
                written += source::append(c, &chunk, now)?;
            }
        })
    }))
}
