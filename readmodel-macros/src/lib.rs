//! Procedural macros of readmodel: `#[derive(ReadModel)]` with `#[read_model(...)]`,
//! `#[handlers]`, and `#[derive(DomainEvent)]`.
//!
//! Use them through `readmodel_runtime`, which re-exports both. Each macro runs
//! parse (attribute → typed AST with spans) → validate (every rule, errors accumulated)
//! → expand (one module per generated artefact).

mod ast;
mod ctxt;
mod event;
mod expand;
mod fingerprint;
mod forbidden;
mod parse;
mod respan;
mod validate;
mod validate_handlers;

use proc_macro::TokenStream;

/// Declares a deterministic, replayable read model on its row struct, configured by
/// `#[read_model(...)]`; its event handlers go in a `#[handlers]` impl block. See the
/// readmodel README and its docs/MODELS.md for the full syntax.
#[proc_macro_derive(ReadModel, attributes(read_model))]
pub fn derive_read_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}

/// On the impl block of a `#[derive(ReadModel)]` struct: its event handlers (one per
/// listed event) and their helpers, every one of them checked for purity.
#[proc_macro_attribute]
pub fn handlers(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = syn::parse_macro_input!(item as syn::ItemImpl);
    expand::handlers(args.into(), item).into()
}

/// Implements `DomainEvent` for an event payload: `#[event(type = "domain.name")]`, with
/// optional `schema_version = N` and `upcast = path::to::fn`.
#[proc_macro_derive(DomainEvent, attributes(event))]
pub fn derive_domain_event(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    event::derive(&input).into()
}
