//! Applying events to a model's rows, the part both engines share (the pass's lanes and
//! the all-or-nothing engine of one user or one range): finding the rows the handlers
//! will read, and running the handlers in id order with their panics caught, undecodable
//! or panicking events parked when the plan says so, and the double-apply check.
//!
//! Nothing here touches the database: the caller loads rows through the loader it hands
//! in, and writes what the handlers left in the [`BatchState`].

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::error::ReplayError;
use super::handler_guard;
use super::plan::{BadEventPolicy, Plan};
use crate::contract::Kind;
use crate::determinism::apply_twice;
use crate::event::StoredEvent;
use crate::rows::{BatchState, LoadFailed, Loader, Projection, ReadModelRow, Rows};

/// Rows loaded ahead of the handlers, by key; `None`: the table has no such row.
pub(super) type Prefetched<R> = BTreeMap<<R as ReadModelRow>::Key, Option<Arc<R>>>;

/// Events set aside under [`BadEventPolicy::Park`], with the reason of each.
pub(super) type Parked<'e> = Vec<(&'e StoredEvent, String)>;

/// Whether the handlers of `P` may read rows the caller does not hold: not a timeline's
/// (its handlers read none), not when the cache holds every row (a full rebuild).
pub(super) fn may_read_unknown_rows<P: Projection>(cache_is_complete: bool) -> bool {
    P::CONTRACT.kind != Kind::Timeline && !cache_is_complete
}

/// The keys the handlers of `events` ask for that `known` cannot answer.
///
/// Which rows a handler reads is only known by running it, so the handlers run against
/// stand-in rows (what `known` says, else none), recording each key asked for. A key the
/// real application asks for that this run did not (because it depended on a row's
/// content) is loaded on its own then.
pub(super) fn keys_to_load<P: Projection>(
    events: &[&StoredEvent],
    mut known: impl FnMut(&<P::Row as ReadModelRow>::Key) -> Option<Option<Arc<P::Row>>>,
) -> Vec<<P::Row as ReadModelRow>::Key> {
    let mut wanted = BTreeSet::new();
    let mut scratch = BatchState::<P::Row>::default();
    let mut record = |key: &<P::Row as ReadModelRow>::Key| match known(key) {
        Some(row) => Ok(row),
        None => {
            wanted.insert(key.clone());
            Ok(None)
        }
    };
    for &event in events {
        let mut rows = Rows::new(&mut scratch, &mut record);
        // Undecodable events, and handlers that panic on stand-in rows, are the real
        // application's to report; after a panic the scratch rows are unreliable, so the
        // rest of the events load lazily.
        if handler_guard::catch(|| P::apply(event, &mut rows)).is_err() {
            break;
        }
    }
    wanted.into_iter().collect()
}

/// The rows [`keys_to_load`] asked for, as loaded: keys without a row remembered absent.
pub(super) fn prefetched<R: ReadModelRow>(keys: Vec<R::Key>, found: Vec<R>) -> Prefetched<R> {
    let mut prefetched: Prefetched<R> = keys.into_iter().map(|key| (key, None)).collect();
    prefetched.extend(
        found
            .into_iter()
            .map(|row| (row.key(), Some(Arc::new(row)))),
    );
    prefetched
}

/// Runs each event's handler in id order (every id above `after`) against `state`, rows
/// it does not hold read through `load`; returns the events parked under
/// [`BadEventPolicy::Park`] with their reasons. A load that fails leaves its error in
/// `failure` (and returns [`LoadFailed`] to the handler); it is returned after the event.
///
/// Under `Park`, a handler that panics may have half-changed rows before it did: its
/// event is parked with the panic message and the events are applied again from the
/// first, without the parked ones, to a fresh copy of the rows; `state` is only changed
/// once every event applied. Rows are asked for again then (and twice per event by the
/// determinism check): a `load` that shares rows rather than takes them answers again
/// without going to the table.
pub(super) fn apply_events<'e, P: Projection>(
    events: &[&'e StoredEvent],
    after: i64,
    plan: &Plan,
    state: &mut BatchState<P::Row>,
    load: &mut Loader<'_, P::Row>,
    failure: &Cell<Option<ReplayError>>,
) -> Result<Parked<'e>, ReplayError> {
    let mut parked = BTreeMap::new();
    let mut applying = Applying::<P> {
        after,
        plan,
        failure,
        parked: &mut parked,
        _model: std::marker::PhantomData,
    };
    if plan.on_bad_event != BadEventPolicy::Park {
        applying.each(events, state, load)?;
        return Ok(parked.into_values().collect());
    }
    loop {
        let mut applied = BatchState::<P::Row>::default();
        let mut overlay = |key: &<P::Row as ReadModelRow>::Key| match state.slots.get(key) {
            Some(slot) => Ok(slot.row.clone()),
            None => load(key),
        };
        if applying.each(events, &mut applied, &mut overlay)? == Outcome::Applied {
            state.merge(applied);
            return Ok(parked.into_values().collect());
        }
    }
}

/// How one application of the events ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Applied,
    /// A handler panicked and its event was parked: the events apply again without it.
    Redo,
}

struct Applying<'a, 'e, P> {
    after: i64,
    plan: &'a Plan,
    failure: &'a Cell<Option<ReplayError>>,
    /// By id: events applied again skip them, and nothing is parked twice.
    parked: &'a mut BTreeMap<i64, (&'e StoredEvent, String)>,
    _model: std::marker::PhantomData<fn() -> P>,
}

impl<'e, P: Projection> Applying<'_, 'e, P> {
    fn each(
        &mut self,
        events: &[&'e StoredEvent],
        state: &mut BatchState<P::Row>,
        load: &mut Loader<'_, P::Row>,
    ) -> Result<Outcome, ReplayError> {
        let mut previous = self.after;
        for &event in events {
            if event.id <= previous {
                return Err(ReplayError::OutOfOrder {
                    model: P::CONTRACT.name,
                    id: event.id,
                    previous,
                });
            }
            previous = event.id;
            if self.parked.contains_key(&event.id) {
                continue;
            }
            if self.one(event, state, load)? == Outcome::Redo {
                return Ok(Outcome::Redo);
            }
        }
        Ok(Outcome::Applied)
    }

    fn one(
        &mut self,
        event: &'e StoredEvent,
        state: &mut BatchState<P::Row>,
        load: &mut Loader<'_, P::Row>,
    ) -> Result<Outcome, ReplayError> {
        let park = self.plan.on_bad_event == BadEventPolicy::Park;
        let applied = handler_guard::catch(|| {
            if self.plan.check_determinism {
                apply_twice::<P>(event, state, load)
            } else {
                Ok(P::apply(event, &mut Rows::new(state, load)))
            }
        });
        let decoded = match applied {
            Ok(checked) => checked?,
            Err(panic) if park => {
                let message = handler_guard::message(&panic);
                let reason = format!("the handler panicked: {message}");
                self.parked.insert(event.id, (event, reason));
                // A load that failed during the panicking handler is retried by the redo.
                self.failure.take();
                return Ok(Outcome::Redo);
            }
            Err(panic) => {
                return Err(ReplayError::HandlerPanicked {
                    model: P::CONTRACT.name,
                    id: event.id,
                    event_type: event.event_type.clone(),
                    message: handler_guard::message(&panic),
                })
            }
        };
        match decoded {
            Ok(()) => {}
            // Decoding fails before the handler runs, so the event changed nothing.
            Err(source) if park => {
                self.parked
                    .insert(event.id, (event, source.reason.to_string()));
            }
            Err(source) => {
                return Err(ReplayError::Decode {
                    model: P::CONTRACT.name,
                    source,
                })
            }
        }
        match self.failure.take() {
            Some(error) => Err(error),
            None => Ok(Outcome::Applied),
        }
    }
}

/// A loader failure recorded for [`apply_events`] to return after the event.
pub(super) fn load_failed(failure: &Cell<Option<ReplayError>>, error: ReplayError) -> LoadFailed {
    failure.set(Some(error));
    LoadFailed
}
