//! What the model's `#[handlers]` block is checked against (see
//! `readmodel_runtime::__private::Declared`): the listed events, one bound per event that
//! a handler must satisfy (written at the event's name in `events = [..]`), and the kind.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned as _;

use crate::ast::Kind;
use crate::respan::at;
use crate::validate::Model;

pub(super) fn expand(model: &Model) -> TokenStream {
    let rt = quote!(::readmodel_runtime);
    let p = quote!(::readmodel_runtime::__private);
    let row = &model.row;
    let events = &model.events;
    let handled = events
        .iter()
        .map(|event| at(event.span(), quote!(M: #p::Handles<#event>,)));
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
        #[doc(hidden)]
        pub struct __ReadModelEvents;
        impl<M> #p::EveryEventHandled<M> for __ReadModelEvents where #(#handled)* {}
        impl #p::Declared for #row {
            const CONTRACT: &'static #rt::Contract = #row::CONTRACT;
            type Events = __ReadModelEvents;
        }
        #(impl #p::Lists<#events> for #row {})*
        #kind
    }
}
