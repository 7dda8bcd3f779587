//! The syntactic purity check of handler bodies: calls that read the wall clock,
//! randomness or the environment, or do I/O. It sees the paths written in the handler
//! (resolved through the module's `use` items), not what called functions do: a
//! documented guard, not a proof. `replay verify` is the runtime backstop.

use std::collections::BTreeMap;

use quote::ToTokens;
use syn::visit::Visit;

/// What to do instead, by kind of dependency.
const USE_OCCURRED_AT: &str = "use the event's `occurred_at` (`event.occurred_at`) as the time";
const USE_EVENT_IDS: &str =
    "take ids from the event (`event.id`, `event.stream_id`, payload ids), or derive one with `Uuid::new_v5` from them";
const USE_PAYLOAD: &str =
    "a handler computes rows from the event and its current rows only: put what it needs into the event payload";

/// A rejected path: the segments, what the call does, and what to use instead.
type Rule = (&'static [&'static str], &'static str, &'static str);

/// What is rejected: path prefixes (matched segment-wise on the resolved path).
const PREFIXES: &[Rule] = &[
    (&["std", "env"], "reads the environment", USE_PAYLOAD),
    (&["std", "fs"], "does file I/O", USE_PAYLOAD),
    (&["std", "net"], "does network I/O", USE_PAYLOAD),
    (
        &["std", "process"],
        "runs or inspects processes",
        USE_PAYLOAD,
    ),
    (
        &["std", "time", "SystemTime", "now"],
        "reads the wall clock",
        USE_OCCURRED_AT,
    ),
    (
        &["std", "time", "Instant", "now"],
        "reads the clock",
        USE_OCCURRED_AT,
    ),
    (
        &["chrono", "offset"],
        "reads the wall clock",
        USE_OCCURRED_AT,
    ),
    (&["rand"], "draws random numbers", USE_EVENT_IDS),
    (&["fastrand"], "draws random numbers", USE_EVENT_IDS),
    (&["getrandom"], "draws random numbers", USE_EVENT_IDS),
    (&["tokio"], "does async I/O", USE_PAYLOAD),
    (&["reqwest"], "does network I/O", USE_PAYLOAD),
];

/// Rejected wherever they appear, whatever the path before them.
const SUFFIXES: &[Rule] = &[
    (&["Utc", "now"], "reads the wall clock", USE_OCCURRED_AT),
    (&["Local", "now"], "reads the wall clock", USE_OCCURRED_AT),
    (&["Utc", "today"], "reads the wall clock", USE_OCCURRED_AT),
    (&["Local", "today"], "reads the wall clock", USE_OCCURRED_AT),
    (
        &["SystemTime", "now"],
        "reads the wall clock",
        USE_OCCURRED_AT,
    ),
    (&["Instant", "now"], "reads the clock", USE_OCCURRED_AT),
    (&["Uuid", "new_v4"], "draws a random id", USE_EVENT_IDS),
    (
        &["Uuid", "now_v7"],
        "reads the wall clock for an id",
        USE_EVENT_IDS,
    ),
    (&["thread_rng"], "draws random numbers", USE_EVENT_IDS),
    (&["random"], "draws random numbers", USE_EVENT_IDS),
];

/// One forbidden use found in a handler.
pub(crate) struct Finding {
    /// The path as written (its tokens, so the error underlines all of it).
    pub(crate) tokens: proc_macro2::TokenStream,
    pub(crate) path: String,
    pub(crate) why: &'static str,
    pub(crate) instead: &'static str,
}

/// The module's imports: alias → full path segments.
pub(crate) fn imports(items: &[syn::Item]) -> BTreeMap<String, Vec<String>> {
    let mut map = BTreeMap::new();
    for item in items {
        if let syn::Item::Use(item) = item {
            collect_use(&item.tree, &mut Vec::new(), &mut map);
        }
    }
    map
}

fn collect_use(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    map: &mut BTreeMap<String, Vec<String>>,
) {
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.to_string());
            collect_use(&path.tree, prefix, map);
            prefix.pop();
        }
        syn::UseTree::Name(name) => {
            let mut full = prefix.clone();
            full.push(name.ident.to_string());
            let alias = if name.ident == "self" {
                prefix.last().cloned().unwrap_or_default()
            } else {
                name.ident.to_string()
            };
            if name.ident == "self" {
                full.pop();
            }
            map.insert(alias, full);
        }
        syn::UseTree::Rename(rename) => {
            let mut full = prefix.clone();
            full.push(rename.ident.to_string());
            map.insert(rename.rename.to_string(), full);
        }
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                collect_use(tree, prefix, map);
            }
        }
        // A glob import hides which names it brings; only written paths are checked.
        syn::UseTree::Glob(_) => {}
    }
}

/// The forbidden paths in a handler's body, resolved through the module's imports and
/// the body's own `use` items.
pub(crate) fn scan(func: &syn::ItemFn, imports: &BTreeMap<String, Vec<String>>) -> Vec<Finding> {
    let mut local = imports.clone();
    for stmt in &func.block.stmts {
        if let syn::Stmt::Item(syn::Item::Use(item)) = stmt {
            collect_use(&item.tree, &mut Vec::new(), &mut local);
        }
    }
    let mut visitor = Visitor {
        imports: &local,
        findings: Vec::new(),
    };
    visitor.visit_block(&func.block);
    visitor.findings
}

struct Visitor<'a> {
    imports: &'a BTreeMap<String, Vec<String>>,
    findings: Vec<Finding>,
}

fn matches_prefix(resolved: &[String], prefix: &[&str]) -> bool {
    resolved.len() >= prefix.len() && resolved.iter().zip(prefix).all(|(a, b)| a == b)
}

fn matches_suffix(resolved: &[String], suffix: &[&str]) -> bool {
    resolved.len() >= suffix.len()
        && resolved[resolved.len() - suffix.len()..]
            .iter()
            .zip(suffix)
            .all(|(a, b)| a == b)
}

impl Visitor<'_> {
    /// Checks one written path. A single unimported identifier (`random`) is only
    /// suspicious when it is called: as a value it is most likely a local variable.
    fn check(&mut self, path: &syn::Path, called: bool) {
        let written: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let Some(first) = written.first() else { return };
        let imported = self.imports.get(first);
        if written.len() == 1 && imported.is_none() && !called {
            return;
        }
        let mut resolved = match imported {
            // `use x as _;`-style or `self` imports resolve to nothing useful.
            Some(full) if !full.is_empty() => full.clone(),
            _ => vec![first.clone()],
        };
        resolved.extend(written.iter().skip(1).cloned());
        if resolved
            .first()
            .is_some_and(|s| s == "core" || s == "alloc")
        {
            resolved[0] = "std".to_owned();
        }
        let rule = PREFIXES
            .iter()
            .find(|(prefix, _, _)| matches_prefix(&resolved, prefix))
            .or_else(|| {
                SUFFIXES
                    .iter()
                    .find(|(suffix, _, _)| matches_suffix(&resolved, suffix))
            });
        if let Some((_, why, instead)) = rule {
            self.findings.push(Finding {
                tokens: path.to_token_stream(),
                path: written.join("::"),
                why,
                instead,
            });
        }
    }

    /// Macro arguments are tokens to syn (`vec![Row { at: Utc::now() }]`); scan them for
    /// `a::b::c` paths, and bare identifiers followed by `(...)`.
    fn scan_tokens(&mut self, tokens: proc_macro2::TokenStream) {
        use proc_macro2::{Delimiter, TokenTree};
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(group) => {
                    self.scan_tokens(group.stream());
                    i += 1;
                }
                TokenTree::Ident(_) => {
                    // The longest `ident (:: ident)*` run starting here.
                    let start = i;
                    let mut end = i + 1;
                    while end + 2 < trees.len()
                        && is_colon2(&trees[end..])
                        && matches!(trees.get(end + 2), Some(TokenTree::Ident(_)))
                    {
                        end += 3;
                    }
                    let run: proc_macro2::TokenStream = trees[start..end].iter().cloned().collect();
                    let called = matches!(
                        trees.get(end),
                        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis
                    );
                    // `x.random()` is a method or field, not a path.
                    let after_dot = start > 0
                        && matches!(&trees[start - 1], TokenTree::Punct(p) if p.as_char() == '.');
                    if after_dot {
                        i = end;
                        continue;
                    }
                    if let Ok(path) = syn::parse2::<syn::Path>(run) {
                        self.check(&path, called);
                    }
                    i = end;
                }
                TokenTree::Punct(_) | TokenTree::Literal(_) => i += 1,
            }
        }
    }
}

/// Whether `trees` starts with `::`.
fn is_colon2(trees: &[proc_macro2::TokenTree]) -> bool {
    use proc_macro2::{Spacing, TokenTree};
    matches!(
        (trees.first(), trees.get(1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
    )
}

impl<'ast> Visit<'ast> for Visitor<'_> {
    fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
        if let syn::Expr::Path(func) = &*node.func {
            self.check(&func.path, true);
            for arg in &node.args {
                self.visit_expr(arg);
            }
        } else {
            syn::visit::visit_expr_call(self, node);
        }
    }

    fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
        self.check(&node.path, false);
        syn::visit::visit_expr_path(self, node);
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        self.check(&node.path, false);
        self.scan_tokens(node.tokens.clone());
    }

    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {
        // Imports are resolved, not rejected: only their use in an expression counts.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paths `scan` rejects in `handler`, with `module` as the module's items.
    fn rejected(module: syn::File, handler: syn::ItemFn) -> Vec<String> {
        scan(&handler, &imports(&module.items))
            .into_iter()
            .map(|f| f.path)
            .collect()
    }

    #[test]
    fn fully_qualified_paths_are_rejected() {
        let found = rejected(
            syn::parse_quote!(),
            syn::parse_quote! {
                fn h(event: &Event<E>) {
                    let _ = chrono::Utc::now();
                    let _ = chrono::offset::Local::now();
                    let _ = std::time::SystemTime::now();
                    let _ = ::std::env::var("X");
                    let _ = core::time::Instant::now();
                    let _ = std::fs::read("x");
                    let _ = std::net::TcpStream::connect("x");
                    let _ = std::process::Command::new("ls");
                    let _ = rand::random::<u8>();
                    let _ = uuid::Uuid::new_v4();
                    let _ = Uuid::now_v7();
                    let _ = tokio::fs::read("x");
                    let _ = reqwest::get("x");
                }
            },
        );
        assert_eq!(
            found,
            [
                "chrono::Utc::now",
                "chrono::offset::Local::now",
                "std::time::SystemTime::now",
                "std::env::var",
                "core::time::Instant::now",
                "std::fs::read",
                "std::net::TcpStream::connect",
                "std::process::Command::new",
                "rand::random",
                "uuid::Uuid::new_v4",
                "Uuid::now_v7",
                "tokio::fs::read",
                "reqwest::get",
            ]
        );
    }

    #[test]
    fn imported_paths_are_resolved() {
        let found = rejected(
            syn::parse_quote! {
                use chrono::Utc;
                use std::env;
                use std::fs::read_to_string;
                use rand::{thread_rng, Rng as _};
                use chrono::offset as tz;
            },
            syn::parse_quote! {
                fn h(event: &Event<E>) {
                    use std::process::exit as quit;
                    let _ = Utc::now();
                    let _ = env::var("X");
                    let _ = read_to_string("x");
                    let _ = thread_rng();
                    let _ = random();
                    let _ = tz::Local::now();
                    quit(1);
                }
            },
        );
        assert_eq!(
            found,
            [
                "Utc::now",
                "env::var",
                "read_to_string",
                "thread_rng",
                "random",
                "tz::Local::now",
                "quit"
            ]
        );
    }

    #[test]
    fn macro_arguments_are_scanned() {
        let found = rejected(
            syn::parse_quote!(),
            syn::parse_quote! {
                fn h(event: &Event<E>) -> Vec<Row> {
                    println!("{}", std::env::var("X").is_ok());
                    vec![Row { at: Utc::now(), id: event.id, n: event.random() }]
                }
            },
        );
        assert_eq!(found, ["std::env::var", "Utc::now"]);
    }

    #[test]
    fn pure_code_is_accepted() {
        let found = rejected(
            syn::parse_quote! {
                use std::collections::HashMap;
                use chrono::{DateTime, Utc};
            },
            syn::parse_quote! {
                fn h(event: &Event<E>, rows: &mut Rows<'_, Row>) {
                    let random = event.id;
                    let env = random + 1;
                    let mut seen: HashMap<i64, i64> = HashMap::new();
                    seen.insert(env, random);
                    let at: DateTime<Utc> = event.occurred_at;
                    let id = Uuid::new_v5(&Uuid::NAMESPACE_OID, &event.id.to_be_bytes());
                    rows.put(Row { at, id, env, n: event.random() });
                }
            },
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
