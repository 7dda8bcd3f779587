//! The determinism property across replay shapes, on both backends: for every LifeOS
//! model, full replays with batch sizes 1, 7, 100 and 10,000, replays stopped at random
//! batches (`--max-batches`) and resumed (several times), and a user-by-user rebuild from
//! an empty table all give the checksum of one reference replay. A small generated log
//! (2,000 events of every domain) keeps it fast enough for CI.

use readmodel_tests::events::Rng;
use readmodel_tests::{execute_sql, on_both_backends, Db};

on_both_backends!(every_replay_shape_gives_the_same_checksums);

/// The checksum of no rows (SHA-256 of nothing).
const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A model as `list --json` describes it.
struct Model {
    name: String,
    table: String,
    by_user: bool,
}

fn models(db: &Db) -> Vec<Model> {
    let list = db.run(&["--json", "list"]).json();
    list.as_array()
        .expect("a list")
        .iter()
        .map(|m| Model {
            name: m["name"].as_str().expect("name").to_owned(),
            table: m["table"].as_str().expect("table").to_owned(),
            by_user: m["rebuild_strategy"] == "partial"
                && m["columns"]
                    .as_array()
                    .expect("columns")
                    .iter()
                    .any(|c| c["name"] == "user_id"),
        })
        .collect()
}

fn checksums(db: &Db, models: &[Model]) -> Vec<String> {
    models.iter().map(|m| db.checksum(&m.name)).collect()
}

fn assert_same(db: &Db, models: &[Model], reference: &[String], shape: &str) {
    let sums = checksums(db, models);
    for ((model, sum), expected) in models.iter().zip(&sums).zip(reference) {
        assert_eq!(
            sum,
            expected,
            "{}: {shape} differs on {}",
            model.name,
            db.backend()
        );
    }
}

fn every_replay_shape_gives_the_same_checksums(postgres: bool) {
    let db = Db::new(postgres);
    db.run(&[
        "generate", "--users", "5", "--events", "2000", "--seed", "77",
    ])
    .ok();
    let models = models(&db);
    assert!(models.len() >= 19, "{} models", models.len());
    db.run(&["run", "--all", "--full"]).ok();
    let reference = checksums(&db, &models);
    assert!(
        reference.iter().filter(|s| *s != EMPTY).count() >= 19,
        "some models have no rows: {reference:?}"
    );

    for size in ["1", "7", "100", "10000"] {
        db.run(&["run", "--all", "--full", "--batch-size", size])
            .ok();
        assert_same(&db, &models, &reference, &format!("batch size {size}"));
    }

    // Stopped at random batches, resumed (and stopped again) with other batch sizes.
    let mut rng = Rng(0x5A4E_0003 + u64::from(postgres));
    for size in ["1", "7", "100"] {
        let stop = (1 + rng.below(6)).to_string();
        let stopped = db
            .run(&[
                "--json",
                "run",
                "--all",
                "--full",
                "--batch-size",
                size,
                "--max-batches",
                &stop,
            ])
            .json();
        assert!(
            stopped
                .as_array()
                .expect("reports")
                .iter()
                .any(|r| r["status"] == "stopped"),
            "no model stopped after {stop} batches of {size}"
        );
        for _ in 0..2 {
            let stop = (1 + rng.below(4)).to_string();
            let resize = ["3", "7", "50"][rng.below(3) as usize];
            db.run(&[
                "run",
                "--all",
                "--resume",
                "--batch-size",
                resize,
                "--max-batches",
                &stop,
            ])
            .ok();
        }
        let last = db
            .run(&[
                "--json",
                "run",
                "--all",
                "--resume",
                "--batch-size",
                "10000",
            ])
            .json();
        for report in last.as_array().expect("reports") {
            assert_eq!(report["status"], "succeeded", "{report}");
        }
        assert_same(
            &db,
            &models,
            &reference,
            &format!("stopped and resumed ({size})"),
        );
    }

    // User by user, from an empty table (the checkpoints stay at the head).
    let users = db.users();
    assert!(users.len() >= 5, "{users:?}");
    for model in models.iter().filter(|m| m.by_user) {
        execute_sql(&db.url, &format!("DELETE FROM {}", model.table));
        for user in &users {
            db.run(&["run", "--model", &model.name, "--user", user])
                .ok();
        }
    }
    let rebuilt: Vec<Model> = models.into_iter().filter(|m| m.by_user).collect();
    assert!(
        rebuilt.len() >= 19,
        "{} models rebuild by user",
        rebuilt.len()
    );
    let reference: Vec<String> = reference.into_iter().take(rebuilt.len()).collect();
    assert_same(&db, &rebuilt, &reference, "a user-by-user rebuild");
}
