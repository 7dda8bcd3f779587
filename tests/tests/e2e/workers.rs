//! Scale-out on PostgreSQL: `run --workers N` and `replay worker` against single-process
//! runs of the same log; killed and paused workers; the partition function in SQL.
//!
//! Expected values are single-process runs of the same log (a differential oracle: the
//! golden digests pin the single-process result itself), and the partition function's
//! digits are pinned by hand in `replay/partition.rs`.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use readmodel_tests::{binary, query_texts, Db};

const CHECKINS: &str = "habits.checkins";

/// Model name -> checksum, from a `run --json` report.
pub(super) fn sums(report: &serde_json::Value) -> BTreeMap<String, String> {
    report
        .as_array()
        .expect("a list of runs")
        .iter()
        .map(|run| {
            assert_eq!(run["status"], "succeeded", "{run}");
            (
                run["model"].as_str().expect("model").to_owned(),
                run["checksum"].as_str().expect("checksum").to_owned(),
            )
        })
        .collect()
}

/// Every model's checksum, read back with `checksum`.
pub(super) fn checksums(db: &Db) -> BTreeMap<String, String> {
    db.every_checksum().into_iter().collect()
}

pub(super) fn generated(events: &str) -> Db {
    let db = Db::new(true);
    db.run(&[
        "generate", "--users", "40", "--events", events, "--seed", "1414",
    ])
    .ok();
    db
}

fn partitions(db: &Db, model: &str) -> Vec<serde_json::Value> {
    let status = db.run(&["--json", "status", "--model", model]).json();
    status[0]["partitions"]
        .as_array()
        .expect("partitions")
        .clone()
}

#[test]
fn every_worker_count_gives_the_single_process_checksums() {
    let db = generated("6000");
    let single = sums(&db.run(&["--json", "run", "--all", "--full"]).json());
    let rows = db.run(&["--json", "checksum", "--model", CHECKINS]).json()["rows"]
        .as_i64()
        .expect("rows");
    assert!(rows > 100, "{rows} check-in rows");
    let head = db.head();
    for workers in ["1", "2", "4", "8"] {
        let report = db
            .run(&[
                "--json",
                "run",
                "--all",
                "--full",
                "--workers",
                workers,
                "--batch-size",
                "500",
            ])
            .json();
        assert_eq!(sums(&report), single, "{workers} workers");
        assert_eq!(checksums(&db), single, "{workers} workers, read back");
        // Split into the default 16 partitions, all at the head and free again.
        let split = partitions(&db, CHECKINS);
        assert_eq!(split.len(), 16, "{split:?}");
        for p in &split {
            assert_eq!(p["checkpoint"], head, "{p}");
            assert!(p["owner"].is_null(), "{p}");
        }
        assert_eq!(db.checkpoint(CHECKINS), Some(head));
    }
}

#[test]
fn an_unsplittable_model_is_one_partition_and_a_foreign_row_stops_the_split() {
    let promises = binary("replay-promises");
    let db = Db::new(true);
    db.with(&promises, &["migrate"]).ok();
    db.with(
        &promises,
        &[
            "generate", "--users", "12", "--events", "400", "--seed", "4",
        ],
    )
    .ok();
    let report = db
        .with(
            &promises,
            &[
                "--json",
                "run",
                "--model",
                "test.full_only",
                "--full",
                "--workers",
                "2",
            ],
        )
        .json();
    // rebuild = "full": one partition.
    let status = db
        .with(
            &promises,
            &["--json", "status", "--model", "test.full_only"],
        )
        .json();
    assert_eq!(status[0]["partitions"].as_array().map(Vec::len), Some(1));
    let single = db
        .with(
            &promises,
            &["--json", "run", "--model", "test.full_only", "--full"],
        )
        .json();
    assert_eq!(sums(&report), sums(&single));
    // test.team_totals writes the team's row (user nil) for every user's note: split by
    // user, a partition writes another partition's row, and the run stops saying so.
    let failed = db.with(
        &promises,
        &[
            "run",
            "--model",
            "test.team_totals",
            "--full",
            "--workers",
            "2",
        ],
    );
    let line = failed.error_line();
    assert!(
        line.contains("model test.team_totals: partition")
            && line.contains("wrote a row of user 00000000-0000-0000-0000-000000000000"),
        "{line}"
    );
}

#[test]
fn postgres_computes_the_same_partition_of_every_user() {
    use readmodel_runtime::replay::partition::partition_sql;
    use readmodel_runtime::replay::partition::{partition_of, sql_expression};
    let db = generated("500");
    // Users whose hash is negative as a signed bigint, and others.
    let signs = "SELECT COUNT(DISTINCT user_hash < 0)::text AS value FROM event_record";
    assert_eq!(query_texts(&db.url, signs), ["2"]);
    for of in [16, 7, 4096] {
        // From the user id, and from the hash the log stores for reading by partition.
        let sql = format!(
            "SELECT user_id::text || ' ' || {}::text AS value FROM (SELECT DISTINCT user_id FROM event_record) AS u \
             UNION ALL SELECT DISTINCT user_id::text || ' ' || ({})::text FROM event_record",
            sql_expression("user_id", of),
            partition_sql("user_hash", of)
        );
        let rows = query_texts(&db.url, &sql);
        assert!(rows.len() >= 60, "{} users, twice", rows.len());
        for row in rows {
            let (user, part) = row.split_once(' ').expect("user and partition");
            let user: uuid::Uuid = user.parse().expect("uuid");
            assert_eq!(part.parse::<u32>(), Ok(partition_of(user, of)), "{user}");
        }
    }
}

/// A `replay worker --all` child that exits once every partition reaches the head it saw
/// at start; `owner` names it in the leases.
fn worker(db: &Db, owner: &str) -> Child {
    worker_child(
        db,
        owner,
        &[
            "--exit-when-caught-up",
            "--lease-seconds",
            "2",
            "--poll-seconds",
            "0.2",
            "--batch-size",
            "50",
        ],
    )
}

/// `replay worker --all` as a child named `owner`, with `flags`, its output piped.
fn worker_child(db: &Db, owner: &str, flags: &[&str]) -> Child {
    Command::new(binary("replay-e2e"))
        .args(["--database-url", &db.url, "--quiet", "worker", "--all"])
        .args(flags)
        .args(["--owner", owner])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the worker starts")
}

pub(super) fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {name}");
}

pub(super) fn one_number(db: &Db, sql: &str) -> i64 {
    query_texts(
        &db.url,
        &format!("SELECT COALESCE(({sql}), 0)::text AS value"),
    )[0]
    .parse()
    .expect("a number")
}

/// Waits (at most two minutes) until `sql` counts more than zero rows.
pub(super) fn wait_until(db: &Db, what: &str, sql: &str) {
    let started = Instant::now();
    while one_number(db, sql) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "waited two minutes for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The checksums of a single-process full rebuild of the log `generated(events)` makes.
pub(super) fn reference(events: &str) -> BTreeMap<String, String> {
    let db = generated(events);
    sums(&db.run(&["--json", "run", "--all", "--full"]).json())
}

const FIRST_FLUSH: &str =
    "SELECT COUNT(*) FROM readmodels.replay_checkpoints WHERE scope LIKE 'partition:%'";

/// A worker is killed (SIGKILL) after its first flush; a successor takes its partitions
/// over (its connection is gone, so without waiting for its leases to expire), marks the
/// runs it left `running` abandoned, and ends with the rows of a single-process run.
#[test]
fn a_killed_workers_partitions_are_taken_over_and_its_runs_abandoned() {
    let expected = reference("30000");
    let db = generated("30000");
    let mut first = worker(&db, "killed");
    wait_until(&db, "the first worker's first flush", FIRST_FLUSH);
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");
    let unfinished = one_number(
        &db,
        "SELECT COUNT(*) FROM readmodels.replay_leases WHERE owner = 'killed'",
    );
    assert!(
        unfinished > 0,
        "the first worker finished before it was killed"
    );
    let second = worker(&db, "successor").wait_with_output().expect("runs");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    // The killed worker's partitions were claimed a second time (token 2) once expired.
    let taken_over = one_number(
        &db,
        "SELECT COUNT(*) FROM readmodels.replay_leases WHERE token >= 2",
    );
    assert!(taken_over >= unfinished, "{taken_over} < {unfinished}");
    assert_eq!(checksums(&db), expected);
    let running = "SELECT COUNT(*) FROM readmodels.replay_runs WHERE status = 'running'";
    assert_eq!(one_number(&db, running), 0);
    let abandoned = one_number(
        &db,
        "SELECT COUNT(*) FROM readmodels.replay_runs WHERE status = 'abandoned' \
         AND error LIKE 'worker killed stopped renewing its lease on partition %; worker successor took it over (token %)'",
    );
    assert_eq!(abandoned, unfinished, "the killed worker's runs");
}

#[test]
fn a_worker_paused_past_its_lease_cannot_commit_after_the_takeover() {
    let expected = reference("30000");
    let db = generated("30000");
    let paused = worker(&db, "paused");
    wait_until(&db, "the first worker's first flush", FIRST_FLUSH);
    signal(&paused, "-STOP");
    let held = one_number(
        &db,
        "SELECT COUNT(*) FROM readmodels.replay_leases WHERE owner = 'paused'",
    );
    assert!(held > 0, "the worker finished before it was paused");
    wait_until(
        &db,
        "the paused worker's leases to expire",
        "SELECT COUNT(*) FROM readmodels.replay_leases WHERE owner = 'paused' AND expires_at < clock_timestamp() HAVING COUNT(*) = (SELECT COUNT(*) FROM readmodels.replay_leases WHERE owner = 'paused')",
    );
    let taker = worker(&db, "taker");
    wait_until(
        &db,
        "the second worker to take a partition over",
        "SELECT COUNT(*) FROM readmodels.replay_leases WHERE owner = 'taker' AND token >= 2",
    );
    signal(&paused, "-CONT");
    let taker = taker.wait_with_output().expect("runs");
    assert!(
        taker.status.success(),
        "{}",
        String::from_utf8_lossy(&taker.stderr)
    );
    let paused = paused.wait_with_output().expect("runs");
    let stderr = String::from_utf8_lossy(&paused.stderr);
    assert!(paused.status.success(), "{stderr}");
    assert!(
        stderr.contains("worker paused: lost the lease on partition"),
        "{stderr}"
    );
    // The ledger records the lost partitions' runs as failed, naming the loss.
    let failed = one_number(
        &db,
        "SELECT COUNT(*) FROM readmodels.replay_runs WHERE status = 'failed' AND error LIKE 'worker paused: lost the lease%'",
    );
    assert!(failed > 0, "no failed run of the paused worker");
    assert_eq!(checksums(&db), expected);
}

#[test]
fn sqlite_refuses_several_workers_and_runs_one_as_usual() {
    let db = Db::new(false);
    db.run(&["generate", "--users", "5", "--events", "300", "--seed", "3"])
        .ok();
    let line = db
        .run(&["run", "--all", "--full", "--workers", "2"])
        .error_line()
        .to_owned();
    assert_eq!(
        line,
        "error: SQLite allows one writer at a time: --workers above 1 needs PostgreSQL"
    );
    let report = db
        .run(&["--json", "run", "--model", CHECKINS, "--workers", "1"])
        .json();
    assert_eq!(report[0]["status"], "succeeded", "{report}");
    let line = db.run(&["worker", "--all"]).error_line().to_owned();
    assert!(line.contains("needs PostgreSQL"), "{line}");
}

#[test]
fn a_whole_model_run_refuses_to_start_behind_workers_partitions() {
    let db = generated("600");
    db.run(&["run", "--all", "--workers", "2", "--partitions", "4"])
        .ok();
    let head = db.head();
    assert_eq!(partitions(&db, CHECKINS).len(), 4);
    // A worker ahead of the others: partition 2 past the model's checkpoint.
    db.run(&["generate", "--users", "4", "--events", "50", "--seed", "5"])
        .ok();
    let ahead = head + 20;
    readmodel_tests::execute_sql(
        &db.url,
        &format!(
            "UPDATE readmodels.replay_checkpoints SET last_event_id = {ahead} \
             WHERE model = '{CHECKINS}' AND scope = 'partition:2/4'"
        ),
    );
    let line = db
        .run(&["run", "--model", CHECKINS])
        .error_line()
        .to_owned();
    assert_eq!(
        line,
        format!("error: model {CHECKINS}: workers' partitions have reached event {ahead} but the model's checkpoint is {head}; finish them with `replay worker` or `replay run --workers N`, or rebuild with `replay run --model {CHECKINS} --full`")
    );
    let line = db
        .run(&["run", "--model", CHECKINS, "--resume"])
        .error_line()
        .to_owned();
    assert!(
        line.contains("nothing to resume") || line.contains("workers' partitions"),
        "{line}"
    );
    // Workers may continue from there; a full rebuild starts every partition afresh.
    db.run(&["run", "--model", CHECKINS, "--full"]).ok();
    assert!(partitions(&db, CHECKINS).is_empty());
    db.run(&["run", "--model", CHECKINS]).ok();
}

/// Two `replay worker --all` children following the log.
fn follower(db: &Db, owner: &str) -> Child {
    worker_child(
        db,
        owner,
        &["--lease-seconds", "2", "--poll-seconds", "0.1"],
    )
}

#[test]
fn followers_end_with_the_checksums_of_a_full_rebuild() {
    use std::sync::atomic::Ordering;
    let db = generated("3000");
    let followers = [follower(&db, "f1"), follower(&db, "f2")];
    let (stop, writers) = readmodel_tests::writers::spawn_writers(&db.url, true, 8);
    std::thread::sleep(Duration::from_secs(4));
    stop.store(true, Ordering::Relaxed);
    let written: i64 = writers.into_iter().map(|w| w.join().expect("writer")).sum();
    assert!(written > 100, "{written} events written");
    let head = db.head();
    let reached = format!(
        "SELECT COUNT(*) FROM readmodels.replay_checkpoints WHERE scope = 'all' AND last_event_id = {head}"
    );
    let started = Instant::now();
    while one_number(&db, &reached) < 19 && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let caught_up = one_number(&db, &reached) == 19;
    // Fair share: whichever started first gave half of the partitions to the other.
    wait_until(
        &db,
        "both followers to hold half of the partitions",
        "SELECT CASE WHEN COUNT(*) FILTER (WHERE owner = 'f1') = 152 \
         AND COUNT(*) FILTER (WHERE owner = 'f2') = 152 THEN 1 ELSE 0 END \
         FROM readmodels.replay_leases",
    );
    let followed = checksums(&db);
    // SIGTERM: each flushes, releases its leases, records its runs stopped, exits 0.
    let mut stderr = String::new();
    let mut exits = Vec::new();
    for child in followers {
        signal(&child, "-TERM");
        let out = child.wait_with_output().expect("output");
        stderr.push_str(&String::from_utf8_lossy(&out.stderr));
        exits.push(out.status.code());
    }
    assert!(
        caught_up,
        "the followers did not reach the head {head}: {stderr} {}",
        db.run(&["status"]).stdout
    );
    assert_eq!(exits, [Some(0), Some(0)], "{stderr}");
    let held = "SELECT COUNT(*) FROM readmodels.replay_leases WHERE owner IS NOT NULL";
    assert_eq!(one_number(&db, held), 0);
    let running = "SELECT COUNT(*) FROM readmodels.replay_runs WHERE status = 'running'";
    assert_eq!(one_number(&db, running), 0);
    let stopped = "SELECT COUNT(*) FROM readmodels.replay_runs WHERE status = 'stopped'";
    assert!(
        one_number(&db, stopped) >= 19 * 16,
        "each partition's run is stopped"
    );
    let rebuilt = sums(&db.run(&["--json", "run", "--all", "--full"]).json());
    assert_eq!(followed, rebuilt);
}

/// Every order of single-process catch-ups, workers' runs and full rebuilds, with events
/// appended between them, leaves each model with the rows of a single-process run of the
/// same log (a second database, given the same appends, caught up by `run --all` only).
/// Each step must also succeed: a lane's start and the partitions' checkpoints agree
/// whatever ran before.
#[test]
fn any_order_of_single_process_runs_workers_and_full_rebuilds_agrees() {
    let db = generated("1500");
    let reference = generated("1500");
    let workers = |partitions: &'static str| {
        move |db: &Db| {
            db.run(&[
                "run",
                "--all",
                "--workers",
                "2",
                "--partitions",
                partitions,
                "--batch-size",
                "200",
            ])
            .ok();
        }
    };
    let single = |db: &Db| {
        db.run(&["run", "--all"]).ok();
    };
    let full = |db: &Db| {
        db.run(&["run", "--all", "--full"]).ok();
    };
    let full_workers = |db: &Db| {
        db.run(&[
            "run",
            "--all",
            "--full",
            "--workers",
            "2",
            "--partitions",
            "8",
        ])
        .ok();
    };
    // Every ordered pair of {single, workers, full} follows once (a de Bruijn sequence),
    // workers' partition count changing after each full rebuild.
    type Step<'a> = (&'a str, &'a dyn Fn(&Db));
    let steps: [Step; 13] = [
        ("workers/4", &workers("4")),
        ("single", &single),
        ("single", &single),
        ("workers/4", &workers("4")),
        ("workers/8 (4 stand)", &workers("8")),
        ("single", &single),
        ("full", &full),
        ("full", &full),
        ("workers/8", &workers("8")),
        ("full workers/8", &full_workers),
        ("workers/4 (8 stand)", &workers("4")),
        ("full", &full),
        ("single", &single),
    ];
    let mut done = Vec::new();
    for (i, (name, step)) in steps.iter().enumerate() {
        let seed = (100 + i).to_string();
        for db in [&db, &reference] {
            db.run(&[
                "generate", "--users", "6", "--events", "150", "--seed", &seed,
            ])
            .ok();
        }
        step(&db);
        single(&reference);
        done.push(*name);
        assert_eq!(
            checksums(&db),
            checksums(&reference),
            "after {}",
            done.join(", ")
        );
    }
}

/// Workers alone build models readers can use: batch workers on a fresh log, and a
/// following worker at lag 0 on another, leave every model with an active version (the
/// version a succeeded run activates), which `status` shows and `cutover` accepts.
#[test]
fn workers_alone_leave_every_model_active() {
    let db = generated("1500");
    let out = worker(&db, "alone").wait_with_output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = db.run(&["--json", "status"]).json();
    let models = status.as_array().expect("models");
    assert_eq!(models.len(), 19);
    for model in models {
        assert_eq!(model["active_version"], 1, "{model}");
    }
    db.run(&["cutover", "--model", CHECKINS, "--version", "1"])
        .ok();
    let db = generated("1500");
    let following = follower(&db, "lag0");
    wait_until(
        &db,
        "every model to become active",
        "SELECT COUNT(*) FROM readmodels.model_versions HAVING COUNT(*) = 19",
    );
    signal(&following, "-TERM");
    let out = following.wait_with_output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let head = db.head();
    assert_eq!(db.checkpoint(CHECKINS), Some(head));
}

/// `replay --json worker --all --exit-when-caught-up` children started at once.
fn json_workers(db: &Db, owners: &[&str]) -> Vec<Child> {
    owners
        .iter()
        .map(|owner| {
            Command::new(binary("replay-e2e"))
                .args(["--database-url", &db.url, "--json", "worker", "--all"])
                .args(["--exit-when-caught-up", "--lease-seconds", "2"])
                .args([
                    "--poll-seconds",
                    "0.2",
                    "--batch-size",
                    "50",
                    "--owner",
                    owner,
                ])
                .env_remove("DATABASE_URL")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the worker starts")
        })
        .collect()
}

/// Three workers started together split the 304 partitions fairly: the first to claim
/// takes all it sees, and gives the surplus back as soon as its heartbeat counts the
/// newcomers, so no worker completes more than ceil(304 / 3) = 102 partitions. The rows
/// are a single-process run's.
#[test]
fn three_workers_started_together_share_the_partitions() {
    let expected = reference("30000");
    let db = generated("30000");
    let mut completed = Vec::new();
    for child in json_workers(&db, &["w1", "w2", "w3"]) {
        let out = child.wait_with_output().expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stats: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("the worker's JSON line");
        completed.push(stats["completed"].as_i64().expect("completed"));
    }
    println!("three workers started together completed {completed:?} of 304 partitions");
    assert_eq!(completed.iter().sum::<i64>(), 304, "{completed:?}");
    assert!(completed.iter().all(|&n| n <= 102), "{completed:?}");
    assert_eq!(checksums(&db), expected);
}

/// `run --all --workers 2` is killed (SIGKILL) with its hour-long leases held; the next
/// `run --all --workers 2` takes the dead owners' partitions over at once (their
/// connections are gone) instead of waiting out the leases, and ends with the rows of a
/// single-process run.
#[test]
fn a_killed_workers_run_is_caught_up_without_waiting_out_its_leases() {
    let db = generated("30000");
    let mut killed = Command::new(binary("replay-e2e"))
        .args([
            "--database-url",
            &db.url,
            "--quiet",
            "run",
            "--all",
            "--workers",
            "2",
        ])
        .args(["--lease-seconds", "3600", "--batch-size", "50"])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the run starts");
    wait_until(&db, "the first flush", FIRST_FLUSH);
    killed.kill().expect("SIGKILL");
    killed.wait().expect("reaped");
    let held = "SELECT COUNT(*) FROM readmodels.replay_leases WHERE owner IS NOT NULL \
                AND expires_at > clock_timestamp() + interval '10 minutes'";
    assert!(
        one_number(&db, held) > 0,
        "the run finished before it was killed"
    );
    let mut again = Command::new(binary("replay-e2e"))
        .args([
            "--database-url",
            &db.url,
            "--quiet",
            "run",
            "--all",
            "--workers",
            "2",
        ])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the run starts");
    let started = Instant::now();
    while again.try_wait().expect("its status").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the catch-up still runs after five minutes: it waits for the dead run's leases"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = again.wait_with_output().expect("output");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let single = sums(&db.run(&["--json", "run", "--all", "--full"]).json());
    let rebuilt = checksums(&db);
    assert_eq!(rebuilt, single);
}

/// The events a `run --all --full --workers N` worker read from the log, from the
/// closing summary lines.
fn events_read(db: &Db, workers: &str) -> Vec<i64> {
    let out = db.run(&[
        "run",
        "--all",
        "--full",
        "--workers",
        workers,
        "--batch-size",
        "500",
    ]);
    out.stdout
        .lines()
        .filter(|line| line.starts_with("worker "))
        .map(|line| {
            let (before, _) = line
                .split_once(" log events read")
                .unwrap_or_else(|| panic!("{line}"));
            let number = before.rsplit(' ').next().expect("a number");
            number.parse().expect("a count")
        })
        .collect()
}

/// Each worker reads only its partitions' events: with the partitions split by index
/// (every worker holds the same few partitions of every model), a worker of 2 or 4 reads
/// fewer events than the one worker that reads them all, no more than the worker of 2
/// whose partitions include its own, and together they read each event once.
#[test]
fn each_worker_reads_only_its_partitions_events() {
    let db = Db::new(true);
    db.run(&[
        "generate", "--users", "200", "--events", "8000", "--seed", "2024",
    ])
    .ok();
    let one = events_read(&db, "1");
    let two = events_read(&db, "2");
    let four = events_read(&db, "4");
    println!("events read from the log per worker: 1 worker {one:?}, 2 workers {two:?}, 4 workers {four:?}");
    assert_eq!(one.len(), 1);
    assert_eq!((two.len(), four.len()), (2, 4));
    let all = one[0];
    assert!(all > 7000, "{all}");
    assert!(two.iter().all(|&n| n < all), "{two:?} of {all}");
    let most_of_two = two.iter().copied().max().unwrap_or(0);
    assert!(
        four.iter().all(|&n| n <= most_of_two),
        "{four:?} vs {two:?}"
    );
    assert_eq!(two.iter().sum::<i64>(), all, "{two:?}");
    assert_eq!(four.iter().sum::<i64>(), all, "{four:?}");
}
