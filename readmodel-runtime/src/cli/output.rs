//! How commands print: aligned text for people, `--json` for automation. The mode is
//! chosen once ([`Output::chosen`]) and every command prints through it.

use std::time::Duration;

use serde::Serialize;

use super::table::{Align::Left, Align::Right, Table};
use super::CliError;
use crate::dead_letters::DeadLetter;
use crate::fingerprint::Fingerprint;
use crate::ledger::RunRecord;
use crate::registry::{Model, Registry};
use crate::replay::RunReport;
use crate::verify::Verification;

/// Where command output goes and in which form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Output {
    /// Aligned text for people.
    Text,
    /// Pretty JSON for automation (`--json`).
    Json,
}

fn print_json(value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)?;
    say!("{text}");
    Ok(())
}

impl Output {
    /// Whether `--json` was given.
    pub(super) fn is_json(self) -> bool {
        matches!(self, Output::Json)
    }

    /// The mode `--json` asks for.
    pub(super) fn chosen(json: bool) -> Self {
        if json {
            Output::Json
        } else {
            Output::Text
        }
    }

    /// One result: `value` as JSON, or the line `text` makes.
    pub(super) fn line(
        self,
        value: &serde_json::Value,
        text: impl FnOnce() -> String,
    ) -> Result<(), CliError> {
        match self {
            Output::Json => print_json(value),
            Output::Text => {
                say!("{}", text());
                Ok(())
            }
        }
    }

    /// A remark for people, left out of JSON output.
    pub(super) fn note(self, text: impl FnOnce() -> String) {
        if self == Output::Text {
            say!("{}", text());
        }
    }
}

#[derive(Serialize)]
struct ContractView {
    name: &'static str,
    domain: &'static str,
    version: i32,
    kind: &'static str,
    table: String,
    consumed_events: &'static [&'static str],
    replay_start_version: i64,
    idempotency_key: &'static [&'static str],
    rebuild_strategy: &'static str,
    fingerprint: Fingerprint,
    columns: Vec<ColumnView>,
}

#[derive(Serialize)]
struct ColumnView {
    name: &'static str,
    postgres: &'static str,
    sqlite: &'static str,
    nullable: bool,
}

fn view(model: &dyn Model) -> ContractView {
    let c = model.contract();
    ContractView {
        name: c.name,
        domain: c.domain,
        version: c.version,
        kind: c.kind.as_str(),
        table: c.qualified_table(),
        consumed_events: c.consumed_events,
        replay_start_version: c.replay_start_version,
        idempotency_key: c.idempotency_key,
        rebuild_strategy: c.rebuild_strategy.as_str(),
        fingerprint: c.fingerprint,
        columns: c
            .columns
            .iter()
            .map(|col| ColumnView {
                name: col.name,
                postgres: col.pg_type,
                sqlite: col.sqlite_type,
                nullable: col.nullable,
            })
            .collect(),
    }
}

/// One model's line in `replay status`.
#[derive(Debug, Serialize)]
pub(super) struct ModelStatus {
    pub(super) model: &'static str,
    pub(super) version: i32,
    pub(super) active_version: Option<i32>,
    pub(super) kind: &'static str,
    pub(super) checkpoint: Option<i64>,
    pub(super) head: i64,
    pub(super) lag: i64,
    /// The active version's checkpoint and lag: what readers see (`checkpoint` and `lag`
    /// are this binary's version's).
    pub(super) active_checkpoint: Option<i64>,
    pub(super) active_lag: Option<i64>,
    /// The latest runs that did something, newest first (at most three; no catch-up that
    /// found no event, no `verify` scratch run).
    pub(super) runs: Vec<RunRecord>,
    /// Catch-ups that found no event since the newest of `runs`.
    pub(super) empty_catch_ups: i64,
    /// Workers' partitions of the version (none unless workers ran it).
    pub(super) partitions: Vec<PartitionStatus>,
    /// This binary's code fingerprint of the model.
    pub(super) fingerprint: Fingerprint,
    /// The fingerprint of the code that built the version's rows, as recorded.
    pub(super) recorded_fingerprint: Option<String>,
}

impl ModelStatus {
    /// When readers use a version this binary does not build: which, where each stands.
    fn readers_elsewhere(&self) -> Option<String> {
        let active = self.active_version.filter(|v| *v != self.version)?;
        let or_dash = |value: Option<i64>| value.map_or_else(|| "-".to_owned(), |v| v.to_string());
        Some(format!(
            "{}: readers use v{active}, maintained by another build (checkpoint {}, lag {}); this binary builds v{} (checkpoint {}, lag {})",
            self.model,
            or_dash(self.active_checkpoint),
            or_dash(self.active_lag),
            self.version,
            or_dash(self.checkpoint),
            self.lag,
        ))
    }

    /// The fingerprint that built the version's rows, when it is not this binary's.
    fn built_by_other_code(&self) -> Option<&str> {
        let built = self.checkpoint.is_some() || !self.partitions.is_empty();
        self.recorded_fingerprint
            .as_deref()
            .filter(|recorded| built && *recorded != self.fingerprint.as_str())
    }
}

/// One partition of a model version in `status`: its lease and its checkpoint.
#[derive(Debug, Serialize)]
pub(super) struct PartitionStatus {
    pub(super) partition: u32,
    pub(super) partitions: u32,
    pub(super) owner: Option<String>,
    pub(super) token: i64,
    pub(super) checkpoint: Option<i64>,
    pub(super) lag: i64,
    pub(super) expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Output {
    /// `list`: every model's contract in one line.
    pub(super) fn list(self, registry: &Registry) -> Result<(), CliError> {
        if self == Output::Json {
            return print_json(&registry.iter().map(view).collect::<Vec<_>>());
        }
        let mut table = Table::new(&[
            ("MODEL", Left),
            ("DOMAIN", Left),
            ("V", Right),
            ("KIND", Left),
            ("TABLE", Left),
            ("EVENTS", Left),
        ]);
        for model in registry.iter() {
            let c = model.contract();
            table.row(vec![
                c.name.to_owned(),
                c.domain.to_owned(),
                c.version.to_string(),
                c.kind.to_string(),
                c.qualified_table(),
                c.consumed_events.join(", "),
            ]);
        }
        table.print();
        Ok(())
    }

    /// `describe`: one model's contract.
    pub(super) fn describe(self, model: &dyn Model) -> Result<(), CliError> {
        let v = view(model);
        if self == Output::Json {
            return print_json(&v);
        }
        say!("model:                {}", v.name);
        say!("domain:               {}", v.domain);
        say!("version:              {}", v.version);
        say!("kind:                 {}", v.kind);
        say!("table:                {}", v.table);
        say!("consumed events:      {}", v.consumed_events.join(", "));
        say!("replay start version: {}", v.replay_start_version);
        say!("idempotency key:      ({})", v.idempotency_key.join(", "));
        say!("rebuild strategy:     {}", v.rebuild_strategy);
        say!("code fingerprint:     {}", v.fingerprint);
        say!("columns:");
        for c in &v.columns {
            let null = if c.nullable { " NULL" } else { "" };
            say!("  {:<22} {} / {}{null}", c.name, c.postgres, c.sqlite);
        }
        Ok(())
    }

    /// The runs' reports, one line each, and a summary over `wall`, the time the command
    /// spent running them. ROW WRITES counts rows written or deleted, each time: a row
    /// changed in several flushes counts once per flush, so it can exceed the table's rows.
    pub(super) fn runs(
        self,
        reports: &[RunReport],
        wall: Duration,
        ran: Ran,
    ) -> Result<(), CliError> {
        if self == Output::Json {
            return print_json(&reports);
        }
        let one_pass = matches!(ran, Ran::OnePass { .. });
        let mut columns = vec![
            ("MODEL", Left),
            ("V", Right),
            ("RUN", Right),
            ("STATUS", Left),
            ("EVENTS", Right),
            ("ROW WRITES", Right),
        ];
        // Runs of one pass share its time: a model's own rate would be its events over
        // the whole pass's time. The pass's rate is given once, below.
        if !one_pass {
            columns.extend([("SECONDS", Right), ("EVENTS/S", Right)]);
        }
        columns.push(("CHECKSUM", Left));
        let mut table = Table::new(&columns);
        for r in reports {
            let mut row = vec![
                r.model.to_owned(),
                r.version.to_string(),
                r.run_id.to_string(),
                r.status.as_str().to_owned(),
                r.events_read.to_string(),
                r.rows_written.to_string(),
            ];
            if !one_pass {
                row.push(format!("{:.2}", r.elapsed.as_secs_f64()));
                row.push(format!("{:.0}", r.events_per_second()));
            }
            row.push(r.checksum.clone());
            table.row(row);
        }
        table.print();
        // One run by itself has its own time and rate on its line.
        if one_pass || reports.len() > 1 {
            say!("{}", summary(reports, wall, ran));
        }
        Ok(())
    }

    /// `status`: one line per model, and one per partition workers hold.
    pub(super) fn status(self, statuses: &[ModelStatus]) -> Result<(), CliError> {
        if self == Output::Json {
            return print_json(&statuses);
        }
        let mut table = Table::new(&[
            ("MODEL", Left),
            ("V", Right),
            ("ACTIVE", Right),
            ("KIND", Left),
            ("CHECKPOINT", Right),
            ("LAG", Right),
            ("LAST RUN", Left),
        ]);
        let or_dash = |value: Option<i64>| value.map_or_else(|| "-".to_owned(), |v| v.to_string());
        for s in statuses {
            table.row(vec![
                s.model.to_owned(),
                s.version.to_string(),
                or_dash(s.active_version.map(i64::from)),
                s.kind.to_owned(),
                or_dash(s.checkpoint),
                s.lag.to_string(),
                last_run(s),
            ]);
            for p in &s.partitions {
                let held = match (&p.owner, p.expires_at) {
                    (Some(owner), Some(expiry)) => format!(
                        "held by {owner} (token {}) until {}",
                        p.token,
                        expiry.format("%Y-%m-%d %H:%M:%S%.3f")
                    ),
                    _ => "free".to_owned(),
                };
                table.row(vec![
                    format!("  partition {}/{}", p.partition, p.partitions),
                    String::new(),
                    String::new(),
                    String::new(),
                    or_dash(p.checkpoint),
                    p.lag.to_string(),
                    held,
                ]);
            }
        }
        table.print();
        for s in statuses {
            if let Some(line) = s.readers_elsewhere() {
                say!("{line}");
            }
            if let Some(recorded) = s.built_by_other_code() {
                say!(
                    "{} v{} was built by other code: fingerprint {recorded}, this binary's is {}; a catch-up is refused (see `replay verify --model {} --accept`)",
                    s.model,
                    s.version,
                    s.fingerprint,
                    s.model
                );
            }
        }
        Ok(())
    }

    /// `verify`: the verdict, both checksums, and the first difference, column by column
    /// (`columns`: the model's columns, as its rows' canonical text lists them).
    pub(super) fn verification(self, v: &Verification, columns: &[&str]) -> Result<(), CliError> {
        if self == Output::Json {
            return print_json(v);
        }
        let verdict = if v.matches() { "match" } else { "MISMATCH" };
        say!(
            "{} v{}: {verdict} (rebuilt up to event {})",
            v.model,
            v.version,
            v.checkpoint
        );
        say!("  live     {} ({} rows)", v.live.digest, v.live.rows);
        say!("  rebuilt  {} ({} rows)", v.rebuilt.digest, v.rebuilt.rows);
        if let Some(d) = &v.first_difference {
            say!("  first differing key: {}", d.key);
            let cells = |row: &Option<String>| -> Vec<String> {
                row.as_deref().map_or_else(Vec::new, |text| {
                    text.split('\u{1f}').map(str::to_owned).collect()
                })
            };
            let (live, rebuilt) = (cells(&d.live), cells(&d.rebuilt));
            let mut table = Table::new(&[
                ("    COLUMN", Left),
                ("LIVE", Left),
                ("REBUILT", Left),
                ("", Left),
            ]);
            let absent = |side: &[String]| side.is_empty().then_some("(no row)");
            for (i, column) in columns.iter().enumerate() {
                let cell = |side: &[String]| {
                    absent(side)
                        .map_or_else(|| side.get(i).cloned().unwrap_or_default(), str::to_owned)
                };
                let (l, r) = (cell(&live), cell(&rebuilt));
                let differs = if l == r { "" } else { "<- differs" };
                table.row(vec![format!("    {column}"), l, r, differs.to_owned()]);
            }
            table.print();
        }
        Ok(())
    }

    /// `dead-letters`: the parked events.
    pub(super) fn dead_letters(self, letters: &[DeadLetter]) -> Result<(), CliError> {
        if self == Output::Json {
            return print_json(&letters);
        }
        if letters.is_empty() {
            say!("no parked events");
            return Ok(());
        }
        let mut table = Table::new(&[
            ("MODEL", Left),
            ("V", Right),
            ("EVENT", Right),
            ("TYPE", Left),
            ("REASON", Left),
        ]);
        for l in letters {
            table.row(vec![
                l.model.clone(),
                l.model_version.to_string(),
                l.event_id.to_string(),
                l.event_type.clone(),
                l.reason.clone(),
            ]);
        }
        table.print();
        Ok(())
    }
}

/// How a command's runs went through the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ran {
    /// Model by model: each run's time is its own.
    OneByOne,
    /// In one pass over the log, sharing its time; `log_events` is how many events of the
    /// log the pass went over (of every type, from the first to the last id of the runs).
    OnePass {
        /// Events of the log from the runs' first id to their last.
        log_events: i64,
    },
}

/// The line under the runs: what they did together, and how fast.
fn summary(reports: &[RunReport], wall: Duration, ran: Ran) -> String {
    let seconds = wall.as_secs_f64();
    let rate = |count: f64| count / seconds.max(1e-9);
    let model_events: u64 = reports.iter().map(|r| r.events_read).sum();
    let models = match reports.len() {
        1 => "1 model".to_owned(),
        n => format!("{n} models"),
    };
    match ran {
        Ran::OnePass { log_events } => format!(
            "{models} in one pass over {log_events} log events: {model_events} model-events applied in {seconds:.2}s, checksums included ({:.0} log events/s, {:.0} model-events/s)",
            rate(log_events as f64),
            rate(model_events as f64)
        ),
        Ran::OneByOne => format!(
            "{models} one after another: {model_events} events applied in {seconds:.2}s, checksums included ({:.0} events/s)",
            rate(model_events as f64)
        ),
    }
}

/// The latest run that did something, and how many catch-ups found nothing since.
fn last_run(s: &ModelStatus) -> String {
    let empty = match s.empty_catch_ups {
        0 => String::new(),
        1 => "1 empty catch-up".to_owned(),
        n => format!("{n} empty catch-ups"),
    };
    let Some(r) = s.runs.first() else {
        return if empty.is_empty() {
            "never".to_owned()
        } else {
            empty
        };
    };
    let mut text = format!(
        "#{} {} {} v{} {} events{}, started {}",
        r.run_id,
        r.status,
        r.scope,
        r.model_version,
        r.events_read,
        r.events_per_second
            .map_or_else(String::new, |rate| format!(" at {rate:.0}/s")),
        r.started_at.format("%Y-%m-%d %H:%M:%S")
    );
    if let Some(error) = &r.error {
        text.push_str(&format!(": {error}"));
    }
    if !empty.is_empty() {
        text.push_str(&format!("; {empty} since"));
    }
    text
}
