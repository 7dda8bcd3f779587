//! The registry entry: collected at start-up by `inventory`, so the model appears in
//! `replay list` of any binary that links it. Written by `#[handlers]`, which implements
//! the dispatch the entry needs; a model without a `#[handlers]` block fails at its
//! contract instead (one error, at the struct's name).

use proc_macro2::TokenStream;
use quote::quote;

pub(super) fn expand(model: &syn::TypePath) -> TokenStream {
    let p = quote!(::readmodel_runtime::__private);
    quote! {
        #p::inventory::submit! { #p::registration::<#model>() }
    }
}
