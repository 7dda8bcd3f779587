//! Steering a pass from outside: asking it to stop, and having it follow the log instead
//! of ending at the head it started with. Kept apart from [`Plan`](super::Plan), which is
//! recorded with each run and must stay serialisable.

use crate::stop::StopFlag;
use crate::watch::LogWatcher;

/// How a pass ([`run_models_with`](crate::run_models_with)) is steered while it runs.
///
/// The default neither follows nor is ever stopped: the pass of `replay run`.
#[derive(Debug, Default)]
pub struct Control {
    /// Checked after each read batch (and while waiting for new events): once set, the
    /// pass writes what it applied (rows and checkpoints, one transaction), records every
    /// model's run as `stopped` and returns their reports.
    pub stop: StopFlag,
    /// Follow the log: after reaching the settled head, write what was applied, wait for
    /// this watcher to see new events, take the new settled head as every model's bound
    /// and go on, until [`Control::stop`] is set. One run per model for the whole session.
    /// `None`: end at the settled head taken when the pass started.
    pub follow: Option<LogWatcher>,
}

impl Control {
    /// A pass that follows the log with `watcher` until `stop` is set.
    pub fn following(watcher: LogWatcher, stop: StopFlag) -> Self {
        Control {
            stop,
            follow: Some(watcher),
        }
    }
}
