//! Stopping on request: a flag that SIGTERM or SIGINT sets instead of killing the process,
//! which a long-running pass (`replay follow`, `replay worker`) checks after each read
//! batch to write what it applied, record its runs as `stopped` and return.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A shared "please stop" flag: cheap to clone, every clone sees the same flag.
#[derive(Debug, Clone, Default)]
pub struct StopFlag {
    stop: Arc<AtomicBool>,
    /// The number of the signal that set it (0: none did).
    signal: Arc<AtomicUsize>,
}

/// The exit code of a process that a second SIGTERM/SIGINT ended at once (128 + SIGTERM,
/// what a shell reports for a process killed by it).
pub const SECOND_SIGNAL_EXIT: i32 = 143;

impl StopFlag {
    /// A flag nobody has set; only [`StopFlag::set`] sets it.
    pub fn new() -> Self {
        StopFlag::default()
    }

    /// A flag that SIGTERM and SIGINT set (the signal no longer kills the process). A
    /// second signal, once the flag is set, exits at once with [`SECOND_SIGNAL_EXIT`]:
    /// an operator who insists is not kept waiting for the current batch. Call it once
    /// per process; each call registers its own handlers.
    pub fn on_signals() -> std::io::Result<Self> {
        Self::registered(true)
    }

    /// A flag that SIGTERM and SIGINT set, however often they come: for an append, which
    /// must say whether it committed before it exits (a process ended by a second signal
    /// during or after the commit would leave that unsaid). It checks the flag at least
    /// every 10,000 events.
    pub fn on_signals_until_reported() -> std::io::Result<Self> {
        Self::registered(false)
    }

    fn registered(second_signal_exits: bool) -> std::io::Result<Self> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let flag = StopFlag::new();
        for signal in [SIGTERM, SIGINT] {
            if second_signal_exits {
                // Registered first, so that it sees the flag as the previous signal left it.
                signal_hook::flag::register_conditional_shutdown(
                    signal,
                    SECOND_SIGNAL_EXIT,
                    Arc::clone(&flag.stop),
                )?;
            }
            // Before the flag, so that whoever sees the flag set can read the signal.
            signal_hook::flag::register_usize(
                signal,
                Arc::clone(&flag.signal),
                usize::try_from(signal).unwrap_or(0),
            )?;
            signal_hook::flag::register(signal, Arc::clone(&flag.stop))?;
        }
        Ok(flag)
    }

    /// Asks whoever checks the flag to stop.
    pub fn set(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether stopping was asked for.
    pub fn is_set(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The signal that set the flag (`SIGINT` is 2, `SIGTERM` 15), if a signal did.
    pub fn signal(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            n => i32::try_from(n).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StopFlag;

    #[test]
    fn every_clone_sees_the_flag_set_through_another() {
        let flag = StopFlag::new();
        let clone = flag.clone();
        assert!(!clone.is_set());
        flag.set();
        assert!(clone.is_set());
        assert!(!StopFlag::new().is_set(), "a new flag is its own");
    }
}
