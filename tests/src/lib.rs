//! Shared helpers of the end-to-end tests: the [`Db`] fixture and the
//! [`on_both_backends!`] macro every test file uses, a real PostgreSQL server ([`pg`]),
//! hand-written events ([`events`]) and a runner for the `replay` binary. Its doc tests
//! compile the README's Rust blocks (`cargo test -p readmodel-tests --doc`).

pub mod child;
pub mod db;
pub mod drift;
pub mod events;
pub mod pg;
pub mod service;
pub mod versioned;
pub mod writers;

pub use db::{bin, binary, Db, HABITS};

/// The README, whose `rust` blocks run as doc tests of this crate, so its examples stay
/// real code (`rust,ignore` and `text` blocks are deliberate exceptions).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct Readme;

use std::path::Path;
use std::process::{Command, Output};

/// The result of one `replay` invocation.
#[derive(Debug)]
pub struct Run {
    /// Exit code (None when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Panics unless the command succeeded; returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "command failed: {}", self.stderr);
        &self.stdout
    }

    /// Panics unless the command failed with one `error:` line on stderr; returns it.
    pub fn error_line(&self) -> &str {
        assert_ne!(
            self.code,
            Some(0),
            "command should have failed: {}",
            self.stdout
        );
        assert!(self.code.is_some(), "killed by a signal: {}", self.stderr);
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "expected exactly one error line, got: {:?}",
            self.stderr
        );
        assert!(lines[0].starts_with("error: "), "{:?}", lines[0]);
        lines[0]
    }

    /// Parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok()).expect("stdout is JSON")
    }
}

/// Runs the `replay` binary at `bin` against `database_url` with `args`.
pub fn replay(bin: &Path, database_url: &str, args: &[&str]) -> Run {
    replay_with_env(bin, database_url, args, &[])
}

/// [`replay`] with `env` set (a test knob such as `READMODEL_CACHE_ROWS`).
pub fn replay_with_env(bin: &Path, database_url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output: Output = Command::new(bin)
        .arg("--database-url")
        .arg(database_url)
        .arg("--quiet")
        .args(args)
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
        .output()
        .expect("the replay binary runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The checksum digest `replay checksum --json` prints for a model (the digest of no rows
/// for a model without rows).
pub fn checksum(bin: &Path, database_url: &str, model: &str) -> String {
    let args = ["--json", "checksum", "--model", model, "--allow-empty"];
    let json = replay(bin, database_url, &args).json();
    json["digest"].as_str().expect("a digest").to_owned()
}

/// A raw connection to the database behind `database_url`, with the SQLite read-model
/// file attached as `readmodels` (no migrations: the database is used as it is).
enum Raw {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

fn raw(database_url: &str) -> Raw {
    use diesel::{Connection, RunQueryDsl};
    match readmodel_runtime::DatabaseUrl::parse(database_url).expect("a valid URL") {
        readmodel_runtime::DatabaseUrl::Sqlite { main, readmodels } => {
            let mut c = diesel::SqliteConnection::establish(&main.display().to_string())
                .expect("the SQLite file opens");
            diesel::sql_query(format!(
                "ATTACH DATABASE '{}' AS readmodels",
                readmodels.display()
            ))
            .execute(&mut c)
            .expect("the read-model file attaches");
            Raw::Sqlite(c)
        }
        readmodel_runtime::DatabaseUrl::Postgres(url) => {
            Raw::Postgres(diesel::PgConnection::establish(&url).expect("PostgreSQL connects"))
        }
    }
}

/// Runs SQL statements directly on the database behind `database_url` (to tamper with
/// rows, as a buggy writer would).
pub fn execute_sql(database_url: &str, sql: &str) -> usize {
    use diesel::RunQueryDsl;
    match raw(database_url) {
        Raw::Sqlite(mut c) => diesel::sql_query(sql).execute(&mut c),
        Raw::Postgres(mut c) => diesel::sql_query(sql).execute(&mut c),
    }
    .expect("the statement runs")
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// Runs a query returning one text column named `value`.
pub fn query_texts(database_url: &str, sql: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    let rows: Vec<Text> = match raw(database_url) {
        Raw::Sqlite(mut c) => diesel::sql_query(sql).load(&mut c),
        Raw::Postgres(mut c) => diesel::sql_query(sql).load(&mut c),
    }
    .expect("the query runs");
    rows.into_iter().map(|r| r.value).collect()
}

/// A connection kept open to poll the database as an application's reader would: each
/// query one statement, so one snapshot (PostgreSQL's MVCC, SQLite's WAL read).
pub struct Reader(Raw);

impl Reader {
    /// Connects to `database_url` (SQLite: the read-model file attached, and a busy
    /// timeout, as the runtime's own connections have).
    pub fn open(database_url: &str) -> Self {
        use diesel::RunQueryDsl;
        let mut raw = raw(database_url);
        if let Raw::Sqlite(c) = &mut raw {
            diesel::sql_query("PRAGMA busy_timeout = 60000")
                .execute(c)
                .expect("the busy timeout is set");
        }
        Reader(raw)
    }

    /// Runs a query returning one text column named `value`.
    pub fn texts(&mut self, sql: &str) -> Vec<String> {
        use diesel::RunQueryDsl;
        let rows: Vec<Text> = match &mut self.0 {
            Raw::Sqlite(c) => diesel::sql_query(sql).load(c),
            Raw::Postgres(c) => diesel::sql_query(sql).load(c),
        }
        .expect("the query runs");
        rows.into_iter().map(|r| r.value).collect()
    }
}
