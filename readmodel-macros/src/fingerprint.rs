//! Digests of declarations, for the model's code fingerprint: SHA-256 (hex) of a
//! declaration's tokens in a normal form, so that formatting and comments do not count
//! and every token that can change rows does.
//!
//! The normal form: tokens as the compiler lexes them, one space between tokens;
//! punctuation joined into Rust's multi-character operators (`&&`, `::`, `->`, `..=`, …)
//! whatever the spacing written, and split everywhere else (`x+-1` and `x + -1` are one
//! form); a trailing comma before a closing delimiter, and a comma after a block (a match
//! arm's), left out where they change nothing (not in a one-element tuple `(x,)`); groups that macros insert without delimiters flattened;
//! doc comments (`///`,
//! `//!`, `#[doc = ".."]`) left out, like `//` comments, which are not tokens at all.
//! `#[derive(..)]` is left out of the model's and events' own attributes (what a derive
//! adds cannot change how rows are built, and the row codec is generated from the fields).
//!
//! The runtime combines the digests of a model (declaration, `#[handlers]` block, each
//! consumed event) into its fingerprint (`readmodel_runtime::fingerprint`).

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use sha2::{Digest, Sha256};

/// Rust's operators and separators of two or three characters, longest first.
const JOINED: &[&str] = &[
    "<<=", ">>=", "...", "..=", "::", "->", "=>", "==", "!=", "<=", ">=", "&&", "||", "+=", "-=",
    "*=", "/=", "%=", "^=", "&=", "|=", "<<", ">>", "..",
];

/// The SHA-256 of `tokens`' normal form, as 64 lowercase hex digits.
pub(crate) fn digest(tokens: impl ToTokens) -> String {
    let text = normal_form(tokens.into_token_stream());
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The normal form of `tokens` (see the module's documentation).
pub(crate) fn normal_form(tokens: TokenStream) -> String {
    let mut words = Vec::new();
    write_stream(tokens, Delimiter::None, &mut words);
    words.join(" ")
}

fn write_stream(tokens: TokenStream, delimiter: Delimiter, words: &mut Vec<String>) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let trailing_comma = trailing_comma_is_formatting(&trees, delimiter);
    let mut i = 0;
    while i < trees.len() {
        if let Some(skipped) = doc_attribute(&trees[i..]) {
            i += skipped;
            continue;
        }
        if trailing_comma && i + 1 == trees.len() {
            break;
        }
        // A last comma that reaches here is a one-element tuple's: it stays.
        if i + 1 < trees.len() && optional_comma_after_block(&trees, i) {
            i += 1;
            continue;
        }
        match &trees[i] {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                if !open.is_empty() {
                    words.push(open.to_owned());
                }
                write_stream(group.stream(), group.delimiter(), words);
                if !close.is_empty() {
                    words.push(close.to_owned());
                }
            }
            TokenTree::Punct(_) => {
                let (operator, used) = operator(&trees[i..]);
                words.push(operator);
                i += used;
                continue;
            }
            TokenTree::Ident(ident) => words.push(ident.to_string()),
            TokenTree::Literal(literal) => words.push(literal.to_string()),
        }
        i += 1;
    }
}

/// Whether the group's last token is a comma that only formatting put there: in braces
/// and brackets always (`{ a, b, }`, `[a, b,]`), in parentheses when another comma
/// separates elements (`f(a, b,)`; `(a,)` is a one-element tuple, not `(a)`).
fn trailing_comma_is_formatting(trees: &[TokenTree], delimiter: Delimiter) -> bool {
    let is_comma = |tree: &TokenTree| matches!(tree, TokenTree::Punct(p) if p.as_char() == ',');
    if !trees.last().is_some_and(is_comma) {
        return false;
    }
    match delimiter {
        Delimiter::Brace | Delimiter::Bracket => true,
        Delimiter::Parenthesis => trees.iter().filter(|t| is_comma(t)).count() > 1,
        Delimiter::None => false,
    }
}

/// Whether `trees[i]` is a comma right after a `{ .. }` group (a match arm's block,
/// which rustfmt writes without it). Where two valid programs differ only by such a
/// comma it changes nothing, except as the last token of a one-element tuple `({ .. },)`,
/// which the caller keeps.
fn optional_comma_after_block(trees: &[TokenTree], i: usize) -> bool {
    let is_comma = matches!(&trees[i], TokenTree::Punct(p) if p.as_char() == ',');
    let after_block =
        i > 0 && matches!(&trees[i - 1], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace);
    is_comma && after_block
}

/// The operator starting at `trees[0]` (a punct): the longest of [`JOINED`] its joint
/// puncts spell, else the one character; and how many tokens it took.
fn operator(trees: &[TokenTree]) -> (String, usize) {
    let mut chars = String::new();
    for tree in trees.iter().take(3) {
        let TokenTree::Punct(punct) = tree else { break };
        chars.push(punct.as_char());
        if punct.spacing() == Spacing::Alone {
            break;
        }
    }
    for joined in JOINED {
        if chars.starts_with(joined) {
            return ((*joined).to_owned(), joined.len());
        }
    }
    (chars.chars().take(1).collect(), 1)
}

/// How many tokens a doc attribute at the start of `trees` takes (`#[doc ..]` or
/// `#![doc ..]`), if there is one.
fn doc_attribute(trees: &[TokenTree]) -> Option<usize> {
    let TokenTree::Punct(pound) = trees.first()? else {
        return None;
    };
    if pound.as_char() != '#' {
        return None;
    }
    let (bang, body) = match trees.get(1)? {
        TokenTree::Punct(p) if p.as_char() == '!' => (1, trees.get(2)?),
        other => (0, other),
    };
    let TokenTree::Group(group) = body else {
        return None;
    };
    let first = group.stream().into_iter().next();
    let is_doc = group.delimiter() == Delimiter::Bracket
        && matches!(first, Some(TokenTree::Ident(ident)) if ident == "doc");
    is_doc.then_some(2 + bang)
}

/// A declaration without what cannot change rows: its visibility and `#[derive(..)]`s,
/// and its fields' visibility (doc comments are left out by [`normal_form`]).
pub(crate) fn declaration(input: &syn::DeriveInput) -> syn::DeriveInput {
    let mut input = input.clone();
    input.vis = syn::Visibility::Inherited;
    input.attrs.retain(|attr| !attr.path().is_ident("derive"));
    match &mut input.data {
        syn::Data::Struct(data) => data.fields.iter_mut().for_each(plain_field),
        syn::Data::Enum(data) => {
            for variant in &mut data.variants {
                variant.fields.iter_mut().for_each(plain_field);
            }
        }
        syn::Data::Union(data) => data.fields.named.iter_mut().for_each(plain_field),
    }
    input
}

fn plain_field(field: &mut syn::Field) {
    field.vis = syn::Visibility::Inherited;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(text: &str) -> String {
        normal_form(text.parse().expect("tokens"))
    }

    #[test]
    fn formatting_and_comments_do_not_count() {
        let written = "fn f ( a : i64 ) -> i64 { a+-1 } // one";
        let formatted = "fn f(a: i64) -> i64 {\n    // a comment\n    a + -1\n}";
        assert_eq!(form(written), form(formatted));
        assert_eq!(form(written), "fn f ( a : i64 ) -> i64 { a + - 1 }");
    }

    #[test]
    fn trailing_commas_do_not_count_but_one_element_tuples_do() {
        assert_eq!(form("S { a: i64, b: i64, }"), form("S { a: i64, b: i64 }"));
        assert_eq!(form("f(a, b,)"), form("f(a, b)"));
        assert_eq!(form("[1, 2,]"), form("[1, 2]"));
        assert_ne!(form("(a,)"), form("(a)"));
        // rustfmt's match arms: no comma after a block.
        assert_eq!(
            form("match x { A => { 1 }, B => 2 }"),
            form("match x { A => { 1 } B => 2 }")
        );
        assert_ne!(form("({ 1 },)"), form("({ 1 })"));
    }

    #[test]
    fn doc_comments_do_not_count() {
        let documented = "/// Says why.\n#[inline]\nfn f() {}";
        let inner = "#![doc = \"module\"]\n#[inline] fn f() {}";
        assert_eq!(form(documented), form("#[inline] fn f() {}"));
        assert_eq!(form(inner), form("#[inline] fn f() {}"));
    }

    #[test]
    fn operators_keep_their_meaning() {
        // `&&` is one operator, `& &` two; `..=` one.
        assert_ne!(form("a && b"), form("a & &b"));
        assert_eq!(form("a..=b"), "a ..= b");
        assert_eq!(form("Vec<Vec<u8>>"), "Vec < Vec < u8 >>");
        assert_eq!(form("x::y"), "x :: y");
    }

    #[test]
    fn tokens_that_change_rows_count() {
        assert_ne!(form("row.score += 1"), form("row.score += 2"));
        assert_ne!(form("row.score += 1"), form("row.notes += 1"));
        assert_ne!(form("\"a\""), form("\"b\""));
    }

    #[test]
    fn visibility_and_derives_do_not_count_in_a_declaration() {
        let a: syn::DeriveInput = syn::parse_quote! {
            /// An event.
            #[derive(Debug, Clone, Deserialize, DomainEvent)]
            #[event(type = "t.e")]
            pub struct E { pub words: i64 }
        };
        let b: syn::DeriveInput = syn::parse_quote! {
            #[derive(Deserialize, DomainEvent)]
            #[event(type = "t.e")]
            struct E {
                /// How many.
                words: i64,
            }
        };
        assert_eq!(digest(declaration(&a)), digest(declaration(&b)));
        let renamed: syn::DeriveInput = syn::parse_quote! {
            #[event(type = "t.e")]
            struct E { #[serde(rename = "w")] words: i64 }
        };
        assert_ne!(digest(declaration(&a)), digest(declaration(&renamed)));
    }

    #[test]
    fn digests_are_sha256_hex() {
        // sha256("") and the normal form of no tokens is "".
        assert_eq!(
            digest(TokenStream::new()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
