//! What `replay new-migration` writes for a model, given what the migrations before it
//! already create ([`Existing`]): the whole table when it is new, `ALTER TABLE … ADD
//! COLUMN` for columns the struct gained, nothing when only `version` changed, and a
//! refusal for what cannot change in place while older versions' rows live in the same
//! table (a changed key, a column's type or nullability, a removed `NOT NULL` column).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::existing::{canonical_type, Existing, ExistingColumn, Table};
use super::{column_type, create, drop, Backend};
use crate::contract::{Column, Contract};

/// What one model's table needs on one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The table does not exist yet: create it.
    Create,
    /// Add the columns the struct gained (in contract order), and the `(user_id,
    /// model_version)` index with a new `user_id` column.
    AddColumns {
        /// The new columns.
        columns: Vec<&'static Column>,
        /// Whether the user index is added too.
        user_index: bool,
    },
}

/// `--default COLUMN=VALUE`s: the value older versions' rows get in a new `NOT NULL`
/// column, by column name.
pub type Defaults = BTreeMap<String, String>;

/// Why a model's table cannot be migrated in place (or not without more input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvolveError {
    /// The idempotency key changed.
    #[error("cannot migrate {table} in place for {model} v{version}: the struct declares the key ({declared}) but the migrations in {migrations} give the table a unique index on {found}; rows of older versions are keyed the old way, so build this version in a new table: bump `version` if you have not and declare a table of its own (e.g. `table = {table}_v{version}`), then run new-migration again")]
    KeyChanged {
        /// The model.
        model: &'static str,
        /// Its version.
        version: i32,
        /// `schema.table`.
        table: Box<str>,
        /// The migrations directory read.
        migrations: Box<str>,
        /// The key the contract declares.
        declared: Box<str>,
        /// The unique indexes the migrations create.
        found: Box<str>,
    },
    /// A column's type or nullability changed.
    #[error("cannot migrate {table} in place for {model} v{version}: column {column} is {found} in the migrations in {migrations} and {declared} in the struct; rows of older versions keep the old type, so build this version in a new table: bump `version` if you have not and declare a table of its own (e.g. `table = {table}_v{version}`), then run new-migration again")]
    ColumnChanged {
        /// The model.
        model: &'static str,
        /// Its version.
        version: i32,
        /// `schema.table`.
        table: Box<str>,
        /// The migrations directory read.
        migrations: Box<str>,
        /// The column.
        column: Box<str>,
        /// Its type as the migrations create it.
        found: Box<str>,
        /// Its type as the contract declares it.
        declared: Box<str>,
    },
    /// A `NOT NULL` column without a default is no longer in the struct.
    #[error("cannot migrate {table} in place for {model} v{version}: column {column} ({found}, in the migrations in {migrations}) is no longer in the struct, and rows without it cannot be written; build this version in a new table: bump `version` if you have not and declare a table of its own (e.g. `table = {table}_v{version}`), then run new-migration again")]
    ColumnRemoved {
        /// The model.
        model: &'static str,
        /// Its version.
        version: i32,
        /// `schema.table`.
        table: Box<str>,
        /// The migrations directory read.
        migrations: Box<str>,
        /// The column.
        column: Box<str>,
        /// Its type.
        found: Box<str>,
    },
    /// A new `NOT NULL` column needs a value for the rows older versions have.
    #[error("{table} gains column {column} ({declared}) for {model} v{version}, and the rows older versions already have in it need a value: give one with `--default {column}=VALUE` (a number, a 'quoted string', TRUE or FALSE), or make the field an Option")]
    NeedsDefault {
        /// The model.
        model: &'static str,
        /// Its version.
        version: i32,
        /// `schema.table`.
        table: Box<str>,
        /// The column.
        column: &'static str,
        /// Its type.
        declared: Box<str>,
    },
    /// The migrations hold a statement on the table this command does not read.
    #[error("cannot tell what the migrations in {migrations} make of {table}: `{statement}` is not a statement new-migration reads; write this migration by hand")]
    Unreadable {
        /// `schema.table`.
        table: Box<str>,
        /// The migrations directory read.
        migrations: Box<str>,
        /// The statement.
        statement: Box<str>,
    },
    /// `--default` is not `COLUMN=VALUE` with a literal value.
    #[error("invalid --default {0:?}: expected COLUMN=VALUE, the value a number, a 'quoted string', TRUE or FALSE")]
    InvalidDefault(String),
    /// `--default` names a column no selected model adds as `NOT NULL`.
    #[error("--default {0}=…: no selected model adds a NOT NULL column {0}")]
    UnusedDefault(String),
}

/// Parses one `--default COLUMN=VALUE`.
pub fn parse_default(text: &str) -> Result<(String, String), EvolveError> {
    let invalid = || EvolveError::InvalidDefault(text.to_owned());
    let (column, value) = text.split_once('=').ok_or_else(invalid)?;
    let (column, value) = (column.trim(), value.trim());
    let is_name = !column.is_empty()
        && column
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !is_name || !is_literal(value) {
        return Err(invalid());
    }
    Ok((column.to_owned(), value.to_owned()))
}

/// A number, a single-quoted string (quotes doubled inside), `TRUE` or `FALSE`.
fn is_literal(value: &str) -> bool {
    let number = value.strip_prefix('-').unwrap_or(value);
    let numeric = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.chars().filter(|&c| c == '.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    let quoted = value.len() >= 2
        && value.starts_with('\'')
        && value.ends_with('\'')
        && !value[1..value.len() - 1].replace("''", "").contains('\'');
    let boolean = value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false");
    numeric || quoted || boolean
}

/// What `contract`'s table needs on `backend`, given what the migrations in `source`
/// create: `None` when they already create it as declared.
pub fn plan(
    contract: &Contract,
    backend: Backend,
    existing: &Existing,
    source: &str,
    defaults: &Defaults,
) -> Result<Option<Step>, EvolveError> {
    let Some(table) = existing.tables.get(contract.table) else {
        return Ok(Some(Step::Create));
    };
    let qualified = contract.qualified_table();
    if let Some(statement) = &table.unreadable {
        return Err(EvolveError::Unreadable {
            table: qualified.into(),
            migrations: source.into(),
            statement: statement.as_str().into(),
        });
    }
    check_key(contract, table, source)?;
    check_columns(contract, backend, table, source)?;
    let new: Vec<&'static Column> = contract
        .columns
        .iter()
        .filter(|c| !table.columns.iter().any(|e| e.name == c.name))
        .collect();
    for column in &new {
        if !column.nullable && !defaults.contains_key(column.name) {
            return Err(EvolveError::NeedsDefault {
                model: contract.name,
                version: contract.version,
                table: qualified.into(),
                column: column.name,
                declared: declared(column, backend).into(),
            });
        }
    }
    // The index replay by user deletes through comes with a new `user_id` column; an
    // existing table keeps the indexes its migrations chose.
    let user_index = new.iter().any(|c| c.name == "user_id")
        && !table
            .indexes
            .iter()
            .any(|i| i.columns == ["user_id", "model_version"]);
    if new.is_empty() {
        return Ok(None);
    }
    Ok(Some(Step::AddColumns {
        columns: new,
        user_index,
    }))
}

fn check_key(contract: &Contract, table: &Table, source: &str) -> Result<(), EvolveError> {
    let unique: Vec<&Vec<String>> = table
        .indexes
        .iter()
        .filter(|i| i.unique)
        .map(|i| &i.columns)
        .collect();
    if unique
        .iter()
        .any(|columns| *columns == contract.idempotency_key)
    {
        return Ok(());
    }
    let found = if unique.is_empty() {
        "no column".to_owned()
    } else {
        unique
            .iter()
            .map(|columns| format!("({})", columns.join(", ")))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    Err(EvolveError::KeyChanged {
        model: contract.name,
        version: contract.version,
        table: contract.qualified_table().into(),
        migrations: source.into(),
        declared: contract.idempotency_key.join(", ").into(),
        found: found.into(),
    })
}

fn check_columns(
    contract: &Contract,
    backend: Backend,
    table: &Table,
    source: &str,
) -> Result<(), EvolveError> {
    for existing in &table.columns {
        let found = described(existing);
        match contract.columns.iter().find(|c| c.name == existing.name) {
            Some(column) if declared(column, backend) != found => {
                return Err(EvolveError::ColumnChanged {
                    model: contract.name,
                    version: contract.version,
                    table: contract.qualified_table().into(),
                    migrations: source.into(),
                    column: existing.name.as_str().into(),
                    found: found.into(),
                    declared: declared(column, backend).into(),
                });
            }
            None if !existing.nullable && !existing.has_default => {
                return Err(EvolveError::ColumnRemoved {
                    model: contract.name,
                    version: contract.version,
                    table: contract.qualified_table().into(),
                    migrations: source.into(),
                    column: existing.name.as_str().into(),
                    found: found.into(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// A contract column's type on `backend`, as `TYPE [NOT NULL]`.
fn declared(column: &Column, backend: Backend) -> String {
    let ty = canonical_type(column_type(column, backend));
    if column.nullable {
        ty
    } else {
        format!("{ty} NOT NULL")
    }
}

/// An existing column's type, as `TYPE [NOT NULL]`.
fn described(column: &ExistingColumn) -> String {
    if column.nullable {
        column.sql_type.clone()
    } else {
        format!("{} NOT NULL", column.sql_type)
    }
}

/// The `up.sql` and `down.sql` text of `step` for `contract` on `backend`.
pub fn step_sql(
    contract: &Contract,
    step: &Step,
    backend: Backend,
    defaults: &Defaults,
) -> (String, String) {
    let Step::AddColumns {
        columns,
        user_index,
    } = step
    else {
        return (create(contract, backend), drop(contract, backend));
    };
    let table = contract.qualified_table();
    let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let mut up = format!(
        "-- {} ({}), version {}: generated from the model's contract; the table exists, new column(s): {}.\n",
        contract.name,
        contract.kind,
        contract.version,
        names.join(", ")
    );
    let mut down = String::new();
    // Writing to a String cannot fail.
    for column in columns {
        let ty = column_type(column, backend);
        let _ = match (column.nullable, defaults.get(column.name)) {
            (true, _) => writeln!(up, "ALTER TABLE {table} ADD COLUMN {} {ty};", column.name),
            (false, default) => writeln!(
                up,
                "ALTER TABLE {table} ADD COLUMN {} {ty} NOT NULL DEFAULT {};",
                column.name,
                default.map_or("NULL", String::as_str)
            ),
        };
    }
    if *user_index {
        up.push_str(&super::user_index(contract, backend));
        let _ = writeln!(
            down,
            "DROP INDEX IF EXISTS {}.{};",
            contract.schema,
            super::user_index_name(contract)
        );
    }
    for column in columns.iter().rev() {
        let _ = writeln!(down, "ALTER TABLE {table} DROP COLUMN {};", column.name);
    }
    (up, down)
}

#[cfg(test)]
mod tests;
