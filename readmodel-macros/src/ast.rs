//! The typed form of a read-model declaration (`#[derive(ReadModel)]` + `#[read_model(..)]`)
//! and of its `#[handlers]` block. Every piece keeps the tokens it came
//! from, so errors point at what the user wrote.

use proc_macro2::Span;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Snapshot,
    Timeline,
    Aggregate,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Rebuild {
    Full,
    Partial,
}

/// A value with the span it was written at.
#[derive(Clone, Debug)]
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// The attribute's arguments. `None` where absent or unusable (the error is recorded).
#[derive(Default)]
pub(crate) struct Args {
    /// The attribute's own span, for "missing key" errors.
    pub(crate) span: Option<Span>,
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) domain: Option<Spanned<String>>,
    pub(crate) version: Option<Spanned<i32>>,
    pub(crate) kind: Option<Spanned<Kind>>,
    /// Keys written, even if malformed (so "missing" is not reported as well).
    pub(crate) given: Vec<String>,
    pub(crate) events: Option<Spanned<Vec<syn::Path>>>,
    pub(crate) key: Option<Spanned<Vec<syn::Ident>>>,
    pub(crate) table: Option<Table>,
    pub(crate) replay_start_version: Option<Spanned<i64>>,
    pub(crate) rebuild: Option<Spanned<Rebuild>>,
}

impl Args {
    pub(crate) fn given(&self, key: &str) -> bool {
        self.given.iter().any(|k| k == key)
    }
}

pub(crate) struct Table {
    pub(crate) schema: syn::Ident,
    pub(crate) name: syn::Ident,
}

/// A function of a `#[handlers]` block with a parameter `&Event<E>` (the first one, in a
/// valid handler).
pub(crate) struct Handler {
    pub(crate) func: syn::ImplItemFn,
    /// `E`, as written.
    pub(crate) event: syn::Path,
    /// The position of the `&Event<E>` parameter.
    pub(crate) event_arg: usize,
}

impl Handler {
    pub(crate) fn ident(&self) -> &syn::Ident {
        &self.func.sig.ident
    }
}

/// The impl block `#[handlers]` is on.
pub(crate) struct HandlerBlock {
    /// The model (= row) type, as written after `impl`.
    pub(crate) model: syn::TypePath,
    pub(crate) handlers: Vec<Handler>,
}

/// The last segment of a path: how a block's handlers are told apart by event.
pub(crate) fn last_ident(path: &syn::Path) -> Option<&syn::Ident> {
    path.segments.last().map(|s| &s.ident)
}
