//! Procedural macros of readmodel: `#[read_model(...)]` and `#[derive(DomainEvent)]`.
//!
//! Use them through `readmodel_runtime`, which re-exports both. Each macro runs
//! parse (attribute → typed AST with spans) → validate (every rule, errors accumulated)
//! → expand (one module per generated artefact).

mod ast;
mod ctxt;
mod event;
mod expand;
mod forbidden;
mod parse;
mod validate;

use proc_macro::TokenStream;

/// Declares a deterministic, replayable read model on an inline module holding the row
/// struct and the event handlers. See the readmodel README for the full syntax.
#[proc_macro_attribute]
pub fn read_model(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = syn::parse_macro_input!(item as syn::ItemMod);
    expand::read_model(args.into(), item).into()
}

/// Implements `DomainEvent` for an event payload: `#[event(type = "domain.name")]`, with
/// optional `schema_version = N` and `upcast = path::to::fn`.
#[proc_macro_derive(DomainEvent, attributes(event))]
pub fn derive_domain_event(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    event::derive(&input).into()
}
