//! Stand-ins emitted next to the errors of a model that failed validation.
//!
//! A failed model gets no real contract, row codec, links or registry entry. Without
//! stand-ins, every `&mut Rows<'_, Row>` in a handler would add "`Row: ReadModelRow` is
//! not satisfied", and the `#[handlers]` block one error per handler and per check: a
//! cascade that buries the real errors. The stand-ins have the right shape (the row's key
//! type is taken from the usable part of `key`), satisfy every check, and have bodies that
//! are never run: the crate does not compile, so nothing can call them.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::{Args, Kind};

pub(super) fn expand(args: &Args, input: &syn::DeriveInput) -> TokenStream {
    let rt = quote!(::readmodel_runtime);
    let p = quote!(::readmodel_runtime::__private);
    let syn::Data::Struct(data) = &input.data else {
        return TokenStream::new();
    };
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let version = args.version.as_ref().map_or(1, |v| v.value);
    let kind = match args.kind.as_ref().map(|k| k.value) {
        Some(Kind::Timeline) => quote!(#rt::Kind::Timeline),
        Some(Kind::Aggregate) => quote!(#rt::Kind::Aggregate),
        Some(Kind::Snapshot) | None => quote!(#rt::Kind::Snapshot),
    };
    let links = quote! {
        impl #ident {
            /// Stand-in: this model has compile errors.
            pub const MODEL_VERSION: i32 = #version;
            /// Stand-in: this model has compile errors.
            pub const CONTRACT: &'static #rt::Contract = &#rt::Contract {
                name: "",
                domain: "",
                version: #version,
                kind: #kind,
                consumed_events: &[],
                replay_start_version: 0,
                idempotency_key: &[],
                rebuild_strategy: #rt::RebuildStrategy::Full,
                schema: "readmodels",
                table: "",
                columns: &[],
                fingerprint: #rt::Fingerprint::of(&[]),
            };
        }
        impl #p::Declared for #ident {
            const CONTRACT: &'static #rt::Contract = #ident::CONTRACT;
            const LISTED: &'static [(&'static str, &'static str)] = &[];
        }
        impl<E> #p::Lists<E> for #ident {}
        impl #p::ChangesRows for #ident {}
        impl #p::AppendsRows for #ident {}
        impl #p::MayOmitRows for #ident {}
        impl #p::MayReturnNothing for #ident {}
    };
    let syn::Fields::Named(named) = &data.fields else {
        return links;
    };
    let key = stand_in_key(args, named);
    quote! {
        #links
        impl #rt::ReadModelRow for #ident {
            type Key = #key;
            fn key(&self) -> Self::Key {
                ::core::unreachable!()
            }
            fn set_model_version(&mut self, _version: i32) {}
            fn bind_columns<DB: #rt::field::Db>(&self, query: #rt::field::Query<DB>) -> #rt::field::Query<DB> {
                query
            }
            fn bind_pg_arrays(_rows: &[&Self], query: #rt::field::Query<#rt::diesel::pg::Pg>) -> #rt::field::Query<#rt::diesel::pg::Pg> {
                query
            }
            fn bind_key<DB: #rt::field::Db>(_key: &Self::Key, query: #rt::field::Query<DB>) -> #rt::field::Query<DB> {
                query
            }
            fn read<'a, DB: #rt::field::Db>(
                _row: &impl #rt::diesel::row::NamedRow<'a, DB>,
            ) -> #rt::diesel::deserialize::Result<Self> {
                ::core::unreachable!()
            }
            fn write_canonical(&self, _out: &mut ::std::string::String) {}
            fn user_id(&self) -> ::core::option::Option<#p::Uuid> {
                ::core::option::Option::None
            }
            fn upsert_sqlite<const N: usize>(
                _conn: &mut #rt::diesel::sqlite::SqliteConnection,
                _rows: [&Self; N],
            ) -> #rt::diesel::QueryResult<usize> {
                ::core::unreachable!()
            }
            fn insert_sqlite<const N: usize>(
                _conn: &mut #rt::diesel::sqlite::SqliteConnection,
                _rows: [&Self; N],
            ) -> #rt::diesel::QueryResult<usize> {
                ::core::unreachable!()
            }
            fn copy_pg(
                _conn: &mut #rt::diesel::pg::PgConnection,
                _rows: &[&Self],
            ) -> #rt::diesel::QueryResult<usize> {
                ::core::unreachable!()
            }
        }
    }
}

/// The dispatch of a `#[handlers]` block with errors: no handler runs (the crate does not
/// compile), but the model is complete, so its registry entry raises nothing more.
pub(super) fn projection(model: &syn::TypePath) -> TokenStream {
    let rt = quote!(::readmodel_runtime);
    let p = quote!(::readmodel_runtime::__private);
    quote! {
        impl #p::HasHandlers for #model {
            const FINGERPRINT: &'static str = "";
        }
        impl #rt::Projection for #model {
            type Row = Self;
            const CONTRACT: &'static #rt::Contract = <Self as #p::Declared>::CONTRACT;
            fn apply(
                _stored: &#rt::StoredEvent,
                _rows: &mut #rt::Rows<'_, Self>,
            ) -> ::core::result::Result<(), #rt::event::DecodeError> {
                ::core::result::Result::Ok(())
            }
        }
    }
}

/// The key type handlers most likely expect: the key's fields that exist in the row,
/// once each, without `model_version`, and without floats (which are not `Ord`).
fn stand_in_key(args: &Args, named: &syn::FieldsNamed) -> TokenStream {
    let mut types: Vec<&syn::Type> = Vec::new();
    let mut seen: Vec<&syn::Ident> = Vec::new();
    for field in args.key.iter().flat_map(|k| &k.value) {
        if field == "model_version" || seen.contains(&field) {
            continue;
        }
        seen.push(field);
        let ty = named
            .named
            .iter()
            .find(|f| f.ident.as_ref() == Some(field))
            .map(|f| &f.ty);
        if let Some(ty) = ty.filter(|ty| !crate::validate::mentions_type(ty, &["f32", "f64"])) {
            types.push(ty);
        }
    }
    match types.as_slice() {
        [one] => quote!(#one),
        many => quote!((#(#many,)*)),
    }
}
