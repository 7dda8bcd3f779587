//! `bench --scale` through the binary, on a new SQLite database and the test PostgreSQL
//! server: the files it writes, equal checksums across backends, the PostgreSQL database
//! emptied between sizes, and its refusals.

use std::path::Path;
use std::process::{Command, Output};

use readmodel_runtime::{DatabaseUrl, Registry, Store};
use readmodel_tests::pg;

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(args)
        .output()
        .expect("the bench binary runs")
}

fn json_of(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

fn log_len(url: &str) -> i64 {
    let url = DatabaseUrl::parse(url).expect("a URL");
    let mut store = Store::open(&url, &projections::MIGRATIONS).expect("opens");
    store.log_len().expect("counts")
}

#[test]
fn two_sizes_on_both_backends_give_equal_checksums_a_json_and_a_chart() {
    let url = pg::server().fresh_database();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let prefix = dir.path().join("scale");
    let sqlite_dir = dir.path().join("databases");
    std::fs::create_dir(&sqlite_dir).expect("a directory");
    let out = bench(&[
        "--scale",
        "4k,2k",
        "--database-url",
        &url,
        "--sqlite-dir",
        sqlite_dir.to_str().expect("UTF-8"),
        "--out",
        prefix.to_str().expect("UTF-8"),
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // The SQLite databases were made under --sqlite-dir, and removed after their run.
    assert!(
        stderr.contains(&format!("into {}", sqlite_dir.display())),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&sqlite_dir).expect("lists").count(), 0);

    let json = json_of(&dir.path().join("scale.json"));
    let printed: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(printed, json);
    assert_eq!(json["backends"], serde_json::json!(["sqlite", "postgres"]));
    assert_eq!(json["checksums_match"], true);
    let models = Registry::global().expect("the registry").iter().count();
    assert_eq!(json["models"], models);
    let runs = json["runs"].as_array().expect("runs");
    let order: Vec<(&str, u64)> = runs
        .iter()
        .map(|r| {
            (
                r["backend"].as_str().expect("a backend"),
                r["log_events"].as_u64().expect("events"),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("sqlite", 2_000),
            ("postgres", 2_000),
            ("sqlite", 4_000),
            ("postgres", 4_000)
        ]
    );
    for run in runs {
        assert_eq!(
            run["checksums"].as_object().map(|c| c.len()),
            Some(models),
            "{run}"
        );
        assert!(
            run["peak_rss_kib"].as_u64().is_some_and(|k| k > 1_024),
            "{run}"
        );
        assert!(
            run["model_events"].as_u64() > run["log_events"].as_u64(),
            "{run}"
        );
    }
    assert_eq!(runs[0]["checksums"], runs[1]["checksums"]);
    assert_eq!(runs[2]["checksums"], runs[3]["checksums"]);
    assert_ne!(runs[0]["checksums"], runs[2]["checksums"]);
    let rate = |i: usize| runs[i]["log_events_per_second"].as_f64().expect("a rate");
    let ratios = json["ratios"].as_array().expect("ratios");
    assert_eq!(ratios.len(), 2);
    let ratio = |i: usize| {
        ratios[i]["log_events_per_second"]
            .as_f64()
            .expect("a ratio")
    };
    assert!((ratio(0) - rate(2) / rate(0)).abs() < 1e-9);
    assert!((ratio(1) - rate(3) / rate(1)).abs() < 1e-9);

    let svg = std::fs::read_to_string(dir.path().join("scale.svg")).expect("the chart");
    roxmltree::Document::parse(&svg).expect("well-formed SVG");
    assert!(svg.contains("sqlite log events/s") && svg.contains("postgres log events/s"));
    // Emptied between sizes: the database holds the last size's log alone.
    assert_eq!(log_len(&url), 4_000);

    // Not empty any more: refused before anything is measured or written.
    let again = dir.path().join("again");
    let out = bench(&[
        "--scale",
        "2k",
        "--database-url",
        &url,
        "--out",
        again.to_str().expect("UTF-8"),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("event_record already holds 4000 events; --scale needs an empty database"),
        "{stderr}"
    );
    assert!(!dir.path().join("again.json").exists() && !dir.path().join("again.svg").exists());
}

#[test]
fn a_bad_size_is_refused_with_one_line_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let prefix = dir.path().join("scale");
    let out = bench(&[
        "--scale",
        "1M,10Q",
        "--out",
        prefix.to_str().expect("UTF-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --scale: \"10Q\" is not a size (expected e.g. 1M, 250k, 10000000)\n"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).expect("lists").count(), 0);
}

fn count(url: &str, table: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let url = DatabaseUrl::parse(url).expect("a URL");
    let mut store = Store::open(&url, &projections::MIGRATIONS).expect("opens");
    let Store::Postgres(c) = &mut store else {
        panic!("{url} is not PostgreSQL")
    };
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<Count>(c)
        .expect("counts")
        .n
}

#[test]
fn repeated_passes_run_over_emptied_read_models_and_report_the_median() {
    let url = pg::server().fresh_database();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let prefix = dir.path().join("scale");
    let out = bench(&[
        "--scale",
        "2k",
        "--repeat",
        "3",
        "--database-url",
        &url,
        "--out",
        prefix.to_str().expect("UTF-8"),
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for backend in ["sqlite", "postgres"] {
        for pass in 1..=3 {
            let line = format!("{backend}, 2k: run --all --full over 2000 events in a fresh process (pass {pass} of 3)");
            assert!(stderr.contains(&line), "{line} in {stderr}");
        }
    }
    let json = json_of(&dir.path().join("scale.json"));
    assert_eq!(json["checksums_match"], true);
    assert!(json["command"]
        .as_str()
        .is_some_and(|c| c.ends_with(" --repeat 3")));
    for run in json["runs"].as_array().expect("runs") {
        let mut passes: Vec<f64> = run["pass_seconds"]
            .as_array()
            .expect("every pass")
            .iter()
            .map(|s| s.as_f64().expect("seconds"))
            .collect();
        assert_eq!(passes.len(), 3, "{run}");
        passes.sort_by(f64::total_cmp);
        assert_eq!(
            run["seconds"].as_f64(),
            Some(passes[1]),
            "the median: {run}"
        );
        let rate = run["log_events_per_second"].as_f64().expect("a rate");
        assert!((rate - 2_000.0 / passes[1]).abs() < 1e-6 * rate, "{run}");
    }
    // Each pass started from emptied read models: the ledger holds the last pass's runs
    // alone, one per model (three passes over kept read models would leave three).
    let models = Registry::global().expect("the registry").iter().count();
    assert_eq!(count(&url, "readmodels.replay_runs"), models as i64);
    assert_eq!(log_len(&url), 2_000);
}
