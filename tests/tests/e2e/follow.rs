//! `replay follow`: one process keeps every model current while writers append, and
//! SIGTERM ends it cleanly (runs recorded `stopped`, rows and checkpoints consistent), on
//! both backends. The expected checksums come from a full rebuild of the same log.
//!
//! Run with `-- --nocapture` to see the figures ("followed N events from 8 writers …").

use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use readmodel_tests::writers::spawn_writers;
use readmodel_tests::{binary, on_both_backends, Db};

const CHECKINS: &str = "habits.checkins";

/// How long a test waits for something the follower must do before giving up.
const PATIENCE: Duration = Duration::from_secs(180);

on_both_backends!(
    following_while_8_writers_append_ends_with_the_checksums_of_a_full_rebuild,
    sigterm_mid_catch_up_leaves_rows_and_checkpoints_a_catch_up_completes,
    a_bad_event_at_the_head_stops_a_strict_follower_at_once_or_is_parked,
);

/// `replay follow` running as a child process.
pub(crate) struct Follower(Option<Child>);

impl Follower {
    pub(crate) fn start(db: &Db, args: &[&str]) -> Self {
        let child = Command::new(binary("replay-e2e"))
            .arg("--database-url")
            .arg(&db.url)
            .args(["--quiet", "--json", "follow"])
            .args(args)
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the replay binary starts");
        Follower(Some(child))
    }

    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("the follower runs")
    }

    /// Panics if the follower has exited (it should follow until told to stop).
    fn assert_running(&mut self) {
        if let Some(status) = self.child().try_wait().expect("try_wait") {
            panic!("follow exited on its own with {status}");
        }
    }

    /// Sends SIGTERM and waits (bounded) for the process to end.
    pub(crate) fn terminate(mut self) -> Output {
        self.assert_running();
        let sent = Command::new("kill")
            .args(["-TERM", &self.child().id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM could not be sent");
        let started = Instant::now();
        while self.child().try_wait().expect("try_wait").is_none() {
            if started.elapsed() > PATIENCE {
                panic!("follow did not end within {PATIENCE:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let child = self.0.take().expect("the follower runs");
        child.wait_with_output().expect("the follower's output")
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        // A failed assertion must not leave the process behind.
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `check` until it gives a value, at most [`PATIENCE`]; `what` names the wait.
fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "gave up after {PATIENCE:?} waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every registered model's name, checkpoint and latest run, as `status --json` shows them.
fn statuses(db: &Db) -> Vec<serde_json::Value> {
    match db.run(&["--json", "status"]).json() {
        serde_json::Value::Array(models) => models,
        other => panic!("status is not a list: {other}"),
    }
}

fn model_names(db: &Db) -> Vec<String> {
    statuses(db)
        .iter()
        .map(|s| s["model"].as_str().expect("a model name").to_owned())
        .collect()
}

/// The reports `follow --json` printed when it stopped, by model.
fn reports(output: &Output) -> Vec<serde_json::Value> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    match serde_json::from_str(&stdout).expect("follow prints its runs as JSON") {
        serde_json::Value::Array(runs) => runs,
        other => panic!("not a list of runs: {other}"),
    }
}

fn assert_stopped_cleanly(output: &Output, models: &[String]) -> Vec<serde_json::Value> {
    assert_eq!(
        output.status.code(),
        Some(0),
        "follow after SIGTERM: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let runs = reports(output);
    let named: Vec<&str> = runs
        .iter()
        .map(|r| r["model"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(named, models, "one run per model");
    for run in &runs {
        assert_eq!(run["status"], "stopped", "{run}");
    }
    runs
}

/// 8 writer threads append check-ins (on PostgreSQL their ids commit out of order) while
/// `replay follow --all` keeps up. While they write, `status` shows each model's one run
/// `running` with a checkpoint beyond the head the follower started at (it follows; it did
/// not just catch up once). After the writers stop and every checkpoint reaches the head,
/// SIGTERM: exit 0, every run `stopped` (the same runs as while following), and every
/// model's checksum equals that of a full rebuild of the same log.
fn following_while_8_writers_append_ends_with_the_checksums_of_a_full_rebuild(postgres: bool) {
    let db = Db::new(postgres);
    db.run(&[
        "generate", "--users", "12", "--events", "3000", "--seed", "1414",
    ])
    .ok();
    let models = model_names(&db);
    let start_head = db.head();
    let mut follower = Follower::start(&db, &["--all", "--poll-seconds", "0.3"]);

    let (stop, writers) = spawn_writers(&db.url, postgres, 8);
    let following = wait_for(
        "a checkpoint passes the starting head while the run is running",
        || {
            let now = statuses(&db);
            let checkins = now.iter().find(|s| s["model"] == CHECKINS)?;
            let past = checkins["checkpoint"]
                .as_i64()
                .is_some_and(|c| c > start_head);
            let running = checkins["runs"][0]["status"] == "running";
            (past && running).then_some(now)
        },
    );
    // Let the writers go on a while after that, so that several wake-ups follow.
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let committed: i64 = writers.into_iter().map(|w| w.join().expect("writer")).sum();
    follower.assert_running();
    let head = db.head();
    assert_eq!(
        db.log_length(),
        3000 + committed,
        "every committed event is in the log"
    );
    wait_for("every checkpoint reaches the head", || {
        let checkpoints = db.checkpoints(&models.iter().map(String::as_str).collect::<Vec<_>>());
        checkpoints.iter().all(|c| *c == Some(head)).then_some(())
    });

    let output = follower.terminate();
    let runs = assert_stopped_cleanly(&output, &models);
    for (run, seen) in runs.iter().zip(&following) {
        assert_eq!(
            run["run_id"], seen["runs"][0]["run_id"],
            "one run for the session: {run}"
        );
        assert_eq!(run["to"], head, "the run's bound followed the log: {run}");
    }
    for model in &models {
        assert_eq!(db.last_run(model)["status"], "stopped", "{model}");
    }
    let followed: Vec<String> = models.iter().map(|m| db.checksum(m)).collect();
    db.run(&["run", "--all", "--full"]).ok();
    let rebuilt: Vec<String> = models.iter().map(|m| db.checksum(m)).collect();
    for ((model, followed), rebuilt) in models.iter().zip(&followed).zip(&rebuilt) {
        assert_eq!(
            followed, rebuilt,
            "{model}: following differs from a full rebuild"
        );
    }
    println!(
        "follow on {}: followed {committed} events from 8 writers on top of {start_head} \
         (head {head}); {} models stopped cleanly, checksums equal to a full rebuild",
        db.backend(),
        models.len()
    );
}

/// SIGTERM while `follow` is still catching up a long log (a flush after every read
/// batch): exit 0, the runs `stopped` with their checkpoints short of the head, and a
/// plain catch-up (`run --all`) from there ends with the checksums of a full rebuild.
fn sigterm_mid_catch_up_leaves_rows_and_checkpoints_a_catch_up_completes(postgres: bool) {
    let db = Db::new(postgres);
    db.run(&[
        "generate", "--users", "30", "--events", "40000", "--seed", "1415",
    ])
    .ok();
    let models = model_names(&db);
    let names: Vec<&str> = models.iter().map(String::as_str).collect();
    let head = db.head();
    let follower = Follower::start(
        &db,
        &["--all", "--batch-size", "100", "--flush-seconds", "0"],
    );
    wait_for("the follower has flushed once", || {
        db.checkpoint(CHECKINS).filter(|c| *c > 0)
    });
    let output = follower.terminate();
    assert_stopped_cleanly(&output, &models);
    let stopped_at = db.checkpoints(&names);
    assert!(
        stopped_at.iter().any(|c| c.unwrap_or(0) < head),
        "SIGTERM came after the catch-up ended: the test proved nothing ({stopped_at:?} of {head})"
    );
    db.run(&["run", "--all"]).ok();
    let caught_up = db.checksums(&names);
    db.run(&["run", "--all", "--full"]).ok();
    assert_eq!(
        db.checksums(&names),
        caught_up,
        "a catch-up after SIGTERM differs from a full rebuild"
    );
    println!(
        "SIGTERM mid catch-up on {}: lowest checkpoint {:?} of {head}, catch-up = full rebuild",
        db.backend(),
        stopped_at.iter().flatten().min()
    );
}

impl Follower {
    /// Waits (at most [`PATIENCE`]) for the follower to exit on its own.
    fn exited(mut self) -> Output {
        wait_for("the follower exits", || {
            self.child().try_wait().expect("try_wait")
        });
        let child = self.0.take().expect("the follower ran");
        child.wait_with_output().expect("the follower's output")
    }
}

/// Imports, with `--unchecked`, a check-in missing its day (which no handler can apply)
/// and a good one after it: the bad event is the last but one of the log. Returns its id.
fn bad_event_at_the_head(db: &Db, n: u32) -> i64 {
    use readmodel_tests::events::{check_in_payload, event_line, stream, HABIT};
    let s = stream(n);
    let bad = format!(r#"{{"habit_id":"{HABIT}"}}"#);
    db.import_unchecked(
        &format!("bad-{n}.jsonl"),
        &[
            event_line(&s, 1, "habits.checked_in", 2, &bad),
            event_line(
                &s,
                2,
                "habits.checked_in",
                2,
                &check_in_payload(HABIT, "2026-03-03"),
            ),
        ],
    )
    .ok();
    db.head() - 1
}

/// A bad event reaching a caught-up follower (strict, the default) stops it at once with
/// the usual line naming the event, exit 1; it used to wait, silent, until another event
/// arrived (its reader waited for the log to grow before it saw that the applying side
/// had failed). Under `--on-bad-event park` the follower parks it and reaches the head.
/// PostgreSQL: a following `worker` stops likewise.
fn a_bad_event_at_the_head_stops_a_strict_follower_at_once_or_is_parked(postgres: bool) {
    let db = Db::seeded(postgres, "5", "400", "3");
    let caught_up = |db: &Db| {
        let head = db.head();
        wait_for("the follower catches up", || {
            (db.checkpoint(CHECKINS) == Some(head)).then_some(())
        });
    };
    let follower = Follower::start(&db, &["--model", CHECKINS, "--poll-seconds", "0.1"]);
    caught_up(&db);
    let bad = bad_event_at_the_head(&db, 1);
    let out = follower.exited();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("event {bad} (habits.checked_in"))
            && stderr.contains("missing field `day`"),
        "{stderr}"
    );
    let parking = Follower::start(
        &db,
        &[
            "--model",
            CHECKINS,
            "--poll-seconds",
            "0.1",
            "--on-bad-event",
            "park",
        ],
    );
    caught_up(&db);
    let parked = db.count("readmodels.replay_dead_letters");
    assert_eq!(parked, 1);
    let out = parking.terminate();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if postgres {
        let mut worker = Command::new(binary("replay-e2e"))
            .args([
                "--database-url",
                &db.url,
                "--quiet",
                "worker",
                "--model",
                CHECKINS,
            ])
            .args(["--poll-seconds", "0.1", "--lease-seconds", "2"])
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the worker starts");
        // Caught up already (`follow` built the model): it holds its partitions.
        wait_for("the worker holds every partition", || {
            (db.count("readmodels.replay_leases WHERE owner IS NOT NULL") == 16).then_some(())
        });
        let bad = bad_event_at_the_head(&db, 2);
        let status = wait_for("the worker exits", || worker.try_wait().expect("try_wait"));
        let out = worker.wait_with_output().expect("output");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("event {bad} (habits.checked_in")),
            "{stderr}"
        );
    }
}

#[test]
fn follow_without_a_model_is_one_clear_line() {
    let db = Db::new(false);
    let line = db.run(&["follow"]).error_line().to_owned();
    assert_eq!(
        line,
        "error: replay follow needs --all or --model NAME (repeatable)"
    );
    let line = db
        .run(&["follow", "--model", "no.such_model"])
        .error_line()
        .to_owned();
    assert!(line.contains("no.such_model"), "{line}");
}
