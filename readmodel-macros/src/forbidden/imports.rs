//! `use` items the scan can see, so that `Clock::now()` after `use chrono::Utc as Clock;`
//! is read as `chrono::Utc::now()`. Glob imports hide which names they bring.

use std::collections::BTreeMap;

/// Alias → full path segments.
pub(crate) type Imports = BTreeMap<String, Vec<String>>;

/// The imports made by `items` (a module's items): the unit tests resolve through them.
#[cfg(test)]
pub(crate) fn imports(items: &[syn::Item]) -> Imports {
    let mut map = BTreeMap::new();
    for item in items {
        if let syn::Item::Use(item) = item {
            collect(&item.tree, &mut Vec::new(), &mut map);
        }
    }
    map
}

/// Adds the imports of one `use` tree under `prefix` to `map`.
pub(crate) fn collect(tree: &syn::UseTree, prefix: &mut Vec<String>, map: &mut Imports) {
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.to_string());
            collect(&path.tree, prefix, map);
            prefix.pop();
        }
        syn::UseTree::Name(name) => {
            let mut full = prefix.clone();
            let alias = if name.ident == "self" {
                prefix.last().cloned().unwrap_or_default()
            } else {
                full.push(name.ident.to_string());
                name.ident.to_string()
            };
            map.insert(alias, full);
        }
        syn::UseTree::Rename(rename) => {
            let mut full = prefix.clone();
            if rename.ident != "self" {
                full.push(rename.ident.to_string());
            }
            map.insert(rename.rename.to_string(), full);
        }
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                collect(tree, prefix, map);
            }
        }
        syn::UseTree::Glob(_) => {}
    }
}

/// The globs of one `use` tree: `use std::env::*` yields `std::env`.
pub(crate) fn globs(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.to_string());
            globs(&path.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                globs(tree, prefix, out);
            }
        }
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Name(_) | syn::UseTree::Rename(_) => {}
    }
}
