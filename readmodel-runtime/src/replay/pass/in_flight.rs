//! The rows held by jobs queued ahead of the writing thread, bounded. A count of jobs
//! alone bounds them badly: a job may hold one row or a whole flush's, and a queue deep
//! enough to keep the applying thread busy through a slow commit (a checkpoint's fsync)
//! holds too many rows when its jobs are large.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// Rows that queued jobs may hold together, shared by the applying thread (which
/// reserves before queuing) and the writing thread (whose jobs release once run).
pub(super) struct RowsInFlight {
    limit: u64,
    held: Mutex<Held>,
    freed: Condvar,
}

#[derive(Default)]
struct Held {
    rows: u64,
    /// The writing thread has stopped: nothing queued will run, so nobody waits.
    closed: bool,
}

/// Rows reserved for one queued job, released when it is dropped (once the job has run,
/// or been discarded with the queue).
pub(super) struct Reservation {
    rows: u64,
    in_flight: Arc<RowsInFlight>,
}

impl RowsInFlight {
    /// A bound of `limit` rows.
    pub(super) fn new(limit: u64) -> Arc<Self> {
        Arc::new(RowsInFlight {
            limit,
            held: Mutex::new(Held::default()),
            freed: Condvar::new(),
        })
    }

    /// Waits until `rows` more fit under the bound, then holds them. A job larger than
    /// the bound waits for the queue to hold no rows at all and then goes alone; after
    /// [`RowsInFlight::close`] nothing waits.
    pub(super) fn reserve(self: &Arc<Self>, rows: u64) -> Reservation {
        let mut held = self.lock();
        while held.rows > 0 && held.rows + rows > self.limit && !held.closed {
            held = self
                .freed
                .wait(held)
                .unwrap_or_else(PoisonError::into_inner);
        }
        held.rows += rows;
        Reservation {
            rows,
            in_flight: Arc::clone(self),
        }
    }

    /// The writing thread has stopped: wakes whoever waits, and lets every later
    /// reservation through (its job's queuing fails instead).
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.freed.notify_all();
    }

    /// Rows held now.
    #[cfg(test)]
    pub(super) fn held(&self) -> u64 {
        self.lock().rows
    }

    fn lock(&self) -> MutexGuard<'_, Held> {
        // A panic while holding the lock leaves a plain count behind, still usable.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut held = self.in_flight.lock();
        held.rows -= self.rows;
        drop(held);
        self.in_flight.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{self, Receiver};
    use std::time::Duration;

    use super::*;

    /// Reserves `rows` on another thread; the receiver hears once the reservation is held.
    fn reserve_behind<'s>(
        scope: &'s std::thread::Scope<'s, '_>,
        in_flight: &'s Arc<RowsInFlight>,
        rows: u64,
    ) -> Receiver<Reservation> {
        let (done, held) = mpsc::channel();
        scope.spawn(move || {
            let _ = done.send(in_flight.reserve(rows));
        });
        held
    }

    fn waiting(held: &Receiver<Reservation>) -> bool {
        held.recv_timeout(Duration::from_millis(200)).is_err()
    }

    /// A reservation of `rows` waits while `blocking` is held and goes once it is
    /// dropped, after which `then_held` rows are held in all.
    fn waits_for(in_flight: &Arc<RowsInFlight>, rows: u64, blocking: Reservation, then_held: u64) {
        std::thread::scope(|scope| {
            let reserved = reserve_behind(scope, in_flight, rows);
            assert!(waiting(&reserved), "{rows} rows wait");
            drop(blocking);
            let Ok(reserved) = reserved.recv_timeout(Duration::from_secs(5)) else {
                // Let the waiting thread go, so that the test fails instead of hanging.
                in_flight.close();
                panic!("{rows} rows still wait once released");
            };
            assert_eq!(in_flight.held(), then_held);
            drop(reserved);
        });
    }

    #[test]
    fn a_reservation_past_the_bound_waits_until_enough_rows_are_released() {
        let in_flight = RowsInFlight::new(10);
        let first = in_flight.reserve(6);
        let second = in_flight.reserve(4);
        assert_eq!(in_flight.held(), 10);
        // 13 rows do not fit under 10; 6 + 3 do.
        waits_for(&in_flight, 3, second, 9);
        drop(first);
        assert_eq!(in_flight.held(), 0);
    }

    #[test]
    fn a_job_larger_than_the_bound_goes_alone_once_nothing_is_held() {
        let in_flight = RowsInFlight::new(10);
        let small = in_flight.reserve(1);
        waits_for(&in_flight, 50, small, 50);
        assert_eq!(in_flight.held(), 0);
    }

    #[test]
    fn closing_wakes_a_waiting_reservation() {
        let in_flight = RowsInFlight::new(10);
        let _held = in_flight.reserve(10);
        std::thread::scope(|scope| {
            let more = reserve_behind(scope, &in_flight, 1);
            assert!(waiting(&more));
            in_flight.close();
            more.recv()
                .expect("a closed bound lets every reservation through");
        });
    }
}
