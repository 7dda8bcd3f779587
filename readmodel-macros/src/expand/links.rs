//! What the model's `#[handlers]` block is checked against (see
//! `readmodel_runtime::__private::Declared`): the listed events, each with the error a
//! block without a handler for it fails with, and the kind.

use crate::ast::Kind;
use crate::validate::Model;
use proc_macro2::TokenStream;
use quote::quote;

pub(super) fn expand(model: &Model) -> TokenStream {
    let rt = quote!(::readmodel_runtime);
    let p = quote!(::readmodel_runtime::__private);
    let row = &model.row;
    let events = &model.events;
    let listed = events.iter().map(|event| {
        let name = path_text(event);
        let error = format!(
            "read model `{row}` lists event `{name}` in `events = [...]` but has no handler for it: add `fn name(event: &Event<{name}>, ...)` to its `#[handlers]` block"
        );
        quote!((<#event as #rt::DomainEvent>::EVENT_TYPE, #error),)
    });
    let kind = match model.kind {
        Kind::Timeline => quote! {
            impl #p::AppendsRows for #row {}
            impl #p::MayOmitRows for #row {}
        },
        Kind::Snapshot | Kind::Aggregate => quote! {
            impl #p::ChangesRows for #row {}
            impl #p::MayReturnNothing for #row {}
        },
    };
    quote! {
        impl #p::Declared for #row {
            const CONTRACT: &'static #rt::Contract = #row::CONTRACT;
            const LISTED: &'static [(&'static str, &'static str)] = &[#(#listed)*];
        }
        #(impl #p::Lists<#events> for #row {})*
        #kind
    }
}

/// A path as written, without the spaces of its token stream (`events::HabitDone`).
fn path_text(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let root = if path.leading_colon.is_some() {
        "::"
    } else {
        ""
    };
    format!("{root}{}", segments.join("::"))
}
