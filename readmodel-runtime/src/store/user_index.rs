//! The `(user_id, model_version)` index of a model's table, left out while a full rebuild
//! fills the empty table and built once at its end.
//!
//! Rows arrive in log order, so their users are in no order: each one lands on a random
//! page of that index, and once the index outgrows the page cache every insert reads and
//! rewrites a page (at 10M events it was most of a rebuild's writing). Building the index
//! from the finished table sorts once instead. Only a table with no row at all is built
//! this way: then no reader's query can use the index. Whatever ends the run (its end, a
//! stop, a failure) builds the index again, and a run that starts after a crash builds it
//! if it is missing ([`restore`]).

use super::conn::Conn;
use super::error::StoreError;
use super::statement::{scalar_i64, Statement};
use crate::contract::Contract;
use crate::ddl;

/// The index's name, as `DROP INDEX` and the catalogs give it.
fn name(contract: &Contract) -> String {
    format!("{}_{}", contract.table, ddl::USER_INDEX)
}

/// Drops the index when the table holds no row (of any version), in the caller's
/// transaction; returns whether the table is now without it. A table without a
/// `user_id` column has no such index.
pub(crate) fn defer<C: Conn>(conn: &mut C, contract: &Contract) -> Result<bool, StoreError> {
    if !contract.has_user_column() {
        return Ok(false);
    }
    let table = contract.qualified_table();
    let sql = format!("SELECT COUNT(*) AS value FROM (SELECT 1 FROM {table} LIMIT 1) AS any_row");
    if scalar_i64(conn, &sql)? > 0 {
        return Ok(false);
    }
    let drop = format!(
        "DROP INDEX IF EXISTS {}.{}",
        contract.schema,
        name(contract)
    );
    conn.run(Statement::new(&drop))
        .map_err(StoreError::query(format!(
            "dropping the (user_id, model_version) index of {} for its full rebuild",
            contract.name
        )))?;
    Ok(true)
}

/// Creates the index if it is missing (a rebuild that deferred it ended, or was killed
/// before it could build it); returns whether it created it.
pub(crate) fn restore<C: Conn>(conn: &mut C, contract: &Contract) -> Result<bool, StoreError> {
    if !contract.has_user_column() || conn.has_index(contract.schema, &name(contract))? {
        return Ok(false);
    }
    let create = ddl::user_index(contract, conn.ddl_backend());
    let create = create.trim_end().trim_end_matches(';');
    conn.run(Statement::new(create))
        .map_err(StoreError::query(format!(
            "building the (user_id, model_version) index of {}",
            contract.name
        )))?;
    Ok(true)
}
