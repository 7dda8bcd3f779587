//! The row codec: key extraction, diesel binds for the statements the runtime builds from
//! the contract (PostgreSQL's `unnest` upsert, loads, deletes), the typed writes of
//! `write`, reads, and the canonical text that checksums hash.

use proc_macro2::TokenStream;
use quote::quote;

use crate::validate::Model;

pub(super) fn expand(model: &Model) -> TokenStream {
    let rt = quote!(::readmodel_runtime);
    let p = quote!(::readmodel_runtime::__private);
    let row = &model.row;
    let entity_key: Vec<&syn::Ident> = model.key.iter().filter(|k| *k != "model_version").collect();
    let key_types: Vec<&syn::Type> = entity_key
        .iter()
        .filter_map(|k| model.fields.iter().find(|(f, _)| f == *k).map(|(_, ty)| ty))
        .collect();
    let (key_type, key_value, bind_key) =
        if let ([ty], [field]) = (key_types.as_slice(), entity_key.as_slice()) {
            (
                quote!(#ty),
                quote!(::core::clone::Clone::clone(&self.#field)),
                quote!(DB::bind(query, key)),
            )
        } else {
            let index = (0..entity_key.len()).map(syn::Index::from);
            (
                quote!((#(#key_types,)*)),
                quote!((#(::core::clone::Clone::clone(&self.#entity_key),)*)),
                quote!({ #(let query = DB::bind(query, &key.#index);)* query }),
            )
        };
    let names: Vec<&syn::Ident> = model.fields.iter().map(|(f, _)| f).collect();
    let columns: Vec<String> = names.iter().map(ToString::to_string).collect();
    let canonical = model
        .fields
        .iter()
        .filter(|(f, _)| f != "model_version")
        .enumerate()
        .map(|(i, (field, _))| {
            let separator = (i > 0).then(|| quote!(out.push('\u{1f}');));
            quote! {
                #separator
                #rt::field::Field::canonical(&self.#field, out);
            }
        });
    // Rows without a `user_id` cannot be rebuilt by user; the contract says so too.
    let write = super::write::methods(model);
    let user_id = if model.fields.iter().any(|(f, _)| f == "user_id") {
        quote!(::core::option::Option::Some(::core::clone::Clone::clone(
            &self.user_id
        )))
    } else {
        quote!(::core::option::Option::None)
    };
    quote! {
        #[automatically_derived]
        impl #rt::ReadModelRow for #row {
            type Key = #key_type;
            fn key(&self) -> Self::Key {
                #key_value
            }
            fn set_model_version(&mut self, version: i32) {
                self.model_version = version;
            }
            fn bind_columns<DB: #rt::field::Db>(&self, query: #rt::field::Query<DB>) -> #rt::field::Query<DB> {
                #(let query = DB::bind(query, &self.#names);)*
                query
            }
            fn bind_pg_arrays(rows: &[&Self], query: #rt::field::Query<#rt::diesel::pg::Pg>) -> #rt::field::Query<#rt::diesel::pg::Pg> {
                #(let query = #rt::field::Field::bind_pg_array(rows.iter().map(|row| &row.#names), query);)*
                query
            }
            fn bind_key<DB: #rt::field::Db>(key: &Self::Key, query: #rt::field::Query<DB>) -> #rt::field::Query<DB> {
                #bind_key
            }
            fn read<'a, DB: #rt::field::Db>(
                row: &impl #rt::diesel::row::NamedRow<'a, DB>,
            ) -> #rt::diesel::deserialize::Result<Self> {
                ::core::result::Result::Ok(Self {
                    #(#names: DB::read(row, #columns)?,)*
                })
            }
            fn write_canonical(&self, out: &mut ::std::string::String) {
                #(#canonical)*
            }
            fn user_id(&self) -> ::core::option::Option<#p::Uuid> {
                #user_id
            }
            #write
        }
    }
}
