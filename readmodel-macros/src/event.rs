//! `#[derive(DomainEvent)]`: the event type string, the newest schema version, the
//! digest of the declaration (part of the fingerprint of every model consuming it), and
//! decoding (with upcasting of older payload versions).

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;
use crate::{fingerprint, forbidden};

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
    } else if event_type.is_none() && !cx.has_errors() {
        cx.error_spanned_by(&input.ident, format!("missing `type`; {SYNTAX}"));
    }
    check_field_types(&mut cx, input);
    let rt = quote!(::readmodel_runtime);
    let p = quote!(::readmodel_runtime::__private);
    let latest = schema_version.unwrap_or(1);
    let decode = match event_type.as_ref().filter(|_| !cx.has_errors()) {
        Some(_) => {
            let upcast = match upcast {
                Some(path) => quote! {
                    ::core::option::Option::Some(
                        #path as fn(i32, #p::serde_json::Value) -> ::core::result::Result<#p::serde_json::Value, ::std::string::String>
                    )
                },
                None => quote!(::core::option::Option::None),
            };
            quote!(#rt::event::decode_versioned::<Self>(schema_version, #latest, payload, #upcast))
        }
        // A stand-in, so the errors above are the only ones: uses of the type as a
        // `DomainEvent` still compile.
        None => quote! {{
            let _ = (schema_version, payload);
            ::core::result::Result::Err(#rt::PayloadError::Mismatch(::std::string::String::new()))
        }},
    };
    // Collected at start-up, so that `replay import` can refuse types no code declares.
    let declaration = event_type.as_ref().map(|t| {
        quote! {
            #p::inventory::submit! { #p::EventDeclaration { event_type: #t } }
        }
    });
    let event_type = event_type.map_or_else(|| quote!(""), |t| quote!(#t));
    let digest = fingerprint::digest(fingerprint::declaration(input));
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let errors = cx.to_compile_errors();
    quote! {
        #errors
        const _: () = {
            impl #impl_generics #rt::DomainEvent for #ident #type_generics #where_clause {
                const EVENT_TYPE: &'static str = #event_type;
                const SCHEMA_VERSION: i32 = #latest;
                const FINGERPRINT: &'static str = #digest;
                fn decode(
                    schema_version: i32,
                    payload: &str,
                ) -> ::core::result::Result<Self, #rt::PayloadError> {
                    #decode
                }
            }
            #declaration
        };
    }
}

/// A payload field whose iteration order varies between runs would make every handler
/// that iterates it replay differently; `BTreeMap`/`BTreeSet` read the same JSON.
fn check_field_types(cx: &mut Ctxt, input: &syn::DeriveInput) {
    let fields: Vec<&syn::Field> = match &input.data {
        syn::Data::Struct(data) => data.fields.iter().collect(),
        syn::Data::Enum(data) => data.variants.iter().flat_map(|v| &v.fields).collect(),
        syn::Data::Union(data) => data.fields.named.iter().collect(),
    };
    for (index, field) in fields.into_iter().enumerate() {
        let name = field
            .ident
            .as_ref()
            .map_or_else(|| index.to_string(), ToString::to_string);
        for finding in forbidden::hash_collections_in(&field.ty) {
            let instead = if finding.path.contains("Set") {
                "`BTreeSet`"
            } else {
                "`BTreeMap` (or `BTreeSet`)"
            };
            cx.error_spanned_by(
                &finding.tokens,
                format!(
                    "field `{name}` of event `{}` uses `{}`, which {}: a handler iterating it would replay differently; use {instead}, which reads the same JSON",
                    input.ident, finding.path, finding.why,
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::derive;

    fn expand(input: syn::DeriveInput) -> String {
        derive(&input).to_string()
    }

    #[test]
    fn hash_ordered_fields_are_rejected_at_their_type() {
        let out = expand(syn::parse_quote! {
            #[event(type = "t.e")]
            struct Tagged {
                id: Uuid,
                tags: HashSet<String>,
                limits: Option<std::collections::HashMap<String, i64>>,
                order: BTreeMap<String, i64>,
            }
        });
        assert_eq!(out.matches("compile_error").count(), 2, "{out}");
        assert!(out.contains("field `tags` of event `Tagged` uses `HashSet`, which iterates in an order that varies between runs: a handler iterating it would replay differently; use `BTreeSet`, which reads the same JSON"), "{out}");
        assert!(
            out.contains("field `limits` of event `Tagged` uses `std::collections::HashMap`"),
            "{out}"
        );
        assert!(out.contains("use `BTreeMap` (or `BTreeSet`)"), "{out}");
        // The stand-in keeps the type a `DomainEvent`, without decoding.
        assert!(out.contains("DomainEvent for Tagged"), "{out}");
        assert!(!out.contains("decode_versioned"), "{out}");
    }

    #[test]
    fn enum_and_tuple_fields_are_checked() {
        let out = expand(syn::parse_quote! {
            #[event(type = "t.e")]
            enum Changed { A(HashMap<u8, u8>), B { set: FxHashSet<u8> } }
        });
        assert!(
            out.contains("field `0` of event `Changed` uses `HashMap`"),
            "{out}"
        );
        assert!(
            out.contains("field `set` of event `Changed` uses `FxHashSet`"),
            "{out}"
        );
    }

    #[test]
    fn a_valid_event_decodes_and_a_broken_one_still_implements_the_trait() {
        let valid = expand(syn::parse_quote! {
            #[event(type = "t.e", schema_version = 2)]
            struct Opened { id: Uuid, at: DateTime<Utc>, seen: BTreeSet<u8> }
        });
        assert!(!valid.contains("compile_error"), "{valid}");
        assert!(valid.contains("decode_versioned"), "{valid}");
        let missing = expand(syn::parse_quote! { struct Opened { id: Uuid } });
        assert!(missing.contains("missing `#[event(...)]`"), "{missing}");
        assert!(missing.contains("DomainEvent for Opened"), "{missing}");
    }
}
