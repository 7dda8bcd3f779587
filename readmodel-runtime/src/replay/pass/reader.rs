//! The reading side of a pass: its own connection reads the log in id order and hands
//! batches to the applying side through a bounded channel, so that the database reads
//! the next batch while the handlers apply the current one.

use std::sync::mpsc::SyncSender;

use super::super::ReplayError;
use crate::event::StoredEvent;
use crate::source;
use crate::store::{with_conn, DatabaseUrl, Store};

/// Events read in one go, and how far the log has been read.
pub(super) struct Chunk {
    /// The events, in id order, of the pass's types.
    pub(super) events: Vec<StoredEvent>,
    /// Every event of the pass's types up to this id is in this chunk or an earlier one.
    pub(super) through: i64,
}

/// What the reader reads.
pub(super) struct Span<'a> {
    /// The event types any model of the pass consumes.
    pub(super) types: &'a [&'static str],
    /// Events after this id…
    pub(super) after: i64,
    /// …up to this one.
    pub(super) to: i64,
    /// Events per chunk.
    pub(super) batch_size: usize,
}

/// Reads `span` into `chunks` until the end or until the receiver hangs up; a failure is
/// sent as the last message.
pub(super) fn read(
    url: &DatabaseUrl,
    span: &Span<'_>,
    chunks: SyncSender<Result<Chunk, ReplayError>>,
) {
    let mut store = match Store::open_log_reader(url) {
        Ok(store) => store,
        Err(error) => {
            let _ = chunks.send(Err(error.into()));
            return;
        }
    };
    let mut after = span.after;
    while after < span.to {
        let read = with_conn!(&mut store, |c| source::next_of_types(
            c,
            span.types,
            after,
            span.to,
            span.batch_size
        ));
        let events = match read {
            Ok(events) => events,
            Err(error) => {
                let _ = chunks.send(Err(error.into()));
                return;
            }
        };
        let through = match events.last() {
            Some(last) if events.len() >= span.batch_size => last.id,
            _ => span.to,
        };
        after = through;
        if chunks.send(Ok(Chunk { events, through })).is_err() {
            return;
        }
    }
}
