//! DDL from a model's contract: the table, the unique index exactly on the idempotency
//! key, and the `(user_id, model_version)` index that replay by user deletes through.
//!
//! `replay schema` prints it and `replay new-migration` writes it as a diesel_cli
//! migration pair, so a model's tables never have to be written (and kept in step with
//! the struct) by hand: [`existing`] reads what the earlier migrations create, and
//! [`evolve`] decides what a model's table still needs (the table, new columns, nothing,
//! or a refusal). The output is deterministic: the same contract gives the same text,
//! byte for byte.
//!
//! ```
//! use readmodel_runtime::{Column, Contract, Kind, RebuildStrategy};
//! use readmodel_runtime::ddl::{self, Backend};
//!
//! const COLUMNS: &[Column] = &[
//!     Column { name: "model_version", pg_type: "INTEGER", sqlite_type: "INTEGER", nullable: false, sorts_as_text: false },
//!     Column { name: "event_id", pg_type: "BIGINT", sqlite_type: "INTEGER", nullable: false, sorts_as_text: false },
//!     Column { name: "note", pg_type: "TEXT", sqlite_type: "TEXT", nullable: true, sorts_as_text: true },
//! ];
//! const NOTES: Contract = Contract {
//!     name: "notes.timeline", domain: "notes", version: 1, kind: Kind::Timeline,
//!     consumed_events: &["notes.written"], replay_start_version: 0,
//!     idempotency_key: &["model_version", "event_id"], rebuild_strategy: RebuildStrategy::Full,
//!     schema: "readmodels", table: "notes", columns: COLUMNS,
//!     fingerprint: readmodel_runtime::Fingerprint::of(&[]),
//! };
//! let sql = ddl::create(&NOTES, Backend::Postgres);
//! assert!(sql.contains("CREATE TABLE readmodels.notes (\n    model_version INTEGER NOT NULL,"));
//! assert!(sql.contains("CREATE UNIQUE INDEX notes_key ON readmodels.notes (model_version, event_id);"));
//! assert_eq!(ddl::drop(&NOTES, Backend::Sqlite), "DROP TABLE IF EXISTS readmodels.notes;\n");
//! ```

use std::fmt::{self, Write};
use std::str::FromStr;

use crate::contract::Contract;

pub mod evolve;
pub mod existing;
mod sql;

pub use evolve::{Defaults, EvolveError, Step};
pub use existing::Existing;

/// The database a piece of DDL is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Backend {
    /// PostgreSQL: tables in schema `readmodels`.
    Postgres,
    /// SQLite: tables in the database ATTACHed as `readmodels`.
    Sqlite,
}

impl Backend {
    /// Both backends, in the order migrations directories are written.
    pub const ALL: [Backend; 2] = [Backend::Postgres, Backend::Sqlite];

    /// `postgres` or `sqlite`: the name of its migrations directory too.
    pub const fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A backend name that is neither `postgres` nor `sqlite`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown backend `{0}`: expected `postgres` or `sqlite`")]
pub struct UnknownBackend(pub String);

impl FromStr for Backend {
    type Err = UnknownBackend;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "postgres" | "postgresql" | "pg" => Ok(Backend::Postgres),
            "sqlite" => Ok(Backend::Sqlite),
            other => Err(UnknownBackend(other.to_owned())),
        }
    }
}

/// The statements that create `contract`'s table and indexes on `backend`.
///
/// PostgreSQL output starts with `CREATE SCHEMA IF NOT EXISTS`, so it applies to an empty
/// database as well as after the runtime's own migrations.
pub fn create(contract: &Contract, backend: Backend) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_create(&mut out, contract, backend);
    out
}

fn write_create(out: &mut String, contract: &Contract, backend: Backend) -> fmt::Result {
    let (schema, table) = (contract.schema, contract.table);
    writeln!(
        out,
        "-- {} ({}), version {}: generated from the model's contract.",
        contract.name, contract.kind, contract.version
    )?;
    if backend == Backend::Postgres {
        writeln!(out, "CREATE SCHEMA IF NOT EXISTS {schema};")?;
    }
    writeln!(out, "CREATE TABLE {schema}.{table} (")?;
    let name_width = contract
        .columns
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let type_width = contract
        .columns
        .iter()
        .map(|c| column_type(c, backend).len())
        .max()
        .unwrap_or(0);
    for (i, column) in contract.columns.iter().enumerate() {
        let separator = if i + 1 < contract.columns.len() {
            ","
        } else {
            ""
        };
        let ty = column_type(column, backend);
        let line = if column.nullable {
            format!("{:name_width$} {ty}", column.name)
        } else {
            format!("{:name_width$} {ty:type_width$} NOT NULL", column.name)
        };
        writeln!(out, "    {}{separator}", line.trim_end())?;
    }
    writeln!(out, ");")?;
    let key = contract.idempotency_key.join(", ");
    write_index(out, backend, "UNIQUE INDEX", contract, "key", &key)?;
    if contract.has_user_column() {
        out.push_str(&user_index(contract, backend));
    }
    Ok(())
}

/// The suffix of the name of a table's `(user_id, model_version)` index.
const USER_INDEX: &str = "user";

/// The name of a table's `(user_id, model_version)` index (in the table's schema).
pub(crate) fn user_index_name(contract: &Contract) -> String {
    format!("{}_{USER_INDEX}", contract.table)
}

/// The statement creating the `(user_id, model_version)` index of a table with a
/// `user_id` column, ending in a newline.
pub(crate) fn user_index(contract: &Contract, backend: Backend) -> String {
    user_index_as(contract, backend, "INDEX")
}

/// [`user_index`] as `CREATE INDEX IF NOT EXISTS`: for a run that found the index missing
/// and may race another process building it.
pub(crate) fn user_index_if_missing(contract: &Contract, backend: Backend) -> String {
    user_index_as(contract, backend, "INDEX IF NOT EXISTS")
}

fn user_index_as(contract: &Contract, backend: Backend, what: &str) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_index(
        &mut out,
        backend,
        what,
        contract,
        USER_INDEX,
        "user_id, model_version",
    );
    out
}

fn write_index(
    out: &mut String,
    backend: Backend,
    what: &str,
    contract: &Contract,
    suffix: &str,
    columns: &str,
) -> fmt::Result {
    let (schema, table) = (contract.schema, contract.table);
    // SQLite names the attached database on the index, PostgreSQL on the table.
    match backend {
        Backend::Postgres => writeln!(
            out,
            "CREATE {what} {table}_{suffix} ON {schema}.{table} ({columns});"
        ),
        Backend::Sqlite => writeln!(
            out,
            "CREATE {what} {schema}.{table}_{suffix} ON {table} ({columns});"
        ),
    }
}

pub(crate) fn column_type(column: &crate::contract::Column, backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => column.pg_type,
        Backend::Sqlite => column.sqlite_type,
    }
}

/// The statement that undoes [`create`]: the indexes go with the table, and the schema
/// stays (the runtime's own tables live in it).
pub fn drop(contract: &Contract, _backend: Backend) -> String {
    format!(
        "DROP TABLE IF EXISTS {}.{};\n",
        contract.schema, contract.table
    )
}

/// One migration's `up.sql` and `down.sql` for several new models on one backend:
/// tables are created in the order given and dropped in reverse.
pub fn migration(contracts: &[&Contract], backend: Backend) -> (String, String) {
    let steps: Vec<(&Contract, Step)> = contracts.iter().map(|c| (*c, Step::Create)).collect();
    evolution(&steps, backend, &Defaults::new())
}

/// One migration's `up.sql` and `down.sql` on one backend: each model's step (see
/// [`evolve::plan`]) in the order given, undone in reverse.
pub fn evolution(
    steps: &[(&Contract, Step)],
    backend: Backend,
    defaults: &Defaults,
) -> (String, String) {
    let mut up = String::from(
        "-- Generated by `replay new-migration` from the models' contracts; regenerate rather\n\
         -- than edit. No foreign keys: every table may be emptied.\n",
    );
    for (contract, step) in steps {
        up.push('\n');
        up.push_str(&evolve::step_sql(contract, step, backend, defaults).0);
    }
    let mut down =
        String::from("-- The schema `readmodels` belongs to the runtime: only the tables go.\n");
    for (contract, step) in steps.iter().rev() {
        down.push_str(&evolve::step_sql(contract, step, backend, defaults).1);
    }
    (up, down)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Column, Kind, RebuildStrategy};

    const fn column(
        name: &'static str,
        pg: &'static str,
        sqlite: &'static str,
        nullable: bool,
    ) -> Column {
        Column {
            name,
            pg_type: pg,
            sqlite_type: sqlite,
            nullable,
            sorts_as_text: false,
        }
    }

    const STREAKS: Contract = Contract {
        name: "habits.streaks",
        domain: "habits",
        version: 2,
        kind: Kind::Snapshot,
        consumed_events: &["habits.habit_created"],
        replay_start_version: 0,
        idempotency_key: &["model_version", "habit_id"],
        rebuild_strategy: RebuildStrategy::Partial,
        schema: "readmodels",
        table: "habit_streaks",
        columns: &[
            column("model_version", "INTEGER", "INTEGER", false),
            column("habit_id", "UUID", "TEXT", false),
            column("user_id", "UUID", "TEXT", false),
            column("last_day", "DATE", "TEXT", true),
            column("updated_at", "TIMESTAMPTZ", "TEXT", false),
        ],
        fingerprint: crate::Fingerprint::of(&[]),
    };

    #[test]
    fn postgres_table_and_indexes() {
        assert_eq!(
            create(&STREAKS, Backend::Postgres),
            "-- habits.streaks (snapshot), version 2: generated from the model's contract.\n\
             CREATE SCHEMA IF NOT EXISTS readmodels;\n\
             CREATE TABLE readmodels.habit_streaks (\n\
             \x20   model_version INTEGER     NOT NULL,\n\
             \x20   habit_id      UUID        NOT NULL,\n\
             \x20   user_id       UUID        NOT NULL,\n\
             \x20   last_day      DATE,\n\
             \x20   updated_at    TIMESTAMPTZ NOT NULL\n\
             );\n\
             CREATE UNIQUE INDEX habit_streaks_key ON readmodels.habit_streaks (model_version, habit_id);\n\
             CREATE INDEX habit_streaks_user ON readmodels.habit_streaks (user_id, model_version);\n"
        );
    }

    #[test]
    fn sqlite_names_the_attached_database_on_the_index() {
        let sql = create(&STREAKS, Backend::Sqlite);
        assert!(!sql.contains("CREATE SCHEMA"), "{sql}");
        assert!(
            sql.contains("    habit_id      TEXT    NOT NULL,\n"),
            "{sql}"
        );
        assert!(sql.contains(
            "CREATE UNIQUE INDEX readmodels.habit_streaks_key ON habit_streaks (model_version, habit_id);\n"
        ));
        assert!(sql.contains(
            "CREATE INDEX readmodels.habit_streaks_user ON habit_streaks (user_id, model_version);\n"
        ));
    }

    #[test]
    fn no_user_index_without_a_user_column() {
        const NO_USER: &[Column] = &[
            column("model_version", "INTEGER", "INTEGER", false),
            column("habit_id", "UUID", "TEXT", false),
        ];
        let contract = Contract {
            columns: NO_USER,
            ..STREAKS
        };
        assert!(!create(&contract, Backend::Postgres).contains("_user"));
    }

    #[test]
    fn migration_drops_in_reverse_order() {
        let other = Contract {
            table: "habit_other",
            ..STREAKS
        };
        let (up, down) = migration(&[&STREAKS, &other], Backend::Sqlite);
        let first = up
            .find("TABLE readmodels.habit_streaks")
            .expect("streaks created");
        let second = up
            .find("TABLE readmodels.habit_other")
            .expect("other created");
        assert!(first < second);
        assert!(down.ends_with(
            "DROP TABLE IF EXISTS readmodels.habit_other;\nDROP TABLE IF EXISTS readmodels.habit_streaks;\n"
        ));
    }

    #[test]
    fn backend_names_parse() {
        assert_eq!("postgres".parse(), Ok(Backend::Postgres));
        assert_eq!("sqlite".parse(), Ok(Backend::Sqlite));
        assert_eq!(
            "mysql".parse::<Backend>().map_err(|e| e.to_string()),
            Err("unknown backend `mysql`: expected `postgres` or `sqlite`".to_owned())
        );
    }
}
