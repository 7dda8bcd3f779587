//! The syntactic purity check of a model's code: what would make a replay depend on when,
//! where or how often it runs — clocks, randomness, I/O, the environment, hash order,
//! global state, addresses, `unsafe` code, and macros whose expansion it cannot see.
//!
//! It reads the code as written: paths (resolved through the `use` items it can see),
//! method names, casts, macros, attributes and nested items. It does not know types nor
//! what called functions outside the scanned code do, so it is a documented guard, not a
//! proof; the runtime determinism check and `replay verify` are the backstop.
//!
//! Entry points:
//! - [`scan_item`]: one item of the model (an impl block's `fn` or `const`, a free `fn`, a
//!   block or an expression — anything [`Scan`]), with its opt-outs. Attributes on the item
//!   are checked too, `#[read_model(...)]` excepted: strip other attributes of your own first.
//! - [`allowed`]: the opt-outs of an item, parsed from its `#[read_model(allow(...))]`
//!   attributes, with an error per unknown rule.
//! - [`Finding::message`]: the error text for a finding in a named item.
//! - [`hash_collections_in`]: the hash-ordered collections in a type (event payload fields).
//!
//! `use` items inside the scanned code are resolved (`use chrono::Utc as Clock;` in a
//! function makes `Clock::now()` a clock read); names imported around a model's impl
//! block are invisible to an attribute on it.

mod allow;
mod imports;
mod macro_names;
mod macros;
mod rules;
mod visitor;

#[cfg(test)]
mod tests;

use syn::visit::Visit;

pub(crate) use allow::{allowed, Allowed};
#[cfg(test)]
pub(crate) use imports::imports;
pub(crate) use imports::Imports;
pub(crate) use rules::Rule;
use visitor::Visitor;

/// One forbidden use found in scanned code.
pub(crate) struct Finding {
    /// What was written (its tokens, so the error underlines all of it).
    pub(crate) tokens: proc_macro2::TokenStream,
    /// The same, shown in the message: `Utc::now`, `.elapsed()`, `static COUNTER`.
    pub(crate) path: String,
    /// The rule broken, which is also the opt-out's name.
    pub(crate) rule: Rule,
    /// What the use does: "reads the wall clock".
    pub(crate) why: &'static str,
    /// What to write instead.
    pub(crate) instead: &'static str,
    /// An `allow(rule)` that allowed nothing (then `tokens` is the rule's name).
    unneeded_allow: bool,
}

impl Finding {
    /// The error message for this finding in `item` (e.g. "Accounts::opened").
    pub(crate) fn message(&self, item: &str) -> String {
        let rule = self.rule.name();
        if self.unneeded_allow {
            return format!(
                "`allow({rule})` on `{item}` allows nothing: it breaks no `{rule}` rule; remove it so the opt-out keeps meaning something"
            );
        }
        let mut message = format!(
            "`{item}` uses `{}`, which {}: a replay must not depend on when or where it runs; {}",
            self.path, self.why, self.instead
        );
        if self.rule.suggests_opt_out() {
            message.push_str(&format!(
                "; if this use is deterministic, mark `{item}` with `#[read_model(allow({rule}))]`"
            ));
        }
        message
    }
}

/// Syntax the scan can walk.
pub(crate) trait Scan {
    /// Feeds `self` to the visitor.
    fn walk(&self, visitor: &mut Visitor);
}

macro_rules! scannable {
    ($($ty:ty => $visit:ident),* $(,)?) => {
        $(impl Scan for $ty {
            fn walk(&self, visitor: &mut Visitor) {
                visitor.$visit(self);
            }
        })*
    };
}

scannable! {
    syn::ImplItem => visit_impl_item,
    syn::ImplItemFn => visit_impl_item_fn,
    syn::ImplItemConst => visit_impl_item_const,
    syn::Item => visit_item,
    syn::ItemFn => visit_item_fn,
    syn::ItemConst => visit_item_const,
    syn::Block => visit_block,
    syn::Expr => visit_expr,
    syn::Type => visit_type,
}

/// The forbidden uses in `node`, minus those of the rules in `allowed`; plus one finding
/// per allowed rule that had nothing to allow (at the rule's name), so opt-outs stay honest.
/// Only the `use` items inside `node` are seen: names imported around it are not resolved.
pub(crate) fn scan_item(node: &impl Scan, allowed: &Allowed) -> Vec<Finding> {
    scan_with(node, Imports::new(), allowed)
}

/// The uses of hash-ordered collections in a type (an event payload's field).
pub(crate) fn hash_collections_in(ty: &syn::Type) -> Vec<Finding> {
    scan_with(ty, Imports::new(), &Allowed::none())
        .into_iter()
        .filter(|f| f.rule == Rule::HashCollections)
        .collect()
}

/// The forbidden uses in a function body, resolved through `imports` (a module's `use`
/// items, see `imports`) and the body's own `use` items; the unit tests' view.
#[cfg(test)]
pub(crate) fn scan(func: &syn::ItemFn, imports: &Imports) -> Vec<Finding> {
    scan_with(&*func.block, imports.clone(), &Allowed::none())
}

fn scan_with(node: &impl Scan, imports: Imports, allowed: &Allowed) -> Vec<Finding> {
    let mut visitor = Visitor::new(imports);
    node.walk(&mut visitor);
    let found = visitor.findings;
    let unneeded: Vec<Finding> = allowed
        .iter()
        .filter(|(rule, _)| !found.iter().any(|f| f.rule == *rule))
        .map(|(rule, span)| Finding {
            tokens: quote::quote_spanned!(span=> allow),
            path: format!("allow({})", rule.name()),
            rule,
            why: "allows nothing",
            instead: "remove it",
            unneeded_allow: true,
        })
        .collect();
    found
        .into_iter()
        .filter(|f| !allowed.contains(f.rule))
        .chain(unneeded)
        .collect()
}
