//! What a migrations directory already creates in schema `readmodels`: its `up.sql`
//! scripts read in order, statement by statement, as far as `new-migration` needs them
//! (tables, their columns and indexes), so that it writes only the difference.
//!
//! It reads the statements `replay new-migration` writes and their usual hand-written
//! forms: `CREATE TABLE`, `CREATE [UNIQUE] INDEX`, `ALTER TABLE … ADD/DROP COLUMN`,
//! `DROP TABLE`, `DROP INDEX`, with `--` and `/* */` comments, quoted identifiers and
//! strings (`'…'`, `$$…$$`). Any other statement that alters or creates something on a
//! `readmodels` table makes that table unreadable: `new-migration` then refuses to guess.

use std::collections::BTreeMap;

/// The tables of schema `readmodels` the scripts create, by table name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Existing {
    /// Tables by name (without the schema).
    pub tables: BTreeMap<String, Table>,
}

/// One table as the scripts leave it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Columns, in the order they were added.
    pub columns: Vec<ExistingColumn>,
    /// Indexes, unique ones included.
    pub indexes: Vec<Index>,
    /// A statement on the table that this reader does not understand.
    pub unreadable: Option<String>,
}

/// A column: name, type (upper case, one space between words) and constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingColumn {
    /// Its name.
    pub name: String,
    /// Its SQL type, e.g. `BIGINT` or `DOUBLE PRECISION`.
    pub sql_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Whether it has a `DEFAULT`.
    pub has_default: bool,
}

/// An index on a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Its name (empty for a `UNIQUE`/`PRIMARY KEY` constraint).
    pub name: String,
    /// Whether it is unique.
    pub unique: bool,
    /// Its columns, in order.
    pub columns: Vec<String>,
}

impl Existing {
    /// Reads `scripts` (the `up.sql` files, in the order they apply).
    pub fn read<'a>(scripts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut existing = Existing::default();
        for script in scripts {
            for statement in statements(&lex(script)) {
                existing.apply(statement);
            }
        }
        existing
    }

    fn apply(&mut self, s: &[Token]) {
        let words = Words(s);
        let understood = match (words.upper(0).as_deref(), words.upper(1).as_deref()) {
            (Some("CREATE"), Some("TABLE")) => self.create_table(s),
            (Some("CREATE"), Some("INDEX" | "UNIQUE")) => self.create_index(s),
            (Some("ALTER"), Some("TABLE")) => self.alter_table(s),
            (Some("DROP"), Some("TABLE")) => self.drop_table(s),
            (Some("DROP"), Some("INDEX")) => self.drop_index(s),
            (Some("CREATE" | "ALTER" | "DROP"), _) => false,
            // Data, comments, grants: nothing about a table's shape.
            _ => true,
        };
        if !understood {
            self.mark_unreadable(s);
        }
    }

    /// Marks every `readmodels` table the statement names as unreadable.
    fn mark_unreadable(&mut self, s: &[Token]) {
        let text = render(s);
        for start in 0..s.len() {
            let Some(name) = readmodels_name(&s[start..]) else {
                continue;
            };
            if let Some(table) = self.tables.get_mut(&name) {
                table.unreadable.get_or_insert_with(|| text.clone());
            }
        }
    }

    fn create_table(&mut self, s: &[Token]) -> bool {
        let mut at = 2 + if_exists(s, 2, &["IF", "NOT", "EXISTS"]);
        let Some((schema, name, used)) = qualified(&s[at..]) else {
            return false;
        };
        at += used;
        if schema.as_deref() != Some("readmodels") {
            return true;
        }
        let Some(Token::Group(body)) = s.get(at) else {
            return false;
        };
        let mut table = Table::default();
        for definition in split_commas(body) {
            if !definition_into(&mut table, definition) {
                return false;
            }
        }
        self.tables.insert(name, table);
        true
    }

    fn create_index(&mut self, s: &[Token]) -> bool {
        let unique = Words(s).upper(1).as_deref() == Some("UNIQUE");
        let mut at = if unique { 3 } else { 2 };
        at += if_exists(s, at, &["IF", "NOT", "EXISTS"]);
        let Some((index_schema, index, used)) = qualified(&s[at..]) else {
            return false;
        };
        at += used;
        if Words(s).upper(at).as_deref() != Some("ON") {
            return false;
        }
        let Some((table_schema, table, used)) = qualified(&s[at + 1..]) else {
            return false;
        };
        if table_schema.or(index_schema).as_deref() != Some("readmodels") {
            return true;
        }
        let Some(Token::Group(columns)) = s.get(at + 1 + used) else {
            return false;
        };
        let Some(columns) = column_names(columns) else {
            return false;
        };
        match self.tables.get_mut(&table) {
            Some(t) => t.indexes.push(Index {
                name: index,
                unique,
                columns,
            }),
            None => return false,
        }
        true
    }

    fn alter_table(&mut self, s: &[Token]) -> bool {
        let mut at = 2 + if_exists(s, 2, &["IF", "EXISTS"]);
        if Words(s).upper(at).as_deref() == Some("ONLY") {
            at += 1;
        }
        let Some((schema, name, used)) = qualified(&s[at..]) else {
            return false;
        };
        if schema.as_deref() != Some("readmodels") {
            return true;
        }
        at += used;
        let words = Words(s);
        let action = words.upper(at);
        at += 1;
        if words.upper(at).as_deref() == Some("COLUMN") {
            at += 1;
        }
        let Some(table) = self.tables.get_mut(&name) else {
            return false;
        };
        match action.as_deref() {
            Some("ADD") => {
                at += if_exists(s, at, &["IF", "NOT", "EXISTS"]);
                match column(&s[at..]) {
                    Some(column) if !column_constraint(&s[at..]) => {
                        table.columns.push(column);
                        true
                    }
                    _ => false,
                }
            }
            Some("DROP") => {
                at += if_exists(s, at, &["IF", "EXISTS"]);
                let Some(Token::Word(column)) = s.get(at) else {
                    return false;
                };
                table.columns.retain(|c| &c.name != column);
                true
            }
            _ => false,
        }
    }

    fn drop_table(&mut self, s: &[Token]) -> bool {
        let at = 2 + if_exists(s, 2, &["IF", "EXISTS"]);
        for name in split_commas(&s[at..]) {
            if let Some((Some(schema), table, _)) = qualified(name) {
                if schema == "readmodels" {
                    self.tables.remove(&table);
                }
            }
        }
        true
    }

    fn drop_index(&mut self, s: &[Token]) -> bool {
        let at = 2 + if_exists(s, 2, &["IF", "EXISTS"]);
        let Some((_, index, _)) = qualified(&s[at..]) else {
            return false;
        };
        for table in self.tables.values_mut() {
            table.indexes.retain(|i| i.name != index);
        }
        true
    }
}

/// Reads one definition of a `CREATE TABLE` body into `table`; false if not understood.
fn definition_into(table: &mut Table, definition: &[Token]) -> bool {
    let words = Words(definition);
    let mut at = 0;
    if words.upper(0).as_deref() == Some("CONSTRAINT") {
        at = 2;
    }
    let keys = |at: usize| match definition.get(at) {
        Some(Token::Group(columns)) => column_names(columns),
        _ => None,
    };
    match (words.upper(at).as_deref(), words.upper(at + 1).as_deref()) {
        (Some("PRIMARY"), Some("KEY")) | (Some("UNIQUE"), _) => {
            let skip = if words.upper(at).as_deref() == Some("UNIQUE") {
                1
            } else {
                2
            };
            let Some(columns) = keys(at + skip) else {
                return false;
            };
            table.indexes.push(Index {
                name: String::new(),
                unique: true,
                columns,
            });
            true
        }
        (Some("CHECK" | "FOREIGN" | "EXCLUDE"), _) => true,
        _ => match column(definition) {
            Some(column) => {
                let upper = Words(definition).all_upper();
                if upper.windows(2).any(|w| w == ["PRIMARY", "KEY"])
                    || upper.contains(&"UNIQUE".to_owned())
                {
                    table.indexes.push(Index {
                        name: String::new(),
                        unique: true,
                        columns: vec![column.name.clone()],
                    });
                }
                table.columns.push(column);
                true
            }
            None => false,
        },
    }
}

/// Words that end a column's type and start its constraints.
const CONSTRAINTS: &[&str] = &[
    "NOT",
    "NULL",
    "DEFAULT",
    "PRIMARY",
    "UNIQUE",
    "CHECK",
    "REFERENCES",
    "COLLATE",
    "CONSTRAINT",
    "GENERATED",
];

/// A column definition: `name TYPE [constraints]`.
fn column(tokens: &[Token]) -> Option<ExistingColumn> {
    let Some(Token::Word(name)) = tokens.first() else {
        return None;
    };
    let words = Words(tokens);
    let mut sql_type = String::new();
    let mut at = 1;
    while let Some(token) = tokens.get(at) {
        match token {
            Token::Word(w) if CONSTRAINTS.contains(&w.to_ascii_uppercase().as_str()) => break,
            Token::Word(w) => {
                if !sql_type.is_empty() {
                    sql_type.push(' ');
                }
                sql_type.push_str(&w.to_ascii_uppercase());
            }
            Token::Group(inner) => sql_type.push_str(&format!("({})", render(inner))),
            _ => return None,
        }
        at += 1;
    }
    if sql_type.is_empty() {
        return None;
    }
    let rest = words.all_upper().split_off(at.min(tokens.len()));
    let not_null = rest.windows(2).any(|w| w == ["NOT", "NULL"])
        || rest.windows(2).any(|w| w == ["PRIMARY", "KEY"]);
    Some(ExistingColumn {
        name: name.clone(),
        sql_type: canonical_type(&sql_type),
        nullable: !not_null,
        has_default: rest.contains(&"DEFAULT".to_owned()),
    })
}

/// Whether an added column declares a constraint that makes an index (not read).
fn column_constraint(tokens: &[Token]) -> bool {
    let upper = Words(tokens).all_upper();
    upper.contains(&"UNIQUE".to_owned()) || upper.windows(2).any(|w| w == ["PRIMARY", "KEY"])
}

/// PostgreSQL's other spellings of the types contracts use.
pub(crate) fn canonical_type(sql_type: &str) -> String {
    let upper = sql_type
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    let canonical = match upper.as_str() {
        "INT" | "INT4" => "INTEGER",
        "INT8" => "BIGINT",
        "INT2" => "SMALLINT",
        "BOOL" => "BOOLEAN",
        "FLOAT8" => "DOUBLE PRECISION",
        "TIMESTAMP WITH TIME ZONE" => "TIMESTAMPTZ",
        other => other,
    };
    canonical.to_owned()
}

/// `IF NOT EXISTS` / `IF EXISTS` at `at`: how many tokens it takes (0 when absent).
fn if_exists(s: &[Token], at: usize, words: &[&str]) -> usize {
    let found = words
        .iter()
        .enumerate()
        .all(|(i, w)| Words(s).upper(at + i).as_deref() == Some(*w));
    if found {
        words.len()
    } else {
        0
    }
}

/// A possibly schema-qualified name: `(schema, name, tokens used)`.
fn qualified(tokens: &[Token]) -> Option<(Option<String>, String, usize)> {
    match tokens {
        [Token::Word(schema), Token::Sym('.'), Token::Word(name), ..] => {
            Some((Some(schema.clone()), name.clone(), 3))
        }
        [Token::Word(name), ..] => Some((None, name.clone(), 1)),
        _ => None,
    }
}

/// The table `readmodels.<name>` starting at `tokens[0]`, if it is one.
fn readmodels_name(tokens: &[Token]) -> Option<String> {
    match tokens {
        [Token::Word(schema), Token::Sym('.'), Token::Word(name), ..] if schema == "readmodels" => {
            Some(name.clone())
        }
        _ => None,
    }
}

/// The plain column names of an index's `( .. )`; `None` for an expression index.
fn column_names(tokens: &[Token]) -> Option<Vec<String>> {
    split_commas(tokens)
        .into_iter()
        .map(|part| match part {
            [Token::Word(name)] => Some(name.clone()),
            _ => None,
        })
        .collect()
}

fn split_commas(tokens: &[Token]) -> Vec<&[Token]> {
    tokens
        .split(|t| *t == Token::Sym(','))
        .filter(|part| !part.is_empty())
        .collect()
}

fn statements(tokens: &[Token]) -> impl Iterator<Item = &[Token]> {
    tokens
        .split(|t| *t == Token::Sym(';'))
        .filter(|s| !s.is_empty())
}

/// A statement's tokens as text, for messages.
fn render(tokens: &[Token]) -> String {
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
struct Words<'t>(&'t [Token]);

impl Words<'_> {
    fn upper(&self, at: usize) -> Option<String> {
        match self.0.get(at) {
            Some(Token::Word(w)) => Some(w.to_ascii_uppercase()),
            _ => None,
        }
    }

    fn all_upper(&self) -> Vec<String> {
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
enum Token {
    Word(String),
    Text(String),
    Sym(char),
    Group(Vec<Token>),
}

/// Tokens of a script, comments left out, parentheses nested into groups.
fn lex(script: &str) -> Vec<Token> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, sql_type: &str, nullable: bool) -> ExistingColumn {
        ExistingColumn {
            name: name.to_owned(),
            sql_type: sql_type.to_owned(),
            nullable,
            has_default: false,
        }
    }

    #[test]
    fn reads_what_new_migration_writes_on_both_backends() {
        let postgres = "-- header; with a semicolon\nCREATE SCHEMA IF NOT EXISTS readmodels;\n\
            CREATE TABLE readmodels.notes (\n    model_version INTEGER NOT NULL,\n    user_id UUID NOT NULL,\n    score DOUBLE PRECISION,\n    day DATE NOT NULL\n);\n\
            CREATE UNIQUE INDEX notes_key ON readmodels.notes (model_version, user_id);\n\
            CREATE INDEX notes_user ON readmodels.notes (user_id, model_version);\n";
        let sqlite = "CREATE TABLE readmodels.notes (model_version INTEGER NOT NULL, user_id TEXT NOT NULL);\n\
            CREATE UNIQUE INDEX readmodels.notes_key ON notes (model_version, user_id);";
        let pg = Existing::read([postgres]);
        let table = &pg.tables["notes"];
        assert_eq!(
            table.columns,
            vec![
                column("model_version", "INTEGER", false),
                column("user_id", "UUID", false),
                column("score", "DOUBLE PRECISION", true),
                column("day", "DATE", false),
            ]
        );
        assert_eq!(table.indexes.len(), 2);
        assert!(
            table.indexes[0].unique && table.indexes[0].columns == ["model_version", "user_id"]
        );
        assert_eq!(table.indexes[1].name, "notes_user");
        assert_eq!(table.unreadable, None);
        let lite = Existing::read([sqlite]);
        assert_eq!(lite.tables["notes"].indexes[0].name, "notes_key");
        assert!(lite.tables["notes"].indexes[0].unique);
    }

    #[test]
    fn later_scripts_change_what_earlier_ones_created() {
        let first = "CREATE TABLE readmodels.t (a BIGINT NOT NULL, \"b\" TEXT DEFAULT 'x;y');";
        let second = "ALTER TABLE readmodels.t ADD COLUMN c INT8 NOT NULL DEFAULT 0;\n\
            ALTER TABLE readmodels.t DROP COLUMN b;\nCREATE TABLE readmodels.gone (a TEXT);\n\
            DROP TABLE IF EXISTS readmodels.gone;";
        let existing = Existing::read([first, second]);
        assert_eq!(existing.tables.keys().collect::<Vec<_>>(), ["t"]);
        let columns = &existing.tables["t"].columns;
        assert_eq!(columns.len(), 2);
        assert_eq!(columns[1].name, "c");
        assert_eq!(columns[1].sql_type, "BIGINT");
        assert!(columns[1].has_default && !columns[1].nullable);
    }

    #[test]
    fn statements_it_cannot_read_make_the_table_unreadable() {
        let scripts = [
            "CREATE TABLE readmodels.t (a BIGINT NOT NULL);",
            "ALTER TABLE readmodels.t RENAME COLUMN a TO b;",
            "CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN DROP TABLE x; END $body$ LANGUAGE plpgsql;",
            "INSERT INTO readmodels.t VALUES (1); /* data; not shape */",
        ];
        let existing = Existing::read(scripts);
        assert_eq!(
            existing.tables["t"].unreadable.as_deref(),
            Some("ALTER TABLE readmodels.t RENAME COLUMN a TO b")
        );
        assert_eq!(existing.tables["t"].columns.len(), 1);
    }

    #[test]
    fn tables_outside_readmodels_are_not_tracked() {
        let existing = Existing::read([
            "CREATE TABLE event_record (id BIGINT); CREATE TABLE public.x (a INT);",
        ]);
        assert!(existing.tables.is_empty());
    }
}
