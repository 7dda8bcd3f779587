//! The model's version and contract, as inherent constants of the row struct: static
//! metadata read by registry, replay and CLI. The contract's fingerprint combines, at
//! compile time, the digest of this declaration with those of the `#[handlers]` block
//! and of each consumed event (see `readmodel_runtime::fingerprint`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::ast::{Kind, Rebuild};
use crate::validate::Model;

/// `declaration` is the digest of the derive's input (see `crate::fingerprint`).
pub(super) fn expand(model: &Model, declaration: &str) -> TokenStream {
    let rt = quote!(::readmodel_runtime);
    let p = quote!(::readmodel_runtime::__private);
    let name = &model.name;
    let domain = &model.domain;
    let version = model.version;
    let kind = match model.kind {
        Kind::Snapshot => quote!(#rt::Kind::Snapshot),
        Kind::Timeline => quote!(#rt::Kind::Timeline),
        Kind::Aggregate => quote!(#rt::Kind::Aggregate),
    };
    let rebuild = match model.rebuild {
        Rebuild::Full => quote!(#rt::RebuildStrategy::Full),
        Rebuild::Partial => quote!(#rt::RebuildStrategy::Partial),
    };
    let events = &model.events;
    let start = model.replay_start_version;
    let key: Vec<String> = model.key.iter().map(ToString::to_string).collect();
    let table = &model.table;
    let columns = model.fields.iter().map(|(ident, ty)| {
        let column = ident.to_string();
        quote! {
            #rt::Column {
                name: #column,
                pg_type: <#ty as #rt::field::Field>::PG_TYPE,
                sqlite_type: <#ty as #rt::field::Field>::SQLITE_TYPE,
                nullable: <#ty as #rt::field::Field>::NULLABLE,
                sorts_as_text: <#ty as #rt::field::Field>::SORTS_AS_TEXT,
            }
        }
    });
    let row = &model.row;
    // A forgotten `#[handlers]` block is reported here, at the struct's name.
    let handlers = quote_spanned!(row.span()=> #p::handlers_fingerprint::<#row>());
    quote! {
        #[automatically_derived]
        impl #row {
            /// The model version stored in every row's `model_version`.
            pub const MODEL_VERSION: i32 = #version;
            /// The contract of this read model.
            pub const CONTRACT: &'static #rt::Contract = &#rt::Contract {
                name: #name,
                domain: #domain,
                version: #version,
                kind: #kind,
                consumed_events: &[#(<#events as #rt::DomainEvent>::EVENT_TYPE),*],
                replay_start_version: #start,
                idempotency_key: &[#(#key),*],
                rebuild_strategy: #rebuild,
                schema: "readmodels",
                table: #table,
                columns: &[#(#columns),*],
                fingerprint: #rt::Fingerprint::of(&[
                    #declaration,
                    #handlers,
                    #(<#events as #rt::DomainEvent>::FINGERPRINT),*
                ]),
            };
        }
    }
}
