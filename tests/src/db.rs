//! The fixture every end-to-end test uses: a fresh, migrated database of one backend and
//! the `replay` binary of the tests (`replay-e2e`) pointed at it.

use std::path::{Path, PathBuf};

use crate::{checksum, pg, query_texts, replay, Run};

/// The habits models most scenarios rely on (the registry keeps growing, so tests name
/// the models they check instead of counting "all models").
pub const HABITS: [&str; 3] = [
    "habits.checkins",
    "habits.streaks",
    "habits.monthly_completions",
];

/// The path of one of this package's binaries (`replay-e2e`, `replay-notes-v1`, …).
///
/// Cargo builds them next to the test executables' `deps/` directory.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} is not built", path.display());
    path
}

/// The `replay` binary of the tests (`replay-e2e`, the LifeOS models).
pub fn bin() -> PathBuf {
    binary("replay-e2e")
}

/// A fresh, migrated database of one backend.
pub struct Db {
    /// The database URL (a SQLite file path, or `postgres://…`).
    pub url: String,
    /// Whether it is PostgreSQL.
    pub postgres: bool,
    /// Holds the SQLite files (and, on both backends, the test's own files).
    pub dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Db {
    /// A fresh database: SQLite in a temporary directory, or a new PostgreSQL database on
    /// the test server; migrated.
    pub fn new(postgres: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = if postgres {
            pg::server().fresh_database()
        } else {
            dir.path().join("events.db").display().to_string()
        };
        let db = Db {
            url,
            postgres,
            dir,
            bin: binary("replay-e2e"),
        };
        db.run(&["migrate"]).ok();
        db
    }

    /// A fresh database with generated events and the [`HABITS`] models up to date.
    pub fn seeded(postgres: bool, users: &str, events: &str, seed: &str) -> Self {
        let db = Db::new(postgres);
        db.run(&[
            "generate", "--users", users, "--events", events, "--seed", seed,
        ])
        .ok();
        for model in HABITS {
            db.run(&["run", "--model", model]).ok();
        }
        db
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        if self.postgres {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// A directory for files of the test (JSONL), removed with the database.
    pub fn scratch(&self) -> PathBuf {
        let dir = self.dir.path().join("files");
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    /// Runs `replay-e2e` with `args` against this database.
    pub fn run(&self, args: &[&str]) -> Run {
        replay(&self.bin, &self.url, args)
    }

    /// Runs another binary of this package with `args` against this database.
    pub fn with(&self, binary: &Path, args: &[&str]) -> Run {
        replay(binary, &self.url, args)
    }

    /// The checksum digest of a model's rows.
    pub fn checksum(&self, model: &str) -> String {
        checksum(&self.bin, &self.url, model)
    }

    /// The checksum digests of `models`, in that order.
    pub fn checksums(&self, models: &[&str]) -> Vec<String> {
        models.iter().map(|m| self.checksum(m)).collect()
    }

    /// Every registered model's name and checksum digest, in `replay list` order.
    pub fn every_checksum(&self) -> Vec<(String, String)> {
        let list = self.run(&["--json", "list"]).json();
        list.as_array()
            .expect("`replay --json list` prints an array of models")
            .iter()
            .map(|m| {
                let name = m["name"].as_str().expect("a model's name").to_owned();
                let sum = self.checksum(&name);
                (name, sum)
            })
            .collect()
    }

    /// The checksum digest of one user's rows of a model.
    pub fn user_checksum(&self, model: &str, user: &str) -> String {
        let json = self
            .run(&[
                "--json",
                "checksum",
                "--model",
                model,
                "--user",
                user,
                "--allow-empty",
            ])
            .json();
        json["digest"].as_str().expect("digest").to_owned()
    }

    /// The log's head, as `status` shows it.
    pub fn head(&self) -> i64 {
        self.run(&["--json", "status"]).json()[0]["head"]
            .as_i64()
            .expect("head")
    }

    /// A model's checkpoint, as `status` shows it.
    pub fn checkpoint(&self, model: &str) -> Option<i64> {
        self.run(&["--json", "status", "--model", model]).json()[0]["checkpoint"].as_i64()
    }

    /// The checkpoints of `models`, in that order.
    pub fn checkpoints(&self, models: &[&str]) -> Vec<Option<i64>> {
        models.iter().map(|m| self.checkpoint(m)).collect()
    }

    /// A model's latest run, as `status --json` shows it.
    pub fn last_run(&self, model: &str) -> serde_json::Value {
        self.run(&["--json", "status", "--model", model]).json()[0]["runs"][0].clone()
    }

    /// `SELECT COUNT(*) FROM {from}`, straight from the database.
    pub fn count(&self, from: &str) -> i64 {
        let cast = if self.postgres { "::text" } else { "" };
        let texts = query_texts(
            &self.url,
            &format!("SELECT (COUNT(*)){cast} AS value FROM {from}"),
        );
        texts[0].parse().expect("a count")
    }

    /// Rows of `event_record`, counted without the binary.
    pub fn log_length(&self) -> i64 {
        self.count("event_record")
    }

    /// The distinct users of the log, as text, in order.
    pub fn users(&self) -> Vec<String> {
        let cast = if self.postgres {
            "user_id::text"
        } else {
            "user_id"
        };
        query_texts(
            &self.url,
            &format!("SELECT DISTINCT {cast} AS value FROM event_record ORDER BY value"),
        )
    }

    /// Writes `lines` to a JSONL file named `name` and imports it.
    pub fn import(&self, name: &str, lines: &[String]) -> Run {
        self.import_with(name, lines, &[])
    }

    /// [`Db::import`] with `--unchecked`: events that do not decode reach the log, as they
    /// can from any other writer of `event_record`.
    pub fn import_unchecked(&self, name: &str, lines: &[String]) -> Run {
        self.import_with(name, lines, &["--unchecked"])
    }

    /// [`Db::import`] with `flags` (`--unchecked`, `--allow-unknown-types`).
    pub fn import_with(&self, name: &str, lines: &[String], flags: &[&str]) -> Run {
        let path = self.scratch().join(name);
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(&path, text).expect("write the JSONL file");
        let path = path.display().to_string();
        let mut args = vec!["import", "--file", &path];
        args.extend_from_slice(flags);
        self.run(&args)
    }
}

/// Declares a `sqlite` and a `postgres` test for each scenario `fn name(postgres: bool)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn sqlite() {
                super::$scenario(false);
            }
            #[test]
            fn postgres() {
                super::$scenario(true);
            }
        }
    )*};
}
