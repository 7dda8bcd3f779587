//! One append, one transaction: a stop asked for before the commit rolls it back, and a
//! statement the database refuses is traced to the event it refuses.

use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::source::{self, NewEvent};
use crate::stop::StopFlag;
use crate::store::{transaction, with_conn, Appended, Conn, Store, StoreError};

/// Why an append did not commit; nothing of it is in the log.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// SIGINT or SIGTERM came before the commit: the transaction was rolled back.
    #[error("interrupted by {} before the commit: the transaction was rolled back", signal_name(*signal))]
    Interrupted {
        /// The signal, when one was recorded.
        signal: Option<i32>,
    },
    /// The database refused one event (a constraint of `event_record`).
    #[error("event {} of the append: {reason}", index + 1)]
    Refused {
        /// Its 0-based position in the appended sequence.
        index: usize,
        /// Its stream.
        stream_id: uuid::Uuid,
        /// Its version in the stream.
        event_version: i64,
        /// What the database said, and what it means.
        reason: String,
        /// Whether its `(stream_id, event_version)` is already in the log.
        duplicate: bool,
    },
    /// A statement appending several events failed: a constraint no single one of them
    /// breaks alone, or a failure of the database (a lock, a full disk).
    #[error("{} events {}-{} of the append: {source}", if *refused { "the database refused the statement appending" } else { "appending" }, first + 1, first + len)]
    Statement {
        /// The 0-based position of its first event.
        first: usize,
        /// How many events it carried.
        len: usize,
        /// Whether a constraint of `event_record` refused it.
        refused: bool,
        /// The driver's error.
        #[source]
        source: DieselError,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `SIGINT`, `SIGTERM`, or "a signal".
pub(crate) fn signal_name(signal: Option<i32>) -> String {
    match signal {
        Some(2) => "SIGINT".to_owned(),
        Some(15) => "SIGTERM".to_owned(),
        Some(n) => format!("signal {n}"),
        None => "a signal".to_owned(),
    }
}

/// Appends `events` in one transaction; ids follow the log's head in the given order.
pub fn append_all(
    store: &mut Store,
    events: &[NewEvent],
    stop: &StopFlag,
) -> Result<Appended, AppendError> {
    append_iter(store, events.iter().cloned(), stop)
}

/// Appends a stream of events in one transaction, holding only one chunk in memory.
/// `stop` is checked before each chunk and before the commit: set by then, the
/// transaction rolls back; set later, the events are in and only the upkeep after the
/// commit is skipped (see [`Appended::upkeep`]).
pub fn append_iter(
    store: &mut Store,
    events: impl IntoIterator<Item = NewEvent>,
    stop: &StopFlag,
) -> Result<Appended, AppendError> {
    const CHUNK: usize = 10_000;
    let now = Utc::now();
    let mut events = events.into_iter();
    let mut refused: Vec<NewEvent> = Vec::new();
    let context = || "appending events to the log".to_owned();
    let skip_upkeep = || stop.is_set();
    let appended = with_conn!(&mut *store, |c| c.bulk_append(
        |c| transaction(c, context, |c| {
            let mut seen = 0;
            loop {
                if stop.is_set() {
                    return Err(AppendError::Interrupted {
                        signal: stop.signal(),
                    });
                }
                let chunk: Vec<NewEvent> = events.by_ref().take(CHUNK).collect();
                if chunk.is_empty() {
                    return Ok(seen);
                }
                if let Err(error) = source::append(c, &chunk, now) {
                    refused = chunk[error.first..error.first + error.len].to_vec();
                    return Err(AppendError::Statement {
                        first: seen + error.first,
                        len: error.len,
                        refused: is_constraint(&error.source),
                        source: error.source,
                    });
                }
                seen += chunk.len();
            }
        }),
        &skip_upkeep,
    ));
    match appended {
        Err(AppendError::Statement {
            first,
            len,
            refused: true,
            source,
        }) => {
            let refusal = with_conn!(&mut *store, |c| find_refused(c, &refused, now));
            Err(match refusal {
                Some((offset, reason)) => refused_event(first + offset, &refused[offset], reason),
                None => AppendError::Statement {
                    first,
                    len,
                    refused: true,
                    source,
                },
            })
        }
        other => other,
    }
}

/// Whether `error` is a constraint of the table refusing a row: something one of the
/// statement's events causes, which [`find_refused`] can pin down.
fn is_constraint(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation
                | DatabaseErrorKind::CheckViolation
                | DatabaseErrorKind::NotNullViolation
                | DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::RestrictViolation
                | DatabaseErrorKind::ExclusionViolation,
            _
        )
    )
}

/// Appends `events` one by one, each in a savepoint of a transaction that is rolled back,
/// and returns the first the database refuses on its own, with the error.
fn find_refused<C: Conn>(
    conn: &mut C,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Option<(usize, DieselError)> {
    let mut found = None;
    let _rolled_back = conn.transaction::<(), DieselError, _>(|c| {
        for (i, event) in events.iter().enumerate() {
            let alone = c.transaction(|c| {
                source::append(c, std::slice::from_ref(event), now).map_err(|r| r.source)
            });
            if let Err(error) = alone {
                found = Some((i, error));
                break;
            }
        }
        Err(DieselError::RollbackTransaction)
    });
    found.filter(|(_, error)| is_constraint(error))
}

fn refused_event(index: usize, event: &NewEvent, error: DieselError) -> AppendError {
    let duplicate = matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    );
    let reason = if duplicate {
        format!(
            "stream {} version {} is already in the log ({error})",
            event.stream_id, event.event_version
        )
    } else {
        format!(
            "the database refused stream {} version {}: {error}",
            event.stream_id, event.event_version
        )
    };
    AppendError::Refused {
        index,
        stream_id: event.stream_id,
        event_version: event.event_version,
        reason,
        duplicate,
    }
}
