//! The runtime's determinism check: a handler applied twice to the same rows must produce
//! the same rows.
//!
//! The compile-time scan rejects what it can see in a handler's source; what it cannot
//! (a counter behind a function of another module, a global read through a crate the
//! model calls) shows up here without a second replay: each event is applied twice, each
//! time to a fresh copy of the rows it touches, and the two results are compared row by
//! row and column by column before the first is kept.

use std::fmt;

use crate::contract::Contract;
use crate::event::{DecodeError, StoredEvent};
use crate::rows::{BatchState, LoadFailed, Loader, Projection, ReadModelRow, Rows, Slot};

/// A handler produced different rows from the same event and the same rows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{model} is not deterministic: applying event {id} ({event_type}) twice to the same rows gave different results ({divergence}); a handler must depend only on the event and the rows")]
pub struct Nondeterminism {
    /// The model.
    pub model: &'static str,
    /// The event.
    pub id: i64,
    /// Its type.
    pub event_type: String,
    /// The first difference found.
    pub divergence: Box<Divergence>,
}

/// Where two applications of one event first differed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Divergence {
    /// One application decoded the event, the other did not.
    Outcome,
    /// One application touched or changed a row the other did not.
    Row {
        /// The row's key.
        key: String,
    },
    /// A column of the same row differs.
    Column {
        /// The row's key.
        key: String,
        /// The column.
        column: &'static str,
        /// Its canonical text the first time.
        first: String,
        /// … and the second time.
        second: String,
    },
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Divergence::Outcome => write!(f, "it decoded once and failed once"),
            Divergence::Row { key } => write!(f, "row {key} changed only once"),
            Divergence::Column {
                key,
                column,
                first,
                second,
            } => write!(f, "column {column} of row {key}: {first:?} then {second:?}"),
        }
    }
}

/// Applies `event` twice, each time to a copy of the rows it touches (read from `state`,
/// else from `loader`), and keeps the first result in `state` when both agree.
///
/// A panicking handler propagates its panic, as [`Projection::apply`] does.
pub(crate) fn apply_twice<P: Projection>(
    event: &StoredEvent,
    state: &mut BatchState<P::Row>,
    loader: &mut Loader<'_, P::Row>,
) -> Result<Result<(), DecodeError>, Nondeterminism> {
    let mut first = BatchState::<P::Row>::default();
    let mut second = BatchState::<P::Row>::default();
    let outcomes = {
        let mut overlay = |key: &<P::Row as ReadModelRow>::Key| match state.slots.get(key) {
            Some(slot) => Ok(slot.row.clone()),
            None if state.load_failed => Err(LoadFailed),
            None => loader(key),
        };
        let once = P::apply(event, &mut Rows::new(&mut first, &mut overlay));
        let twice = P::apply(event, &mut Rows::new(&mut second, &mut overlay));
        (once, twice)
    };
    let difference = match &outcomes {
        (Ok(()), Ok(())) | (Err(_), Err(_)) => compare(P::CONTRACT, &first, &second),
        _ => Some(Divergence::Outcome),
    };
    if let Some(difference) = difference {
        return Err(Nondeterminism {
            model: P::CONTRACT.name,
            id: event.id,
            event_type: event.event_type.clone(),
            divergence: Box::new(difference),
        });
    }
    state.merge(first);
    Ok(outcomes.0)
}

/// The first difference between two applications' rows, in key order.
fn compare<R: ReadModelRow>(
    contract: &Contract,
    first: &BatchState<R>,
    second: &BatchState<R>,
) -> Option<Divergence> {
    let mut a = first.slots.iter().filter(|(_, s)| s.dirty);
    let mut b = second.slots.iter().filter(|(_, s)| s.dirty);
    loop {
        match (a.next(), b.next()) {
            (None, None) => return None,
            (Some((key, x)), Some((other, y))) if key == other => {
                if let Some(difference) = compare_rows(contract, key, x, y) {
                    return Some(difference);
                }
            }
            (Some((key, _)), Some((other, _))) => {
                return Some(Divergence::Row {
                    key: format!("{:?}", key.min(other)),
                })
            }
            (Some((key, _)), None) | (None, Some((key, _))) => {
                return Some(Divergence::Row {
                    key: format!("{key:?}"),
                })
            }
        }
    }
}

fn compare_rows<R: ReadModelRow>(
    contract: &Contract,
    key: &R::Key,
    x: &Slot<R>,
    y: &Slot<R>,
) -> Option<Divergence> {
    let key = || format!("{key:?}");
    let (x, y) = match (&x.row, &y.row) {
        (None, None) => return None,
        (Some(x), Some(y)) => (canonical(&**x), canonical(&**y)),
        _ => return Some(Divergence::Row { key: key() }),
    };
    if x == y {
        return None;
    }
    let columns = contract
        .columns
        .iter()
        .filter(|c| c.name != "model_version")
        .map(|c| c.name);
    let column = columns
        .zip(x.split('\u{1f}').zip(y.split('\u{1f}')))
        .find(|(_, (a, b))| a != b);
    Some(match column {
        Some((column, (first, second))) => Divergence::Column {
            key: key(),
            column,
            first: first.to_owned(),
            second: second.to_owned(),
        },
        None => Divergence::Row { key: key() },
    })
}

fn canonical<R: ReadModelRow>(row: &R) -> String {
    let mut text = String::new();
    row.write_canonical(&mut text);
    text
}
