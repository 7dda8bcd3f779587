//! The compile-time links between a model's `#[derive(ReadModel)]` and its `#[handlers]`
//! block. The two macros cannot see each other, so each implements what it knows and
//! requires what the other must have written; the compiler connects them, and each
//! unmet requirement reads as a sentence about the model. Used by generated code only.

use crate::contract::Contract;
use crate::registry::{ModelOps, Registration};
use crate::rows::Projection;

/// What `#[derive(ReadModel)]` declared. Implemented by the derive.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a read model: its struct needs `#[derive(ReadModel)]` and `#[read_model(...)]`",
    label = "`#[handlers]` goes on the impl block of a `#[derive(ReadModel)]` struct"
)]
pub trait Declared {
    /// The contract.
    const CONTRACT: &'static Contract;
    /// A type that is [`EveryEventHandled`] when the model handles each listed event.
    type Events;
}

/// `events = [..]` lists `E`. Implemented by the derive, once per listed event.
#[diagnostic::on_unimplemented(
    message = "read model `{Self}` has a handler for `{E}`, which is not listed in its `events = [...]`",
    label = "not in `events = [...]`: list it in `#[read_model(events = [...])]` or remove the handler"
)]
pub trait Lists<E> {}

/// The `#[handlers]` block has a handler for `E`. Implemented by `#[handlers]`, once per
/// handler.
#[diagnostic::on_unimplemented(
    message = "read model `{Self}` lists event `{E}` in `events = [...]` but has no handler for it",
    label = "add a handler `fn name(event: &Event<{E}>, ...)` to this `#[handlers]` block"
)]
pub trait Handles<E> {}

/// The model's `#[handlers]` block, as the derive's contract needs it: the digest of the
/// block, part of the model's fingerprint. Implemented by `#[handlers]`.
#[diagnostic::on_unimplemented(
    message = "read model `{Self}` has no handlers",
    label = "add `#[handlers] impl {Self} {{ ... }}` with one handler per event of `events = [...]`"
)]
pub trait HasHandlers {
    /// The digest of the `#[handlers]` block's tokens (see [`crate::fingerprint`]).
    const FINGERPRINT: &'static str;
}

/// The digest of `M`'s `#[handlers]` block; requires the block.
pub const fn handlers_fingerprint<M: HasHandlers>() -> &'static str {
    M::FINGERPRINT
}

/// Implemented by the derive for its [`Declared::Events`] type, with one bound
/// `M: Handles<E>` per listed event (written at the event's name).
pub trait EveryEventHandled<M> {}

/// A snapshot or aggregate: handlers change the model's rows. Implemented by the derive.
#[diagnostic::on_unimplemented(
    message = "read model `{Self}` is a timeline: its handlers take only the event and return the rows to append",
    label = "a timeline handler takes no `Rows`: expected `fn name(event: &Event<E>) -> Vec<Self>`"
)]
pub trait ChangesRows {}

/// A timeline: handlers return the rows to append. Implemented by the derive.
#[diagnostic::on_unimplemented(
    message = "read model `{Self}` is a snapshot or aggregate: its handlers change the model's rows and return nothing",
    label = "expected `fn name(event: &Event<E>, rows: &mut Rows<'_, Self>)`"
)]
pub trait AppendsRows {}

/// A model whose handlers may take no `Rows` (a timeline). Implemented by the derive.
#[diagnostic::on_unimplemented(
    message = "read model `{Self}` is a snapshot or aggregate: its handlers need the model's rows to change",
    label = "expected `fn name(event: &Event<E>, rows: &mut Rows<'_, Self>)`"
)]
pub trait MayOmitRows {}

/// A model whose handlers may return nothing (a snapshot or aggregate). Implemented by the
/// derive.
#[diagnostic::on_unimplemented(
    message = "read model `{Self}` is a timeline: its handlers return the rows to append",
    label = "expected `fn name(event: &Event<E>) -> Vec<Self>`"
)]
pub trait MayReturnNothing {}

/// Requires a handler for every listed event.
pub fn every_event_handled<M: Declared>()
where
    M::Events: EveryEventHandled<M>,
{
}

/// Requires `E` to be listed.
pub fn listed<M: Lists<E>, E>() {}

/// Requires a snapshot or aggregate.
pub fn changes_rows<M: ChangesRows>() {}

/// Requires a timeline.
pub fn appends_rows<M: AppendsRows>() {}

/// Requires a timeline (a handler without `Rows`).
pub fn may_omit_rows<M: MayOmitRows>() {}

/// Requires a snapshot or aggregate (a handler returning nothing).
pub fn may_return_nothing<M: MayReturnNothing>() {}

/// The registry entry of a model (written by its `#[handlers]` block).
pub const fn registration<P: Projection>() -> Registration {
    Registration {
        model: const { &ModelOps::<P>::INSTANCE },
    }
}
