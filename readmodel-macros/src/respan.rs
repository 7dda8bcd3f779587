//! Moving generated tokens to the user's tokens, so that the compiler's errors in them
//! point at what the user wrote.

use proc_macro2::{Group, Span, TokenStream, TokenTree};

/// `tokens` with every span set to `span`: an error is reported at the span of its whole
/// expression, so tokens keeping their own spans would move it elsewhere.
pub(crate) fn at(span: Span, tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut respanned = Group::new(group.delimiter(), at(span, group.stream()));
                respanned.set_span(span);
                tree = respanned.into();
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}
