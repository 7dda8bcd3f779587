//! The checksums a pass's runs end with, computed on several connections at once: reading
//! back every row of every model is a tenth of a full rebuild, and the models' tables are
//! independent.

use std::sync::Mutex;

use super::lane::{ChecksumJob, Lane};
use crate::store::{DatabaseUrl, Store};

/// Connections reading at once, at most.
const READERS: usize = 4;

/// Gives each lane that has one its checksum ([`Lane::checksummed`]), computed on up to
/// [`READERS`] connections of their own, one per available core. A checksum that cannot
/// be computed this way is left to the lane's `finish`, on the main connection, which
/// reports its error.
pub(super) fn compute(url: &DatabaseUrl, lanes: &mut [Box<dyn Lane>]) {
    let jobs: Vec<(usize, ChecksumJob)> = lanes
        .iter()
        .enumerate()
        .filter_map(|(i, lane)| lane.checksum_job().map(|job| (i, job)))
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let readers = READERS.min(cores).min(jobs.len());
    if readers < 2 {
        return;
    }
    let queue = Mutex::new(jobs);
    let done = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..readers {
            scope.spawn(|| {
                let Ok(mut store) = Store::open_row_reader(url) else {
                    return;
                };
                // A poisoned lock means another reader panicked: leave the rest to `finish`.
                while let Some((i, job)) = queue.lock().ok().and_then(|mut jobs| jobs.pop()) {
                    if let Ok(digest) = job(&mut store) {
                        if let Ok(mut done) = done.lock() {
                            done.push((i, digest));
                        }
                    }
                }
            });
        }
    });
    for (i, digest) in done.into_inner().unwrap_or_default() {
        lanes[i].checksummed(digest);
    }
}
