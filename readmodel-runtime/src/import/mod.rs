//! Appending events to the log from JSON Lines (`replay import`) or from a generator
//! (`replay generate`): every event or none, and whatever is refused is named by its line
//! and field, whether this module or the database refuses it.

mod append;
mod declared;
mod line;

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

pub(crate) use self::append::signal_name;
pub use self::append::{append_all, append_iter, AppendError};
pub use self::declared::check_declared;
pub use self::line::LineError;
use crate::event::{DecodeError, PayloadError, StoredEvent};
use crate::source::NewEvent;
use crate::stop::StopFlag;
use crate::store::{Appended, Store, StoreError};

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
    /// Two lines of the file hold the same `(stream_id, event_version)`.
    #[error("{path}:{line}: stream {stream_id} version {event_version} is also at line {earlier} ((stream_id, event_version) is unique in the log); nothing was imported")]
    Duplicate {
        /// The file.
        path: String,
        /// The later line.
        line: usize,
        /// The earlier line.
        earlier: usize,
        /// The stream.
        stream_id: uuid::Uuid,
        /// The version.
        event_version: i64,
    },
    /// An event of a type no code of the binary declares: likely a typo, which the
    /// immutable log would keep for good; nothing was imported.
    #[error("{path}:{line}: event type {event_type:?} is declared by no event type of this binary{}; nothing was imported (events of types other services own: --allow-unknown-types)", suggestion.as_ref().map_or_else(String::new, |s| format!(" (did you mean {s:?}?)")))]
    Undeclared {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// The type.
        event_type: String,
        /// The declared type nearest to it, when one is close.
        suggestion: Option<&'static str>,
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
    /// The database refused the event of this line; nothing was imported.
    #[error("{path}:{line}: {reason}; nothing was imported")]
    Refused {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// Why.
        reason: String,
    },
    /// The statement appending these lines failed: a constraint none of them breaks
    /// alone, or a failure of the database (a lock, a full disk); nothing was imported.
    #[error("{path}:{first}-{last}: {} these lines: {reason}; nothing was imported", if *refused { "the database refused the statement appending" } else { "appending" })]
    Lines {
        /// The file.
        path: String,
        /// The statement's first line.
        first: usize,
        /// Its last line.
        last: usize,
        /// Whether a constraint of `event_record` refused it.
        refused: bool,
        /// The database's message.
        reason: String,
    },
    /// SIGINT or SIGTERM came before the commit: the transaction was rolled back.
    #[error("interrupted by {} before the commit: the transaction was rolled back; nothing was imported", append::signal_name(*signal))]
    Interrupted {
        /// The signal, when one was recorded.
        signal: Option<i32>,
    },
    /// Storage failed; nothing was imported.
    #[error("{0}; nothing was imported")]
    Store(#[from] StoreError),
}

/// Parses a JSON Lines file into events. Blank lines are skipped; the first bad line stops
/// the parse with its line number.
pub fn parse_jsonl(path: &Path) -> Result<Vec<NewEvent>, ImportError> {
    Ok(parse_jsonl_lines(path)?
        .into_iter()
        .map(|(_, event)| event)
        .collect())
}

/// [`parse_jsonl`], keeping each event's 1-based line number. A UTF-8 byte order mark
/// before the first line is skipped; lines may end in `\n` or `\r\n`.
pub fn parse_jsonl_lines(path: &Path) -> Result<Vec<(usize, NewEvent)>, ImportError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| ImportError::Read {
        path: shown.clone(),
        source,
    })?;
    let mut events = Vec::new();
    for (index, bytes) in std::io::BufReader::new(file).split(b'\n').enumerate() {
        let bytes = bytes.map_err(|source| ImportError::Read {
            path: shown.clone(),
            source,
        })?;
        let at = |reason| ImportError::Line {
            path: shown.clone(),
            line: index + 1,
            reason,
        };
        let text = std::str::from_utf8(&bytes).map_err(|e| at(LineError::NotUtf8(e)))?;
        let text = text.strip_suffix('\r').unwrap_or(text);
        let text = if index == 0 {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        if text.trim().is_empty() {
            continue;
        }
        events.push((index + 1, line::parse_line(text).map_err(at)?));
    }
    Ok(events)
}

/// Refuses a file in which two lines hold the same `(stream_id, event_version)`, naming
/// both: the log's unique key would refuse the second, and the database could not say
/// which line it was.
pub fn check_duplicates(path: &Path, events: &[(usize, NewEvent)]) -> Result<(), ImportError> {
    let mut seen = HashMap::with_capacity(events.len());
    for (line, event) in events {
        if let Some(earlier) = seen.insert((event.stream_id, event.event_version), *line) {
            return Err(ImportError::Duplicate {
                path: path.display().to_string(),
                line: *line,
                earlier,
                stream_id: event.stream_id,
                event_version: event.event_version,
            });
        }
    }
    Ok(())
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

/// Appends the events of a parsed file in one transaction ([`append_iter`]), naming the
/// line of an event the database refuses.
pub fn append_lines(
    store: &mut Store,
    path: &Path,
    events: &[(usize, NewEvent)],
    stop: &StopFlag,
) -> Result<Appended, ImportError> {
    let appended = append_iter(store, events.iter().map(|(_, e)| e.clone()), stop);
    let path = path.display().to_string();
    let line = |index: usize| events.get(index).map_or(0, |(line, _)| *line);
    appended.map_err(|error| match error {
        AppendError::Interrupted { signal } => ImportError::Interrupted { signal },
        AppendError::Refused { index, reason, .. } => ImportError::Refused {
            path,
            line: line(index),
            reason,
        },
        AppendError::Statement {
            first,
            len,
            refused,
            source,
        } => ImportError::Lines {
            path,
            first: line(first),
            last: line(first + len.max(1) - 1),
            refused,
            reason: source.to_string(),
        },
        AppendError::Store(error) => ImportError::Store(error),
    })
}
