//! The pass's connection, on a thread of its own: the applying thread hands it rows and
//! checkpoints to write as jobs and goes on applying the next events while they are
//! written.
//!
//! Jobs run one at a time in the order they were queued, so each sees the database as the
//! one-thread engine would have at that point: a load queued after a write reads it, and
//! a flush's rows and checkpoints still commit in one transaction. The first job that
//! fails stops the thread; its error is the pass's, and the transaction it was in is
//! rolled back by the pass.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::super::error::ReplayError;
use crate::store::Store;

/// Which lane failed (none: the reading or a flush), and why.
pub(super) type Failure = (Option<usize>, ReplayError);

/// Jobs queued ahead of the writing thread: enough to keep it busy while the applying
/// thread works on the next batch (a read batch queues a job per timeline model), few
/// enough that the rows they hold stay small (64 cost 8 MiB more peak RSS than 16 over
/// 1M events, for no measurable speed).
const JOBS_IN_FLIGHT: usize = 16;

/// Work for the writing thread, with the lane it is for (for the error).
type Job<'s> = Box<dyn FnOnce(&mut Store) -> Result<(), Failure> + Send + 's>;

/// The applying thread's end of the writing thread.
pub(super) struct Writer<'s> {
    jobs: SyncSender<Job<'s>>,
}

/// What the writing thread runs: every job, in order, until the first that fails.
pub(super) fn serve(store: &mut Store, jobs: Receiver<Job<'_>>) -> Result<(), Failure> {
    for job in jobs {
        job(store)?;
    }
    Ok(())
}

impl<'s> Writer<'s> {
    /// A writer and the queue for [`serve`].
    pub(super) fn new() -> (Self, Receiver<Job<'s>>) {
        let (jobs, queue) = sync_channel(JOBS_IN_FLIGHT);
        (Writer { jobs }, queue)
    }

    /// The writer as seen by lane `lane` (`None`: the pass itself), whose jobs' errors
    /// name it.
    pub(super) fn for_lane(&self, lane: Option<usize>) -> WriteQueue<'_, 's> {
        WriteQueue { writer: self, lane }
    }
}

/// A lane's handle on the pass's connection: [`WriteQueue::queue`] writes behind the applying
/// thread, [`WriteQueue::call`] waits for a result.
#[doc(hidden)]
pub struct WriteQueue<'w, 's> {
    writer: &'w Writer<'s>,
    lane: Option<usize>,
}

impl<'s> WriteQueue<'_, 's> {
    /// Runs `job` after every job queued before it, without waiting for it. An error
    /// here means the writing thread has stopped; the pass reports the thread's own.
    pub fn queue(
        &self,
        job: impl FnOnce(&mut Store) -> Result<(), ReplayError> + Send + 's,
    ) -> Result<(), ReplayError> {
        let lane = self.lane;
        self.writer
            .jobs
            .send(Box::new(move |store: &mut Store| {
                job(store).map_err(|error| (lane, error))
            }))
            .map_err(|_| stopped())
    }

    /// Runs `job` after every job queued before it and returns its result. Its error is
    /// the caller's to report: the writing thread goes on.
    pub fn call<T: Send + 's>(
        &self,
        job: impl FnOnce(&mut Store) -> Result<T, ReplayError> + Send + 's,
    ) -> Result<T, ReplayError> {
        let (reply, answer) = sync_channel(1);
        self.writer
            .jobs
            .send(Box::new(move |store: &mut Store| {
                // The caller waits on `answer`; it cannot have gone.
                let _ = reply.send(job(store));
                Ok(())
            }))
            .map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }
}

fn stopped() -> ReplayError {
    ReplayError::WriterStopped {
        reason: "an earlier write failed".to_owned(),
    }
}
