//! Errors of running workers.

use crate::replay::ReplayError;

/// Why `run --workers N` or a worker failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkersError {
    /// A worker's thread panicked (a bug: handlers' panics are caught and reported as
    /// [`ReplayError::HandlerPanicked`]); the other workers stopped at their next pass,
    /// and every model's run is recorded as failed.
    #[error("worker {worker} panicked: {message}; the other workers stopped, every model's rows are at their last flush (`replay run --all` catches up)")]
    WorkerPanicked {
        /// The worker (`host:pid:thread`).
        worker: String,
        /// The panic's message.
        message: String,
    },
    /// A replay failed in a worker.
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

impl From<crate::store::StoreError> for WorkersError {
    fn from(error: crate::store::StoreError) -> Self {
        WorkersError::Replay(error.into())
    }
}
