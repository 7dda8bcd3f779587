//! A canonical digest of a model version's rows, identical on both backends.
//!
//! Rows are read in key order (text keys compared bytewise on both backends), each row is
//! written as its columns' canonical text without `model_version`, columns separated by
//! U+001F and rows terminated by U+001E, and the whole is hashed with SHA-256.

use sha2::{Digest, Sha256};

use crate::contract::Contract;
use crate::error::StoreError;
use crate::field::Db;
use uuid::Uuid;

use crate::replay::{column_list, entity_key};
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

/// Reads a model version's rows page by page, in key order.
pub(crate) struct KeyOrder<'c, R: ReadModelRow> {
    contract: &'c Contract,
    version: i32,
    user: Option<Uuid>,
    last: Option<R::Key>,
    done: bool,
}

impl<'c, R: ReadModelRow> KeyOrder<'c, R> {
    pub(crate) fn new(contract: &'c Contract, version: i32, user: Option<Uuid>) -> Self {
        Self {
            contract,
            version,
            user,
            last: None,
            done: false,
        }
    }

    /// The next page; empty at the end.
    pub(crate) fn next_page<C: Conn>(&mut self, conn: &mut C) -> Result<Vec<R>, StoreError> {
        if self.done {
            return Ok(Vec::new());
        }
        let contract = self.contract;
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
        let mut stmt = Statement::<C::Db>::new(&format!(
            "SELECT {} FROM {} WHERE model_version = ",
            column_list(contract),
            contract.qualified_table()
        ))
        .bind(&self.version);
        if let Some(user) = &self.user {
            stmt = stmt.sql(" AND user_id = ").bind(user);
        }
        if let Some(last) = &self.last {
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
            "reading the rows of {} version {}",
            contract.name, self.version
        )))?;
        self.done = (page.len() as i64) < PAGE;
        self.last = page.last().map(|row| row.0.key());
        Ok(page.into_iter().map(|l| l.0).collect())
    }
}

/// The canonical text of one row, as hashed.
pub(crate) fn canonical<R: ReadModelRow>(row: &R, text: &mut String) {
    text.clear();
    row.write_canonical(text);
    text.push('\u{1e}');
}

pub(crate) fn of_rows<R: ReadModelRow, C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
    user: Option<Uuid>,
) -> Result<Checksum, StoreError> {
    let mut hasher = Sha256::new();
    let mut rows = 0u64;
    let mut text = String::new();
    let mut pages = KeyOrder::<R>::new(contract, version, user);
    loop {
        let page = pages.next_page(conn)?;
        if page.is_empty() {
            break;
        }
        for row in page {
            canonical(&row, &mut text);
            hasher.update(text.as_bytes());
            rows += 1;
        }
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Checksum {
        digest: format!("sha256:{hex}"),
        rows,
    })
}
