//! The rules of a `#[handlers]` block that its tokens alone decide: handler signatures,
//! one handler per event within the block, and the purity scan of every fn and const.
//!
//! What needs the model's attribute (its kind, its `events = [..]`) is checked by the
//! compiler through the traits `#[derive(ReadModel)]` implements; see `expand::handlers`.

use quote::ToTokens;

use crate::ast::{last_ident, Handler, HandlerBlock};
use crate::ctxt::Ctxt;
use crate::forbidden;

/// What a handler's signature says about the model's kind.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Takes `rows: &mut Rows<'_, Self>`: a snapshot or aggregate handler.
    ChangesRows,
    /// Takes only the event and returns the rows: a timeline handler.
    AppendsRows,
    /// Takes only the event and returns nothing: wrong for every kind.
    Neither,
}

/// A handler that passed every rule of the block.
pub(crate) struct Checked<'a> {
    pub(crate) handler: &'a Handler,
    pub(crate) shape: Shape,
    /// The `rows` parameter's type, for kind errors.
    pub(crate) rows_ty: Option<&'a syn::Type>,
}

pub(crate) fn block<'a>(
    cx: &mut Ctxt,
    item: &syn::ItemImpl,
    block: &'a HandlerBlock,
) -> Vec<Checked<'a>> {
    let model = block
        .model
        .path
        .segments
        .last()
        .map_or_else(|| "Self".to_owned(), |s| s.ident.to_string());
    scan_purity(cx, item, block, &model);
    let mut checked = Vec::new();
    for (index, handler) in block.handlers.iter().enumerate() {
        let earlier = block.handlers[..index]
            .iter()
            .any(|h| last_ident(&h.event) == last_ident(&handler.event));
        if earlier {
            cx.error_spanned_by(
                handler.ident(),
                format!(
                    "event `{}` has more than one handler in `{model}`: keep one",
                    handler.event.to_token_stream()
                ),
            );
        }
        checked.push(signature(cx, handler));
    }
    checked
}

/// Every item of the block: a helper or constant a handler uses is as much the handler's
/// code as its body. Each item may opt out of rules with `#[read_model(allow(..))]`.
fn scan_purity(cx: &mut Ctxt, item: &syn::ItemImpl, block: &HandlerBlock, model: &str) {
    for inner in &item.items {
        let inner = &without_connection_parameters(inner, block);
        let (name, attrs) = match inner {
            syn::ImplItem::Fn(func) => (func.sig.ident.to_string(), &func.attrs),
            syn::ImplItem::Const(constant) => (constant.ident.to_string(), &constant.attrs),
            syn::ImplItem::Type(ty) => (ty.ident.to_string(), &ty.attrs),
            syn::ImplItem::Macro(mac) => (mac.mac.path.to_token_stream().to_string(), &mac.attrs),
            _ => continue,
        };
        let (allowed, errors) = forbidden::allowed(attrs);
        for error in errors {
            cx.syn_error(error);
        }
        for finding in forbidden::scan_item(inner, &allowed) {
            cx.error_spanned_by(
                &finding.tokens,
                finding.message(&format!("{model}::{name}")),
            );
        }
    }
}

/// `inner`, less the connection parameters of a handler: [`signature`] rejects those with
/// the handler's own message, and the purity scan would report the same tokens again.
fn without_connection_parameters(inner: &syn::ImplItem, block: &HandlerBlock) -> syn::ImplItem {
    let mut inner = inner.clone();
    if let syn::ImplItem::Fn(func) = &mut inner {
        let is_handler = block
            .handlers
            .iter()
            .any(|h| h.func.sig.ident == func.sig.ident);
        if is_handler {
            func.sig.inputs = std::mem::take(&mut func.sig.inputs)
                .into_iter()
                .filter(|arg| !matches!(arg, syn::FnArg::Typed(typed) if mentions_connection(&typed.ty)))
                .collect();
        }
    }
    inner
}

fn signature<'a>(cx: &mut Ctxt, handler: &'a Handler) -> Checked<'a> {
    let sig = &handler.func.sig;
    let name = &sig.ident;
    let event = handler.event.to_token_stream();
    let expected = format!("`fn {name}(event: &Event<{event}>, rows: &mut Rows<'_, Self>)` (snapshot, aggregate) or `fn {name}(event: &Event<{event}>) -> Vec<Self>` (timeline)");
    if let Some(asyncness) = &sig.asyncness {
        cx.error_spanned_by(
            asyncness,
            format!("handler `{name}` is async: handlers are pure functions of the event and the model's rows, with nothing to await; remove `async`: expected {expected}"),
        );
    }
    if handler.event_arg != 0 {
        if let Some(arg) = sig.inputs.iter().nth(handler.event_arg) {
            cx.error_spanned_by(
                arg,
                format!("the event is a handler's first parameter: expected {expected}"),
            );
        }
    }
    let mut rows_ty = None;
    for (index, arg) in sig.inputs.iter().enumerate() {
        if index == handler.event_arg {
            continue;
        }
        let ty: &dyn ToTokens = match arg {
            syn::FnArg::Typed(typed) => &typed.ty,
            syn::FnArg::Receiver(receiver) => receiver,
        };
        let typed = match arg {
            syn::FnArg::Typed(typed) => Some(&*typed.ty),
            syn::FnArg::Receiver(_) => None,
        };
        let is_rows_arg = typed.is_some_and(is_rows);
        let is_connection = typed.is_some_and(mentions_connection);
        let is_mut = typed.is_some_and(mentions_mut)
            || matches!(arg, syn::FnArg::Receiver(r) if r.mutability.is_some());
        let message = if is_connection {
            format!("handler `{name}` takes a database connection: handlers never touch the database (the runtime loads rows, and writes them with the checkpoint in one transaction); expected {expected}")
        } else if is_rows_arg && rows_ty.is_none() {
            rows_ty = typed;
            continue;
        } else if is_rows_arg {
            format!("handler `{name}` takes `Rows` twice: expected {expected}")
        } else if is_mut {
            format!("handler `{name}` takes mutable state other than its rows: a replay rebuilds only the model's rows, so a handler may change nothing else; expected {expected}")
        } else {
            format!("handler `{name}` takes only the event and, in a snapshot or aggregate, the model's rows: expected {expected}")
        };
        cx.error_spanned_by(ty, message);
    }
    let shape = match (rows_ty, &sig.output) {
        (Some(_), _) => Shape::ChangesRows,
        (None, syn::ReturnType::Type(..)) => Shape::AppendsRows,
        (None, syn::ReturnType::Default) => Shape::Neither,
    };
    Checked {
        handler,
        shape,
        rows_ty,
    }
}

fn is_rows(ty: &syn::Type) -> bool {
    let syn::Type::Reference(reference) = ty else {
        return false;
    };
    let syn::Type::Path(path) = &*reference.elem else {
        return false;
    };
    reference.mutability.is_some() && path.path.segments.last().is_some_and(|s| s.ident == "Rows")
}

/// Whether `ty` names a database connection or pool (`PgConnection`, `SqliteConnection`,
/// `Pool<..>`, ...).
fn mentions_connection(ty: &syn::Type) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
            let name = segment.ident.to_string();
            if name.ends_with("Connection") || name.ends_with("Pool") || name == "Transaction" {
                self.0 = true;
            }
            syn::visit::visit_path_segment(self, segment);
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.0
}

/// Whether `ty` is or holds a `&mut` or `*mut`.
fn mentions_mut(ty: &syn::Type) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_type_reference(&mut self, node: &'ast syn::TypeReference) {
            self.0 |= node.mutability.is_some();
            syn::visit::visit_type_reference(self, node);
        }
        fn visit_type_ptr(&mut self, node: &'ast syn::TypePtr) {
            self.0 |= node.mutability.is_some();
            syn::visit::visit_type_ptr(self, node);
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.0
}
