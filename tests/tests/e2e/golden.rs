//! Golden checksums: a small event log checked in (`tests/fixtures/golden-events.jsonl`,
//! 600 generated LifeOS events plus edge cases for the row codec: escapes, the NULL
//! marker as text, non-ASCII, extreme integers, a leap day, sub-second times) and, for
//! every registered model, the row count and digest it must replay to, committed below.
//!
//! The canonical row text that checksums hash must stay stable across releases and
//! backends: a change to it, to the row codec of any column type, or to any model's
//! handlers changes a digest here. Changing these constants is a reviewed decision, not a
//! test fix.

use readmodel_tests::bin;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use readmodel_runtime::replay::{CACHE_ROWS_VAR, FILTER_BYTES_VAR};
use readmodel_tests::{pg, replay, replay_with_env};

/// (model, rows, digest) after `run --all --full` over the golden log.
const GOLDEN: &[(&str, u64, &str)] = &[
    (
        "calendar.agenda",
        31,
        "sha256:4f2dd9b9ed4437da9e70ca2802315b2ce861320976974ec21eddf2590ff265fb",
    ),
    (
        "calendar.weekly_busy",
        13,
        "sha256:f1b1ab8154a42f980e91cc13b1e3e4ccb0c6177039f631079c5a9e2ce41f8fbd",
    ),
    (
        "finance.balances",
        9,
        "sha256:14519409f87e955f90d66b2c29ffbe47048857d876fc0be5fe706355bb77d046",
    ),
    (
        "finance.monthly_spend",
        33,
        "sha256:b743c9f4f0fcadbebe4fa9942246354719970867a432151481e9697c209acc82",
    ),
    (
        "finance.transactions",
        90,
        "sha256:b71f935bcf01122d2d23636bf0810b11b90c4a447917d47b58ad13f3d064bbbc",
    ),
    (
        "habits.checkins",
        166,
        "sha256:ff7f1898e80ca76655ea0419c751ef4f040195d2d65d9a45322ceef0d898e3f7",
    ),
    (
        "habits.monthly_completions",
        15,
        "sha256:35335727685bb5f8ab2f68190005311a91a369ea1cf227ef88af1f1f291d33ae",
    ),
    (
        "habits.streaks",
        14,
        "sha256:37ccbf849c483d4d6f2890a99561cbc4c7aba753f2da27d771990502d5be8c08",
    ),
    (
        "health.daily_metrics",
        73,
        "sha256:8a47e1a25fc70f17a0c85068801bdc983f1d2361b5d37e2ee2f08a28d97ecc03",
    ),
    (
        "health.monthly_workouts",
        11,
        "sha256:e2b9bb8c7407629e6c71f71e40bb0d9efb89eb6cf2a9b6dde71f1f97d7fb2c7e",
    ),
    (
        "health.resting_heart_rate",
        39,
        "sha256:602384e1eca0a8ac41e63b17efd55eff525ee489793c2f6e6b9958497200e2e6",
    ),
    (
        "insights.daily_summary",
        77,
        "sha256:56f5b104286fa76083eada9eb557c37d3a797c43a9c99db12dda8478214e0b36",
    ),
    (
        "insights.engagement",
        5,
        "sha256:8bf2dc678ac60ec863924321bfffadc8a0afa5735d0bc6ed467c2f99173e3f97",
    ),
    (
        "journal.entries",
        46,
        "sha256:a245bbf779cb6fe7075464e847593dc5fe7a12c5b9a3833b42112a2115ebf70b",
    ),
    (
        "journal.monthly_mood",
        4,
        "sha256:80093846529be5ba8f0ae52675d52a79b1a8e93b67ab73e2e5f2419d892fc77f",
    ),
    (
        "projects.progress",
        4,
        "sha256:f18416c82ff4290c6faacdb3dae808ddc79d780aea1905f7d9010900488e4e0a",
    ),
    (
        "projects.task_board",
        8,
        "sha256:eee4460df3ee0e31ad7f54f70446c715c8b5e2644a6540ca51ca72bedc4291d9",
    ),
    (
        "relationships.interactions",
        26,
        "sha256:0f2763b7e05d73a60fa9b3de4a7bbb6b43780e50feced0aa6d96d622d4c4a3ab",
    ),
    (
        "relationships.last_contact",
        10,
        "sha256:9c107dbcf5201b22f21ade0df153961b8f41711a9aa46894bb5bcb6f01290094",
    ),
];

fn golden_log() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden-events.jsonl")
}

/// Every registered model's (rows, digest) in the database behind `url`.
fn checksums(url: &str) -> BTreeMap<String, (u64, String)> {
    let list = replay(&bin(), url, &["--json", "list"]).json();
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|model| {
            let name = model["name"].as_str().expect("a model name");
            let sum = replay(&bin(), url, &["--json", "checksum", "--model", name]).json();
            let rows = sum["rows"].as_u64().expect("a row count");
            let digest = sum["digest"].as_str().expect("a digest").to_owned();
            (name.to_owned(), (rows, digest))
        })
        .collect()
}

fn expected() -> BTreeMap<String, (u64, String)> {
    GOLDEN
        .iter()
        .map(|(name, rows, digest)| ((*name).to_owned(), (*rows, (*digest).to_owned())))
        .collect()
}

/// How a golden test replays: every model in one pass (which reads the log by id), or
/// each model alone (a pass over its few types, which merges one index range per type).
#[derive(Clone, Copy)]
enum Replay {
    AllInOnePass,
    EachModelAlone,
}

/// Imports the golden log, replays every model with `batch_size`, and compares every
/// model's rows with the committed digests.
fn replays_to_the_golden_digests(url: &str, batch_size: &str) {
    replays_to_the_golden_digests_by(url, batch_size, Replay::AllInOnePass);
}

fn replays_to_the_golden_digests_by(url: &str, batch_size: &str, how: Replay) {
    replays_to_the_golden_digests_with(url, batch_size, how, Cache::AsConfigured);
}

/// How big the row caches of the replay are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cache {
    AsConfigured,
    /// Four rows per model (`READMODEL_CACHE_ROWS`), with a flush after every read batch:
    /// the caches turn over and over.
    Tiny,
    /// As `Tiny`, with this many bytes for the filters of dropped keys of a pass
    /// (`READMODEL_FILTER_BYTES`): the caches whose filter does not fit stop proving keys
    /// new and load them instead.
    TinyFilters(&'static str),
}

fn replays_to_the_golden_digests_with(url: &str, batch_size: &str, how: Replay, cache: Cache) {
    replay(&bin(), url, &["migrate"]).ok();
    let log = golden_log().display().to_string();
    let imported = replay(&bin(), url, &["--json", "import", "--file", &log]).json();
    assert_eq!(imported["imported"], 604);
    let (env, flush): (&[(&str, &str)], &[&str]) = match cache {
        Cache::AsConfigured => (&[], &[]),
        Cache::Tiny => (&[(CACHE_ROWS_VAR, "4")], &["--flush-rows", "1"]),
        Cache::TinyFilters(bytes) => (
            &[
                (CACHE_ROWS_VAR, "4"),
                (FILTER_BYTES_VAR, bytes),
                ("READMODEL_LOG", "readmodel::stages=info"),
            ],
            &["--flush-rows", "1"],
        ),
    };
    let full = [&["--full", "--batch-size", batch_size][..], flush].concat();
    let stopped_proving = std::cell::Cell::new(false);
    let run = |args: &[&str]| {
        let run = replay_with_env(&bin(), url, &[args, &full].concat(), env);
        run.ok();
        let stopped = run.stderr.split("stopped proving keys new: ").nth(1);
        if stopped.is_some_and(|models| !models.starts_with("none")) {
            stopped_proving.set(true);
        }
    };
    match how {
        Replay::AllInOnePass => {
            run(&["run", "--all"]);
        }
        Replay::EachModelAlone => {
            for name in expected().keys() {
                run(&["run", "--model", name]);
            }
        }
    }
    if let Cache::TinyFilters(_) = cache {
        assert!(
            stopped_proving.get(),
            "some cache must have run out of filter budget"
        );
    }
    let actual = checksums(url);
    let expected = expected();
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "every registered model has a golden digest, and every golden digest a model"
    );
    for (name, (rows, digest)) in &actual {
        assert!(
            *rows > 0,
            "{name} has no rows: the golden log must reach every model"
        );
        assert_eq!(
            (rows, digest),
            (&expected[name].0, &expected[name].1),
            "{name} (batch size {batch_size}) no longer replays to its golden rows"
        );
    }
}

#[test]
fn sqlite_replays_the_golden_log_to_the_committed_digests() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir.path().join("events.db").display().to_string();
    replays_to_the_golden_digests(&url, "10000");
}

#[test]
fn sqlite_batch_boundaries_do_not_change_the_digests() {
    for batch_size in ["1", "7"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("events.db").display().to_string();
        replays_to_the_golden_digests(&url, batch_size);
    }
}

#[test]
fn each_model_alone_replays_to_the_committed_digests() {
    for batch_size in ["1", "7", "10000"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("events.db").display().to_string();
        replays_to_the_golden_digests_by(&url, batch_size, Replay::EachModelAlone);
    }
    let url = pg::server().fresh_database();
    replays_to_the_golden_digests_by(&url, "7", Replay::EachModelAlone);
}

/// Row caches of four rows and a flush after every read batch of 7 events: a full rebuild
/// turns every cache over and over, proves keys new through the Bloom filter of the keys
/// it dropped, and reloads the dropped rows it needs again (the paths a 10M-event log
/// takes, which the other tests' caches never fill), and still gives the golden digests
/// on both backends.
#[test]
fn a_tiny_row_cache_replays_to_the_committed_digests() {
    for how in [Replay::AllInOnePass, Replay::EachModelAlone] {
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = dir.path().join("events.db").display().to_string();
        let postgres = pg::server().fresh_database();
        for url in [sqlite, postgres] {
            replays_to_the_golden_digests_with(&url, "7", how, Cache::Tiny);
        }
    }
}

/// As [`a_tiny_row_cache_replays_to_the_committed_digests`], with a filter budget that
/// runs out: the caches that stop proving keys new (as at 100M events) load the keys
/// their handlers read ahead of each batch, and give the golden digests on both backends.
#[test]
fn caches_out_of_filter_budget_replay_to_the_committed_digests() {
    // In one pass, room for two caches' first filters (106 KB each) and not the rest;
    // alone, room for none.
    let budgets = [
        (Replay::AllInOnePass, "250000"),
        (Replay::EachModelAlone, "100000"),
    ];
    for (how, bytes) in budgets {
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = dir.path().join("events.db").display().to_string();
        let postgres = pg::server().fresh_database();
        for url in [sqlite, postgres] {
            replays_to_the_golden_digests_with(&url, "7", how, Cache::TinyFilters(bytes));
        }
    }
}

#[test]
fn postgres_replays_the_golden_log_to_the_committed_digests() {
    for batch_size in ["10000", "7"] {
        let url = pg::server().fresh_database();
        replays_to_the_golden_digests(&url, batch_size);
    }
}
