//! `/healthz`'s verdict: healthy while the command is following, its last flush or
//! heartbeat is recent, and its database answers.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Whether the process is healthy, and if not, why (one line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Following, recently active, the database answering.
    Healthy,
    /// Not: the reason.
    Unhealthy(String),
}

#[derive(Debug)]
struct State {
    following: bool,
    last_beat: Option<Instant>,
    /// Why the sampler's connection fails, if it does.
    sampled: Option<String>,
    /// Why the engine cannot reach the database, if it cannot.
    engine: Option<String>,
}

/// The health state, fed by the engine's beats and the sampler.
#[derive(Debug)]
pub(super) struct Health {
    stale_after: Duration,
    state: Mutex<State>,
}

impl Health {
    pub(super) fn new(stale_after: Duration) -> Self {
        Health {
            stale_after,
            state: Mutex::new(State {
                following: false,
                last_beat: None,
                sampled: None,
                engine: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn beat(&self) {
        let mut state = self.state();
        state.last_beat = Some(Instant::now());
        state.engine = None;
    }

    pub(super) fn set_following(&self, following: bool) {
        self.state().following = following;
    }

    pub(super) fn engine_database(&self, reason: Option<String>) {
        self.state().engine = reason;
    }

    pub(super) fn sampled(&self, reason: Option<String>) {
        self.state().sampled = reason;
    }

    pub(super) fn verdict(&self) -> Verdict {
        let state = self.state();
        let reason = if !state.following {
            Some("not following: the command is starting or has ended".to_owned())
        } else if let Some(reason) = state.engine.as_ref().or(state.sampled.as_ref()) {
            Some(format!("database unreachable: {reason}"))
        } else {
            match state.last_beat.map(|at| at.elapsed()) {
                None => Some("no flush or heartbeat yet".to_owned()),
                Some(age) if age > self.stale_after => Some(format!(
                    "no flush or heartbeat for {:.1}s (more than {:.1}s)",
                    age.as_secs_f64(),
                    self.stale_after.as_secs_f64()
                )),
                Some(_) => None,
            }
        };
        match reason {
            None => Verdict::Healthy,
            Some(reason) => Verdict::Unhealthy(reason.replace('\n', " ")),
        }
    }
}
