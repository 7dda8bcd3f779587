//! `#[handlers]`: the event dispatch (`impl Projection`), and the checks only the compiler
//! can make, since they need the model's attribute: each handler's event is listed, every
//! listed event has a handler (a constant that fails to evaluate with the derive's
//! sentence), and each handler's shape fits the model's kind. Each check is spanned at the
//! tokens it is about.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned as _;

use crate::ast::HandlerBlock;
use crate::respan::at;
use crate::validate_handlers::{Checked, Shape};

/// `digest` is the digest of the block's tokens (see `crate::fingerprint`).
pub(super) fn expand(block: &HandlerBlock, checked: &[Checked<'_>], digest: &str) -> TokenStream {
    let rt = quote!(::readmodel_runtime);
    let p = quote!(::readmodel_runtime::__private);
    let model = &block.model;
    let mut checks = Vec::new();
    let mut arms = Vec::new();
    let mut handled = Vec::new();
    for Checked {
        handler,
        shape,
        rows_ty,
    } in checked
    {
        let event = &handler.event;
        let name = handler.ident();
        handled.push(quote!(<#event as #rt::DomainEvent>::EVENT_TYPE,));
        checks.push(at(event.span(), quote!(#p::listed::<#model, #event>();)));
        let call = match shape {
            Shape::ChangesRows => {
                let span = rows_ty.map_or_else(|| name.span(), |ty| ty.span());
                checks.push(at(span, quote!(#p::changes_rows::<#model>();)));
                quote!(<#model>::#name(&event, rows);)
            }
            Shape::AppendsRows => {
                let span = handler.func.sig.output.span();
                checks.push(at(span, quote!(#p::appends_rows::<#model>();)));
                quote!(rows.append(<#model>::#name(&event));)
            }
            Shape::Neither => {
                let inputs = handler.func.sig.inputs.span();
                checks.push(at(inputs, quote!(#p::may_omit_rows::<#model>();)));
                checks.push(at(name.span(), quote!(#p::may_return_nothing::<#model>();)));
                continue;
            }
        };
        arms.push(quote! {
            if stored.event_type == <#event as #rt::DomainEvent>::EVENT_TYPE {
                let event = stored.decode::<#event>()?;
                #call
                return ::core::result::Result::Ok(());
            }
        });
    }
    let every_event_handled = at(
        model.span(),
        quote! {
            const _: () = if let ::core::option::Option::Some(error) =
                #p::unhandled(<#model as #p::Declared>::LISTED, &[#(#handled)*])
            {
                ::core::panic!("{}", error)
            };
        },
    );
    quote! {
        impl #p::HasHandlers for #model {
            const FINGERPRINT: &'static str = #digest;
        }
        #every_event_handled
        #[automatically_derived]
        impl #rt::Projection for #model {
            type Row = Self;
            const CONTRACT: &'static #rt::Contract = <Self as #p::Declared>::CONTRACT;
            fn apply(
                stored: &#rt::StoredEvent,
                rows: &mut #rt::Rows<'_, Self>,
            ) -> ::core::result::Result<(), #rt::event::DecodeError> {
                #(#arms)*
                ::core::result::Result::Ok(())
            }
        }
        #[allow(dead_code)]
        fn __readmodel_checks() {
            #(#checks)*
        }
    }
}
