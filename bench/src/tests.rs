//! A tiny SQLite run: the baselines must write exactly the framework's rows.

use super::*;

#[test]
fn baselines_write_the_framework_rows_on_a_small_sqlite_log() {
    let options = Options {
        events: 2_000,
        users: 12,
        seed: 7,
        batch_size: 300,
        ..Options::default()
    };
    let report = run(&options, &mut |_| {}).expect("the benchmark runs");
    let spec = GenerateSpec {
        users: 12,
        events: 2_000,
        seed: 7,
    };
    let registry = Registry::global().expect("the registry");
    assert_eq!(report.backend, "sqlite");
    assert_eq!(report.generate.events, 2_000);
    assert_eq!(report.models.len(), MODELS.len());
    for m in &report.models {
        assert!(
            m.checksums_match,
            "{}: ours {} vs baseline {}",
            m.model, m.ours_checksum, m.baseline_checksum
        );
        assert!(m.events > 0 && m.rows > 0, "{}: nothing replayed", m.model);
        assert_eq!(m.events, m.baseline_events, "{}", m.model);
        assert_eq!(m.ours_checksum, m.baseline_checksum, "{}", m.model);
        // Counted independently: the generated events of the types the model consumes.
        let consumed = registry
            .get(m.model)
            .expect("a registered model")
            .contract()
            .consumed_events;
        let generated = projections::generate::events(&spec)
            .filter(|e| consumed.contains(&e.event_type.as_str()))
            .count() as u64;
        assert_eq!(m.events, generated, "{}: events read", m.model);
    }
    // The timeline has one row per event; the snapshot fewer rows than habits' events.
    assert_eq!(report.models[0].rows, report.models[0].events);
    assert!(report.all_match());
    let table = report.table();
    assert!(table.contains("--events 2000 --users 12 --seed 7 --batch-size 300"));
    assert!(!table.contains("WARNING"), "{table}");
    let json = serde_json::to_value(&report).expect("serializes");
    assert_eq!(json["models"].as_array().map(Vec::len), Some(3));
    assert_eq!(json["models"][1]["model"], "habits.streaks");
}

#[test]
fn the_log_holds_both_check_in_schema_versions() {
    // The SQL baselines read `day` or `date`; the run above only proves them right if
    // the generated log has version 1 check-ins too.
    let spec = GenerateSpec {
        users: 12,
        events: 2_000,
        seed: 7,
    };
    let versions: std::collections::BTreeSet<i32> = projections::generate::events(&spec)
        .filter(|e| e.event_type == "habits.checked_in")
        .map(|e| e.schema_version)
        .collect();
    assert_eq!(versions.into_iter().collect::<Vec<_>>(), vec![1, 2]);
}

#[test]
fn a_non_empty_postgres_log_is_refused_and_sqlite_urls_are_rejected() {
    let options = Options {
        database_url: Some("some/file.db".to_owned()),
        ..Options::default()
    };
    let error = run(&options, &mut |_| {}).expect_err("not a postgres URL");
    assert!(error.to_string().contains("postgres://"), "{error}");
}
