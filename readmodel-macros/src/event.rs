//! `#[derive(DomainEvent)]`: the event type string, the newest schema version, and
//! decoding (with upcasting of older payload versions).

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;

const SYNTAX: &str = "expected `#[event(type = \"domain.name\")]`, optionally with `schema_version = N, upcast = path::to::fn`";

pub(crate) fn derive(input: &syn::DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let mut event_type: Option<syn::LitStr> = None;
    let mut schema_version: Option<i32> = None;
    let mut upcast: Option<syn::Path> = None;
    let mut found = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("event")) {
        found = true;
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("type") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                if lit.value().trim().is_empty() {
                    return Err(meta.error("the event type cannot be empty"));
                }
                event_type = Some(lit);
            } else if meta.path.is_ident("schema_version") {
                let lit: syn::LitInt = meta.value()?.parse()?;
                match lit.base10_parse::<i32>() {
                    Ok(v) if v >= 1 => schema_version = Some(v),
                    _ => {
                        return Err(syn::Error::new(
                            lit.span(),
                            "`schema_version` must be an integer of 1 or more",
                        ))
                    }
                }
            } else if meta.path.is_ident("upcast") {
                upcast = Some(meta.value()?.parse()?);
            } else {
                return Err(meta.error(format!("unknown key; {SYNTAX}")));
            }
            Ok(())
        });
        if let Err(error) = parsed {
            cx.syn_error(error);
        }
    }
    if !found {
        cx.error_spanned_by(&input.ident, format!("missing `#[event(...)]`; {SYNTAX}"));
    }
    let Some(event_type) = event_type.filter(|_| !cx.has_errors()) else {
        if found && !cx.has_errors() {
            cx.error_spanned_by(&input.ident, format!("missing `type`; {SYNTAX}"));
        }
        return cx.to_compile_errors();
    };
    let rt = quote!(::readmodel_runtime);
    let p = quote!(::readmodel_runtime::__private);
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let latest = schema_version.unwrap_or(1);
    let upcast = match upcast {
        Some(path) => quote! {
            ::core::option::Option::Some(
                #path as fn(i32, #p::serde_json::Value) -> ::core::result::Result<#p::serde_json::Value, ::std::string::String>
            )
        },
        None => quote!(::core::option::Option::None),
    };
    quote! {
        const _: () = {
            impl #impl_generics #rt::DomainEvent for #ident #type_generics #where_clause {
                const EVENT_TYPE: &'static str = #event_type;
                const SCHEMA_VERSION: i32 = #latest;
                fn decode(
                    schema_version: i32,
                    payload: &str,
                ) -> ::core::result::Result<Self, ::std::string::String> {
                    #rt::event::decode_versioned::<Self>(schema_version, #latest, payload, #upcast)
                }
            }
        };
    }
}
