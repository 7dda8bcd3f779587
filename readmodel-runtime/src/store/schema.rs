//! Checks, before a run writes anything, that a model's table exists and carries a unique
//! index exactly on the idempotency key: without it `ON CONFLICT (key)` cannot work and
//! replays would not be idempotent.

use diesel::deserialize::QueryableByName;
use diesel::pg::PgConnection;
use diesel::row::NamedRow;
use diesel::sqlite::SqliteConnection;
use diesel::RunQueryDsl;

use super::error::{SchemaProblem, StoreError};
use crate::contract::Contract;
use crate::field::Db;

struct Named {
    name: String,
}

impl<DB: Db> QueryableByName<DB> for Named {
    fn build<'a>(row: &impl NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        Ok(Named {
            name: DB::read(row, "name")?,
        })
    }
}

/// The unique indexes of a table as column lists; `None` when the table does not exist.
pub(crate) trait Introspect {
    /// The unique indexes of `schema.table`, each as its column list.
    fn unique_keys(
        &mut self,
        schema: &str,
        table: &str,
    ) -> Result<Option<Vec<Vec<String>>>, StoreError>;
    /// Whether the index `schema.index` exists.
    fn has_index(&mut self, schema: &str, index: &str) -> Result<bool, StoreError>;
    /// The dialect of the DDL this connection runs.
    fn ddl_backend(&self) -> crate::ddl::Backend;
}

fn failed(table: &str) -> impl FnOnce(diesel::result::Error) -> StoreError + '_ {
    inspecting("table", table)
}

fn inspecting<'a>(
    what: &'a str,
    name: &'a str,
) -> impl FnOnce(diesel::result::Error) -> StoreError + 'a {
    move |source| StoreError::Query {
        context: format!("inspecting {what} {name}"),
        source,
    }
}

impl Introspect for PgConnection {
    fn unique_keys(
        &mut self,
        schema: &str,
        table: &str,
    ) -> Result<Option<Vec<Vec<String>>>, StoreError> {
        let qualified = format!("{schema}.{table}");
        let tables: Vec<Named> = diesel::sql_query(
            "SELECT t.relname AS name FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = $1 AND t.relname = $2 AND t.relkind IN ('r', 'p')",
        )
        .bind::<diesel::sql_types::Text, _>(schema)
        .bind::<diesel::sql_types::Text, _>(table)
        .load(self)
        .map_err(failed(&qualified))?;
        if tables.is_empty() {
            return Ok(None);
        }
        let keys: Vec<Named> = diesel::sql_query(
            "SELECT array_to_string(ARRAY(SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord), ',') AS name \
             FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace \
             JOIN pg_index ix ON ix.indrelid = t.oid \
             WHERE n.nspname = $1 AND t.relname = $2 AND ix.indisunique AND ix.indpred IS NULL",
        )
        .bind::<diesel::sql_types::Text, _>(schema)
        .bind::<diesel::sql_types::Text, _>(table)
        .load(self)
        .map_err(failed(&qualified))?;
        Ok(Some(
            keys.into_iter()
                .map(|k| k.name.split(',').map(str::to_owned).collect())
                .collect(),
        ))
    }

    fn has_index(&mut self, schema: &str, index: &str) -> Result<bool, StoreError> {
        let found: Vec<Named> = diesel::sql_query(
            "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'i'",
        )
        .bind::<diesel::sql_types::Text, _>(schema)
        .bind::<diesel::sql_types::Text, _>(index)
        .load(self)
        .map_err(inspecting("index", &format!("{schema}.{index}")))?;
        Ok(!found.is_empty())
    }

    fn ddl_backend(&self) -> crate::ddl::Backend {
        crate::ddl::Backend::Postgres
    }
}

struct IndexList {
    name: String,
    unique: i32,
    partial: i32,
}

impl QueryableByName<diesel::sqlite::Sqlite> for IndexList {
    fn build<'a>(
        row: &impl NamedRow<'a, diesel::sqlite::Sqlite>,
    ) -> diesel::deserialize::Result<Self> {
        use diesel::sql_types::{Integer, Text};
        Ok(IndexList {
            name: NamedRow::get::<Text, String>(row, "name")?,
            unique: NamedRow::get::<Integer, i32>(row, "unique")?,
            partial: NamedRow::get::<Integer, i32>(row, "partial")?,
        })
    }
}

impl Introspect for SqliteConnection {
    fn unique_keys(
        &mut self,
        schema: &str,
        table: &str,
    ) -> Result<Option<Vec<Vec<String>>>, StoreError> {
        let qualified = format!("{schema}.{table}");
        // The schema name comes from the registry, never from user input.
        let tables: Vec<Named> = diesel::sql_query(format!(
            "SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?"
        ))
        .bind::<diesel::sql_types::Text, _>(table)
        .load(self)
        .map_err(failed(&qualified))?;
        if tables.is_empty() {
            return Ok(None);
        }
        // The table-valued PRAGMA functions take the table, index and schema as binds.
        let indexes: Vec<IndexList> =
            diesel::sql_query("SELECT name, \"unique\", partial FROM pragma_index_list(?, ?)")
                .bind::<diesel::sql_types::Text, _>(table)
                .bind::<diesel::sql_types::Text, _>(schema)
                .load(self)
                .map_err(failed(&qualified))?;
        let mut keys = Vec::new();
        for index in indexes.iter().filter(|i| i.unique == 1 && i.partial == 0) {
            let columns: Vec<Named> =
                diesel::sql_query("SELECT name FROM pragma_index_info(?, ?) ORDER BY seqno")
                    .bind::<diesel::sql_types::Text, _>(&index.name)
                    .bind::<diesel::sql_types::Text, _>(schema)
                    .load(self)
                    .map_err(failed(&qualified))?;
            keys.push(columns.into_iter().map(|c| c.name).collect());
        }
        Ok(Some(keys))
    }

    fn has_index(&mut self, schema: &str, index: &str) -> Result<bool, StoreError> {
        // The schema name comes from the registry, never from user input.
        let found: Vec<Named> = diesel::sql_query(format!(
            "SELECT name FROM {schema}.sqlite_master WHERE type = 'index' AND name = ?"
        ))
        .bind::<diesel::sql_types::Text, _>(index)
        .load(self)
        .map_err(inspecting("index", &format!("{schema}.{index}")))?;
        Ok(!found.is_empty())
    }

    fn ddl_backend(&self) -> crate::ddl::Backend {
        crate::ddl::Backend::Sqlite
    }
}

/// Fails unless the contract's table exists with a unique index exactly on its key.
pub(crate) fn check_table(
    conn: &mut impl Introspect,
    contract: &Contract,
) -> Result<(), StoreError> {
    let table = contract.qualified_table();
    let Some(keys) = conn.unique_keys(contract.schema, contract.table)? else {
        return Err(StoreError::Schema {
            table,
            problem: SchemaProblem::Missing {
                model: contract.name,
            },
        });
    };
    let wanted: Vec<String> = contract
        .idempotency_key
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    if keys.contains(&wanted) {
        return Ok(());
    }
    Err(StoreError::Schema {
        table,
        problem: SchemaProblem::NoKeyIndex { key: wanted },
    })
}
