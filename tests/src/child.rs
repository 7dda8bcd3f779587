//! A `replay` process the test runs alongside itself: started with its own environment,
//! observed while it waits, signalled, and finished into a [`Run`].

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Run;

/// How long a test waits for a condition it knows will come (a commit, a lock wait)
/// before failing: far beyond what it takes, so only a real hang fails.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// Starts `bin --database-url url --quiet ARGS` with `env` added, its output captured.
pub fn spawn(bin: &Path, url: &str, args: &[&str], env: &[(&str, &str)]) -> Child {
    Command::new(bin)
        .arg("--database-url")
        .arg(url)
        .arg("--quiet")
        .args(args)
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the replay binary starts")
}

/// Waits for `child` to end and returns what it printed.
pub fn finish(child: Child) -> Run {
    let out = child.wait_with_output().expect("the child's output");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Sends `signal` (`INT`, `TERM`) to `child`.
pub fn signal(child: &Child, signal: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "SIG{signal} could not be sent");
}

/// Waits until `ready` holds, polling; panics naming `what` after [`PATIENCE`].
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < PATIENCE,
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Whether `child` has exited (it is not reaped: [`finish`] still reads its output).
pub fn exited(child: &mut Child) -> bool {
    child.try_wait().expect("try_wait").is_some()
}

/// Whether `child`'s main thread sleeps in `nanosleep`: SQLite's busy handler waiting
/// for another connection's lock (nothing else in `replay` sleeps). Linux's
/// `/proc/PID/wchan` names the kernel function a task waits in.
pub fn sleeping(child: &Child) -> bool {
    std::fs::read_to_string(format!("/proc/{}/wchan", child.id()))
        .is_ok_and(|wchan| wchan.contains("nanosleep"))
}

/// Whether `child` is stopped (SIGSTOP, by a pause point: state `T` in `/proc/PID/stat`).
pub fn stopped(child: &Child) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap_or_default();
    // The state follows the command name, which is in parentheses.
    stat.rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
}

/// Starts `replay ARGS` against `url` with the pause point `point` (e.g. `flushed@3`), and
/// waits until it is stopped there; panics with its stderr if it ends first.
pub fn spawn_stopped_at(bin: &Path, url: &str, args: &[&str], point: &str) -> Child {
    let mut run = spawn(
        bin,
        url,
        args,
        &[(readmodel_runtime::pause::PAUSE_VAR, point)],
    );
    wait_until("the run stops at its pause point", || {
        stopped(&run) || exited(&mut run)
    });
    if !stopped(&run) {
        let out = finish(run);
        panic!("the run ended before {point}: {}", out.stderr);
    }
    run
}
