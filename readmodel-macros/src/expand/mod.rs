//! Code generation, one module per artefact: the contract, the row codec (diesel binds,
//! reads and canonical text for upserts and checksums), the event dispatch, and the
//! registry entry. Everything generated goes inside the user's module, trait impls inside
//! `const _: () = { ... };`, and reaches dependencies through
//! `::readmodel_runtime::__private`.

mod contract;
mod dispatch;
mod registry;
mod row;
mod stub;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Ctxt;
use crate::{parse, validate};

pub(crate) fn read_model(args: TokenStream, item: syn::ItemMod) -> TokenStream {
    let mut cx = Ctxt::default();
    let args = parse::args(&mut cx, args);
    let module = parse::module(&mut cx, item);
    let validated = validate::model(&mut cx, &args, &module);
    let version = args.version.as_ref().map_or(1, |v| v.value);
    match validated {
        Some(model) if !cx.has_errors() => {
            let generated = [
                contract::expand(&model),
                row::expand(&model),
                dispatch::expand(&model),
                registry::expand(&model),
            ];
            emit(
                module.item,
                version,
                quote!(const _: () = { #(#generated)* };),
            )
        }
        _ => {
            // The module as written, plus the public items other code names and stand-in
            // impls (see `stub`), so the user sees the real errors and no cascade.
            //
            // Handler bodies are kept exactly as written, even one that calls
            // `Utc::now()`: the body has to be rewritten anyway, and rustc's own errors in
            // it (a type mismatch, an unresolved `rand::` in a crate without `rand`) are
            // true of the code, so hiding them would only make the next compile bring new
            // surprises. Replacing bodies with stubs would also turn the imports they use
            // into "unused" warnings, which are false.
            let errors = cx.to_compile_errors();
            let stubs = stub::expand(&args, &module);
            emit(module.item, version, quote!(#errors #stubs))
        }
    }
}

/// The module with the public items every model has, and `extra` appended inside it.
fn emit(mut item: syn::ItemMod, version: i32, extra: TokenStream) -> TokenStream {
    let public: syn::File = syn::parse_quote! {
        /// The model version stored in every row's `model_version`.
        pub const MODEL_VERSION: i32 = #version;
        /// This read model, as registered with the runtime.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct Model;
    };
    match &mut item.content {
        Some((_, items)) => {
            items.extend(public.items);
            items.push(syn::Item::Verbatim(extra));
            quote!(#item)
        }
        None => quote!(#item #extra),
    }
}
