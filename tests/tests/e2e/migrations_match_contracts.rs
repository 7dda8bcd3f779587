//! The projections' migrations create exactly the tables their contracts declare, on both
//! backends: after `replay migrate`, every registered model's table exists in `readmodels`
//! with the contract's columns (name, type, nullability, in order), a unique index exactly
//! on the idempotency key (same columns, same order), and no foreign keys.

use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use readmodel_runtime::{Contract, DatabaseUrl, Registry, Store};
use readmodel_tests::pg;

/// One column as the database reports it: name, declared type, nullable.
type Actual = (String, String, bool);

fn contracts() -> Vec<&'static Contract> {
    let registry = Registry::global().expect("the registry is valid");
    let mut contracts: Vec<&'static Contract> = registry.iter().map(|m| m.contract()).collect();
    contracts.sort_by_key(|c| c.name);
    // Guards against the projections not being linked in (an empty registry passes trivially).
    let domains: std::collections::BTreeSet<&str> = contracts.iter().map(|c| c.domain).collect();
    assert!(
        contracts.len() >= 16 && domains.len() >= 8,
        "expected the LifeOS models, found {:?}",
        contracts.iter().map(|c| c.name).collect::<Vec<_>>()
    );
    contracts
}

fn migrated(url: &str) -> Store {
    let url = DatabaseUrl::parse(url).expect("a database URL");
    let mut store = Store::open(&url, &projections::MIGRATIONS).expect("the database opens");
    store
        .migrate(&projections::MIGRATIONS)
        .expect("migrations apply");
    store
}

/// Compares one table with its contract; `same_type(contract column, actual type)`.
fn check_table(
    contract: &Contract,
    columns: &[Actual],
    unique_indexes: &[Vec<String>],
    foreign_keys: i64,
    same_type: impl Fn(&readmodel_runtime::Column, &str) -> bool,
) -> Vec<String> {
    let table = contract.qualified_table();
    let mut problems = Vec::new();
    if columns.is_empty() {
        problems.push(format!(
            "{} ({table}): the table does not exist",
            contract.name
        ));
        return problems;
    }
    let expected: Vec<&str> = contract.columns.iter().map(|c| c.name).collect();
    let found: Vec<&str> = columns.iter().map(|(name, _, _)| name.as_str()).collect();
    if expected != found {
        problems.push(format!(
            "{table}: columns {found:?}, the contract declares {expected:?}"
        ));
    }
    for column in contract.columns {
        let Some((_, ty, nullable)) = columns.iter().find(|(name, _, _)| name == column.name)
        else {
            continue;
        };
        if !same_type(column, ty) {
            problems.push(format!(
                "{table}.{}: type {ty}, the contract wants {} (PostgreSQL) / {} (SQLite)",
                column.name, column.pg_type, column.sqlite_type
            ));
        }
        if *nullable != column.nullable {
            problems.push(format!(
                "{table}.{}: nullable is {nullable}, the contract says {}",
                column.name, column.nullable
            ));
        }
    }
    let key: Vec<String> = contract
        .idempotency_key
        .iter()
        .map(|&c| c.to_owned())
        .collect();
    if !unique_indexes.contains(&key) {
        problems.push(format!(
            "{table}: no unique index on exactly ({}); unique indexes: {unique_indexes:?}",
            key.join(", ")
        ));
    }
    if foreign_keys != 0 {
        problems.push(format!("{table}: has {foreign_keys} foreign key(s)"));
    }
    problems
}

fn assert_no_problems(backend: &str, problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{backend} migrations do not match the contracts:\n{}",
        problems.join("\n")
    );
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "type")]
    ty: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    unique: i32,
    #[diesel(sql_type = Integer)]
    partial: i32,
}

#[derive(QueryableByName)]
struct SqliteIndexColumn {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[test]
fn sqlite_tables_match_the_contracts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("events.db");
    let Store::Sqlite(mut conn) = migrated(&path.display().to_string()) else {
        panic!("a file path opens SQLite");
    };
    let mut problems = Vec::new();
    for contract in contracts() {
        let table = contract.table;
        let columns: Vec<Actual> =
            diesel::sql_query(format!("PRAGMA readmodels.table_info('{table}')"))
                .load::<SqliteColumn>(&mut conn)
                .expect("table_info")
                .into_iter()
                .map(|c| (c.name, c.ty, c.notnull == 0))
                .collect();
        let indexes = diesel::sql_query(format!("PRAGMA readmodels.index_list('{table}')"))
            .load::<SqliteIndex>(&mut conn)
            .expect("index_list");
        let unique: Vec<Vec<String>> = indexes
            .into_iter()
            .filter(|i| i.unique == 1 && i.partial == 0)
            .map(|i| {
                diesel::sql_query(format!("PRAGMA readmodels.index_info('{}')", i.name))
                    .load::<SqliteIndexColumn>(&mut conn)
                    .expect("index_info")
                    .into_iter()
                    .map(|c| c.name.unwrap_or_else(|| "<expression>".to_owned()))
                    .collect()
            })
            .collect();
        let foreign_keys = diesel::sql_query(format!(
            "SELECT COUNT(*) AS count FROM pragma_foreign_key_list('{table}', 'readmodels')"
        ))
        .get_result::<Count>(&mut conn)
        .expect("foreign_key_list")
        .count;
        problems.extend(check_table(
            contract,
            &columns,
            &unique,
            foreign_keys,
            |column, ty| column.sqlite_type.eq_ignore_ascii_case(ty),
        ));
    }
    assert_no_problems("SQLite", problems);
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    nullable: bool,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    columns: String,
}

/// `format_type` spelling of the contract's PostgreSQL type.
fn pg_spelling(pg_type: &str) -> &str {
    match pg_type {
        "TIMESTAMPTZ" => "timestamp with time zone",
        "TIMESTAMP" => "timestamp without time zone",
        "INT" | "INT4" => "integer",
        "INT8" => "bigint",
        "INT2" => "smallint",
        "BOOL" => "boolean",
        "FLOAT8" => "double precision",
        other => other,
    }
}

#[test]
fn postgres_tables_match_the_contracts() {
    let url = pg::server().fresh_database();
    let Store::Postgres(mut conn) = migrated(&url) else {
        panic!("a postgres:// URL opens PostgreSQL");
    };
    let mut problems = Vec::new();
    for contract in contracts() {
        let columns: Vec<Actual> = diesel::sql_query(
            "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS ty, \
                    NOT a.attnotnull AS nullable \
             FROM pg_attribute a \
             JOIN pg_class t ON t.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = 'readmodels' AND t.relname = $1 AND t.relkind = 'r' \
               AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
        )
        .bind::<Text, _>(contract.table)
        .load::<PgColumn>(&mut conn)
        .expect("columns")
        .into_iter()
        .map(|c| (c.name, c.ty, c.nullable))
        .collect();
        let unique: Vec<Vec<String>> = diesel::sql_query(
            "SELECT string_agg(COALESCE(a.attname::text, '<expression>'), ',' ORDER BY k.ord) \
                    AS columns \
             FROM pg_index x \
             JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             WHERE n.nspname = 'readmodels' AND t.relname = $1 \
               AND x.indisunique AND x.indpred IS NULL \
             GROUP BY x.indexrelid",
        )
        .bind::<Text, _>(contract.table)
        .load::<PgIndex>(&mut conn)
        .expect("indexes")
        .into_iter()
        .map(|i| i.columns.split(',').map(str::to_owned).collect())
        .collect();
        let foreign_keys = diesel::sql_query(
            "SELECT COUNT(*) AS count FROM pg_constraint c \
             JOIN pg_class t ON t.oid = c.conrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = 'readmodels' AND t.relname = $1 AND c.contype = 'f'",
        )
        .bind::<Text, _>(contract.table)
        .get_result::<Count>(&mut conn)
        .expect("foreign keys")
        .count;
        problems.extend(check_table(
            contract,
            &columns,
            &unique,
            foreign_keys,
            |column, ty| pg_spelling(column.pg_type).eq_ignore_ascii_case(ty),
        ));
    }
    assert_no_problems("PostgreSQL", problems);
}
