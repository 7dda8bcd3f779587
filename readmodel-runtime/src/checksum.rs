//! A canonical digest of a model version's rows, identical on both backends.
//!
//! Rows are read in key order (text keys compared bytewise on both backends), each row is
//! written as its columns' canonical text without `model_version`, columns separated by
//! U+001F and rows terminated by U+001E, and the whole is hashed with SHA-256.

use sha2::{Digest, Sha256};

use crate::contract::Contract;
use crate::error::StoreError;
use crate::field::Db;
use crate::replay::entity_key;
use crate::rows::{Loaded, ReadModelRow};
use crate::store::{Conn, Statement};

/// The digest of a model version's rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checksum {
    /// `sha256:` and 64 hex digits.
    pub digest: String,
    /// Number of rows hashed.
    pub rows: u64,
}

const PAGE: i64 = 10_000;

pub(crate) fn of_rows<R: ReadModelRow, C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
) -> Result<Checksum, StoreError> {
    let key = entity_key(contract);
    let order: Vec<String> = key
        .iter()
        .map(|name| {
            let text = contract
                .columns
                .iter()
                .any(|c| c.name == *name && c.sorts_as_text);
            let collation = if text {
                <C::Db as Db>::BYTEWISE_COLLATION
            } else {
                ""
            };
            format!("{name}{collation}")
        })
        .collect();
    let columns: Vec<&str> = contract.columns.iter().map(|c| c.name).collect();
    let select = format!(
        "SELECT {} FROM {} WHERE model_version = ",
        columns.join(", "),
        contract.qualified_table()
    );
    let mut hasher = Sha256::new();
    let mut rows = 0u64;
    let mut last: Option<R::Key> = None;
    let mut text = String::new();
    loop {
        let mut stmt = Statement::<C::Db>::new(&select).bind(&version);
        if let Some(last) = &last {
            // Keyset pagination on the row value of the key.
            stmt = stmt
                .sql(&format!(" AND ({}) > (", order.join(", ")))
                .bind_many(key.len(), |q| R::bind_key(last, q))
                .sql(")");
        }
        let stmt = stmt
            .sql(&format!(" ORDER BY {} LIMIT ", order.join(", ")))
            .bind(&PAGE);
        let page: Vec<Loaded<R>> = conn.fetch(stmt).map_err(StoreError::query(format!(
            "reading the rows of {} version {version}",
            contract.name
        )))?;
        let full_page = page.len() as i64 == PAGE;
        for Loaded(row) in page {
            text.clear();
            row.write_canonical(&mut text);
            text.push('\u{1e}');
            hasher.update(text.as_bytes());
            rows += 1;
            last = Some(row.key());
        }
        if !full_page {
            break;
        }
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Checksum {
        digest: format!("sha256:{hex}"),
        rows,
    })
}
