//! `--scale` sizes, the report's JSON, the checksum comparison and the chart. The real
//! runs (both backends, through the binary) are in `bench/tests/scale.rs`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;

#[test]
fn sizes_take_suffixes_plain_numbers_and_fractions_smallest_first() {
    assert_eq!(parse_sizes("1M,10M"), Ok(vec![1_000_000, 10_000_000]));
    assert_eq!(parse_sizes("100M"), Ok(vec![100_000_000]));
    assert_eq!(parse_sizes("50k,20k"), Ok(vec![20_000, 50_000]));
    assert_eq!(parse_sizes("10000000"), Ok(vec![10_000_000]));
    assert_eq!(
        parse_sizes(" 250K , 2.5M,1.5k"),
        Ok(vec![1_500, 250_000, 2_500_000])
    );
}

#[test]
fn a_bad_size_is_refused_with_one_line_naming_it() {
    let refused = |list: &str| parse_sizes(list).expect_err(list).to_string();
    assert_eq!(
        refused("1M,10Q"),
        r#"--scale: "10Q" is not a size (expected e.g. 1M, 250k, 10000000)"#
    );
    for token in [
        "0",
        "-5",
        "k",
        "M",
        "1e6",
        "1.2345k",
        "0.5",
        "1.k",
        "1m",
        "18446744073709551616",
        "99999999999999M",
    ] {
        assert_eq!(
            refused(&format!("2k,{token}")),
            format!("--scale: {token:?} is not a size (expected e.g. 1M, 250k, 10000000)")
        );
    }
    assert_eq!(
        refused("1M,,2M"),
        r#"--scale: "" is not a size (expected e.g. 1M, 250k, 10000000)"#
    );
    assert_eq!(
        refused("1M,20k,1000k"),
        r#"--scale: "1000k" repeats a size given before (1000000 events)"#
    );
}

#[test]
fn a_log_is_million_event_generations_with_seeds_from_one_or_one_generation() {
    let seeds = |events| -> Vec<(u64, u64, u32)> {
        generations(events, 1_000)
            .iter()
            .map(|g| (g.seed, g.events, g.users))
            .collect()
    };
    assert_eq!(seeds(1_000_000), vec![(1, 1_000_000, 1_000)]);
    assert_eq!(
        seeds(3_000_000),
        vec![
            (1, 1_000_000, 1_000),
            (2, 1_000_000, 1_000),
            (3, 1_000_000, 1_000)
        ]
    );
    assert_eq!(seeds(20_000), vec![(1, 20_000, 1_000)]);
    assert_eq!(seeds(2_500_000), vec![(1, 2_500_000, 1_000)]);
    assert_eq!(
        [10_000_000, 250_000, 1_500, 7].map(show_size),
        ["10M", "250k", "1500", "7"]
    );
}

fn run_of(backend: &'static str, size: u64, seconds: f64, checksum: &str) -> ScaleRun {
    ScaleRun {
        backend,
        size,
        generations: 1,
        log_events: size,
        generate_seconds: 1.0,
        seconds,
        pass_seconds: vec![seconds],
        process_seconds: seconds + 0.5,
        log_events_per_second: size as f64 / seconds,
        model_events: size * 3,
        model_events_per_second: size as f64 * 3.0 / seconds,
        peak_rss_kib: Some(40_960 + size / 100),
        checksums: BTreeMap::from([
            ("habits.checkins".to_owned(), format!("sha256:{checksum}1")),
            ("habits.streaks".to_owned(), format!("sha256:{checksum}2")),
        ]),
    }
}

fn options(sizes: Vec<u64>) -> ScaleOptions {
    ScaleOptions {
        sizes,
        database_url: Some("postgres://bench:secret@localhost/empty".to_owned()),
        sqlite_dir: None,
        users: 1_000,
        batch_size: 2_500,
        repeat: 1,
        exe: PathBuf::from("bench"),
    }
}

/// Two backends, three sizes: SQLite 10% slower per event at 4k than at 1k, PostgreSQL
/// 20% faster.
fn two_backends() -> ScaleReport {
    let runs = vec![
        run_of("sqlite", 1_000, 1.0, "a"),
        run_of("postgres", 1_000, 2.0, "a"),
        run_of("sqlite", 2_000, 2.0, "b"),
        run_of("postgres", 2_000, 4.0, "b"),
        run_of("sqlite", 4_000, 4.0 / 0.9, "c"),
        run_of("postgres", 4_000, 8.0 / 1.2, "c"),
    ];
    report(&options(vec![1_000, 2_000, 4_000]), runs)
}

#[test]
fn the_json_gives_each_run_the_ratios_and_the_machine() {
    let json = serde_json::to_value(two_backends()).expect("serializes");
    assert_eq!(json["backends"], serde_json::json!(["sqlite", "postgres"]));
    assert_eq!(json["sizes"], serde_json::json!([1_000, 2_000, 4_000]));
    assert_eq!(json["models"], 2);
    assert_eq!(json["checksums_match"], true);
    assert_eq!(json["mismatches"], serde_json::json!([]));
    assert!(json["machine"]["cores"].as_u64().is_some_and(|c| c >= 1));
    assert!(
        json["date"].as_str().is_some_and(|d| d.ends_with('Z')),
        "{}",
        json["date"]
    );
    let command = json["command"].as_str().expect("a command");
    assert_eq!(
        command,
        "cargo run --release -p bench -- --scale 1k,2k,4k --database-url 'postgres://bench:***@localhost/empty' --users 1000 --batch-size 2500"
    );
    let runs = json["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 6);
    let keys: Vec<&str> = runs[0]
        .as_object()
        .expect("a run")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "backend",
            "checksums",
            "generate_seconds",
            "generations",
            "log_events",
            "log_events_per_second",
            "model_events",
            "model_events_per_second",
            "pass_seconds",
            "peak_rss_kib",
            "process_seconds",
            "seconds",
            "size"
        ]
    );
    assert_eq!(runs[1]["checksums"]["habits.streaks"], "sha256:a2");
    let ratios = json["ratios"].as_array().expect("ratios");
    assert_eq!(ratios.len(), 2);
    assert_eq!(
        (
            &ratios[0]["backend"],
            &ratios[0]["smallest"],
            &ratios[0]["largest"]
        ),
        (&"sqlite".into(), &1_000.into(), &4_000.into())
    );
    let ratio = |i: usize| {
        ratios[i]["log_events_per_second"]
            .as_f64()
            .expect("a ratio")
    };
    assert!((ratio(0) - 0.9).abs() < 1e-9, "{}", ratio(0));
    assert!((ratio(1) - 1.2).abs() < 1e-9, "{}", ratio(1));
}

#[test]
fn the_table_gives_each_ratio_and_whether_the_checksums_match() {
    let table = two_backends().table();
    assert!(
        table.contains("backends measured: sqlite, postgres"),
        "{table}"
    );
    assert!(
        table.contains("sqlite: log events/s at 4k / at 1k: 0.90"),
        "{table}"
    );
    assert!(
        table.contains("postgres: log events/s at 4k / at 1k: 1.20"),
        "{table}"
    );
    assert!(
        table.contains("equal across backends at every size: yes"),
        "{table}"
    );
}

#[test]
fn a_checksum_that_differs_between_backends_fails_the_report() {
    let mut runs = two_backends().runs;
    runs[3]
        .checksums
        .insert("habits.streaks".to_owned(), "sha256:x2".to_owned());
    runs[5].checksums.remove("habits.checkins");
    let report = report(&options(vec![1_000, 2_000, 4_000]), runs);
    assert!(!report.checksums_match);
    let found: Vec<(u64, &str)> = report
        .mismatches
        .iter()
        .map(|m| (m.size, m.model.as_str()))
        .collect();
    assert_eq!(
        found,
        [(2_000, "habits.streaks"), (4_000, "habits.checkins")]
    );
    let table = report.table();
    assert!(
        table.contains("equal across backends at every size: NO"),
        "{table}"
    );
    assert!(
        table.contains("MISMATCH at 2k: habits.streaks: postgres sha256:x2, sqlite sha256:b2"),
        "{table}"
    );
    assert!(
        table.contains("MISMATCH at 4k: habits.checkins: postgres (none), sqlite sha256:c1"),
        "{table}"
    );
}

/// The chart's solid lines (2 px; dashes are 1 px) drawn in `colour` with exactly
/// `points` points.
fn lines_of(svg: &roxmltree::Document<'_>, colour: &str, points: usize) -> usize {
    svg.descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some(colour))
        .filter(|n| n.attribute("stroke-width") == Some("2"))
        .filter(|n| n.attribute("points").map(|p| p.split_whitespace().count()) == Some(points))
        .count()
}

#[test]
fn the_chart_is_well_formed_svg_with_one_line_per_backend_and_panel() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let prefix = dir.path().join("scale.v1");
    write_files(&two_backends(), &prefix).expect("writes the files");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("scale.v1.json")).expect("the JSON file"),
    )
    .expect("JSON");
    assert_eq!(json["runs"].as_array().map(Vec::len), Some(6));
    let text = std::fs::read_to_string(dir.path().join("scale.v1.svg")).expect("the SVG file");
    let svg = roxmltree::Document::parse(&text).expect("well-formed XML");
    assert_eq!(svg.root_element().tag_name().name(), "svg");
    let texts: Vec<&str> = svg
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    for backend in ["sqlite", "postgres"] {
        for label in ["log events/s", "model-events/s", "peak RSS"] {
            let label = format!("{backend} {label}");
            assert_eq!(
                texts.iter().filter(|t| **t == label).count(),
                1,
                "{label}: {texts:?}"
            );
        }
    }
    assert!(texts.iter().any(|t| t.contains("2 models")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains(" cores")), "{texts:?}");
    // One solid line per backend in each panel (three sizes: three points).
    assert_eq!(lines_of(&svg, "#1F77B4", 3), 2, "sqlite");
    assert_eq!(lines_of(&svg, "#D62728", 3), 2, "postgres");
}

#[test]
fn a_single_backend_chart_draws_that_backend_only() {
    let runs: Vec<ScaleRun> = two_backends()
        .runs
        .into_iter()
        .filter(|r| r.backend == "sqlite")
        .collect();
    let report = report(&options(vec![1_000, 2_000, 4_000]), runs);
    assert_eq!(report.backends, ["sqlite"]);
    assert!(report.table().contains("only one backend measured"));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("one.svg");
    chart::write_svg(&report, &path).expect("draws");
    let text = std::fs::read_to_string(&path).expect("the SVG file");
    let svg = roxmltree::Document::parse(&text).expect("well-formed XML");
    assert_eq!(lines_of(&svg, "#1F77B4", 3), 2);
    assert_eq!(lines_of(&svg, "#D62728", 3), 0);
    assert!(!text.contains("postgres"));
}

fn pass(seconds: f64, checksum: &str) -> (child::ChildReport, f64) {
    let report = child::ChildReport {
        seconds,
        model_events: 3,
        checksums: BTreeMap::from([("habits.checkins".to_owned(), checksum.to_owned())]),
        peak_rss_kib: Some(1_024),
    };
    (report, seconds + 0.5)
}

#[test]
fn the_median_pass_is_the_middle_one_or_the_faster_of_the_middle_two() {
    let three = vec![pass(9.0, "a"), pass(7.0, "a"), pass(8.0, "a")];
    let (median, process) = median_pass(three, "sqlite", 1_000).expect("a median");
    assert_eq!((median.seconds, process), (8.0, 8.5));
    let four = vec![
        pass(4.0, "a"),
        pass(1.0, "a"),
        pass(3.0, "a"),
        pass(2.0, "a"),
    ];
    assert_eq!(
        median_pass(four, "sqlite", 1_000)
            .expect("a median")
            .0
            .seconds,
        2.0
    );
    let one = vec![pass(5.0, "a")];
    assert_eq!(
        median_pass(one, "sqlite", 1_000)
            .expect("a median")
            .0
            .seconds,
        5.0
    );
}

#[test]
fn passes_that_wrote_different_rows_fail_naming_the_pass_and_the_model() {
    let passes = vec![pass(1.0, "a"), pass(1.0, "a"), pass(1.0, "b")];
    let error = median_pass(passes, "postgres", 10_000_000).expect_err("rows differ");
    assert_eq!(
        error.to_string(),
        "postgres, 10M: pass 3 wrote different rows than pass 1 for habits.checkins over the same log"
    );
}

#[test]
fn emptying_a_sqlite_database_deletes_its_read_model_file_and_keeps_the_log() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let main = dir.path().join("bench.db");
    let url = main.display().to_string();
    let parsed = readmodel_runtime::DatabaseUrl::parse(&url).expect("a URL");
    let readmodels = match &parsed {
        readmodel_runtime::DatabaseUrl::Sqlite { readmodels, .. } => readmodels.clone(),
        other => panic!("not SQLite: {other}"),
    };
    drop(readmodel_runtime::Store::open(&parsed, &projections::MIGRATIONS).expect("opens"));
    assert!(readmodels.exists() && main.exists());
    database::empty_read_models(&url).expect("empties");
    assert!(!readmodels.exists(), "{}", readmodels.display());
    assert!(main.exists());
    // Nothing to delete is not an error, and a store opens on it as on a new database.
    database::empty_read_models(&url).expect("empties again");
    drop(readmodel_runtime::Store::open(&parsed, &projections::MIGRATIONS).expect("opens"));
    assert!(readmodels.exists());
}

#[test]
fn a_chart_of_repeated_passes_says_it_draws_their_medians() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let caption = |report: &ScaleReport, name: &str| {
        let prefix = dir.path().join(name);
        write_files(report, &prefix).expect("writes the files");
        let text = std::fs::read_to_string(with_extension(&prefix, "svg")).expect("the SVG");
        text.lines()
            .map(str::trim)
            .find(|line| line.starts_with("throughput of the pass"))
            .map(str::to_owned)
    };
    let mut repeated = two_backends();
    for run in &mut repeated.runs {
        run.pass_seconds = vec![run.seconds * 1.1, run.seconds, run.seconds * 0.9];
    }
    assert_eq!(
        caption(&repeated, "repeated").as_deref(),
        Some("throughput of the pass (the median of 3 passes)")
    );
    let table = repeated.table();
    assert!(
        table.contains("median s") && table.contains("passes s"),
        "{table}"
    );
    assert!(
        table.contains("1.10 1.00 0.90"),
        "every pass, in order: {table}"
    );
    let once = two_backends().table();
    assert!(
        once.contains("run s") && !once.contains("passes s"),
        "{once}"
    );
    assert_eq!(
        caption(&two_backends(), "once").as_deref(),
        Some("throughput of the pass")
    );
}
