//! Handlers are user code: a panic in one (an overflow on a huge imported amount, an
//! `unwrap`) must fail the run with one line naming the event, not abort the process with
//! a backtrace and leave the run marked `running`. The batch's transaction then rolls
//! back, so nothing of it is written.

use std::cell::Cell;
use std::sync::Once;

thread_local! {
    static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
}

static QUIET_HOOK: Once = Once::new();

/// Runs a handler with its panic caught and the default panic message silenced (the run
/// reports it instead, naming the event).
pub(crate) fn catch<T>(handler: impl FnOnce() -> T) -> std::thread::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(handler)))
}

/// Runs a handler with the default panic message silenced.
fn run<T>(handler: impl FnOnce() -> T) -> T {
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_HANDLER.with(Cell::get) {
                previous(info);
            }
        }));
    });
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_HANDLER.with(|flag| flag.set(false));
        }
    }
    IN_HANDLER.with(|flag| flag.set(true));
    let _reset = Reset;
    handler()
}

/// The text of a panic payload.
pub(crate) fn message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}
