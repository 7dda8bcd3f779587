//! Running it as a service: a worker's `/metrics` while writers append (lag rising while
//! the test holds its table locked, falling to zero once released; counters that never go
//! down; the applied events against the log's own count), `/healthz` while a private
//! PostgreSQL server is stopped and started again, the real Prometheus server scraping a
//! worker, and `status --watch --once` on both backends.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;

use diesel::{Connection, PgConnection, RunQueryDsl};
use readmodel_tests::child::{signal, wait_until};
use readmodel_tests::service::{get, series, Service};
use readmodel_tests::writers::spawn_writers;
use readmodel_tests::{bin, on_both_backends, pg, replay, Db, HABITS};

const CHECKINS: &str = "habits.checkins";

on_both_backends!(status_watch_once_prints_one_frame_of_every_model);

/// `replay worker --model habits.checkins` split in 4, following, with metrics.
fn worker(url: &str, owner: &str) -> Service {
    Service::start(
        &bin(),
        url,
        &[
            "worker",
            "--model",
            CHECKINS,
            "--partitions",
            "4",
            "--poll-seconds",
            "0.2",
            "--owner",
            owner,
        ],
    )
}

fn sum(samples: &BTreeMap<String, f64>, name: &str) -> f64 {
    series(samples, name).iter().map(|(_, v)| v).sum()
}

fn max(samples: &BTreeMap<String, f64>, name: &str) -> f64 {
    series(samples, name)
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0, f64::max)
}

/// Every counter (and histogram count, sum and bucket) of `later` is at least its value in
/// `earlier`.
fn assert_monotonic(earlier: &BTreeMap<String, f64>, later: &BTreeMap<String, f64>) {
    for (series, before) in earlier {
        let counter = series.contains("_total")
            || series.contains("_seconds_count")
            || series.contains("_seconds_sum")
            || series.contains("_seconds_bucket");
        if !counter {
            continue;
        }
        let after = later.get(series).copied().unwrap_or(0.0);
        assert!(
            after >= *before,
            "{series} went down: {before} then {after}"
        );
    }
}

/// A worker's metrics while 4 writers append: the lag rises while the test holds the
/// model's table locked (the worker cannot flush; the log grows), and falls to zero once
/// released; every counter only grows; the events applied are the log's events (all
/// check-ins, the model's type), every partition was claimed once, and the build and model
/// info name this binary's fingerprint.
#[test]
fn a_workers_metrics_follow_the_writers_lag_rises_and_falls() {
    let db = Db::new(true);
    let service = worker(&db.url, "metrics-worker");
    let mut scrapes = vec![service.scrape()];
    wait_until("the worker holds its 4 partitions", || {
        let samples = service.scrape();
        series(&samples, "readmodel_lease_claims_total").len() == 4
    });
    let (stop, writers) = spawn_writers(&db.url, true, 4);
    let mut lock = PgConnection::establish(&db.url).expect("connects");
    lock.transaction(|conn| {
        diesel::sql_query("LOCK TABLE readmodels.habit_checkins IN ACCESS EXCLUSIVE MODE")
            .execute(conn)?;
        wait_until("the lag reaches 30 events and 1 second", || {
            let samples = service.scrape();
            let risen = max(&samples, "readmodel_lag_events") >= 30.0
                && max(&samples, "readmodel_lag_seconds") >= 1.0;
            scrapes.push(samples);
            risen
        });
        diesel::QueryResult::Ok(())
    })
    .expect("the lock is taken and released");
    stop.store(true, Ordering::Relaxed);
    let written: i64 = writers.into_iter().map(|w| w.join().expect("writer")).sum();
    let head = db.head();
    wait_until("the lag falls to zero", || {
        let samples = service.scrape();
        let caught_up = sum(&samples, "readmodel_lag_events") == 0.0
            && samples.get("readmodel_log_head") == Some(&(head as f64));
        scrapes.push(samples);
        caught_up
    });
    for pair in scrapes.windows(2) {
        assert_monotonic(&pair[0], &pair[1]);
    }
    let last = scrapes.last().expect("scrapes");
    assert_eq!(sum(last, "readmodel_lag_seconds"), 0.0);
    assert_eq!(written, db.log_length(), "writers' events are the log");
    assert_eq!(sum(last, "readmodel_events_applied_total"), written as f64);
    assert_eq!(sum(last, "readmodel_lease_claims_total"), 4.0);
    assert!(sum(last, "readmodel_lease_renewals_total") >= 4.0);
    assert!(last["readmodel_flush_duration_seconds_count"] >= 1.0);
    let partitions: Vec<&str> = series(last, "readmodel_checkpoint")
        .iter()
        .map(|(labels, _)| *labels)
        .collect();
    assert_eq!(
        partitions,
        (0..4)
            .map(|p| format!("{{model=\"{CHECKINS}\",version=\"1\",partition=\"{p}/4\"}}"))
            .collect::<Vec<_>>()
    );
    let status = db.run(&["--json", "status", "--model", CHECKINS]).json();
    let fingerprint = status[0]["fingerprint"].as_str().expect("a fingerprint");
    let info = format!(
        "readmodel_model_info{{model=\"{CHECKINS}\",version=\"1\",fingerprint=\"{fingerprint}\"}}"
    );
    assert_eq!(last.get(&info), Some(&1.0), "{info} in {last:?}");
    assert_eq!(
        series(last, "readmodel_build_info"),
        vec![(
            "{binary=\"lifeos\",version=\"0.1.0\",runtime=\"0.1.0\"}",
            1.0
        )]
    );
    // The live view names the worker holding the 4 partitions.
    let frame = db.run(&["status", "--watch", "--once", "--model", CHECKINS]);
    let row = frame
        .ok()
        .lines()
        .nth(2)
        .expect("the model's row")
        .to_owned();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[0], CHECKINS, "{row}");
    assert_eq!(cells[6..], ["4", "metrics-worker×4"], "{row}");
    signal(&service.child, "TERM");
}

/// `/healthz` is 200 while the worker follows, 503 with a one-line reason while its
/// PostgreSQL server (a private one: stopping the shared one would fail other tests) is
/// down, and 200 again once it is back; the worker then applies what was appended after.
#[test]
fn healthz_turns_503_while_the_database_is_down_and_200_when_it_is_back() {
    let server = pg::private_server();
    let url = server.fresh_database();
    replay(&bin(), &url, &["migrate"]).ok();
    let service = worker(&url, "health-worker");
    let healthz = || service.get("/healthz");
    wait_until("/healthz answers 200", || healthz().0 == 200);
    assert_eq!(healthz().1, "ok\n");
    server.stop();
    let mut down = (0, String::new());
    wait_until("/healthz answers 503", || {
        down = healthz();
        down.0 == 503
    });
    assert_eq!(down.1.lines().count(), 1, "{:?}", down.1);
    assert!(down.1.starts_with("database unreachable: "), "{:?}", down.1);
    assert_eq!(service.scrape().get("readmodel_healthy"), Some(&0.0));
    server.start_again();
    wait_until("/healthz answers 200 again", || healthz().0 == 200);
    // Followed after the outage: events appended now are applied.
    let (stop, writers) = spawn_writers(&url, true, 2);
    wait_until("some events are appended", || {
        readmodel_tests::writers::connect(&url, true)
            .0
            .map(|mut c| {
                diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT COUNT(*) FROM event_record")
                    .get_result::<i64>(&mut c)
                    .expect("count")
            })
            .unwrap_or(0)
            >= 20
    });
    stop.store(true, Ordering::Relaxed);
    let written: i64 = writers.into_iter().map(|w| w.join().expect("writer")).sum();
    wait_until(
        "the worker applies every event written after the outage",
        || sum(&service.scrape(), "readmodel_events_applied_total") == written as f64,
    );
    assert!(
        service.stderr().contains("cannot reach the database"),
        "{}",
        service.stderr()
    );
    signal(&service.child, "TERM");
}

/// `follow` does not ride out a lost database as a worker does: it ends with one error
/// line and exit 1 (what docs/OPERATING.md says, so that an orchestrator restarts it).
#[test]
fn a_follower_that_loses_its_database_ends_with_one_error_line() {
    let server = pg::private_server();
    let url = server.fresh_database();
    replay(&bin(), &url, &["migrate"]).ok();
    let mut service = Service::start(
        &bin(),
        &url,
        &["follow", "--model", CHECKINS, "--poll-seconds", "0.2"],
    );
    wait_until("/healthz answers 200", || service.get("/healthz").0 == 200);
    server.stop();
    let mut status = None;
    wait_until("the follower exits", || {
        status = service.child.try_wait().expect("try_wait");
        status.is_some()
    });
    assert_eq!(status.and_then(|s| s.code()), Some(1));
    wait_until("its error line is read", || {
        service.stderr().contains("error: ")
    });
    let errors: Vec<String> = service
        .stderr()
        .lines()
        .filter(|line| line.starts_with("error: "))
        .map(str::to_owned)
        .collect();
    assert_eq!(errors.len(), 1, "{}", service.stderr());
}

/// `--log-format json`: the service's lines are JSON log events (tracing's JSON layer),
/// the address line among them, and the address it names answers.
#[test]
fn log_format_json_writes_the_services_lines_as_json_events() {
    use std::io::{BufRead, BufReader};
    let db = Db::new(false);
    let mut child = Command::new(bin())
        .args(["--database-url", &db.url, "--quiet", "--log-format", "json"])
        .args([
            "follow",
            "--model",
            CHECKINS,
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .env_remove("DATABASE_URL")
        .env_remove("READMODEL_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the replay binary starts");
    let mut first = String::new();
    BufReader::new(child.stderr.take().expect("stderr"))
        .read_line(&mut first)
        .expect("a line on stderr");
    let event: serde_json::Value = serde_json::from_str(&first)
        .unwrap_or_else(|e| panic!("not a JSON log event ({e}): {first:?}"));
    assert_eq!(event["level"], "INFO", "{event}");
    assert_eq!(event["target"], "replay", "{event}");
    let message = event["fields"]["message"].as_str().expect("a message");
    let addr: SocketAddr = readmodel_tests::service::bound_address(message)
        .unwrap_or_else(|| panic!("no address in {message:?}"));
    assert_eq!(get(addr, "/nothing").0, 404);
    let _ = child.kill();
    let _ = child.wait();
}

/// The Prometheus server: Debian's `prometheus` package (installed by `.ci/run`), or
/// `$READMODEL_PROMETHEUS`.
fn prometheus_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let candidates = std::env::var_os("READMODEL_PROMETHEUS")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::split_paths(&path).map(|dir| dir.join("prometheus")))
        .chain([PathBuf::from("/usr/bin/prometheus")]);
    for candidate in candidates {
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "the Prometheus server is not installed: apt-get install prometheus (as .ci/run does), or set READMODEL_PROMETHEUS to its binary"
    );
}

/// A free loopback port (bound, then let go for the server to take).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// The real Prometheus server scrapes a worker: its query API returns
/// `readmodel_lag_events` with the worker's labels, the job's and the instance's.
#[test]
fn prometheus_scrapes_a_worker_and_serves_its_lag() {
    let binary = prometheus_binary();
    let db = Db::new(true);
    db.run(&["generate", "--users", "5", "--events", "500", "--seed", "7"])
        .ok();
    let service = worker(&db.url, "scraped-worker");
    let dir = db.scratch();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: readmodel\n    static_configs:\n      - targets: ['{}']\n",
            service.addr
        ),
    )
    .expect("write prometheus.yml");
    let web: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let prometheus = PrometheusChild(
        Command::new(&binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", binary.display())),
    );
    let mut answer = serde_json::Value::Null;
    wait_until("Prometheus has scraped readmodel_lag_events", || {
        let Ok(stream) = std::net::TcpStream::connect(web) else {
            return false;
        };
        drop(stream);
        let (status, body) = get(web, "/api/v1/query?query=readmodel_lag_events");
        answer = serde_json::from_str(&body).unwrap_or_default();
        status == 200
            && answer["data"]["result"]
                .as_array()
                .is_some_and(|r| r.len() == 4)
    });
    let mut labels: Vec<serde_json::Value> = answer["data"]["result"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["metric"].clone())
        .collect();
    labels.sort_by_key(|l| l["partition"].as_str().unwrap_or_default().to_owned());
    for (p, metric) in labels.iter().enumerate() {
        assert_eq!(
            metric,
            &serde_json::json!({
                "__name__": "readmodel_lag_events",
                "instance": service.addr.to_string(),
                "job": "readmodel",
                "model": CHECKINS,
                "version": "1",
                "partition": format!("{p}/4"),
            })
        );
    }
    drop(prometheus);
    signal(&service.child, "TERM");
}

/// Kills the Prometheus server when the test ends, passed or not.
struct PrometheusChild(Child);

impl Drop for PrometheusChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `status --watch --once` prints one frame (no screen clearing) with every model's
/// active version, checkpoint, lag, rate, partitions and owners; `--once` alone, and
/// `--json` with `--watch`, are refused.
fn status_watch_once_prints_one_frame_of_every_model(postgres: bool) {
    let db = Db::seeded(postgres, "5", "400", "11");
    let head = db.head();
    let frame = db.run(&["status", "--watch", "--once"]);
    let text = frame.ok();
    assert!(
        !text.contains('\x1b'),
        "no ANSI codes in one frame: {text:?}"
    );
    let mut lines = text.lines();
    let title = lines.next().expect("a title");
    assert!(
        title.starts_with(&format!("replay status --watch: log head {head}, ")),
        "{title}"
    );
    let header: Vec<&str> = lines.next().expect("a header").split_whitespace().collect();
    assert_eq!(
        header,
        [
            "MODEL",
            "V",
            "ACTIVE",
            "CHECKPOINT",
            "LAG",
            "EVENTS/S",
            "PARTITIONS",
            "OWNERS"
        ]
    );
    let rows: BTreeMap<&str, Vec<&str>> = lines
        .map(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            (cells[0], cells[1..].to_vec())
        })
        .collect();
    assert!(rows.len() > HABITS.len(), "{rows:?}");
    for model in HABITS {
        let head = head.to_string();
        assert_eq!(
            rows[model],
            ["1", "1", head.as_str(), "0", "-", "-", "-"],
            "{model}"
        );
    }
    // A model never run: no active version, no checkpoint, the whole log behind.
    let never = rows["journal.entries"].clone();
    assert_eq!(
        never,
        ["1", "-", "-", head.to_string().as_str(), "-", "-", "-"]
    );
    let refused = db.run(&["status", "--once"]);
    assert!(
        refused.stderr.contains("--watch"),
        "--once without --watch: {}",
        refused.stderr
    );
    // A live table has no JSON form: refused in one line, not printed as text.
    let json = db.run(&["--json", "status", "--watch", "--once"]);
    assert_eq!(json.code, Some(1), "{}", json.stdout);
    assert!(
        json.error_line()
            .contains("status --watch draws a live table"),
        "{}",
        json.stderr
    );
    assert!(json.stdout.is_empty(), "{}", json.stdout);
}
