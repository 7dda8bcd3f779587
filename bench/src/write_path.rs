//! The write-path benchmark behind `cargo run --release -p bench --bin write_path`
//! (issues 10 item 2 and 13 item 4): which statement writes a model's rows fastest?
//!
//! For each habits model, `rows` synthetic rows (distinct keys, deterministic) are written
//! into the model's emptied table (`insert`), then written again with every non-key column
//! changed (`update`: the same keys, so every row takes the `ON CONFLICT … DO UPDATE`
//! branch). Each pass commits one transaction per `chunk` rows, like a replay flush, and is
//! done each of these ways in the same process:
//!
//! * `statement`: the hand-built statements: on PostgreSQL one
//!   `INSERT … SELECT * FROM unnest($1, …) ON CONFLICT (key) DO UPDATE SET c = excluded.c`
//!   per 10,000 rows (the runtime's upsert, `readmodel-runtime/src/store/rows.rs`), on
//!   SQLite multi-row `INSERT … VALUES (…), … ON CONFLICT …` sized to the bind limit (the
//!   runtime's upsert until the typed one replaced it);
//! * `typed-vec`: `insert_into(table).values(&rows[..]).on_conflict(key).do_update()
//!   .set((c.eq(excluded(c)), …))` with the derive's `Insertable for &Model`, as many rows
//!   per statement as the bind limit allows (at most 5,000 on SQLite): a slice's statement
//!   is built and prepared anew each time;
//! * `typed-fixed` (SQLite, the runtime's upsert now): the same statement over fixed-size
//!   arrays (`ReadModelRow::upsert_sqlite`, 256/64/16/4/1 rows, the largest that
//!   fit the bind limit first); a static query id, yet diesel 2.3.14 prepares every
//!   `DoUpdate` anew (see the test `diesel_prepares_every_typed_upsert_anew`);
//! * `copy` (PostgreSQL, insert pass only): `copy_from(table).from_insertable(&rows)`
//!   (`ReadModelRow::copy_pg`), what the runtime writes a rebuild's new rows with; its
//!   update pass is written by `statement`, untimed.
//!
//! Each (model, path) is measured `runs` times, rotating which path goes first; the table
//! reports the median rows/s and each path's ratio to `statement`. After every run the
//! table's checksum is taken (untimed): every path must leave the same rows.

use std::fmt::Write as _;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::pg::PgConnection;
use diesel::query_dsl::methods::ExecuteDsl;
use diesel::sqlite::SqliteConnection;
use diesel::upsert::excluded;
use diesel::{Connection, ExpressionMethods, QueryResult, RunQueryDsl};
use projections::habits::{
    habit_checkins, habit_monthly_completions, habit_streaks, HabitCheckin, HabitMonthlyCompletion,
    HabitStreak,
};
use readmodel_runtime::{Contract, Projection, ReadModelRow, Registry, Store};
use serde::Serialize;
use uuid::Uuid;

use super::{baseline, open_fresh, BenchError};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// A PostgreSQL URL; `None` for a new SQLite database in a temporary directory.
    pub database_url: Option<String>,
    /// Rows written per model and pass.
    pub rows: usize,
    /// Rows per transaction.
    pub chunk: usize,
    /// Runs per (model, path); the median is reported.
    pub runs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            database_url: None,
            rows: 200_000,
            chunk: 5_000,
            runs: 3,
        }
    }
}

impl Options {
    /// The command line that repeats this run.
    pub fn command_line(&self) -> String {
        let mut line = String::from("cargo run --release -p bench --bin write_path --");
        if let Some(url) = &self.database_url {
            let _ = write!(
                line,
                " --database-url '{}'",
                readmodel_runtime::store::redact(url)
            );
        }
        let _ = write!(
            line,
            " --rows {} --chunk {} --runs {}",
            self.rows, self.chunk, self.runs
        );
        line
    }
}

/// One way of writing rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Path {
    /// The hand-built statements (`unnest` on PostgreSQL, multi-row `VALUES` on SQLite).
    Statement,
    /// diesel's typed upsert over a slice of rows (prepared anew each time).
    TypedVec,
    /// diesel's typed upsert over fixed-size arrays (prepared once per size; SQLite).
    TypedFixed,
    /// diesel's `copy_from` (PostgreSQL, insert pass).
    Copy,
}

impl Path {
    /// The name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Path::Statement => "statement",
            Path::TypedVec => "typed-vec",
            Path::TypedFixed => "typed-fixed",
            Path::Copy => "copy",
        }
    }

    /// The paths measured on `backend`, `statement` first.
    pub fn on(backend: &str) -> &'static [Path] {
        if backend == "postgres" {
            &[Path::Statement, Path::TypedVec, Path::Copy]
        } else {
            &[Path::Statement, Path::TypedVec, Path::TypedFixed]
        }
    }
}

/// The two passes of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pass {
    /// Into the emptied table.
    Insert,
    /// Over the existing keys, every non-key column changed.
    Update,
}

/// One path's runs of one (model, pass).
#[derive(Debug, Clone, Serialize)]
pub struct PathRates {
    /// The path.
    pub path: Path,
    /// Every run's rows/s.
    pub rows_per_second: Vec<f64>,
    /// Their median.
    pub median: f64,
    /// `median` over the `statement` path's median: 1 or more means not slower.
    pub ratio: f64,
}

/// The medians of one (model, pass).
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// The model's name.
    pub model: &'static str,
    /// Insert or update.
    pub pass: Pass,
    /// Rows written.
    pub rows: usize,
    /// Per path measured in this pass, `statement` first.
    pub paths: Vec<PathRates>,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The command line that repeats the run.
    pub command: String,
    /// Per model, insert then update.
    pub measurements: Vec<Measurement>,
    /// Per model: the checksum every run of every path left (`None` when they differed).
    pub checksums: Vec<(&'static str, Option<String>)>,
}

impl Report {
    /// Whether every path always left the same rows.
    pub fn all_match(&self) -> bool {
        self.checksums.iter().all(|(_, sum)| sum.is_some())
    }

    /// The aligned text table: per (model, pass, path) the median rows/s, the ratio to
    /// `statement` and every run.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "readmodel write path: backend {}", self.backend);
        let _ = writeln!(out, "command: {}", self.command);
        let _ = writeln!(
            out,
            "{:<28} {:<6} {:>8} {:<11} {:>10} {:>12}  runs",
            "model", "pass", "rows", "path", "rows/s", "/statement"
        );
        for m in &self.measurements {
            for p in &m.paths {
                let runs: Vec<String> = p
                    .rows_per_second
                    .iter()
                    .map(|x| format!("{x:.0}"))
                    .collect();
                let _ = writeln!(
                    out,
                    "{:<28} {:<6} {:>8} {:<11} {:>10.0} {:>12.2}  {}",
                    m.model,
                    match m.pass {
                        Pass::Insert => "insert",
                        Pass::Update => "update",
                    },
                    m.rows,
                    p.path.name(),
                    p.median,
                    p.ratio,
                    runs.join(" "),
                );
            }
        }
        for (model, sum) in &self.checksums {
            let _ = writeln!(
                out,
                "{model}: {}",
                sum.as_deref()
                    .unwrap_or("CHECKSUMS DIFFER between the paths")
            );
        }
        out
    }
}

/// Runs the benchmark; `say` receives one progress line per run.
pub fn run(options: &Options, say: &mut dyn FnMut(&str)) -> Result<Report, BenchError> {
    if options.rows == 0 || options.chunk == 0 || options.runs == 0 {
        return Err(BenchError::new(
            "--rows, --chunk and --runs must be at least 1",
        ));
    }
    let bench_options = super::Options {
        database_url: options.database_url.clone(),
        ..super::Options::default()
    };
    let mut fresh = open_fresh(&bench_options)?;
    let store = &mut fresh.store;
    let mut report = Report {
        backend: store.backend_name(),
        command: options.command_line(),
        measurements: Vec::new(),
        checksums: Vec::new(),
    };
    measure::<HabitCheckin>(store, options, say, &mut report)?;
    measure::<HabitStreak>(store, options, say, &mut report)?;
    measure::<HabitMonthlyCompletion>(store, options, say, &mut report)?;
    Ok(report)
}

fn measure<M: Model>(
    store: &mut Store,
    options: &Options,
    say: &mut dyn FnMut(&str),
    report: &mut Report,
) -> Result<(), BenchError> {
    let contract = M::CONTRACT;
    let model = Registry::global()?.get(contract.name)?;
    let paths = Path::on(store.backend_name());
    let inserted: Vec<M> = (0..options.rows as u64).map(|i| M::sample(i, 0)).collect();
    let updated: Vec<M> = (0..options.rows as u64).map(|i| M::sample(i, 1)).collect();
    // rates[pass][path index]
    let mut rates = vec![vec![Vec::new(); paths.len()]; 2];
    let mut checksum: Option<Option<String>> = None;
    for run in 0..options.runs {
        for turn in 0..paths.len() {
            let index = (run + turn) % paths.len();
            let path = paths[index];
            baseline::clear(store, contract.name)?;
            for (pass, rows) in [(Pass::Insert, &inserted), (Pass::Update, &updated)] {
                // COPY cannot update: its update pass is the statement's, untimed.
                let (path, timed) = match (path, pass) {
                    (Path::Copy, Pass::Update) => (Path::Statement, false),
                    _ => (path, true),
                };
                let seconds = write(store, path, rows, options.chunk)?;
                if !timed {
                    continue;
                }
                let rate = rows.len() as f64 / seconds;
                rates[pass as usize][index].push(rate);
                say(&format!(
                    "{} run {} {} {pass:?}: {seconds:.3}s = {rate:.0} rows/s",
                    contract.name,
                    run + 1,
                    path.name()
                ));
            }
            let sum = model.checksum(store, contract.version, None)?;
            let sum = (sum.rows == options.rows as u64).then_some(sum.digest);
            checksum = Some(match checksum {
                None => sum,
                Some(previous) => previous.filter(|p| Some(p) == sum.as_ref()),
            });
        }
    }
    for pass in [Pass::Insert, Pass::Update] {
        let measured: Vec<(Path, Vec<f64>)> = paths
            .iter()
            .zip(&rates[pass as usize])
            .filter(|(_, runs)| !runs.is_empty())
            .map(|(path, runs)| (*path, runs.clone()))
            .collect();
        let statement = median(&measured[0].1);
        report.measurements.push(Measurement {
            model: contract.name,
            pass,
            rows: options.rows,
            paths: measured
                .into_iter()
                .map(|(path, runs)| {
                    let median = median(&runs);
                    PathRates {
                        path,
                        rows_per_second: runs,
                        median,
                        ratio: median / statement,
                    }
                })
                .collect(),
        });
    }
    report
        .checksums
        .push((contract.name, checksum.unwrap_or_default()));
    Ok(())
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Writes `rows` one transaction per `chunk` rows; returns the seconds taken.
pub fn write<M: Model>(
    store: &mut Store,
    path: Path,
    rows: &[M],
    chunk: usize,
) -> Result<f64, BenchError> {
    let started = Instant::now();
    match store {
        Store::Sqlite(conn) => {
            let per_statement = (max_variable_number(conn) / M::CONTRACT.columns.len()).max(1);
            for rows in rows.chunks(chunk) {
                conn.transaction(|c| match path {
                    Path::Statement => statement_sqlite(c, M::CONTRACT, rows, per_statement),
                    Path::TypedVec => M::typed_sqlite(c, rows, per_statement.min(5_000)),
                    Path::TypedFixed => typed_fixed_sqlite(c, rows, per_statement),
                    Path::Copy => Err(diesel::result::Error::QueryBuilderError(
                        "SQLite has no COPY".into(),
                    )),
                })?;
            }
        }
        Store::Postgres(conn) => {
            let per_statement = 65_535 / M::CONTRACT.columns.len();
            for rows in rows.chunks(chunk) {
                conn.transaction(|c| match path {
                    Path::Statement => statement_pg(c, M::CONTRACT, rows),
                    Path::TypedVec => M::typed_pg(c, rows, per_statement),
                    Path::Copy => M::copy_pg(c, &rows.iter().collect::<Vec<_>>()).map(drop),
                    Path::TypedFixed => Err(diesel::result::Error::QueryBuilderError(
                        "the fixed-size typed upsert is SQLite's".into(),
                    )),
                })?;
            }
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// SQLite's bind-parameter limit, as the runtime reads it (`store/sqlite.rs`).
fn max_variable_number(conn: &mut SqliteConnection) -> usize {
    #[derive(diesel::QueryableByName)]
    struct CompileOption {
        #[diesel(sql_type = diesel::sql_types::Text)]
        compile_options: String,
    }
    let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options")
        .load(conn)
        .unwrap_or_default();
    options
        .iter()
        .find_map(|o| {
            o.compile_options
                .strip_prefix("MAX_VARIABLE_NUMBER=")
                .and_then(|n| n.parse().ok())
        })
        // The bundled SQLite is newer than 3.32, whose default is 32766.
        .unwrap_or(32_766)
}

// ---- (a) the hand-built statements ----

fn column_list(contract: &Contract) -> String {
    contract
        .columns
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn on_conflict(contract: &Contract) -> String {
    let update: Vec<String> = contract
        .columns
        .iter()
        .filter(|c| !contract.idempotency_key.contains(&c.name))
        .map(|c| format!("{0} = excluded.{0}", c.name))
        .collect();
    format!(
        " ON CONFLICT ({}) DO UPDATE SET {}",
        contract.idempotency_key.join(", "),
        update.join(", ")
    )
}

fn statement_pg<R: ReadModelRow>(
    conn: &mut PgConnection,
    contract: &Contract,
    rows: &[R],
) -> QueryResult<()> {
    let placeholders: Vec<String> = (1..=contract.columns.len())
        .map(|i| format!("${i}"))
        .collect();
    let sql = format!(
        "INSERT INTO {} ({}) SELECT * FROM unnest({}){}",
        contract.qualified_table(),
        column_list(contract),
        placeholders.join(", "),
        on_conflict(contract)
    );
    for chunk in rows.chunks(10_000) {
        let chunk: Vec<&R> = chunk.iter().collect();
        R::bind_pg_arrays(&chunk, diesel::sql_query(sql.clone()).into_boxed()).execute(conn)?;
    }
    Ok(())
}

fn statement_sqlite<R: ReadModelRow>(
    conn: &mut SqliteConnection,
    contract: &Contract,
    rows: &[R],
    per_statement: usize,
) -> QueryResult<()> {
    let columns = contract.columns.len();
    let insert = format!(
        "INSERT INTO {} ({}) VALUES ",
        contract.qualified_table(),
        column_list(contract)
    );
    let placeholders = vec!["?"; columns].join(", ");
    let on_conflict = on_conflict(contract);
    for chunk in rows.chunks(per_statement.clamp(1, 5_000)) {
        let mut query = diesel::sql_query(insert.clone()).into_boxed();
        for (i, row) in chunk.iter().enumerate() {
            query = query
                .sql(if i == 0 { "(" } else { ", (" })
                .sql(&placeholders);
            query = row.bind_columns(query).sql(")");
        }
        query.sql(&on_conflict).execute(conn)?;
    }
    Ok(())
}

// ---- (b) diesel's typed API ----

/// The runtime's SQLite upsert: the generated typed upsert over fixed-size arrays, the
/// largest sizes that fit `per_statement` first (as `store/rows.rs` does).
fn typed_fixed_sqlite<R: ReadModelRow>(
    conn: &mut SqliteConnection,
    rows: &[R],
    per_statement: usize,
) -> QueryResult<()> {
    let mut rest = rows;
    macro_rules! size {
        ($($n:literal),+) => {$(
            if $n <= per_statement || $n == 1 {
                while let Some((head, tail)) = rest.split_first_chunk::<$n>() {
                    R::upsert_sqlite::<$n>(conn, head.each_ref())?;
                    rest = tail;
                }
            }
        )+};
    }
    size!(256, 64, 16, 4, 1);
    Ok(())
}

/// One upsert of `$rows` per `$per` rows into `$table`, updating `$set` from `excluded`.
macro_rules! typed_upsert {
    ($conn:expr, $rows:expr, $per:expr, $table:ident, ($($key:ident),+), ($($set:ident),+)) => {{
        for chunk in $rows.chunks($per) {
            ExecuteDsl::execute(
                diesel::insert_into($table::table)
                    .values(chunk)
                    .on_conflict(($($table::$key,)+))
                    .do_update()
                    .set(($($table::$set.eq(excluded($table::$set)),)+)),
                $conn,
            )?;
        }
        Ok(())
    }};
}

/// A habits model the benchmark writes every way.
pub trait Model: Projection<Row = Self> + ReadModelRow + PartialEq {
    /// Row `i` (distinct keys for distinct `i`); `version` varies every non-key column.
    fn sample(i: u64, version: u32) -> Self;
    /// diesel's typed upsert on PostgreSQL.
    fn typed_pg(conn: &mut PgConnection, rows: &[Self], per_statement: usize) -> QueryResult<()>;
    /// diesel's typed upsert on SQLite.
    fn typed_sqlite(
        conn: &mut SqliteConnection,
        rows: &[Self],
        per_statement: usize,
    ) -> QueryResult<()>;
}

/// A well-spread UUID for `(i, salt)`, so keys arrive in no particular order.
fn uuid(i: u64, salt: u64) -> Uuid {
    let mut x = i
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    x ^= x >> 31;
    let hi = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    Uuid::from_u64_pair(hi ^ (hi >> 29), i ^ (salt << 48))
}

fn day(i: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default() + Duration::days((i % 700) as i64)
}

fn instant(i: u64, version: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(
        1_700_000_000 + i as i64 * 37 + i64::from(version) * 86_400,
        0,
    )
    .unwrap_or_default()
}

impl Model for HabitCheckin {
    fn sample(i: u64, version: u32) -> Self {
        Self {
            model_version: 1,
            event_id: i as i64 + 1,
            user_id: uuid(i % 1_000 + u64::from(version), 1),
            habit_id: uuid(i % 5_000 + u64::from(version), 2),
            day: day(i + u64::from(version)),
            action: if (i + u64::from(version)) % 7 == 0 {
                "undone"
            } else {
                "checked_in"
            }
            .to_owned(),
            occurred_at: instant(i, version),
        }
    }
    fn typed_pg(conn: &mut PgConnection, rows: &[Self], per: usize) -> QueryResult<()> {
        typed_upsert!(
            conn,
            rows,
            per,
            habit_checkins,
            (model_version, event_id),
            (user_id, habit_id, day, action, occurred_at)
        )
    }
    fn typed_sqlite(conn: &mut SqliteConnection, rows: &[Self], per: usize) -> QueryResult<()> {
        typed_upsert!(
            conn,
            rows,
            per,
            habit_checkins,
            (model_version, event_id),
            (user_id, habit_id, day, action, occurred_at)
        )
    }
}

impl Model for HabitStreak {
    fn sample(i: u64, version: u32) -> Self {
        let v = i64::from(version);
        Self {
            model_version: 1,
            habit_id: uuid(i, 3),
            user_id: uuid(i % 1_000 + u64::from(version), 1),
            name: format!("habit {i} v{version}"),
            target_per_week: (i % 3 != version as u64 % 3).then_some((i % 7) as i32 + 1),
            current_streak: (i % 30) as i32 + version as i32,
            longest_streak: (i % 90) as i32 + version as i32,
            last_day: (i % 5 != 0).then(|| day(i + u64::from(version))),
            total_check_ins: (i % 1_000) as i64 + v,
            updated_at: instant(i, version),
        }
    }
    fn typed_pg(conn: &mut PgConnection, rows: &[Self], per: usize) -> QueryResult<()> {
        typed_upsert!(
            conn,
            rows,
            per,
            habit_streaks,
            (model_version, habit_id),
            (
                user_id,
                name,
                target_per_week,
                current_streak,
                longest_streak,
                last_day,
                total_check_ins,
                updated_at
            )
        )
    }
    fn typed_sqlite(conn: &mut SqliteConnection, rows: &[Self], per: usize) -> QueryResult<()> {
        typed_upsert!(
            conn,
            rows,
            per,
            habit_streaks,
            (model_version, habit_id),
            (
                user_id,
                name,
                target_per_week,
                current_streak,
                longest_streak,
                last_day,
                total_check_ins,
                updated_at
            )
        )
    }
}

impl Model for HabitMonthlyCompletion {
    fn sample(i: u64, version: u32) -> Self {
        let v = i64::from(version);
        Self {
            model_version: 1,
            user_id: uuid(i / 240, 1),
            habit_id: uuid(i / 24, 2),
            month: NaiveDate::from_ymd_opt(2023 + (i % 24 / 12) as i32, (i % 12) as u32 + 1, 1)
                .unwrap_or_default(),
            check_ins: (i % 31) as i64 + v,
            undos: (i % 4) as i64 + v,
            completions: (i % 27) as i64 + 2 * v,
        }
    }
    fn typed_pg(conn: &mut PgConnection, rows: &[Self], per: usize) -> QueryResult<()> {
        typed_upsert!(
            conn,
            rows,
            per,
            habit_monthly_completions,
            (model_version, user_id, habit_id, month),
            (check_ins, undos, completions)
        )
    }
    fn typed_sqlite(conn: &mut SqliteConnection, rows: &[Self], per: usize) -> QueryResult<()> {
        typed_upsert!(
            conn,
            rows,
            per,
            habit_monthly_completions,
            (model_version, user_id, habit_id, month),
            (check_ins, undos, completions)
        )
    }
}
