//! `replay verify`: rebuild a model from the log into a scratch version beside the live
//! rows, compare the two row by row in key order, and clean up.
//!
//! The scratch version is the live version negated (versions are positive, so it never
//! collides); its run is recorded in `replay_runs` under that version.

use crate::checksum::{self, Checksum};
use crate::contract::Contract;
use crate::ledger::{self, Scope};
use crate::replay::{drive, ReplayError};
use crate::rows::{Projection, ReadModelRow};
use crate::store::rows::{delete_rows, KeyOrder, RowSet};
use crate::store::{transaction, with_conn, Conn, DatabaseUrl, Store, StoreError};

/// The outcome of `verify`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    /// Model name.
    pub model: &'static str,
    /// Live version compared.
    pub version: i32,
    /// The rebuild replayed events up to the live checkpoint.
    pub checkpoint: i64,
    /// Checksum of the live rows.
    pub live: Checksum,
    /// Checksum of the rebuilt rows.
    pub rebuilt: Checksum,
    /// The first key, in key order, where the two differ.
    pub first_difference: Option<Difference>,
}

impl Verification {
    /// Whether the live rows are exactly what the log rebuilds.
    pub fn matches(&self) -> bool {
        self.live.digest == self.rebuilt.digest
    }
}

/// One differing row: its key and the canonical text on each side (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    /// The row's key, as Rust debug text.
    pub key: String,
    /// The live row.
    pub live: Option<String>,
    /// The rebuilt row.
    pub rebuilt: Option<String>,
}

/// Rebuilds `P` into its scratch version up to the live checkpoint (a pass of its own,
/// reading the log on a second connection opened from `url`), compares, and cleans up
/// whatever happened.
pub(crate) fn verify<P: Projection>(
    store: &mut Store,
    url: &DatabaseUrl,
) -> Result<Verification, ReplayError> {
    let contract = P::CONTRACT;
    let version = contract.version;
    let scratch = -version;
    let checkpoint = with_conn!(&mut *store, |c| verified_up_to(c, contract))?;
    with_conn!(&mut *store, |c| clean_up(c, contract, scratch))?;
    let result = drive::rebuild_as::<P>(store, url, scratch, checkpoint)
        .and_then(|_| with_conn!(&mut *store, |c| compare::<P, _>(c, scratch, checkpoint)));
    let cleaned = with_conn!(&mut *store, |c| clean_up(c, contract, scratch));
    let verification = result?;
    cleaned?;
    Ok(verification)
}

/// The event the live rows were built up to, which the rebuild replays to.
fn verified_up_to<C: Conn>(conn: &mut C, contract: &Contract) -> Result<i64, ReplayError> {
    let version = contract.version;
    match ledger::checkpoint(conn, contract.name, version, Scope::All)? {
        Some(checkpoint) => Ok(checkpoint),
        // A run over a log without events succeeds without a checkpoint: its rows are
        // compared with a rebuild from no event.
        None if ledger::has_succeeded(conn, contract.name, version)? => Ok(0),
        None => Err(ReplayError::InvalidPlan {
            model: contract.name,
            reason: format!("verify compares live rows with a rebuild, and it has never been replayed; run `replay run --model {}` first", contract.name),
        }),
    }
}

/// Compares the rebuilt scratch version with the live one.
fn compare<P: Projection, C: Conn>(
    conn: &mut C,
    scratch: i32,
    checkpoint: i64,
) -> Result<Verification, ReplayError> {
    let contract = P::CONTRACT;
    let version = contract.version;
    let live = checksum::of_rows::<P::Row, C>(conn, contract, version, None)?;
    let rebuilt = checksum::of_rows::<P::Row, C>(conn, contract, scratch, None)?;
    let first_difference = if live.digest == rebuilt.digest {
        None
    } else {
        first_difference::<P::Row, C>(conn, contract, version, scratch)?
    };
    Ok(Verification {
        model: contract.name,
        version,
        checkpoint,
        live,
        rebuilt,
        first_difference,
    })
}

/// Deletes the scratch version's rows, parked events and checkpoints.
fn clean_up<C: Conn>(conn: &mut C, contract: &Contract, scratch: i32) -> Result<(), StoreError> {
    let context = || format!("removing the scratch version of {}", contract.name);
    transaction(conn, context, |c| {
        delete_rows(c, contract, scratch, RowSet::WholeVersion)?;
        crate::dead_letters::clear(c, contract.name, scratch)?;
        ledger::delete_version_checkpoints(c, contract.name, scratch)
    })
}

/// Walks both versions in key order and returns the first key where they differ.
fn first_difference<R: ReadModelRow, C: Conn>(
    conn: &mut C,
    contract: &Contract,
    live_version: i32,
    rebuilt_version: i32,
) -> Result<Option<Difference>, StoreError> {
    let mut live = Cursor::<R>::new(KeyOrder::new(contract, live_version, None));
    let mut rebuilt = Cursor::<R>::new(KeyOrder::new(contract, rebuilt_version, None));
    loop {
        let (a, b) = (live.peek(conn)?, rebuilt.peek(conn)?);
        let (a_key, b_key) = match (a, b) {
            (None, None) => return Ok(None),
            (a, b) => (a.map(ReadModelRow::key), b.map(ReadModelRow::key)),
        };
        let text = |row: Option<&R>| {
            row.map(|r| {
                let mut s = String::new();
                r.write_canonical(&mut s);
                s
            })
        };
        match (a_key, b_key) {
            (Some(ka), Some(kb)) if ka == kb => {
                let (ta, tb) = (text(a), text(b));
                if ta != tb {
                    return Ok(Some(Difference {
                        key: format!("{ka:?}"),
                        live: ta,
                        rebuilt: tb,
                    }));
                }
                live.advance();
                rebuilt.advance();
            }
            (Some(ka), Some(kb)) if ka < kb => {
                return Ok(Some(Difference {
                    key: format!("{ka:?}"),
                    live: text(a),
                    rebuilt: None,
                }));
            }
            (Some(_), Some(kb)) | (None, Some(kb)) => {
                return Ok(Some(Difference {
                    key: format!("{kb:?}"),
                    live: None,
                    rebuilt: text(b),
                }));
            }
            (Some(ka), None) => {
                return Ok(Some(Difference {
                    key: format!("{ka:?}"),
                    live: text(a),
                    rebuilt: None,
                }));
            }
            (None, None) => return Ok(None),
        }
    }
}

struct Cursor<'c, R: ReadModelRow> {
    pages: KeyOrder<'c, R>,
    page: std::vec::IntoIter<R>,
    current: Option<R>,
    exhausted: bool,
}

impl<'c, R: ReadModelRow> Cursor<'c, R> {
    fn new(pages: KeyOrder<'c, R>) -> Self {
        Self {
            pages,
            page: Vec::new().into_iter(),
            current: None,
            exhausted: false,
        }
    }

    fn peek<C: Conn>(&mut self, conn: &mut C) -> Result<Option<&R>, StoreError> {
        if self.current.is_none() && !self.exhausted {
            if let Some(row) = self.page.next() {
                self.current = Some(row);
            } else {
                let page = self.pages.next_page(conn)?;
                if page.is_empty() {
                    self.exhausted = true;
                } else {
                    self.page = page.into_iter();
                    self.current = self.page.next();
                }
            }
        }
        Ok(self.current.as_ref())
    }

    fn advance(&mut self) {
        self.current = None;
    }
}
