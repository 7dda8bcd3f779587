//! Event dispatch: `event_type` string → serde payload type → the handler, and the
//! handler's result into the model's rows.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Kind;
use crate::validate::Model;

pub(super) fn expand(model: &Model) -> TokenStream {
    let p = quote!(::readmodel_runtime::__private);
    let row = &model.row;
    let arms = model.handlers.iter().map(|(event, handler)| {
        let call = match model.kind {
            Kind::Timeline => quote!(rows.append(#handler(&event));),
            Kind::Snapshot | Kind::Aggregate => quote!(#handler(&event, rows);),
        };
        quote! {
            if stored.event_type == <#event as #p::DomainEvent>::EVENT_TYPE {
                let event = stored.decode::<#event>()?;
                #call
                return ::core::result::Result::Ok(());
            }
        }
    });
    quote! {
        impl #p::Projection for Model {
            type Row = #row;
            const CONTRACT: &'static #p::Contract = Model::CONTRACT;
            fn apply(
                stored: &#p::StoredEvent,
                rows: &mut #p::Rows<'_, #row>,
            ) -> ::core::result::Result<(), #p::DecodeError> {
                #(#arms)*
                ::core::result::Result::Ok(())
            }
        }
    }
}
