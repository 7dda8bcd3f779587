//! A canonical digest of a model version's rows, identical on both backends.
//!
//! Rows are read in key order (text keys compared bytewise on both backends), each row is
//! written as its columns' canonical text without `model_version`, columns separated by
//! U+001F and rows terminated by U+001E, and the whole is hashed with SHA-256.

use sha2::{Digest, Sha256};

use uuid::Uuid;

use crate::contract::Contract;
use crate::rows::ReadModelRow;
use crate::store::rows::KeyOrder;
use crate::store::{Conn, StoreError};

/// The digest of a model version's rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checksum {
    /// `sha256:` and 64 hex digits.
    pub digest: String,
    /// Number of rows hashed.
    pub rows: u64,
}

/// The canonical text of one row, as hashed.
pub(crate) fn canonical<R: ReadModelRow>(row: &R, text: &mut String) {
    text.clear();
    row.write_canonical(text);
    text.push('\u{1e}');
}

/// The checksum of the rows of `version` (of one user's rows with `user`).
pub(crate) fn of_rows<R: ReadModelRow, C: Conn>(
    conn: &mut C,
    contract: &Contract,
    version: i32,
    user: Option<Uuid>,
) -> Result<Checksum, StoreError> {
    let mut digest = Digester::default();
    let mut pages = KeyOrder::<R>::new(contract, version, user);
    loop {
        let page = pages.next_page(conn)?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            digest.add(row);
        }
    }
    Ok(digest.finish())
}

/// Hashes rows in the order given (the caller's job: key order).
#[derive(Default)]
struct Digester {
    hasher: Sha256,
    rows: u64,
    text: String,
}

impl Digester {
    fn add<R: ReadModelRow>(&mut self, row: &R) {
        canonical(row, &mut self.text);
        self.hasher.update(self.text.as_bytes());
        self.rows += 1;
    }

    fn finish(self) -> Checksum {
        let digest = self.hasher.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Checksum {
            digest: format!("sha256:{hex}"),
            rows: self.rows,
        }
    }
}

#[cfg(test)]
mod tests;
