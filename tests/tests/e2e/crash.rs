//! Crash safety, end to end through the `replay` binary on both backends: SIGKILL at
//! pseudo-random points of a full replay, then `--resume`; SIGKILL during an import.
//!
//! Run with `cargo test -p readmodel-tests --test crash -- --nocapture` to see the outcome
//! counts ("SIGKILL resume: 10/10 identical on sqlite", …).

use readmodel_runtime::pause::{Point, PAUSE_VAR};
use readmodel_tests::{bin, child};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use readmodel_tests::events::{check_in_payload, event_line, stream, Rng, HABIT};
use readmodel_tests::{on_both_backends, query_texts, Db, HABITS};

const CHECKINS: &str = "habits.checkins";

on_both_backends!(
    sigkill_during_run_all_then_resume_all_builds_every_model,
    sigkill_during_a_full_replay_then_resume_gives_the_uninterrupted_checksum,
    sigkill_during_a_many_model_pass_then_run_all_gives_the_uninterrupted_checksums,
    sigkill_during_an_import_imports_nothing,
);

/// How a killed run was completed.
#[derive(Debug, Default)]
struct KillOutcomes {
    attempts: u32,
    /// Killed after the run was recorded: `--resume` continued it.
    resumed: u32,
    /// ... of which the kill had left the rebuild incomplete (scratch rows written).
    partial_rows: u32,
    /// Killed before the run was recorded, or after it succeeded: nothing to resume.
    nothing_to_resume: u32,
    identical: u32,
    mismatches: Vec<String>,
}

/// Kills `replay run --model habits.checkins --full --batch-size 1000 --flush-seconds 0`
/// (60k events of all domains, about 13k of them check-ins or undos: a commit per batch,
/// 60 in all)
/// at pseudo-random points, resumes, and compares checksums. Kills continue until 10
/// have landed inside a run (after its run record) and 5 inside the rebuild (after a
/// commit of scratch rows), at most 60.
fn sigkill_during_a_full_replay_then_resume_gives_the_uninterrupted_checksum(postgres: bool) {
    let db = Db::new(postgres);
    db.run(&[
        "generate", "--users", "40", "--events", "60000", "--seed", "2027",
    ])
    .ok();
    let full = [
        "--quiet",
        "run",
        "--model",
        CHECKINS,
        "--full",
        "--batch-size",
        "1000",
        "--flush-seconds",
        "0",
    ];
    // Two uninterrupted runs: the reference checksum (the same both times) and the
    // shorter of their durations, over which the kills are spread.
    let mut duration = Duration::MAX;
    let mut reference = String::new();
    for _ in 0..2 {
        let started = Instant::now();
        db.run(&full[1..]).ok();
        duration = duration.min(started.elapsed());
        let sum = db.checksum(CHECKINS);
        assert!(
            reference.is_empty() || reference == sum,
            "{reference} != {sum}"
        );
        reference = sum;
    }
    let budget = Instant::now();

    let mut rng = Rng(0x5EED_0007 + u64::from(postgres));
    let mut outcomes = KillOutcomes::default();
    // The window covers the process start and most of the run; a kill after the end of a
    // run (nothing to resume) is possible when a run happens to go faster.
    let window_ms = (duration.as_millis() as u64 * 9 / 10).max(50);
    // Under a loaded machine more kills land before a run is recorded: allow more tries.
    while (outcomes.resumed < 10 || outcomes.partial_rows < 5) && outcomes.attempts < 60 {
        outcomes.attempts += 1;
        // Every other kill lands on a commit chosen at random (the `flushed` pause point)
        // rather than at a time: on a slow machine most timed kills can land before the
        // first flush, and these make sure the interrupted-rebuild case is covered.
        let delay = Duration::from_millis(3 + rng.below(window_ms));
        let at = if outcomes.attempts % 2 == 0 {
            let nth = 1 + rng.below(55);
            kill_at_flush(&db.url, &full, nth);
            format!("flush #{nth}")
        } else {
            kill_after(&db.url, &full, delay);
            format!("{delay:?}")
        };

        // The model is active: the rebuild writes beside it (a scratch version, negative)
        // and swaps in at its end, so a kill leaves the live rows whole.
        let live = db.checksum(CHECKINS);
        if live != reference {
            outcomes.mismatches.push(format!(
                "kill #{} at {at} changed the live rows: {live} != {reference}",
                outcomes.attempts
            ));
        }
        let interrupted = db.count("readmodels.habit_checkins WHERE model_version < 0") > 0;
        let resumed = db.run(&[
            "--json",
            "run",
            "--model",
            CHECKINS,
            "--resume",
            "--batch-size",
            "500",
        ]);
        if resumed.code == Some(0) {
            let report = resumed.json();
            assert_eq!(report[0]["status"], "succeeded", "{report}");
            assert!(report[0]["resumed_from"].is_i64(), "{report}");
            outcomes.resumed += 1;
            if interrupted {
                outcomes.partial_rows += 1;
            }
        } else {
            let line = resumed.error_line();
            assert!(line.contains("nothing to resume"), "{line}");
            assert!(
                !interrupted,
                "a rebuild was incomplete but there was nothing to resume"
            );
            db.run(&["run", "--model", CHECKINS]).ok();
            outcomes.nothing_to_resume += 1;
        }
        let after = db.checksum(CHECKINS);
        if after == reference {
            outcomes.identical += 1;
        } else {
            outcomes.mismatches.push(format!(
                "kill #{} at {at}: {after} != {reference}",
                outcomes.attempts
            ));
        }
    }
    println!(
        "SIGKILL resume: {}/{} identical on {} ({} resumed, {} of them with rows left \
         incomplete by the kill; {} with nothing to resume; full run {:?}, kills took {:?})",
        outcomes.identical,
        outcomes.attempts,
        db.backend(),
        outcomes.resumed,
        outcomes.partial_rows,
        outcomes.nothing_to_resume,
        duration,
        budget.elapsed(),
    );
    assert!(
        outcomes.mismatches.is_empty(),
        "resumed rows differ: {:?}",
        outcomes.mismatches
    );
    assert!(
        outcomes.resumed >= 10,
        "only {} of {} kills landed inside a run: {outcomes:?}",
        outcomes.resumed,
        outcomes.attempts
    );
    assert!(
        outcomes.partial_rows >= 5,
        "too few kills interrupted the rebuild itself: {outcomes:?}"
    );
    // A resumed run is recorded as such; the killed ones are abandoned, none left running.
    let runs = db.run(&["--json", "status", "--model", CHECKINS]).json();
    assert_eq!(runs[0]["runs"][0]["status"], "succeeded", "{runs}");
    let running = db.count("readmodels.replay_runs WHERE status = 'running'");
    assert_eq!(
        running, 0,
        "a killed run was left 'running' after its resume"
    );
}

/// Every model's name and checksum, from a `--json run` report.
fn report_checksums(report: &serde_json::Value) -> Vec<(String, String)> {
    let runs = report.as_array().expect("one report per model");
    runs.iter()
        .map(|run| {
            assert_eq!(run["status"], "succeeded", "{run}");
            let text = |field: &str| run[field].as_str().expect(field).to_owned();
            (text("model"), text("checksum"))
        })
        .collect()
}

/// Kills `replay run --all --full` (one pass feeding every model over 60k events, with
/// `--flush-rows 3000`: between 5 and 20 commits) at pseudo-random points, then catches up with
/// `run --all`: the kill leaves every model as it was (the models are active: the
/// rebuild writes beside them), and every model ends with the checksum of an
/// uninterrupted pass. Kills continue until 6 have landed inside the pass (a run of it
/// not succeeded), at most 30.
fn sigkill_during_a_many_model_pass_then_run_all_gives_the_uninterrupted_checksums(postgres: bool) {
    let db = Db::new(postgres);
    db.run(&[
        "generate", "--users", "40", "--events", "60000", "--seed", "2028",
    ])
    .ok();
    let full = [
        "--quiet",
        "run",
        "--all",
        "--full",
        "--batch-size",
        "500",
        "--flush-rows",
        "3000",
    ];
    let mut duration = Duration::MAX;
    let mut reference = Vec::new();
    for _ in 0..2 {
        let started = Instant::now();
        let report = db.run(&["--json", "run", "--all", "--full"]).json();
        duration = duration.min(started.elapsed());
        let sums = report_checksums(&report);
        assert!(
            reference.is_empty() || reference == sums,
            "{reference:?} != {sums:?}"
        );
        reference = sums;
    }
    assert!(
        reference.len() > 10,
        "every model is in the pass: {reference:?}"
    );
    let models: Vec<&str> = reference.iter().map(|(m, _)| m.as_str()).collect();
    let expected: Vec<String> = reference.iter().map(|(_, sum)| sum.clone()).collect();
    assert_eq!(
        db.checksums(&models),
        expected,
        "reports and checksum agree"
    );

    let mut rng = Rng(0x5EED_0013 + u64::from(postgres));
    let window_ms = (duration.as_millis() as u64 * 9 / 10).max(50);
    let (mut attempts, mut interrupted, mut mismatches) = (0, 0, Vec::new());
    while interrupted < 6 && attempts < 30 {
        attempts += 1;
        let delay = Duration::from_millis(3 + rng.below(window_ms));
        let last_run: i64 = query_texts(
            &db.url,
            "SELECT CAST(COALESCE(MAX(run_id), 0) AS TEXT) AS value FROM readmodels.replay_runs",
        )[0]
        .parse()
        .expect("a run id");
        kill_after(&db.url, &full, delay);
        if db.checksums(&models) != expected {
            mismatches.push(format!(
                "kill #{attempts} after {delay:?} changed live rows"
            ));
        }
        let unfinished =
            format!("readmodels.replay_runs WHERE run_id > {last_run} AND status <> 'succeeded'");
        if db.count(&unfinished) > 0 {
            interrupted += 1;
        }
        // The report's checksum is of all the rows after the run (checked against
        // `checksum` above).
        let caught_up = db.run(&["--json", "run", "--all"]).json();
        if report_checksums(&caught_up) != reference {
            mismatches.push(format!("kill #{attempts} after {delay:?}"));
        }
    }
    println!(
        "SIGKILL pass: {} kills on {}, {interrupted} left rows incomplete; all identical after `run --all`: {}",
        attempts,
        db.backend(),
        mismatches.is_empty()
    );
    assert!(
        mismatches.is_empty(),
        "caught-up rows differ: {mismatches:?}"
    );
    assert!(
        interrupted >= 6,
        "too few kills interrupted the pass itself ({interrupted} of {attempts})"
    );
}

/// SIGKILL while the one import transaction is writing: nothing of the file is in the log.
fn sigkill_during_an_import_imports_nothing(postgres: bool) {
    let db = Db::seeded(postgres, "3", "300", "1");
    let before = db.log_length();
    let sums = db.checksums(&HABITS);
    let lines: Vec<String> = (1..=60_000)
        .map(|v| {
            event_line(
                &stream(1),
                v,
                "habits.checked_in",
                2,
                &check_in_payload(HABIT, "2026-03-02"),
            )
        })
        .collect();
    let path = db.scratch().join("big.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    for line in &lines {
        writeln!(file, "{line}").expect("write");
    }
    file.flush().expect("flush");
    drop(file);

    let mut child = Command::new(bin())
        .arg("--database-url")
        .arg(&db.url)
        .args(["--quiet", "import", "--file"])
        .arg(&path)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the replay binary starts");
    // Wait until the insert transaction is visibly under way, then kill.
    let wal = PathBuf::from(format!("{}-wal", db.url));
    let started = Instant::now();
    let mut writing = false;
    while started.elapsed() < Duration::from_secs(60) {
        if child.try_wait().expect("poll").is_some() {
            break;
        }
        writing = if postgres {
            query_texts(
                &db.url,
                "SELECT COUNT(*)::text AS value FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND query LIKE 'INSERT INTO event_record%'",
            )[0]
                != "0"
        } else {
            // Uncommitted pages spill into the WAL while the transaction writes.
            std::fs::metadata(&wal).map_or(0, |m| m.len()) > 2 << 20
        };
        if writing {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    let status = child.wait().expect("reaped");
    assert!(
        writing && status.code().is_none(),
        "the import was not killed while writing ({status:?} after {:?})",
        started.elapsed()
    );
    assert_eq!(
        db.log_length(),
        before,
        "a killed import left events behind"
    );
    assert_eq!(db.checksums(&HABITS), sums);
    println!(
        "SIGKILL import on {}: killed after {:?} while inserting; log length unchanged ({before})",
        db.backend(),
        started.elapsed()
    );
    // The same file imports completely afterwards.
    db.run(&["import", "--file", &path.display().to_string()])
        .ok();
    assert_eq!(db.log_length(), before + lines.len() as i64);
}

/// Kills a catch-up `replay run --all --batch-size 100` (over every model, from a
/// checkpoint near the log's start) at pseudo-random points, then runs
/// `run --all --resume`: it must exit 0 and leave every model with the checksum of an
/// uninterrupted run — the interrupted model resumed, every model the kill left behind
/// (never started, or started later) caught up. Kills continue until 10 have landed
/// inside a run (a run left `running`), at most 60.
fn sigkill_during_run_all_then_resume_all_builds_every_model(postgres: bool) {
    let db = Db::new(postgres);
    db.run(&[
        "generate", "--users", "12", "--events", "6000", "--seed", "2028",
    ])
    .ok();
    // Every model back to (almost) nothing: checkpoint 1, so `run --all` has everything
    // to catch up.
    let reset = || {
        db.run(&["run", "--all", "--full", "--to", "1"]).ok();
    };
    let all = ["--quiet", "run", "--all", "--batch-size", "100"];
    reset();
    let started = Instant::now();
    db.run(&all[1..]).ok();
    let duration = started.elapsed();
    let reference = db.every_checksum();
    assert!(reference.len() >= 19, "{reference:?}");

    let mut rng = Rng(0xA11_0011 + u64::from(postgres));
    let window_ms = (duration.as_millis() as u64 * 9 / 10).max(50);
    let (mut attempts, mut landed, mut left_unbuilt) = (0u32, 0u32, 0u32);
    let mut mismatches = Vec::new();
    while landed < 10 && attempts < 60 {
        attempts += 1;
        reset();
        let delay = Duration::from_millis(3 + rng.below(window_ms));
        kill_after(&db.url, &all, delay);
        if db.count("readmodels.replay_runs WHERE status = 'running'") > 0 {
            landed += 1;
        }
        let behind = reference
            .iter()
            .filter(|(model, sum)| db.checksum(model) != *sum)
            .count();
        if behind > 1 {
            left_unbuilt += 1;
        }
        let resumed = db.run(&["--json", "run", "--all", "--resume", "--batch-size", "300"]);
        let report = resumed.json();
        let reports = report.as_array().expect("reports");
        assert!(
            reports.iter().all(|r| r["status"] == "succeeded"),
            "{report}"
        );
        for (model, sum) in &reference {
            let after = db.checksum(model);
            if after != *sum {
                mismatches.push(format!(
                    "kill #{attempts} after {delay:?}: {model} {after} != {sum}"
                ));
            }
        }
    }
    println!(
        "SIGKILL run --all, then run --all --resume on {}: {attempts} kills, {landed} inside a run, \
         {left_unbuilt} leaving more than one model behind; {} mismatches (run --all took {duration:?})",
        db.backend(),
        mismatches.len()
    );
    assert!(
        mismatches.is_empty(),
        "resumed models differ: {mismatches:?}"
    );
    assert!(
        landed >= 10,
        "only {landed} of {attempts} kills landed inside a run"
    );
    assert!(
        left_unbuilt >= 5,
        "too few kills left models behind: {left_unbuilt}"
    );
    let running = db.count("readmodels.replay_runs WHERE status = 'running'");
    assert_eq!(
        running, 0,
        "a killed run was left 'running' after the resume"
    );
}

/// Starts `replay` with `args` against `url`, stopped by its pause point right after its
/// `nth` flush committed, and SIGKILLs it there (or reaps it, if it had fewer flushes).
fn kill_at_flush(url: &str, args: &[&str], nth: u64) {
    let point = format!("{}@{nth}", Point::Flushed.name());
    // `spawn` passes `--quiet` itself.
    let args: Vec<&str> = args.iter().copied().filter(|a| *a != "--quiet").collect();
    let mut child = child::spawn(&bin(), url, &args, &[(PAUSE_VAR, &point)]);
    child::wait_until("the run stops at its flush or ends", || {
        child::stopped(&child) || child::exited(&mut child)
    });
    let _ = child.kill();
    child.wait().expect("reaped");
}

/// Starts `replay` with `args` against `url`, and SIGKILLs it after `delay` (harmless if
/// the run already ended).
fn kill_after(url: &str, args: &[&str], delay: Duration) {
    let mut child = Command::new(bin())
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the replay binary starts");
    std::thread::sleep(delay);
    let _ = child.kill();
    child.wait().expect("reaped");
}
