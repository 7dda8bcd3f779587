//! Macro invocations: std's pure macros are allowed and their arguments scanned like any
//! code; a macro the scan does not know is rejected, since its expansion is invisible.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::visit::Visit;

use super::macro_names::{self, MacroVerdict};
use super::rules::{self, Rule};
use super::visitor::{compact, Visitor};

impl Visitor {
    /// Judges a macro invocation, then scans its arguments.
    pub(super) fn check_macro(&mut self, mac: &syn::Macro) {
        let written: Vec<String> = mac
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let shown = format!("{}!", compact(&mac.path));
        let formats = match macro_names::macro_verdict(&written) {
            MacroVerdict::Pure { formats } => formats,
            MacroVerdict::Rejected(verdict) => {
                self.push(&mac.path, shown, verdict);
                false
            }
            MacroVerdict::Unknown => {
                // `std::ptr::addr_of!` breaks the rule its path does; others are opaque.
                let resolved = rules::normalize(written.clone());
                let why = "is a macro, whose expansion the scan does not see";
                let verdict = rules::prefix(&resolved, false)
                    .or_else(|| resolved.last().and_then(|last| rules::callee(last)))
                    .unwrap_or((Rule::Macro, why));
                self.push(&mac.path, shown, verdict);
                false
            }
        };
        if formats {
            self.check_format_strings(&mac.tokens);
        }
        self.scan_arguments(mac, written.last().map(String::as_str));
    }

    /// `{:p}` in a format string prints an address.
    fn check_format_strings(&mut self, tokens: &TokenStream) {
        for tree in tokens.clone() {
            let TokenTree::Literal(literal) = tree else {
                continue;
            };
            let Ok(text) = syn::parse2::<syn::LitStr>(literal.to_token_stream()) else {
                continue;
            };
            if has_pointer_format(&text.value()) {
                let why = "formats a memory address, which varies between runs";
                self.push(&literal, "{:p}".to_owned(), (Rule::Address, why));
            }
        }
    }

    /// Scans the arguments as expressions, statements or `matches!`'s pattern when they
    /// parse as such, else token by token.
    fn scan_arguments(&mut self, mac: &syn::Macro, name: Option<&str>) {
        if name == Some("matches") {
            if let Ok((expr, pat, guard)) = mac.parse_body_with(parse_matches) {
                self.visit_expr(&expr);
                self.visit_pat(&pat);
                if let Some(guard) = guard {
                    self.visit_expr(&guard);
                }
                return;
            }
        }
        if let Ok(exprs) =
            mac.parse_body_with(Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        {
            for expr in &exprs {
                self.visit_expr(expr);
            }
        } else if let Ok((value, count)) = mac.parse_body_with(parse_repeat) {
            self.visit_expr(&value);
            self.visit_expr(&count);
        } else if let Ok(stmts) = mac.parse_body_with(syn::Block::parse_within) {
            for stmt in &stmts {
                self.visit_stmt(stmt);
            }
        } else {
            self.scan_tokens(mac.tokens.clone());
        }
    }

    /// Tokens that are not Rust code (a user macro's own syntax): `a::b` paths, bare
    /// identifiers followed by `(...)`, method calls, nested macros, `unsafe` and `static`.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            let TokenTree::Ident(ident) = &trees[i] else {
                if let TokenTree::Group(group) = &trees[i] {
                    self.scan_tokens(group.stream());
                }
                i += 1;
                continue;
            };
            let previous = i.checked_sub(1).map(|p| &trees[p]);
            let after = |c: char| matches!(previous, Some(TokenTree::Punct(p)) if p.as_char() == c);
            if after('\'') {
                // A lifetime (`'static`), not an item.
                i += 1;
                continue;
            }
            // The longest `ident (:: ident)*` run starting here.
            let mut end = i + 1;
            while is_colon2(&trees[end..])
                && matches!(trees.get(end + 2), Some(TokenTree::Ident(_)))
            {
                end += 3;
            }
            let next = trees.get(end);
            let called = matches!(next, Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis);
            let bang = matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == '!');
            let run: TokenStream = trees[i..end].iter().cloned().collect();
            if after('.') {
                if called {
                    if let Some(verdict) = rules::method(&ident.to_string(), false) {
                        self.push(ident, format!(".{ident}()"), verdict);
                    }
                }
            } else if ident == "unsafe" {
                self.push(
                    ident,
                    "unsafe".to_owned(),
                    (Rule::Unsafe, "is `unsafe` code"),
                );
            } else if ident == "static" && matches!(next, Some(TokenTree::Ident(_))) {
                let why = "is global state, shared by every call";
                self.push(ident, "static".to_owned(), (Rule::GlobalState, why));
            } else if bang {
                if let Ok(path) = syn::parse2::<syn::Path>(run) {
                    let body = match trees.get(end + 1) {
                        Some(TokenTree::Group(g)) => g.stream(),
                        _ => TokenStream::new(),
                    };
                    self.check_macro(&syn::Macro {
                        path,
                        bang_token: syn::Token![!](ident.span()),
                        delimiter: syn::MacroDelimiter::Paren(syn::token::Paren::default()),
                        tokens: body,
                    });
                    end += 2;
                }
            } else if let Ok(path) = syn::parse2::<syn::Path>(run.clone()) {
                self.check_path(None, &path, called, run);
            }
            i = end;
        }
    }
}

/// Whether `trees` starts with `::`.
fn is_colon2(trees: &[TokenTree]) -> bool {
    matches!(
        (trees.first(), trees.get(1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
    )
}

/// `matches!(expr, pattern if guard)`.
fn parse_matches(input: ParseStream<'_>) -> syn::Result<(syn::Expr, syn::Pat, Option<syn::Expr>)> {
    let expr = input.parse()?;
    input.parse::<syn::Token![,]>()?;
    let pat = syn::Pat::parse_multi_with_leading_vert(input)?;
    let guard = if input.peek(syn::Token![if]) {
        input.parse::<syn::Token![if]>()?;
        Some(input.parse()?)
    } else {
        None
    };
    input.parse::<Option<syn::Token![,]>>()?;
    Ok((expr, pat, guard))
}

/// `vec![value; count]`.
fn parse_repeat(input: ParseStream<'_>) -> syn::Result<(syn::Expr, syn::Expr)> {
    let value = input.parse()?;
    input.parse::<syn::Token![;]>()?;
    Ok((value, input.parse()?))
}

/// Whether a format string has a placeholder of type `p` (`{:p}`, `{x:#p}`, `{:>8p}`).
pub(super) fn has_pointer_format(text: &str) -> bool {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(escaped) = rest.strip_prefix('{') {
            rest = escaped;
            continue;
        }
        let Some(close) = rest.find('}') else {
            return false;
        };
        let placeholder = &rest[..close];
        if placeholder
            .split_once(':')
            .is_some_and(|(_, spec)| spec.ends_with('p'))
        {
            return true;
        }
        rest = &rest[close + 1..];
    }
    false
}
