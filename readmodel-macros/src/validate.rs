//! Every rule a model must satisfy to be rebuilt deterministically. Each failed rule is
//! recorded with the span of the offending tokens; all are checked, none stops the others.

use proc_macro2::Span;
use quote::ToTokens;

use crate::ast::{Args, Kind, Rebuild};
use crate::ctxt::Ctxt;

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
}

const NON_DETERMINISTIC: &[(&str, &str)] = &[
    ("HashMap", "iteration order of `HashMap` varies between runs; use `BTreeMap`"),
    ("HashSet", "iteration order of `HashSet` varies between runs; use `BTreeSet`"),
    ("SystemTime", "`SystemTime` is wall-clock time; store the event's `occurred_at` as `DateTime<Utc>`"),
    ("Instant", "`Instant` is a monotonic clock reading that means nothing in another process; store the event's `occurred_at`"),
];

pub(crate) fn model(cx: &mut Ctxt, args: &Args, input: &syn::DeriveInput) -> Option<Model> {
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
    let fields = row_fields(cx, input);
    let key = check_key(cx, args, kind, fields.as_deref(), attr_span);
    if cx.has_errors() {
        return None;
    }
    let (kind, domain, events, table, fields, key) =
        (kind?, domain?, events?, table?, fields?, key?);
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
            || format!("{domain}.{}", snake(&input.ident.to_string())),
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
        row: input.ident.clone(),
        fields,
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

fn row_fields(cx: &mut Ctxt, row: &syn::DeriveInput) -> Option<Vec<(syn::Ident, syn::Type)>> {
    if !row.generics.params.is_empty() {
        cx.error_spanned_by(&row.generics, "a read-model row cannot be generic");
    }
    let syn::Data::Struct(data) = &row.data else {
        cx.error_spanned_by(
            &row.ident,
            "#[derive(ReadModel)] goes on the row struct, with named fields, one per column",
        );
        return None;
    };
    let syn::Fields::Named(named) = &data.fields else {
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
        // A non-deterministic type is reported once, as that.
        let names: Vec<&str> = NON_DETERMINISTIC.iter().map(|(name, _)| *name).collect();
        if !mentions_type(&field.ty, &names) {
            check_storable(cx, &ident, &field.ty);
        }
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

/// Rejects, at the field, the types no column holds: tuples, arrays, references, and
/// generic types other than `Option<T>` and `DateTime<Tz>` (a collection is a table of its
/// own). A plain name passes: it may be an alias or a type given `impl_field!`, and the
/// compiler checks it.
fn check_storable(cx: &mut Ctxt, field: &syn::Ident, ty: &syn::Type) {
    let storable = match ty {
        syn::Type::Path(path) if path.qself.is_none() => {
            path.path
                .segments
                .iter()
                .all(|segment| match &segment.arguments {
                    syn::PathArguments::None => true,
                    syn::PathArguments::AngleBracketed(args) => {
                        (segment.ident == "Option" || segment.ident == "DateTime")
                            && args.args.len() == 1
                            && args.args.iter().all(|arg| match arg {
                                syn::GenericArgument::Type(inner) => {
                                    segment.ident == "DateTime" || is_storable_shape(inner)
                                }
                                _ => false,
                            })
                    }
                    syn::PathArguments::Parenthesized(_) => false,
                })
        }
        syn::Type::Group(group) => is_storable_shape(&group.elem),
        _ => false,
    };
    if !storable {
        cx.error_spanned_by(
            ty,
            format!(
                "field `{field}` has type `{}`, which no column can hold: a row field is one of `i16`, `i32`, `i64`, `bool`, `String`, `f64`, `NaiveDate`, `DateTime<Utc>`, `Uuid`, an `Option` of one, or a type given `impl_field!`; a collection belongs in a table of its own",
                written(ty)
            ),
        );
    }
}

/// A type as the user wrote it (near enough): `Vec<String>`, not `Vec < String >`.
fn written(ty: &syn::Type) -> String {
    ty.to_token_stream()
        .to_string()
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace(" :: ", "::")
}

fn is_storable_shape(ty: &syn::Type) -> bool {
    let mut probe = Ctxt::default();
    let ident = syn::Ident::new("probe", proc_macro2::Span::call_site());
    check_storable(&mut probe, &ident, ty);
    !probe.has_errors()
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

/// `HabitCheckedIn` → `habit_checked_in`.
pub(crate) fn snake(name: &str) -> String {
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
