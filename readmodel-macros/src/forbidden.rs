//! The syntactic purity check of handler bodies: calls that read the wall clock,
//! randomness or the environment, or do I/O. It sees the paths written in the handler
//! (resolved through the module's `use` items), not what called functions do: a
//! documented guard, not a proof. `replay verify` is the runtime backstop.

use std::collections::BTreeMap;

use syn::visit::Visit;

/// What is rejected: path prefixes (matched segment-wise on the resolved path) and why.
const PREFIXES: &[(&[&str], &str)] = &[
    (&["std", "env"], "reads the environment"),
    (&["std", "fs"], "does file I/O"),
    (&["std", "net"], "does network I/O"),
    (&["std", "process"], "runs processes"),
    (&["std", "time", "SystemTime", "now"], "reads the wall clock"),
    (&["std", "time", "Instant", "now"], "reads the clock"),
    (&["chrono", "offset"], "reads the wall clock"),
    (&["rand"], "draws random numbers"),
    (&["tokio"], "does async I/O"),
    (&["reqwest"], "does network I/O"),
];

/// Rejected wherever they appear, whatever the path before them.
const SUFFIXES: &[(&[&str], &str)] = &[
    (&["Utc", "now"], "reads the wall clock"),
    (&["Local", "now"], "reads the wall clock"),
    (&["SystemTime", "now"], "reads the wall clock"),
    (&["Instant", "now"], "reads the clock"),
    (&["Uuid", "new_v4"], "draws a random id"),
    (&["Uuid", "now_v7"], "reads the wall clock for an id"),
    (&["thread_rng"], "draws random numbers"),
    (&["random"], "draws random numbers"),
];

/// One forbidden use found in a handler.
pub(crate) struct Finding {
    pub(crate) span: proc_macro2::Span,
    pub(crate) path: String,
    pub(crate) why: &'static str,
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

fn collect_use(tree: &syn::UseTree, prefix: &mut Vec<String>, map: &mut BTreeMap<String, Vec<String>>) {
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

/// The forbidden paths in a handler's body and signature-local `use` items.
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

impl Visitor<'_> {
    fn check(&mut self, path: &syn::Path) {
        let written: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let Some(first) = written.first() else { return };
        let mut resolved = match self.imports.get(first) {
            Some(full) => full.clone(),
            None => vec![first.clone()],
        };
        resolved.extend(written.iter().skip(1).cloned());
        if resolved.first().is_some_and(|s| s == "core") {
            resolved[0] = "std".to_owned();
        }
        let why = PREFIXES
            .iter()
            .find(|(prefix, _)| resolved.len() >= prefix.len() && resolved.iter().zip(prefix.iter()).all(|(a, b)| a == b))
            .or_else(|| {
                SUFFIXES.iter().find(|(suffix, _)| {
                    resolved.len() >= suffix.len()
                        && resolved[resolved.len() - suffix.len()..].iter().zip(suffix.iter()).all(|(a, b)| a == b)
                })
            })
            .map(|(_, why)| *why);
        if let Some(why) = why {
            self.findings.push(Finding {
                span: syn::spanned::Spanned::span(path),
                path: written.join("::"),
                why,
            });
        }
    }
}

impl<'ast> Visit<'ast> for Visitor<'_> {
    fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
        self.check(&node.path);
        syn::visit::visit_expr_path(self, node);
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        self.check(&node.path);
        syn::visit::visit_macro(self, node);
    }

    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {
        // Imports are resolved, not rejected: only their use in an expression counts.
    }
}
