//! Attribute tokens and the `#[handlers]` block → [`ast`](crate::ast). Syntax errors are recorded in
//! the context and parsing goes on, so every mistake is reported at once.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Expr, Lit, MetaNameValue, Token};

use crate::ast::{Args, Handler, HandlerBlock, Kind, Rebuild, Spanned, Table};
use crate::ctxt::Ctxt;

pub(crate) const KEYS: &[&str] = &[
    "name",
    "domain",
    "version",
    "kind",
    "events",
    "key",
    "table",
    "replay_start_version",
    "rebuild",
];

const KIND_SYNTAX: &str = "expected `kind = \"snapshot\" | \"timeline\" | \"aggregate\"`";
const REBUILD_SYNTAX: &str = "expected `rebuild = \"full\" | \"partial\"`";

pub(crate) fn args(cx: &mut Ctxt, tokens: TokenStream) -> Args {
    let mut args = Args {
        span: Some(Span::call_site()),
        ..Args::default()
    };
    let entries = match Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(entries) => entries,
        Err(error) => {
            cx.syn_error(syn::Error::new(
                error.span(),
                format!("{error}; expected `key = value` pairs, e.g. `kind = \"timeline\"`"),
            ));
            return args;
        }
    };
    let mut seen: Vec<String> = Vec::new();
    for entry in entries {
        let Some(key) = entry.path.get_ident().map(ToString::to_string) else {
            cx.error_spanned_by(&entry.path, unknown_key_message("this path"));
            continue;
        };
        if seen.contains(&key) {
            cx.error_spanned_by(
                &entry.path,
                format!("duplicate attribute key `{key}`: each key is given once; remove this one"),
            );
            continue;
        }
        seen.push(key.clone());
        args.given.push(key.clone());
        let value = &entry.value;
        match key.as_str() {
            "name" => args.name = string(cx, value, "expected `name = \"domain.model\"`"),
            "domain" => args.domain = string(cx, value, "expected `domain = \"habits\"`"),
            "version" => args.version = version(cx, value),
            "kind" => args.kind = kind(cx, value),
            "events" => args.events = events(cx, value),
            "key" => args.key = key_fields(cx, value),
            "table" => args.table = table(cx, value),
            "replay_start_version" => args.replay_start_version = start_version(cx, value),
            "rebuild" => args.rebuild = rebuild(cx, value),
            _ => cx.error_spanned_by(&entry.path, unknown_key_message(&format!("`{key}`"))),
        }
    }
    args
}

fn unknown_key_message(what: &str) -> String {
    format!(
        "unknown attribute key {what}; expected one of: {}",
        KEYS.iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn lit(value: &Expr) -> Option<&Lit> {
    match value {
        Expr::Lit(lit) => Some(&lit.lit),
        Expr::Group(group) => lit(&group.expr),
        _ => None,
    }
}

fn string(cx: &mut Ctxt, value: &Expr, syntax: &str) -> Option<Spanned<String>> {
    match lit(value) {
        Some(Lit::Str(s)) if !s.value().trim().is_empty() => Some(Spanned {
            value: s.value(),
            span: s.span(),
        }),
        _ => {
            cx.error_spanned_by(value, syntax);
            None
        }
    }
}

fn version(cx: &mut Ctxt, value: &Expr) -> Option<Spanned<i32>> {
    let parsed = match lit(value) {
        Some(Lit::Int(int)) => int.base10_parse::<i32>().ok().filter(|v| *v > 0),
        _ => None,
    };
    if parsed.is_none() {
        cx.error_spanned_by(
            value,
            "`version` must be a positive integer literal, e.g. `version = 1`",
        );
    }
    parsed.map(|v| Spanned {
        value: v,
        span: value.span(),
    })
}

fn start_version(cx: &mut Ctxt, value: &Expr) -> Option<Spanned<i64>> {
    let parsed = match lit(value) {
        Some(Lit::Int(int)) => int.base10_parse::<i64>().ok().filter(|v| *v >= 0),
        _ => None,
    };
    if parsed.is_none() {
        cx.error_spanned_by(
            value,
            "`replay_start_version` must be a non-negative integer literal (an `event_record.id`), e.g. `replay_start_version = 0`",
        );
    }
    parsed.map(|v| Spanned {
        value: v,
        span: value.span(),
    })
}

fn kind(cx: &mut Ctxt, value: &Expr) -> Option<Spanned<Kind>> {
    let kind = match lit(value) {
        Some(Lit::Str(s)) => match s.value().as_str() {
            "snapshot" => Some(Kind::Snapshot),
            "timeline" => Some(Kind::Timeline),
            "aggregate" => Some(Kind::Aggregate),
            other => {
                cx.error_spanned_by(value, format!("unknown kind \"{other}\"; {KIND_SYNTAX}"));
                return None;
            }
        },
        _ => None,
    };
    if kind.is_none() {
        cx.error_spanned_by(value, KIND_SYNTAX);
    }
    kind.map(|value_kind| Spanned {
        value: value_kind,
        span: value.span(),
    })
}

fn rebuild(cx: &mut Ctxt, value: &Expr) -> Option<Spanned<Rebuild>> {
    let rebuild = match lit(value) {
        Some(Lit::Str(s)) => match s.value().as_str() {
            "full" => Some(Rebuild::Full),
            "partial" => Some(Rebuild::Partial),
            _ => None,
        },
        _ => None,
    };
    if rebuild.is_none() {
        cx.error_spanned_by(value, REBUILD_SYNTAX);
    }
    rebuild.map(|r| Spanned {
        value: r,
        span: value.span(),
    })
}

fn events(cx: &mut Ctxt, value: &Expr) -> Option<Spanned<Vec<syn::Path>>> {
    let Expr::Array(array) = value else {
        cx.error_spanned_by(value, "expected `events = [EventType, ...]`");
        return None;
    };
    let mut paths = Vec::new();
    for element in &array.elems {
        match element {
            Expr::Path(path) if path.qself.is_none() => paths.push(path.path.clone()),
            other => cx.error_spanned_by(other, "expected an event type, e.g. `HabitCheckedIn`"),
        }
    }
    Some(Spanned {
        value: paths,
        span: array.span(),
    })
}

fn key_fields(cx: &mut Ctxt, value: &Expr) -> Option<Spanned<Vec<syn::Ident>>> {
    let elements: Vec<&Expr> = match value {
        Expr::Tuple(tuple) => tuple.elems.iter().collect(),
        Expr::Paren(paren) => vec![&*paren.expr],
        _ => {
            cx.error_spanned_by(
                value,
                "expected `key = (model_version, field, ...)`, a parenthesised list of fields",
            );
            return None;
        }
    };
    let mut fields = Vec::new();
    for element in elements {
        match element {
            Expr::Path(path) if path.path.get_ident().is_some() => {
                fields.extend(path.path.get_ident().cloned());
            }
            other => cx.error_spanned_by(other, "expected a field name of the row struct"),
        }
    }
    Some(Spanned {
        value: fields,
        span: value.span(),
    })
}

fn table(cx: &mut Ctxt, value: &Expr) -> Option<Table> {
    let segments = match value {
        Expr::Path(path) if path.qself.is_none() && path.path.leading_colon.is_none() => {
            &path.path.segments
        }
        _ => {
            cx.error_spanned_by(value, "expected `table = readmodels::table_name`");
            return None;
        }
    };
    match segments.iter().collect::<Vec<_>>().as_slice() {
        [schema, name] if schema.arguments.is_empty() && name.arguments.is_empty() => Some(Table {
            schema: schema.ident.clone(),
            name: name.ident.clone(),
        }),
        [name] => {
            cx.error_spanned_by(
                &name.ident,
                format!(
                    "table `{}` has no schema; read models live in schema `readmodels`: expected `table = readmodels::{}`",
                    name.ident, name.ident
                ),
            );
            None
        }
        _ => {
            cx.error_spanned_by(value, "expected `table = readmodels::table_name`");
            None
        }
    }
}

/// The arguments of the struct's `#[read_model(...)]` attribute.
pub(crate) fn attribute(cx: &mut Ctxt, input: &syn::DeriveInput) -> Args {
    let mut found = input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("read_model"));
    let Some(attr) = found.next() else {
        cx.error_spanned_by(
            &input.ident,
            "missing `#[read_model(...)]` next to `#[derive(ReadModel)]`: expected e.g. `#[read_model(name = \"habits.streaks\", domain = \"habits\", kind = \"snapshot\", events = [HabitCreated], key = (model_version, habit_id), table = readmodels::habit_streaks)]`",
        );
        return Args::default();
    };
    for extra in found {
        cx.error_spanned_by(
            extra,
            "a model has one `#[read_model(...)]` attribute; merge the keys into the first one",
        );
    }
    let syn::Meta::List(list) = &attr.meta else {
        cx.error_spanned_by(attr, "expected `#[read_model(key = value, ...)]`");
        return Args::default();
    };
    let mut parsed = args(cx, list.tokens.clone());
    parsed.span = Some(attr.span());
    parsed
}

/// The `#[handlers]` block: the model type, its handlers, and every fn and const (for the
/// purity scan, which covers helpers too).
pub(crate) fn handler_block(cx: &mut Ctxt, item: &syn::ItemImpl) -> Option<HandlerBlock> {
    if let Some((_, path, _)) = &item.trait_ {
        cx.error_spanned_by(
            path,
            "#[handlers] goes on the model's inherent impl block: `#[handlers] impl MyModel { ... }`, not on a trait impl",
        );
        return None;
    }
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(&item.generics, "a read model cannot be generic");
        return None;
    }
    let syn::Type::Path(model) = &*item.self_ty else {
        cx.error_spanned_by(
            &item.self_ty,
            "#[handlers] goes on the model's impl block: `#[handlers] impl MyModel { ... }`",
        );
        return None;
    };
    let mut handlers = Vec::new();
    for inner in &item.items {
        if let syn::ImplItem::Fn(func) = inner {
            if let Some((event, event_arg)) = handled_event(&func.sig) {
                handlers.push(Handler {
                    func: func.clone(),
                    event,
                    event_arg,
                });
            }
        }
    }
    Some(HandlerBlock {
        model: model.clone(),
        handlers,
    })
}

/// `E` and the parameter's position when one of the function's parameters is `&Event<E>`
/// (the first, normally; validation rejects the others).
fn handled_event(sig: &syn::Signature) -> Option<(syn::Path, usize)> {
    sig.inputs
        .iter()
        .enumerate()
        .find_map(|(index, arg)| event_type(arg).map(|event| (event, index)))
}

/// `E` when `arg` is `_: &Event<E>`.
fn event_type(arg: &syn::FnArg) -> Option<syn::Path> {
    let syn::FnArg::Typed(arg) = arg else {
        return None;
    };
    let syn::Type::Reference(reference) = &*arg.ty else {
        return None;
    };
    let syn::Type::Path(path) = &*reference.elem else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Event" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(generics) = &last.arguments else {
        return None;
    };
    match generics.args.first()? {
        syn::GenericArgument::Type(syn::Type::Path(event)) if event.qself.is_none() => {
            Some(event.path.clone())
        }
        _ => None,
    }
}
