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

use super::sql::{lex, render, split_commas, statements, Token, Words};

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

#[cfg(test)]
mod tests;
