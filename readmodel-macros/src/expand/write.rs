//! The typed write path, spliced into the row codec's `ReadModelRow` impl: diesel's
//! `insert_into(table).values([&row; N]).on_conflict(key).do_update().set(c = excluded(c), …)`
//! (SQLite's upsert: a fixed-size array gives the statement a static query id, though
//! diesel 2.3.14 still prepares an upsert per execution), the same `INSERT` without
//! `ON CONFLICT` (SQLite's rows whose keys have no row yet: diesel prepares it once per
//! size and connection), and `copy_from(table).from_insertable(rows)`
//! (PostgreSQL's COPY, for rows whose keys have no row yet). All go through the
//! generated `Insertable` impls (see `diesel`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::validate::Model;

/// The `upsert_sqlite`, `insert_sqlite` and `copy_pg` methods of `ReadModelRow`.
pub(super) fn methods(model: &Model) -> TokenStream {
    let rt = quote!(::readmodel_runtime);
    let d = quote!(#rt::diesel);
    let table = format_ident!("{}", model.table);
    let key = &model.key;
    let others: Vec<&syn::Ident> = model
        .fields
        .iter()
        .map(|(field, _)| field)
        .filter(|field| !model.key.contains(field))
        .collect();
    // Every column in the key: a second write of the row changes nothing.
    let action = if others.is_empty() {
        quote!(.do_nothing())
    } else {
        quote!(.do_update().set((#(
            #d::ExpressionMethods::eq(#table::#others, #d::upsert::excluded(#table::#others)),
        )*)))
    };
    quote! {
        fn upsert_sqlite<const N: usize>(
            conn: &mut #d::sqlite::SqliteConnection,
            rows: [&Self; N],
        ) -> #d::QueryResult<usize> {
            let statement = #d::insert_into(#table::table)
                .values(rows)
                .on_conflict((#(#table::#key,)*))
                #action;
            #d::RunQueryDsl::execute(statement, conn)
        }
        fn insert_sqlite<const N: usize>(
            conn: &mut #d::sqlite::SqliteConnection,
            rows: [&Self; N],
        ) -> #d::QueryResult<usize> {
            // Owned rows: diesel caches a statement whose query id is `'static`, and the
            // borrowed rows' values borrow.
            let rows: [Self; N] = rows.map(::core::clone::Clone::clone);
            #d::RunQueryDsl::execute(#d::insert_into(#table::table).values(rows), conn)
        }
        fn copy_pg(
            conn: &mut #d::pg::PgConnection,
            rows: &[&Self],
        ) -> #d::QueryResult<usize> {
            #d::prelude::ExecuteCopyFromDsl::execute(
                #d::copy_from(#table::table).from_insertable(rows.to_vec()),
                conn,
            )
        }
    }
}
