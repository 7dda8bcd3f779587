//! SQL scripts as tokens, as far as reading migrations needs them: words, strings
//! (`'…'`, `$tag$…$tag$`), symbols and parenthesized groups, with `--` and `/* */`
//! comments left out; statements split at `;`.

pub(super) fn split_commas(tokens: &[Token]) -> Vec<&[Token]> {
    tokens
        .split(|t| *t == Token::Sym(','))
        .filter(|part| !part.is_empty())
        .collect()
}

pub(super) fn statements(tokens: &[Token]) -> impl Iterator<Item = &[Token]> {
    tokens
        .split(|t| *t == Token::Sym(';'))
        .filter(|s| !s.is_empty())
}

/// A statement's tokens as text, for messages.
pub(super) fn render(tokens: &[Token]) -> String {
    let mut out = String::new();
    for token in tokens {
        let text = match token {
            Token::Word(w) => w.clone(),
            Token::Text(t) => format!("'{}'", t.replace('\'', "''")),
            Token::Sym(c) => c.to_string(),
            Token::Group(inner) => format!("({})", render(inner)),
        };
        let glued = matches!(token, Token::Sym('.' | ',') | Token::Group(_)) || out.ends_with('.');
        if !out.is_empty() && !glued {
            out.push(' ');
        }
        out.push_str(&text);
    }
    out
}

/// The words of a statement, by position.
pub(super) struct Words<'t>(pub(super) &'t [Token]);

impl Words<'_> {
    pub(super) fn upper(&self, at: usize) -> Option<String> {
        match self.0.get(at) {
            Some(Token::Word(w)) => Some(w.to_ascii_uppercase()),
            _ => None,
        }
    }

    pub(super) fn all_upper(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|t| match t {
                Token::Word(w) => w.to_ascii_uppercase(),
                _ => String::new(),
            })
            .collect()
    }
}

/// One token of SQL: a word (keyword, identifier, number), a string, a symbol, or a
/// parenthesized group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    Word(String),
    Text(String),
    Sym(char),
    Group(Vec<Token>),
}

/// Tokens of a script, comments left out, parentheses nested into groups.
pub(super) fn lex(script: &str) -> Vec<Token> {
    let chars: Vec<char> = script.chars().collect();
    let mut stack: Vec<Vec<Token>> = vec![Vec::new()];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let (token, used) = match c {
            _ if c.is_whitespace() => (None, 1),
            '-' if next == Some('-') => (None, until(&chars, i, "\n")),
            '/' if next == Some('*') => (None, until(&chars, i + 2, "*/") + 2),
            '\'' => quoted(&chars, i, '\''),
            '"' => {
                let (text, used) = quoted(&chars, i, '"');
                (
                    text.map(|t| match t {
                        Token::Text(name) => Token::Word(name),
                        other => other,
                    }),
                    used,
                )
            }
            '$' => dollar_quoted(&chars, i),
            '(' => {
                stack.push(Vec::new());
                (None, 1)
            }
            ')' => {
                let inner = if stack.len() > 1 {
                    stack.pop().unwrap_or_default()
                } else {
                    Vec::new()
                };
                (Some(Token::Group(inner)), 1)
            }
            _ if c.is_alphanumeric() || c == '_' => {
                let end = (i..chars.len())
                    .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_'))
                    .unwrap_or(chars.len());
                (Some(Token::Word(chars[i..end].iter().collect())), end - i)
            }
            other => (Some(Token::Sym(other)), 1),
        };
        if let (Some(token), Some(current)) = (token, stack.last_mut()) {
            current.push(token);
        }
        i += used.max(1);
    }
    while stack.len() > 1 {
        let inner = stack.pop().unwrap_or_default();
        if let Some(outer) = stack.last_mut() {
            outer.push(Token::Group(inner));
        }
    }
    stack.pop().unwrap_or_default()
}

/// How many chars from `start` up to and including `end` (or to the end of the script).
fn until(chars: &[char], start: usize, end: &str) -> usize {
    let end: Vec<char> = end.chars().collect();
    let mut j = start;
    while j < chars.len() {
        if chars[j..].starts_with(&end) {
            return j + end.len() - start;
        }
        j += 1;
    }
    chars.len() - start
}

/// A `'…'` string or `"…"` identifier (the quote doubled inside).
fn quoted(chars: &[char], start: usize, quote: char) -> (Option<Token>, usize) {
    let mut text = String::new();
    let mut j = start + 1;
    while j < chars.len() {
        if chars[j] == quote {
            if chars.get(j + 1) == Some(&quote) {
                text.push(quote);
                j += 2;
                continue;
            }
            return (Some(Token::Text(text)), j + 1 - start);
        }
        text.push(chars[j]);
        j += 1;
    }
    (Some(Token::Text(text)), chars.len() - start)
}

/// A PostgreSQL `$tag$…$tag$` string, or a lone `$` (a placeholder's).
fn dollar_quoted(chars: &[char], start: usize) -> (Option<Token>, usize) {
    let tag_end = (start + 1..chars.len())
        .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_'))
        .filter(|&j| chars[j] == '$');
    let Some(tag_end) = tag_end else {
        return (Some(Token::Sym('$')), 1);
    };
    let tag: Vec<char> = chars[start..=tag_end].to_vec();
    let body = tag_end + 1;
    let close = (body..chars.len())
        .find(|&j| chars[j..].starts_with(&tag))
        .unwrap_or(chars.len());
    let text: String = chars[body..close].iter().collect();
    let end = (close + tag.len()).min(chars.len());
    (Some(Token::Text(text)), end - start)
}
