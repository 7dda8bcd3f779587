//! The pass's connection, on a thread of its own: the applying thread hands it rows and
//! checkpoints to write as jobs and goes on applying the next events while they are
//! written.
//!
//! Jobs run one at a time in the order they were queued, so each sees the database as the
//! one-thread engine would have at that point: a load queued after a write reads it, and
//! a flush's rows and checkpoints still commit in one transaction. The first job that
//! fails stops the thread; its error is the pass's, and the transaction it was in is
//! rolled back by the pass.
//!
//! A load of rows a cache no longer holds need not wait for the queue: those rows were
//! written by a flush before the last one queued (a cache drops only rows absorbed
//! before its newest flush), so once the writing thread has committed that flush, the
//! applying thread reads them on a read connection of its own ([`WriteQueue::read`]).
//! Waiting for every queued write instead stalled the pipeline once per load.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use super::super::error::ReplayError;
use super::in_flight::RowsInFlight;
use super::stages::{self, Stage};
use crate::store::{DatabaseUrl, Store};

/// Which lane failed (none: the reading or a flush), and why.
pub(super) type Failure = (Option<usize>, ReplayError);

/// Jobs queued ahead of the writing thread: enough to keep it busy while the applying
/// thread works on the next batches (a read batch queues a job per timeline model) and to
/// keep the applying thread busy through a commit's checkpoint; the rows they hold are
/// bounded by [`ROWS_IN_FLIGHT`].
const JOBS_IN_FLIGHT: usize = 256;

/// Rows the queued jobs may hold together. A 10M-event rebuild of the 19 LifeOS models on
/// SQLite, against 16 jobs and no row bound: 60.5 s instead of 68.3 s, peak 88 MiB
/// instead of 96 (with the smaller caches beside it); 100,000 rows took 57.3 s at 97.6 MiB.
const ROWS_IN_FLIGHT: u64 = 60_000;

/// Work for the writing thread, with the lane it is for (for the error).
type Job<'s> = Box<dyn FnOnce(&mut Store) -> Result<(), Failure> + Send + 's>;

/// The applying thread's end of the writing thread.
pub(super) struct Writer<'s> {
    jobs: SyncSender<Job<'s>>,
    /// The rows queued jobs hold.
    in_flight: Arc<RowsInFlight>,
    /// Flushes queued so far.
    flushes: Cell<u64>,
    /// Flushes the writing thread has committed.
    committed: Arc<AtomicU64>,
    /// Where the applying thread's own read connection comes from, and the connection,
    /// opened at its first use (`Some(None)`: it could not be; reads wait for the queue).
    url: DatabaseUrl,
    reader: RefCell<Option<Option<Store>>>,
}

/// The writing thread's end of the queue.
pub(super) struct Jobs<'s> {
    queue: Receiver<Job<'s>>,
    in_flight: Arc<RowsInFlight>,
}

/// What the writing thread runs: every job, in order, until the first that fails.
pub(super) fn serve(store: &mut Store, jobs: Jobs<'_>) -> Result<(), Failure> {
    /// However the thread ends (a failed job, a panic), nobody waits for room any more.
    struct Closing(Arc<RowsInFlight>);
    impl Drop for Closing {
        fn drop(&mut self) {
            self.0.close();
        }
    }
    let _closing = Closing(jobs.in_flight);
    for job in jobs.queue {
        stages::timed(Stage::Write, || job(store))?;
    }
    Ok(())
}

impl<'s> Writer<'s> {
    /// A writer and the queue for [`serve`]; `url` opens the applying thread's read
    /// connection.
    pub(super) fn new(url: &DatabaseUrl) -> (Self, Jobs<'s>) {
        Self::bounded(url, ROWS_IN_FLIGHT)
    }

    /// [`Writer::new`] with queued jobs holding at most `rows` rows together.
    fn bounded(url: &DatabaseUrl, rows: u64) -> (Self, Jobs<'s>) {
        let (jobs, queue) = sync_channel(JOBS_IN_FLIGHT);
        let in_flight = RowsInFlight::new(rows);
        let writer = Writer {
            jobs,
            in_flight: Arc::clone(&in_flight),
            flushes: Cell::new(0),
            committed: Arc::new(AtomicU64::new(0)),
            url: url.clone(),
            reader: RefCell::new(None),
        };
        (writer, Jobs { queue, in_flight })
    }

    /// Counts a flush whose commit is about to be queued; returns what the writing thread
    /// calls once it has committed it (see [`WriteQueue::read`]).
    pub(super) fn flush_queued(&self) -> impl FnOnce() + Send + 'static {
        let number = self.flushes.get() + 1;
        self.flushes.set(number);
        let committed = Arc::clone(&self.committed);
        move || committed.store(number, Ordering::Release)
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
        stages::timed(Stage::WaitForWriter, || self.send(job))
    }

    /// [`WriteQueue::queue`] for a job that holds `rows` rows: first waits, if need be,
    /// until the jobs already queued hold few enough rows for these too. Both waits are
    /// one wait for the writer.
    pub fn queue_rows(
        &self,
        rows: u64,
        job: impl FnOnce(&mut Store) -> Result<(), ReplayError> + Send + 's,
    ) -> Result<(), ReplayError> {
        stages::timed(Stage::WaitForWriter, || {
            let reservation = self.writer.in_flight.reserve(rows);
            self.send(move |store| {
                // Held until the job has run and dropped its rows.
                let _held = reservation;
                job(store)
            })
        })
    }

    /// Hands `job` to the writing thread, waiting for a slot in its queue.
    fn send(
        &self,
        job: impl FnOnce(&mut Store) -> Result<(), ReplayError> + Send + 's,
    ) -> Result<(), ReplayError> {
        let lane = self.lane;
        let job: Job<'s> =
            Box::new(move |store: &mut Store| job(store).map_err(|error| (lane, error)));
        self.writer.jobs.send(job).map_err(|_| stopped())
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

    /// Runs `read`, a load of rows a cache no longer holds, on the applying thread's own
    /// read connection once every flush but the last one queued has committed (those
    /// rows were written before the last flush); otherwise, or without that connection,
    /// behind the queued jobs, as [`WriteQueue::call`] does.
    pub fn read<T: Send + 's>(
        &self,
        read: impl FnOnce(&mut Store) -> Result<T, ReplayError> + Send + 's,
    ) -> Result<T, ReplayError> {
        let writer = self.writer;
        let settled = writer.committed.load(Ordering::Acquire) + 1 >= writer.flushes.get();
        if settled {
            let mut reader = writer.reader.borrow_mut();
            let reader = reader.get_or_insert_with(|| Store::open_row_loader(&writer.url).ok());
            if let Some(store) = reader.as_mut() {
                return read(store);
            }
        }
        self.call(read)
    }
}

fn stopped() -> ReplayError {
    ReplayError::WriterStopped {
        reason: "an earlier write failed".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::BigInt;
    use diesel::{sql_query, QueryableByName, RunQueryDsl};

    use super::*;
    use crate::store::{test_store, StoreError};

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn sqlite(store: &mut Store) -> &mut diesel::SqliteConnection {
        match store {
            Store::Sqlite(conn) => conn,
            Store::Postgres(_) => panic!("the test opened SQLite"),
        }
    }

    fn notes(store: &mut Store) -> Result<i64, ReplayError> {
        let count = sql_query("SELECT COUNT(*) AS n FROM readmodels.notes")
            .get_result::<Count>(sqlite(store))
            .map_err(StoreError::query("counting notes"))?;
        Ok(count.n)
    }

    /// A row written by a flush that has not committed is read through the queue (on the
    /// writing connection, inside its transaction), never missed on another connection;
    /// once the flush before the last has committed, the read bypasses the queue.
    #[test]
    fn a_load_bypasses_the_queue_only_once_the_flush_before_the_last_has_committed() {
        let (mut store, url, _dir) = test_store::sqlite();
        sql_query("CREATE TABLE readmodels.notes (n INTEGER NOT NULL)")
            .execute(sqlite(&mut store))
            .expect("the table");
        let (writer, jobs) = Writer::new(&url);
        std::thread::scope(|scope| {
            let store = &mut store;
            let serving = scope.spawn(move || serve(store, jobs));
            let db = writer.for_lane(None);
            db.queue(|store| {
                store.begin("a flush")?;
                sql_query("INSERT INTO readmodels.notes (n) VALUES (1)")
                    .execute(sqlite(store))
                    .map_err(StoreError::query("a note"))?;
                Ok(())
            })
            .expect("queued");
            let first = writer.flush_queued();
            let _second = writer.flush_queued();
            assert_eq!(db.read(notes).expect("a read"), 1, "read in the open flush");
            assert!(
                writer.reader.borrow().is_none(),
                "no read went around the queue"
            );
            db.call(|store| Ok(store.commit("a flush")?))
                .expect("committed");
            first();
            assert_eq!(db.read(notes).expect("a read"), 1, "read once committed");
            assert!(
                writer.reader.borrow().as_ref().is_some_and(Option::is_some),
                "the read went around the queue"
            );
            drop(writer);
            let served = serving.join().expect("the writing thread");
            assert!(served.is_ok(), "every job ran");
        });
    }

    /// A lane waiting for room in the queue when the writing thread fails is told that
    /// the writer stopped, instead of waiting for rows that will never be written.
    #[test]
    fn a_lane_waiting_for_room_hears_that_the_writer_stopped() {
        let (mut store, url, _dir) = test_store::sqlite();
        let (writer, jobs) = Writer::bounded(&url, 10);
        // Rows held outside the queue: only the writing thread's end frees the wait.
        let held = writer.in_flight.reserve(10);
        let started = std::time::Instant::now();
        std::thread::scope(|scope| {
            let store = &mut store;
            let serving = scope.spawn(move || serve(store, jobs));
            // Had nothing woken the wait, the rows are let go after a while, so that the
            // test fails instead of hanging.
            let (waited_out, give_up) = std::sync::mpsc::channel::<()>();
            scope.spawn(move || {
                let _ = give_up.recv_timeout(std::time::Duration::from_secs(5));
                drop(held);
            });
            let db = writer.for_lane(Some(3));
            db.queue(|_| {
                Err(ReplayError::WriterStopped {
                    reason: "the disk is full".to_owned(),
                })
            })
            .expect("queued");
            let waited = db.queue_rows(1, |_| Ok(()));
            let _ = waited_out.send(());
            assert!(
                started.elapsed() < std::time::Duration::from_secs(4),
                "the wait ended with the writing thread"
            );
            assert!(
                matches!(&waited, Err(ReplayError::WriterStopped { reason }) if reason == "an earlier write failed"),
                "{waited:?}"
            );
            drop(writer);
            let served = serving.join().expect("the writing thread");
            assert!(
                matches!(&served, Err((Some(3), ReplayError::WriterStopped { reason })) if reason == "the disk is full"),
                "{served:?}"
            );
        });
    }
}
