//! The reader API, as associated functions of the model: the rows of the active version
//! or of one version as a diesel query on the generated table, the checkpoint, and a
//! bounded wait for read-your-writes (see `readmodel_runtime::reader`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::validate::Model;

pub(super) fn expand(model: &Model) -> TokenStream {
    let rt = quote!(::readmodel_runtime);
    let d = quote!(#rt::diesel);
    let r = quote!(::readmodel_runtime::reader);
    let row = &model.row;
    let table = format_ident!("{}", model.table);
    let query = quote!(#d::dsl::Filter<#table::table, #d::dsl::Eq<#table::model_version, i32>>);
    quote! {
        #[automatically_derived]
        impl #row {
            /// The rows of the version readers use (the active one; the declared one when
            /// none was activated yet), as a diesel query on the model's table, ready for
            /// `.filter(..)`, `.order(..)` and `.load::<Self>(conn)`.
            pub fn active<C: #r::ReadConnection>(
                conn: &mut C,
            ) -> ::core::result::Result<#query, #rt::StoreError> {
                ::core::result::Result::Ok(Self::version(#r::active_version(conn, Self::CONTRACT)?))
            }
            /// The rows of one version (e.g. a new one built side by side before cutover).
            pub fn version(version: i32) -> #query {
                #d::QueryDsl::filter(
                    #table::table,
                    #d::ExpressionMethods::eq(#table::model_version, version),
                )
            }
            /// The last event id the active version's rows reflect (`None`: never run).
            pub fn checkpoint<C: #r::ReadConnection>(
                conn: &mut C,
            ) -> ::core::result::Result<::core::option::Option<i64>, #rt::StoreError> {
                #r::checkpoint(conn, Self::CONTRACT)
            }
            /// Waits, at most `timeout`, until the active version has applied event
            /// `event_id`, so that a read after a write sees it; returns the checkpoint.
            pub fn wait_until_applied<C: #r::ReadConnection>(
                conn: &mut C,
                event_id: i64,
                timeout: ::std::time::Duration,
            ) -> ::core::result::Result<i64, #r::ReadError> {
                #r::wait_until_applied(conn, Self::CONTRACT, event_id, timeout)
            }
        }
    }
}
