//! The fence on its own (PostgreSQL): leases, fencing tokens, `SKIP LOCKED`, and what a
//! worker or a transaction stopped at an exact place must not do to the others.
//!
//! Each race is made deterministic with the runtime's pause points
//! (`readmodel_runtime::pause`): a child process stops itself (SIGSTOP) at a named place,
//! the test acts while it is stopped (state `T` in `/proc`) and lets it go on with
//! SIGCONT. Expected rows are single-process runs of the same log (a differential oracle);
//! each test also checks the ledger (owners, tokens, runs) by SQL.

use std::collections::BTreeMap;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use readmodel_runtime::pause::{Point, PAUSE_VAR};
use readmodel_tests::child::stopped;
use readmodel_tests::{binary, Db};

use super::workers::{checksums, generated, one_number, reference, signal, sums, wait_until};

/// Lease rows of the LifeOS models split into the default 16 partitions.
const PARTITIONS: i64 = 19 * 16;

/// `replay worker --all` as a child named `owner` with `flags`, stopping itself at
/// `pause` (and `env` set), its output piped.
fn worker(db: &Db, owner: &str, flags: &[&str], pause: &[Point], env: &[(&str, &str)]) -> Child {
    command(db, owner, flags, pause)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the worker starts")
}

/// The command of [`worker`], its output not yet directed.
fn command(db: &Db, owner: &str, flags: &[&str], pause: &[Point]) -> Command {
    let points: Vec<&str> = pause.iter().map(|p| p.name()).collect();
    let mut command = Command::new(binary("replay-e2e"));
    command
        .args(["--database-url", &db.url, "--quiet", "worker", "--all"])
        .args(flags)
        .args([
            "--owner",
            owner,
            "--poll-seconds",
            "0.1",
            "--batch-size",
            "50",
        ])
        .env_remove("DATABASE_URL")
        .env(PAUSE_VAR, points.join(","));
    command
}

/// Waits (at most two minutes) until the file `path` contains `text`; fails if `child`
/// exits first.
fn wait_for_line(path: &std::path::Path, text: &str, child: &mut Child) {
    let started = Instant::now();
    loop {
        let said = std::fs::read_to_string(path).unwrap_or_default();
        if said.contains(text) {
            return;
        }
        if child.try_wait().expect("its status").is_some() {
            panic!("exited before saying {text:?}: {said}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no {text:?}: {said}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills the children it names (SIGKILL, which also ends a stopped one) when the test
/// fails, so that no stopped child outlives a failed test.
struct KillOnPanic(Vec<u32>);

impl KillOnPanic {
    fn of(children: &[&Child]) -> Self {
        KillOnPanic(children.iter().map(|c| c.id()).collect())
    }
}

impl Drop for KillOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for pid in &self.0 {
                // A child that has exited already is no longer there to kill.
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

/// A worker that exits once every partition reaches the head it saw at start.
fn batch_worker(db: &Db, owner: &str, lease: &str, pause: &[Point]) -> Child {
    worker(
        db,
        owner,
        &["--exit-when-caught-up", "--lease-seconds", lease],
        pause,
        &[],
    )
}

/// How a child ended a wait: stopped at a pause point, or exited.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Stopped,
    Exited,
}

/// Waits (at most two minutes) until `child` stops itself or exits.
fn stopped_or_exited(child: &mut Child) -> Seen {
    let started = Instant::now();
    loop {
        if stopped(child) {
            return Seen::Stopped;
        }
        if child.try_wait().expect("the child's status").is_some() {
            return Seen::Exited;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "waited two minutes for a child to stop or exit"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits until `child` stops itself; fails with its stderr if it exits instead.
fn wait_stopped(child: &mut Child, what: &str) {
    if stopped_or_exited(child) == Seen::Exited {
        let output = finish(std::mem::replace(child, dummy()));
        panic!("{what}: exited instead: {}", stderr(&output));
    }
}

/// A child standing in for one whose output was taken.
fn dummy() -> Child {
    Command::new("true").spawn().expect("true runs")
}

/// Lets `child` go on (SIGCONT) if it is stopped, and waits for it to exit.
fn resume_and_finish(child: Child) -> Output {
    if stopped(&child) {
        signal(&child, "-CONT");
    }
    finish(child)
}

fn finish(child: Child) -> Output {
    child.wait_with_output().expect("the child's output")
}

/// Waits for `child` to exit, failing after five minutes (what it would do if it hung on
/// what the test says it must not wait for).
fn finish_within_minutes(mut child: Child, who: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("the child's status").is_none() {
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            panic!(
                "{who} still runs after five minutes: {}",
                stderr(&finish(child))
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    finish(child)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_success(output: &Output, who: &str) {
    assert!(output.status.success(), "{who}: {}", stderr(output));
}

fn connect(db: &Db) -> PgConnection {
    PgConnection::establish(&db.url).expect("PostgreSQL connects")
}

fn execute(conn: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Appends a check-in on `conn`, in its open transaction if it has one: of habit `n` of
/// user `n`, which no generated event uses (so it adds a row of `habits.checkins`; a
/// habit belongs to one user, as a split by user requires).
fn check_in(conn: &mut PgConnection, n: u32) {
    execute(
        conn,
        &format!(
            "INSERT INTO event_record (stream_id, event_version, event_type, schema_version, user_id, occurred_at, payload) \
             VALUES ('{}', 1, 'habits.checked_in', 2, '{}', '2026-03-01T07:30:00Z', \
             '{{\"habit_id\":\"{}\",\"day\":\"2026-03-{:02}\"}}')",
            readmodel_tests::events::stream(0x0fe0 + n),
            uuid::Uuid::from_u128(0xFE0C_E000 + u128::from(n)),
            uuid::Uuid::from_u128(0xFE0C_AB17_0000 + u128::from(n)),
            1 + n % 28,
        ),
    );
}

/// Every model's checksum after a single-process full rebuild of `db`'s log.
fn rebuilt(db: &Db) -> BTreeMap<String, String> {
    sums(&db.run(&["--json", "run", "--all", "--full"]).json())
}

fn count(db: &Db, sql: &str) -> i64 {
    one_number(db, sql)
}

/// Two workers of one name (`--owner`): the first stops before its first flush until its
/// leases expire, the second claims them all (token 2) and stops before its own first
/// flush. The first, let go, must not renew by owner alone: its flush fails on the token
/// with the lost-lease line before it writes anything, and it waits for the second,
/// which finishes every partition. Renewing by owner only (token ignored), the first
/// commits its flush and the second's compare-and-set fails: this test fails.
#[test]
fn a_worker_whose_leases_its_namesake_claimed_commits_nothing() {
    let db = generated("3000");
    let mut first = batch_worker(&db, "same", "1", &[Point::Flush]);
    let _first = KillOnPanic::of(&[&first]);
    wait_stopped(&mut first, "the first worker before its first flush");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM readmodels.replay_leases WHERE owner = 'same' AND token = 1"
        ),
        PARTITIONS
    );
    wait_until(
        &db,
        "the first worker's leases to expire",
        "SELECT COUNT(*) FROM readmodels.replay_leases HAVING COUNT(*) FILTER (WHERE expires_at < clock_timestamp()) = COUNT(*)",
    );
    let mut second = batch_worker(&db, "same", "600", &[Point::Flush]);
    let _second = KillOnPanic::of(&[&second]);
    wait_stopped(&mut second, "the second worker before its first flush");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM readmodels.replay_leases WHERE owner = 'same' AND token = 2"
        ),
        PARTITIONS,
        "the second worker claimed every expired lease"
    );
    signal(&first, "-CONT");
    // Either the first worker lost its leases (its runs fail), or it wrote (a partition
    // checkpoint appears): wait for whichever comes, then let the second go on.
    wait_until(
        &db,
        "the first worker to lose its leases or to flush",
        "SELECT (SELECT COUNT(*) FROM readmodels.replay_runs WHERE status = 'failed') \
         + (SELECT COUNT(*) FROM readmodels.replay_checkpoints WHERE scope LIKE 'partition:%')",
    );
    let second = resume_and_finish(second);
    let first = finish(first);
    assert_success(&second, "the second worker");
    assert_success(&first, "the first worker");
    let lines = stderr(&first);
    assert!(
        lines.contains("worker same: lost the lease on partition")
            && lines.contains("(token 1) to another worker; its last flush was rolled back"),
        "{lines}"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM readmodels.replay_runs WHERE status = 'failed' AND error LIKE 'worker same: lost the lease%'"),
        PARTITIONS,
        "every partition's run of the first worker failed on its lost lease"
    );
    assert_eq!(checksums(&db), rebuilt(&db));
}

/// A worker holds every partition under a long lease and stops before its first flush; a
/// second worker, stopped after its first claim, must have claimed none of them. With
/// the expiry condition gone from the claim (`OR TRUE`), it steals half: this test fails.
/// Let go, the second says what it waits for; both then finish, sharing the partitions.
#[test]
fn a_live_lease_is_never_claimed() {
    let db = generated("3000");
    let mut holder = batch_worker(&db, "holder", "600", &[Point::Flush]);
    let _holder = KillOnPanic::of(&[&holder]);
    wait_stopped(&mut holder, "the holder before its first flush");
    let said = db.dir.path().join("newcomer.stderr");
    let flags = ["--exit-when-caught-up", "--lease-seconds", "600"];
    let mut newcomer = command(&db, "newcomer", &flags, &[Point::Claimed])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&said).expect("a file"))
        .spawn()
        .expect("the newcomer starts");
    let _newcomer = KillOnPanic::of(&[&newcomer]);
    wait_stopped(&mut newcomer, "the newcomer after its first claim");
    let held = |owner: &str| {
        count(
            &db,
            &format!("SELECT COUNT(*) FROM readmodels.replay_leases WHERE owner = '{owner}'"),
        )
    };
    assert_eq!((held("holder"), held("newcomer")), (PARTITIONS, 0));
    assert_eq!(
        count(&db, "SELECT MAX(token) FROM readmodels.replay_leases"),
        1
    );
    // Let go alone, the newcomer waits for the holder's partitions, and says so.
    signal(&newcomer, "-CONT");
    let line = format!(
        "s for {PARTITIONS} partitions below event {} that other workers hold; the first of their leases expires in ",
        db.head()
    );
    wait_for_line(&said, "worker newcomer: waiting ", &mut newcomer);
    wait_for_line(&said, &line, &mut newcomer);
    let holder = resume_and_finish(holder);
    let newcomer = finish(newcomer);
    assert_success(&holder, "the holder");
    let lines = std::fs::read_to_string(&said).unwrap_or_default();
    assert!(newcomer.status.success(), "{lines}");
    assert_eq!(checksums(&db), rebuilt(&db));
}

/// Another transaction holds the lease rows of partition 3 (`FOR UPDATE`); a worker's
/// claim must skip them and take the other partitions at once. Without `SKIP LOCKED` the
/// claim waits for the row lock, runs into the claim's lock timeout and the worker exits
/// with an error: this test fails. Once the rows are let go, the worker finishes them
/// too.
#[test]
fn a_claim_skips_lease_rows_another_transaction_holds() {
    let db = generated("3000");
    // The lease rows exist once a worker has run; new events put every partition behind.
    db.run(&["run", "--all", "--workers", "1"]).ok();
    db.run(&[
        "generate", "--users", "20", "--events", "600", "--seed", "77",
    ])
    .ok();
    let mut holder = connect(&db);
    execute(&mut holder, "BEGIN");
    execute(
        &mut holder,
        "SELECT * FROM readmodels.replay_leases WHERE partition = 3 FOR UPDATE",
    );
    let mut worker = batch_worker(&db, "skipper", "600", &[Point::Claimed]);
    let _worker = KillOnPanic::of(&[&worker]);
    let seen = stopped_or_exited(&mut worker);
    if seen == Seen::Exited {
        panic!("the worker exited: {}", stderr(&finish(worker)));
    }
    let owned = |sql: &str| {
        count(
            &db,
            &format!("SELECT COUNT(*) FROM readmodels.replay_leases WHERE {sql}"),
        )
    };
    assert_eq!(owned("owner = 'skipper'"), PARTITIONS - 19);
    assert_eq!(owned("partition = 3 AND owner IS NULL"), 19);
    execute(&mut holder, "ROLLBACK");
    let worker = resume_and_finish(worker);
    assert_success(&worker, "the worker");
    assert_eq!(owned("owner IS NOT NULL"), 0);
    assert_eq!(checksums(&db), rebuilt(&db));
}

/// A worker stops itself inside a flush, after renewing its leases: its transaction holds
/// the lease rows' locks and a transaction id. Two other workers must still finish every
/// partition, the stopped one's included once its leases expire (the server ends the
/// stopped flush's transaction after a lease, `end_if_idle_past`), with the checksums of
/// a single-process run; their catch-ups must not wait for the stopped transaction
/// (`settled_head` waits for writers of the log only). Let go, the stopped worker finds
/// its connection ended, reconnects, loses its leases and exits cleanly.
#[test]
fn a_worker_stopped_inside_a_flush_stalls_nobody() {
    let expected = reference("6000");
    let db = generated("6000");
    let mut paused = batch_worker(&db, "paused", "2", &[Point::FlushRenewed]);
    let _paused = KillOnPanic::of(&[&paused]);
    wait_stopped(&mut paused, "the worker inside its first flush");
    // Their catch-ups would fail after 1 s waiting for the stopped transaction.
    let other = |owner| {
        let flags = ["--exit-when-caught-up", "--lease-seconds", "2"];
        worker(
            &db,
            owner,
            &flags,
            &[],
            &[("READMODEL_SETTLE_TIMEOUT_SECS", "1")],
        )
    };
    let others = [other("a"), other("b")];
    let _others = KillOnPanic::of(&[&others[0], &others[1]]);
    for (other, name) in others.into_iter().zip(["a", "b"]) {
        assert_success(&finish_within_minutes(other, name), name);
    }
    assert!(stopped(&paused), "the paused worker was let go");
    assert_eq!(checksums(&db), expected);
    let taken = "SELECT COUNT(*) FROM readmodels.replay_leases WHERE token >= 2";
    assert_eq!(
        count(&db, taken),
        PARTITIONS,
        "every partition was taken over"
    );
    let paused = resume_and_finish(paused);
    assert_success(&paused, "the paused worker");
    let lines = stderr(&paused);
    assert!(
        lines.contains("worker paused: the database ended its connection ("),
        "{lines}"
    );
    assert_eq!(checksums(&db), expected);
    let running = "SELECT COUNT(*) FROM readmodels.replay_runs WHERE status = 'running'";
    assert_eq!(count(&db, running), 0);
}

/// A long transaction of the application that appends no event (it holds a transaction
/// id, as a stopped flush does) is open while a catch-up runs: the catch-up does not wait
/// for it. (It used to wait the settle timeout, here 3 s, and fail.)
#[test]
fn an_unrelated_long_transaction_does_not_delay_a_catch_up() {
    let db = generated("600");
    let mut other = connect(&db);
    execute(&mut other, "BEGIN");
    execute(&mut other, "CREATE TEMPORARY TABLE unrelated (n int)");
    execute(&mut other, "INSERT INTO unrelated VALUES (1)");
    let run = Command::new(binary("replay-e2e"))
        .args(["--database-url", &db.url, "run", "--all"])
        .env_remove("DATABASE_URL")
        .env("READMODEL_SETTLE_TIMEOUT_SECS", "3")
        .output()
        .expect("runs");
    assert_success(&run, "the catch-up");
    execute(&mut other, "ROLLBACK");
    assert_eq!(db.checkpoint("habits.checkins"), Some(db.head()));
}

/// The settled head reads the sequence *before* the transactions that may still commit
/// ids below it. A run stops between the two reads; a writer then takes the next id and
/// stays open. Read in this order, the head excludes that id (the run waits for the
/// writer or not, and a later catch-up applies the event). Read in the other order, the
/// head includes the id without waiting, the run reads past the uncommitted event and its
/// checkpoint skips it for good: the catch-up differs from a full rebuild and this test
/// fails.
#[test]
fn the_settled_head_reads_the_sequence_before_the_writers() {
    let db = generated("600");
    db.run(&["run", "--all"]).ok();
    let mut run = Command::new(binary("replay-e2e"))
        .args(["--database-url", &db.url, "--quiet", "run", "--all"])
        .env_remove("DATABASE_URL")
        .env(
            PAUSE_VAR,
            format!(
                "{},{}",
                Point::SettledHeadReads.name(),
                Point::SettleWait.name()
            ),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the run starts");
    let _run = KillOnPanic::of(&[&run]);
    wait_stopped(&mut run, "the run between the settled head's reads");
    let mut writer = connect(&db);
    execute(&mut writer, "BEGIN");
    check_in(&mut writer, 1);
    signal(&run, "-CONT");
    // Waiting for the writer (stopped at `settle-wait`), or done without it.
    stopped_or_exited(&mut run);
    execute(&mut writer, "COMMIT");
    let run = resume_and_finish(run);
    assert_success(&run, "the run");
    db.run(&["run", "--all"]).ok();
    assert_eq!(checksums(&db), rebuilt(&db));
}

/// A following worker bounds its passes by the settled head, never by the sequence. A
/// writer holds id `v` uncommitted while `v + 1` commits; a follower then starts. Bound
/// by the settled head, it waits for the writer (stopped at `settle-wait`) and applies
/// both. Bound by the sequence, it reads to `v + 1` past the uncommitted event, every
/// model's checkpoint reaches `v + 1` before the writer commits, and `v` is skipped for
/// good: the follower's rows differ from a full rebuild and this test fails.
#[test]
fn a_following_worker_reads_no_further_than_the_settled_head() {
    let db = generated("600");
    let mut open = connect(&db);
    execute(&mut open, "BEGIN");
    check_in(&mut open, 2);
    check_in(&mut connect(&db), 3);
    let head = count(&db, "SELECT MAX(id) FROM event_record");
    let reached = format!(
        "SELECT COUNT(*) FROM readmodels.replay_checkpoints WHERE scope = 'all' \
         AND last_event_id >= {head} HAVING COUNT(*) = 19"
    );
    let mut follower = worker(
        &db,
        "follower",
        &["--lease-seconds", "2"],
        &[Point::SettleWait],
        &[],
    );
    let _follower = KillOnPanic::of(&[&follower]);
    let started = Instant::now();
    while !stopped(&follower) && count(&db, &reached) == 0 {
        if follower.try_wait().expect("its status").is_some() {
            panic!("the follower exited: {}", stderr(&finish(follower)));
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "waited two minutes"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    execute(&mut open, "COMMIT");
    if stopped(&follower) {
        signal(&follower, "-CONT");
    }
    wait_until(&db, "every model to reach the head", &reached);
    signal(&follower, "-TERM");
    assert_success(&finish(follower), "the follower");
    assert_eq!(checksums(&db), rebuilt(&db));
}

/// A follower outlives a writer that holds event ids open past the settle timeout (here
/// 1 s): it warns, stays at the head that is settled, and applies the writer's events once
/// it commits. (It used to fail its runs and exit.)
#[test]
fn a_follower_outlives_a_writer_holding_ids_past_the_settle_timeout() {
    let db = generated("600");
    let errors = db.dir.path().join("follow.stderr");
    let mut follower = Command::new(binary("replay-e2e"))
        .args(["--database-url", &db.url, "--quiet", "follow", "--all"])
        .args(["--poll-seconds", "0.1"])
        .env_remove("DATABASE_URL")
        .env("READMODEL_SETTLE_TIMEOUT_SECS", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&errors).expect("a file"))
        .spawn()
        .expect("the follower starts");
    let _follower = KillOnPanic::of(&[&follower]);
    let at_head = |head: i64| {
        format!(
            "SELECT COUNT(*) FROM readmodels.replay_checkpoints WHERE scope = 'all' \
             AND last_event_id >= {head} HAVING COUNT(*) = 19"
        )
    };
    wait_until(&db, "the follower to catch up", &at_head(db.head()));
    let mut open = connect(&db);
    execute(&mut open, "BEGIN");
    check_in(&mut open, 4);
    check_in(&mut connect(&db), 5);
    let head = count(&db, "SELECT MAX(id) FROM event_record");
    let started = Instant::now();
    loop {
        let said = std::fs::read_to_string(&errors).unwrap_or_default();
        if said.contains(&format!("following stays at event {}", head - 2)) {
            break;
        }
        if follower.try_wait().expect("its status").is_some() {
            panic!("the follower exited: {said}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no warning: {said}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    execute(&mut open, "COMMIT");
    wait_until(&db, "the follower to apply both events", &at_head(head));
    signal(&follower, "-TERM");
    let status = follower.wait().expect("exits");
    let said = std::fs::read_to_string(&errors).unwrap_or_default();
    assert!(status.success(), "{said}");
    assert_eq!(checksums(&db), rebuilt(&db));
}
