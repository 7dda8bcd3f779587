//! The registry entry: collected at start-up by `inventory`, so the model appears in
//! `replay list` of any binary that links it.

use proc_macro2::TokenStream;
use quote::quote;

use crate::validate::Model;

pub(super) fn expand(_model: &Model) -> TokenStream {
    let p = quote!(::readmodel_runtime::__private);
    quote! {
        #p::inventory::submit! {
            #p::Registration { model: &#p::ModelOps::<Model>::INSTANCE }
        }
    }
}
