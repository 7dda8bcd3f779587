//! The registry entry: collected at start-up by `inventory`, so the model appears in
//! `replay list` of any binary that links it. It needs the model's dispatch, so a model
//! without a `#[handlers]` block fails here, at the struct's name.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::validate::Model;

pub(super) fn expand(model: &Model) -> TokenStream {
    let p = quote!(::readmodel_runtime::__private);
    let row = &model.row;
    let registration = quote_spanned!(row.span()=> #p::registration::<#row>());
    quote! {
        #p::inventory::submit! { #registration }
    }
}
