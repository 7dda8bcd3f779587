//! Waiting for the log to grow, for passes that follow it (`replay follow`, `replay
//! worker`).
//!
//! PostgreSQL: a runtime migration makes every statement appending to `event_record`
//! notify channel [`CHANNEL`] when its transaction commits; the watcher LISTENs on a
//! connection of its own and looks at the notifications that have arrived every
//! [`NOTIFICATION_TICK`] (no round trip: it reads what the socket already holds). A
//! notification can be missed (the connection dropped and came back, the trigger was
//! disabled), so the head is also read every poll interval: a missed notification costs
//! at most that. SQLite has no notifications: the head is read every poll interval.
//!
//! The watcher only says that *something* above an id has been committed; readers still
//! read no further than the settled head (`Conn::settled_head`), which is what keeps
//! following gap-safe on PostgreSQL.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;

use crate::store::{DatabaseUrl, Store, StoreError};

/// The channel the insert trigger on `event_record` notifies.
pub const CHANNEL: &str = "readmodel_event_record";

/// How often a PostgreSQL watcher looks at the notifications received.
pub const NOTIFICATION_TICK: Duration = Duration::from_millis(25);

/// The poll interval when none is given (`--poll-seconds`).
pub const DEFAULT_POLL: Duration = Duration::from_secs(1);

/// Watches `event_record` for events above an id, on a connection of its own.
pub struct LogWatcher {
    conn: Store,
    poll: Duration,
    last_poll: Option<Instant>,
}

impl std::fmt::Debug for LogWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWatcher")
            .field("backend", &self.conn.backend_name())
            .field("poll", &self.poll)
            .finish()
    }
}

impl LogWatcher {
    /// Opens the watcher's connection to the database at `url` (on PostgreSQL it starts
    /// listening at once, so open it *before* reading the head you will wait beyond);
    /// `poll` is how often the head is read regardless of notifications.
    pub fn open(url: &DatabaseUrl, poll: Duration) -> Result<Self, StoreError> {
        let mut conn = Store::open_log_reader(url)?;
        if let Store::Postgres(pg) = &mut conn {
            diesel::sql_query(format!("LISTEN {CHANNEL}"))
                .execute(pg)
                .map_err(StoreError::query("listening for new events"))?;
        }
        Ok(LogWatcher {
            conn,
            poll: poll.max(Duration::from_millis(1)),
            last_poll: None,
        })
    }

    /// How often the head is read regardless of notifications.
    pub fn poll_interval(&self) -> Duration {
        self.poll
    }

    /// Waits until an event with an id above `id` is committed (`Ok(true)`) or until
    /// `deadline` (`Ok(false)`). The first call reads the head at once. Callers that must
    /// react to something else (a stop flag) pass a near deadline and call again.
    pub fn wait_for_events_after(
        &mut self,
        id: i64,
        deadline: Instant,
    ) -> Result<bool, StoreError> {
        loop {
            let now = Instant::now();
            let poll_due = self.last_poll.is_none_or(|last| now >= last + self.poll);
            if self.notified()? || poll_due {
                self.last_poll = Some(now);
                let head = self.conn.log_head()?;
                // Reading the head is the follower's heartbeat while the log is quiet.
                crate::metrics::beat();
                if head > id {
                    return Ok(true);
                }
            }
            if now >= deadline {
                return Ok(false);
            }
            let next_poll = self.last_poll.map_or(now, |last| last + self.poll);
            let mut wake = deadline.min(next_poll);
            if matches!(self.conn, Store::Postgres(_)) {
                wake = wake.min(now + NOTIFICATION_TICK);
            }
            std::thread::sleep(wake.saturating_duration_since(now));
        }
    }

    /// Whether any notification has arrived since the last look (all are consumed: one
    /// head read answers them all).
    fn notified(&mut self) -> Result<bool, StoreError> {
        let Store::Postgres(pg) = &mut self.conn else {
            return Ok(false);
        };
        let mut any = false;
        for notification in pg.notifications_iter() {
            notification.map_err(StoreError::query("receiving notifications of new events"))?;
            any = true;
        }
        Ok(any)
    }
}
