//! Code generation, one module per artefact. `#[derive(ReadModel)]` generates the
//! contract, the row codec, the links its `#[handlers]` block is checked against and the
//! diesel table; `#[handlers]` generates the event dispatch and the registry entry.
//! Trait impls go inside `const _: () = { ... };` and reach dependencies through
//! `::readmodel_runtime::__private`.

mod contract;
mod diesel;
mod handlers;
mod links;
mod reader;
mod registry;
mod row;
mod stub;
mod table;
mod write;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;
use crate::{fingerprint, parse, validate, validate_handlers};

pub(crate) fn derive(input: &syn::DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let args = parse::attribute(&mut cx, input);
    let validated = validate::model(&mut cx, &args, input);
    match validated {
        Some(model) if !cx.has_errors() => {
            let declaration = fingerprint::digest(fingerprint::declaration(input));
            let generated = [
                contract::expand(&model, &declaration),
                row::expand(&model),
                links::expand(&model),
                diesel::expand(&model),
                reader::expand(&model),
            ];
            let table = table::expand(&model);
            quote!(#table const _: () = { #(#generated)* };)
        }
        _ => {
            // Stand-ins (see `stub`), so the user sees the real errors and no cascade from
            // the handlers block or from code using the model.
            let errors = cx.to_compile_errors();
            let stubs = stub::expand(&args, input);
            quote!(#errors const _: () = { #stubs };)
        }
    }
}

/// The block with the `#[read_model(allow(..))]` opt-outs removed: they are read by the
/// purity scan and mean nothing to the compiler.
fn without_opt_outs(mut item: syn::ItemImpl) -> syn::ItemImpl {
    for inner in &mut item.items {
        let attrs = match inner {
            syn::ImplItem::Fn(func) => &mut func.attrs,
            syn::ImplItem::Const(constant) => &mut constant.attrs,
            syn::ImplItem::Type(ty) => &mut ty.attrs,
            syn::ImplItem::Macro(mac) => &mut mac.attrs,
            _ => continue,
        };
        attrs.retain(|attr| !attr.path().is_ident("read_model"));
    }
    item
}

pub(crate) fn handlers(args: TokenStream, item: syn::ItemImpl) -> TokenStream {
    let mut cx = Ctxt::default();
    if !args.is_empty() {
        cx.error_spanned_by(
            args,
            "#[handlers] takes no arguments: expected `#[handlers]`",
        );
    }
    let block = parse::handler_block(&mut cx, &item);
    // The block as written, opt-outs included: the handlers' part of the fingerprint.
    let digest = fingerprint::digest(&item);
    let checked = block
        .as_ref()
        .map(|block| validate_handlers::block(&mut cx, &item, block));
    let item = without_opt_outs(item.clone());
    match (&block, checked) {
        (Some(block), Some(checked)) if !cx.has_errors() => {
            let generated = handlers::expand(block, &checked, &digest);
            let registration = registry::expand(&block.model);
            quote!(#item const _: () = { #generated #registration };)
        }
        _ => {
            // The block as written (its functions are real code other code may call),
            // the errors, and a stand-in dispatch so that the model still registers.
            let errors = cx.to_compile_errors();
            let stub = block.as_ref().map(|block| stub::projection(&block.model));
            quote!(#item #errors const _: () = { #stub };)
        }
    }
}
