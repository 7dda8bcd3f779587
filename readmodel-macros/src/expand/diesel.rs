//! diesel glue on the model's generated table: `Selectable` and `Queryable` (read rows
//! with `.select(Model::as_select())` or `.load::<Model>`), `Insertable` for `Model` and
//! `&Model`, and `AsChangeset` for `&Model` over the columns outside the key.
//! Values go through `Param`, since UUID and timestamp columns have the runtime's own SQL
//! types.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::validate::Model;

pub(super) fn expand(model: &Model) -> TokenStream {
    let rt = quote!(::readmodel_runtime);
    let d = quote!(#rt::diesel);
    let row = &model.row;
    let table = format_ident!("{}", model.table);
    let names: Vec<&syn::Ident> = model.fields.iter().map(|(f, _)| f).collect();
    let types: Vec<&syn::Type> = model.fields.iter().map(|(_, t)| t).collect();
    let index = (0..names.len()).map(syn::Index::from);
    let changeset = changeset(model);
    quote! {
        #changeset
        #[automatically_derived]
        impl<__DB: #d::backend::Backend> #d::Selectable<__DB> for #row {
            type SelectExpression = (#(#table::#names,)*);
            fn construct_selection() -> Self::SelectExpression {
                (#(#table::#names,)*)
            }
        }
        #[automatically_derived]
        impl<__DB, __ST> #d::Queryable<__ST, __DB> for #row
        where
            __DB: #d::backend::Backend,
            (#(#types,)*): #d::deserialize::FromStaticSqlRow<__ST, __DB>,
        {
            type Row = (#(#types,)*);
            fn build(row: Self::Row) -> #d::deserialize::Result<Self> {
                ::core::result::Result::Ok(Self { #(#names: row.#index,)* })
            }
        }
        // What `#[derive(Insertable)]` also emits: without it diesel refuses a slice or
        // `Vec` of rows in one `insert_into(..).values(..)`.
        #[automatically_derived]
        impl #d::internal::derives::insertable::UndecoratedInsertRecord<#table::table> for #row {}
        #[automatically_derived]
        impl<'__a> #d::Insertable<#table::table> for &'__a #row {
            type Values = <(#(#d::dsl::Eq<#table::#names, #rt::sql_types::Param<&'__a #types>>,)*) as #d::Insertable<#table::table>>::Values;
            fn values(self) -> Self::Values {
                #d::Insertable::values((#(
                    #d::ExpressionMethods::eq(#table::#names, #rt::sql_types::Param(&self.#names)),
                )*))
            }
        }
        // By value too: diesel names a fixed-size array of rows by its rows' owned values
        // (the static query id that lets it prepare the statement once).
        #[automatically_derived]
        impl #d::Insertable<#table::table> for #row {
            type Values = <(#(#d::dsl::Eq<#table::#names, #rt::sql_types::Param<#types>>,)*) as #d::Insertable<#table::table>>::Values;
            fn values(self) -> Self::Values {
                #d::Insertable::values((#(
                    #d::ExpressionMethods::eq(#table::#names, #rt::sql_types::Param(self.#names)),
                )*))
            }
        }
    }
}

/// `AsChangeset` for `&Model`: every column outside the key (the key says which row it is,
/// and is not changed). None when every column is in the key.
fn changeset(model: &Model) -> TokenStream {
    let rt = quote!(::readmodel_runtime);
    let d = quote!(#rt::diesel);
    let row = &model.row;
    let table = format_ident!("{}", model.table);
    let (names, types): (Vec<&syn::Ident>, Vec<&syn::Type>) = model
        .fields
        .iter()
        .filter(|(field, _)| !model.key.contains(field))
        .map(|(field, ty)| (field, ty))
        .unzip();
    if names.is_empty() {
        return TokenStream::new();
    }
    quote! {
        #[automatically_derived]
        impl<'__a> #d::AsChangeset for &'__a #row {
            type Target = #table::table;
            type Changeset = <(#(#d::dsl::Eq<#table::#names, #rt::sql_types::Param<&'__a #types>>,)*) as #d::AsChangeset>::Changeset;
            fn as_changeset(self) -> Self::Changeset {
                #d::AsChangeset::as_changeset((#(
                    #d::ExpressionMethods::eq(#table::#names, #rt::sql_types::Param(&self.#names)),
                )*))
            }
        }
    }
}
