//! The opt-out: `#[read_model(allow(<rule>, ...))]` on a scanned item, explicit and
//! greppable, for code a rule rejects although it is deterministic (a `HashMap` only
//! looked up, never iterated).

use proc_macro2::Span;

use super::rules::Rule;

/// The rules an item opts out of, each with where it was written (so an opt-out that
/// covers nothing can be reported there).
#[derive(Clone, Debug, Default)]
pub(crate) struct Allowed {
    rules: Vec<(Rule, Span)>,
}

impl Allowed {
    /// Nothing allowed.
    pub(crate) fn none() -> Self {
        Self::default()
    }

    /// Whether findings of `rule` are dropped.
    pub(crate) fn contains(&self, rule: Rule) -> bool {
        self.rules.iter().any(|(r, _)| *r == rule)
    }

    /// Each allowed rule with the span of its name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Rule, Span)> + '_ {
        self.rules.iter().copied()
    }
}

const SYNTAX: &str = "expected `#[read_model(allow(rule, ...))]`";

/// The rules opted out of by the `#[read_model(allow(...))]` attributes among `attrs`
/// (other attributes are ignored; the caller strips these), and one error per unknown or
/// repeated rule name or malformed attribute, naming the valid rules.
pub(crate) fn allowed(attrs: &[syn::Attribute]) -> (Allowed, Vec<syn::Error>) {
    let mut allowed = Allowed::default();
    let mut errors = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("read_model")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident("allow") {
                return Err(meta.error(format!("unknown key; {SYNTAX}")));
            }
            meta.parse_nested_meta(|rule| {
                let Some(ident) = rule.path.get_ident() else {
                    return Err(rule.error(unknown_rule()));
                };
                match Rule::from_name(&ident.to_string()) {
                    Some(r) if allowed.contains(r) => {
                        errors.push(syn::Error::new(
                            ident.span(),
                            format!("`{}` is already allowed", r.name()),
                        ));
                    }
                    Some(r) => allowed.rules.push((r, ident.span())),
                    None => errors.push(syn::Error::new(ident.span(), unknown_rule())),
                }
                Ok(())
            })
        });
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    (allowed, errors)
}

fn unknown_rule() -> String {
    let names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
    format!("unknown rule; expected one of: {}", names.join(", "))
}
