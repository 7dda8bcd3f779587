//! Every rule a model must satisfy to be rebuilt deterministically. Each failed rule is
//! recorded with the span of the offending tokens; all are checked, none stops the others.

use proc_macro2::Span;
use quote::ToTokens;

use crate::ast::{last_ident, Args, Handler, Kind, Module, Rebuild};
use crate::ctxt::Ctxt;
use crate::forbidden;

/// A model that passed every rule: what expansion needs.
pub(crate) struct Model {
    pub(crate) name: String,
    pub(crate) domain: String,
    pub(crate) version: i32,
    pub(crate) kind: Kind,
    pub(crate) events: Vec<syn::Path>,
    pub(crate) key: Vec<syn::Ident>,
    pub(crate) table: String,
    pub(crate) replay_start_version: i64,
    pub(crate) rebuild: Rebuild,
    pub(crate) row: syn::Ident,
    pub(crate) fields: Vec<(syn::Ident, syn::Type)>,
    /// (event type as listed, handler function), in `events` order.
    pub(crate) handlers: Vec<(syn::Path, syn::Ident)>,
}

const NON_DETERMINISTIC: &[(&str, &str)] = &[
    ("HashMap", "iteration order of `HashMap` varies between runs; use `BTreeMap`"),
    ("HashSet", "iteration order of `HashSet` varies between runs; use `BTreeSet`"),
    ("SystemTime", "`SystemTime` is wall-clock time; store the event's `occurred_at` as `DateTime<Utc>`"),
    ("Instant", "`Instant` is a monotonic clock reading that means nothing in another process; store the event's `occurred_at`"),
];

pub(crate) fn model(cx: &mut Ctxt, args: &Args, module: &Module) -> Option<Model> {
    let attr_span = args.span.unwrap_or_else(Span::call_site);
    let kind = args.kind.as_ref().map(|k| k.value);
    if args.kind.is_none() && !args.given("kind") {
        cx.error_at(
            attr_span,
            "missing `kind`: expected `kind = \"snapshot\" | \"timeline\" | \"aggregate\"`",
        );
    }
    let domain = args.domain.as_ref().map(|d| d.value.clone());
    if args.domain.is_none() && !args.given("domain") {
        cx.error_at(
            attr_span,
            "missing `domain`: expected `domain = \"habits\"`",
        );
    }
    let events = check_events(cx, args, attr_span);
    let table = check_table(cx, args, attr_span);
    let fields = module.row.as_ref().and_then(|row| row_fields(cx, row));
    let key = check_key(cx, args, kind, fields.as_deref(), attr_span);
    let handlers = check_handlers(cx, kind, module, events.as_deref());
    if cx.has_errors() {
        return None;
    }
    let (kind, domain, events, table, fields, key, handlers, row) = (
        kind?,
        domain?,
        events?,
        table?,
        fields?,
        key?,
        handlers?,
        module.row.as_ref()?,
    );
    let rebuild = args.rebuild.as_ref().map_or_else(
        || {
            if fields.iter().any(|(f, _)| f == "user_id") {
                Rebuild::Partial
            } else {
                Rebuild::Full
            }
        },
        |r| r.value,
    );
    Some(Model {
        name: args.name.as_ref().map_or_else(
            || format!("{domain}.{}", module.item.ident),
            |n| n.value.clone(),
        ),
        domain,
        version: args.version.as_ref().map_or(1, |v| v.value),
        kind,
        events,
        key,
        table,
        replay_start_version: args.replay_start_version.as_ref().map_or(0, |v| v.value),
        rebuild,
        row: row.ident.clone(),
        fields,
        handlers,
    })
}

fn check_events(cx: &mut Ctxt, args: &Args, attr_span: Span) -> Option<Vec<syn::Path>> {
    let Some(events) = &args.events else {
        if args.given("events") {
            return None;
        }
        cx.error_at(attr_span, "missing `events`: expected `events = [EventType, ...]`, the event types this model consumes");
        return None;
    };
    if events.value.is_empty() {
        cx.error_at(
            events.span,
            "`events` is empty: a read model consumes at least one event type",
        );
        return None;
    }
    let mut seen: Vec<String> = Vec::new();
    for event in &events.value {
        let name = event.to_token_stream().to_string();
        if seen.contains(&name) {
            cx.error_spanned_by(event, format!("event `{name}` is listed twice in `events`"));
        }
        seen.push(name);
    }
    Some(events.value.clone())
}

fn check_table(cx: &mut Ctxt, args: &Args, attr_span: Span) -> Option<String> {
    let Some(table) = &args.table else {
        if args.given("table") {
            return None;
        }
        cx.error_at(
            attr_span,
            "missing `table`: expected `table = readmodels::table_name`",
        );
        return None;
    };
    if table.schema != "readmodels" {
        cx.error_spanned_by(
            &table.schema,
            format!(
                "table is in schema `{}`; read models live in schema `readmodels` so that truncating it is always safe: expected `table = readmodels::{}`",
                table.schema, table.name
            ),
        );
        return None;
    }
    Some(table.name.to_string())
}

fn row_fields(cx: &mut Ctxt, row: &syn::ItemStruct) -> Option<Vec<(syn::Ident, syn::Type)>> {
    if !row.generics.params.is_empty() {
        cx.error_spanned_by(&row.generics, "a read-model row cannot be generic");
    }
    let syn::Fields::Named(named) = &row.fields else {
        cx.error_spanned_by(
            &row.ident,
            "the row struct needs named fields, one per column",
        );
        return None;
    };
    let mut fields = Vec::new();
    for field in &named.named {
        let ident = field.ident.clone()?;
        check_column_name(cx, &ident);
        check_deterministic_type(cx, &field.ty);
        fields.push((ident, field.ty.clone()));
    }
    match fields.iter().find(|(f, _)| f == "model_version") {
        None => cx.error_spanned_by(&row.ident, "the row struct needs a `model_version: i32` field: every read-model table carries its model version"),
        Some((_, ty)) if ty.to_token_stream().to_string() != "i32" => {
            cx.error_spanned_by(ty, "`model_version` must be `i32`")
        }
        Some(_) => {}
    }
    Some(fields)
}

/// SQL keywords that PostgreSQL or SQLite reject as bare column names.
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "between",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "delete",
    "desc",
    "distinct",
    "do",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "grant",
    "group",
    "having",
    "in",
    "index",
    "initially",
    "inner",
    "insert",
    "intersect",
    "into",
    "is",
    "join",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "set",
    "some",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "update",
    "user",
    "using",
    "values",
    "variadic",
    "when",
    "where",
    "window",
    "with",
];

fn check_column_name(cx: &mut Ctxt, ident: &syn::Ident) {
    let name = ident.to_string();
    if let Some(raw) = name.strip_prefix("r#") {
        cx.error_spanned_by(ident, format!("field `{name}` is a raw identifier: the column would be `{raw}`, an SQL keyword too; rename the field"));
    } else if RESERVED.contains(&name.as_str()) {
        cx.error_spanned_by(ident, format!("field `{name}` is an SQL reserved word, so it cannot be a bare column name on PostgreSQL and SQLite; rename it (e.g. `{name}_name` or `sort_{name}`)"));
    }
}

fn check_deterministic_type(cx: &mut Ctxt, ty: &syn::Type) {
    struct Finder<'a>(&'a mut Ctxt);
    impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
        fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
            if let Some((_, why)) = NON_DETERMINISTIC.iter().find(|(n, _)| segment.ident == n) {
                self.0.error_spanned_by(
                    &segment.ident,
                    format!("non-deterministic field type: {why}"),
                );
            }
            syn::visit::visit_path_segment(self, segment);
        }
    }
    syn::visit::Visit::visit_type(&mut Finder(cx), ty);
}

fn check_key(
    cx: &mut Ctxt,
    args: &Args,
    kind: Option<Kind>,
    fields: Option<&[(syn::Ident, syn::Type)]>,
    attr_span: Span,
) -> Option<Vec<syn::Ident>> {
    let Some(key) = &args.key else {
        if args.given("key") {
            return None;
        }
        cx.error_at(attr_span, "missing `key`: expected `key = (model_version, ...)`, the idempotency key (a unique index)");
        return None;
    };
    let mut ok = true;
    let mut seen: Vec<&syn::Ident> = Vec::new();
    for field in &key.value {
        if seen.contains(&field) {
            cx.error_spanned_by(
                field,
                format!("`{field}` appears twice in the key: each field is listed once, e.g. `key = (model_version, {field})`"),
            );
            ok = false;
        }
        seen.push(field);
        if let Some(fields) = fields {
            match fields.iter().find(|(f, _)| f == field) {
                None => {
                    let hint = fields
                        .iter()
                        .map(|(f, _)| (edit_distance(&f.to_string(), &field.to_string()), f))
                        .filter(|(distance, _)| *distance <= 2)
                        .min_by_key(|(distance, _)| *distance)
                        .map(|(_, f)| format!(" (did you mean `{f}`?)"))
                        .unwrap_or_default();
                    cx.error_spanned_by(
                        field,
                        format!(
                            "key field `{field}` is not a field of the row struct{hint}; fields are: {}",
                            fields.iter().map(|(f, _)| format!("`{f}`")).collect::<Vec<_>>().join(", ")
                        ),
                    );
                    ok = false;
                }
                Some((_, ty)) => {
                    if mentions_type(ty, &["Option"]) {
                        cx.error_spanned_by(field, format!("key field `{field}` is an `Option`: SQL treats NULLs as distinct in a unique index, so a NULL key would never conflict and every replay would add the row again; make it non-optional"));
                        ok = false;
                    }
                    if mentions_type(ty, &["f32", "f64"]) {
                        cx.error_spanned_by(field, format!("key field `{field}` is a float: floats compare and round inexactly, so they cannot identify a row; use an integer (e.g. minor units)"));
                        ok = false;
                    }
                }
            }
        }
    }
    if !key.value.iter().any(|f| f == "model_version") {
        cx.error_at(key.span, "the key must include `model_version`, so that versions of a model can live side by side: e.g. `key = (model_version, entity_id)`");
        ok = false;
    }
    if key.value.len() < 2 && key.value.iter().any(|f| f == "model_version") {
        cx.error_at(
            key.span,
            "the key needs at least one field besides `model_version`",
        );
        ok = false;
    }
    let has = |name: &str| key.value.iter().any(|f| f == name);
    match kind {
        Some(Kind::Timeline)
            if !(has("event_id") || (has("stream_id") && has("event_version"))) =>
        {
            cx.error_at(key.span, "a timeline key must hold the event identity: `event_id`, or `stream_id` and `event_version`; e.g. `key = (model_version, entity_id, event_id)`");
            ok = false;
        }
        Some(Kind::Snapshot | Kind::Aggregate) if has("event_id") => {
            if let Some(field) = key.value.iter().find(|f| *f == "event_id") {
                cx.error_spanned_by(field, "a snapshot or aggregate key cannot contain `event_id`: that makes every event a new row, which is a timeline; key by the entity instead");
            }
            ok = false;
        }
        _ => {}
    }
    ok.then(|| key.value.clone())
}

fn check_handlers(
    cx: &mut Ctxt,
    kind: Option<Kind>,
    module: &Module,
    events: Option<&[syn::Path]>,
) -> Option<Vec<(syn::Path, syn::Ident)>> {
    let row = module
        .row
        .as_ref()
        .map_or_else(|| "Row".to_owned(), |r| r.ident.to_string());
    let row = row.as_str();
    let imports = module
        .item
        .content
        .as_ref()
        .map(|(_, items)| forbidden::imports(items))
        .unwrap_or_default();
    for handler in &module.handlers {
        check_signature(cx, kind, handler, row);
        for finding in forbidden::scan(&handler.func, &imports) {
            cx.error_spanned_by(
                &finding.tokens,
                format!(
                    "handler `{}` calls `{}`, which {}: a replay must not depend on when or where it runs; {}",
                    handler.ident(),
                    finding.path,
                    finding.why,
                    finding.instead,
                ),
            );
        }
    }
    let events = events?;
    let mut pairs = Vec::new();
    for event in events {
        let name = last_ident(event);
        let matching: Vec<_> = module
            .handlers
            .iter()
            .filter(|h| last_ident(&h.event) == name)
            .collect();
        match matching.as_slice() {
            [] => cx.error_spanned_by(
                event,
                format!(
                    "event `{}` has no handler: add `fn {}(event: &Event<{}>{} {{ ... }}` to the module",
                    event.to_token_stream(),
                    name.map(|n| snake(&n.to_string())).unwrap_or_default(),
                    event.to_token_stream(),
                    if kind == Some(Kind::Timeline) {
                        format!(") -> Vec<{row}>")
                    } else {
                        format!(", rows: &mut Rows<'_, {row}>)")
                    }
                ),
            ),
            [one] => pairs.push((event.clone(), one.ident().clone())),
            [_, extra, ..] => cx.error_spanned_by(
                &extra.func.sig.ident,
                format!("event `{}` has more than one handler", event.to_token_stream()),
            ),
        }
    }
    for handler in &module.handlers {
        let name = last_ident(&handler.event);
        if !events.iter().any(|e| last_ident(e) == name) {
            cx.error_spanned_by(
                &handler.event,
                format!(
                    "handler `{}` handles `{}`, which is not listed in `events = [...]`: list it or remove the handler",
                    handler.ident(),
                    handler.event.to_token_stream()
                ),
            );
        }
    }
    Some(pairs)
}

fn check_signature(cx: &mut Ctxt, kind: Option<Kind>, handler: &Handler, row: &str) {
    let sig = &handler.func.sig;
    let name = &sig.ident;
    let event = handler.event.to_token_stream();
    let expected = match kind {
        Some(Kind::Timeline) => format!("`fn {name}(event: &Event<{event}>) -> Vec<{row}>`"),
        _ => format!("`fn {name}(event: &Event<{event}>, rows: &mut Rows<'_, {row}>)`"),
    };
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
    let mut rows_seen = false;
    for (index, arg) in sig.inputs.iter().enumerate() {
        if index == handler.event_arg {
            continue;
        }
        let ty: &dyn ToTokens = match arg {
            syn::FnArg::Typed(typed) => &typed.ty,
            syn::FnArg::Receiver(receiver) => receiver,
        };
        let is_rows_arg = matches!(arg, syn::FnArg::Typed(typed) if is_rows(&typed.ty));
        let is_connection =
            matches!(arg, syn::FnArg::Typed(typed) if mentions_connection(&typed.ty));
        let is_mut = matches!(arg, syn::FnArg::Typed(typed) if mentions_mut(&typed.ty))
            || matches!(arg, syn::FnArg::Receiver(r) if r.mutability.is_some());
        let message = if is_connection {
            format!("handler `{name}` takes a database connection: handlers never touch the database (the runtime loads rows, and writes them with the checkpoint in one transaction); expected {expected}")
        } else if is_rows_arg && kind == Some(Kind::Timeline) {
            format!("timeline handler `{name}` appends rows by returning them, it does not take `Rows`: expected {expected}")
        } else if is_rows_arg && !rows_seen {
            rows_seen = true;
            continue;
        } else if is_rows_arg {
            format!("handler `{name}` takes `Rows` twice: expected {expected}")
        } else if is_mut {
            format!("handler `{name}` takes mutable state other than its rows: a replay rebuilds only the model's rows, so a handler may change nothing else; expected {expected}")
        } else {
            format!(
                "handler `{name}` takes only the event{}: expected {expected}",
                if kind == Some(Kind::Timeline) {
                    ""
                } else {
                    " and the model's rows"
                }
            )
        };
        cx.error_spanned_by(ty, message);
    }
    match kind {
        Some(Kind::Timeline) => {
            if matches!(sig.output, syn::ReturnType::Default) {
                cx.error_spanned_by(name, format!("timeline handler `{name}` must return the rows to append: expected {expected}"));
            }
        }
        Some(Kind::Snapshot | Kind::Aggregate) if !rows_seen => {
            cx.error_spanned_by(
                &sig.inputs,
                format!("handler `{name}` needs the model's rows to change: expected {expected}"),
            );
        }
        _ => {}
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

/// Whether a path segment of `ty` is exactly one of `names` (`f64`, not `my_f64`).
pub(crate) fn mentions_type(ty: &syn::Type, names: &[&str]) -> bool {
    struct Finder<'a>(&'a [&'a str], bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
        fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
            if self.0.iter().any(|n| segment.ident == n) {
                self.1 = true;
            }
            syn::visit::visit_path_segment(self, segment);
        }
    }
    let mut finder = Finder(names, false);
    syn::visit::Visit::visit_type(&mut finder, ty);
    finder.1
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

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
