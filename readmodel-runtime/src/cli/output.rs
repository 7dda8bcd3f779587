//! How commands print: aligned text for people, `--json` for automation. The mode is
//! chosen once ([`Output::chosen`]) and every command prints through it.

use std::time::Duration;

use serde::Serialize;

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
    pub(super) runs: Vec<RunRecord>,
    /// Workers' partitions of the version (none unless workers ran it).
    pub(super) partitions: Vec<PartitionStatus>,
    /// This binary's code fingerprint of the model.
    pub(super) fingerprint: Fingerprint,
    /// The fingerprint of the code that built the version's rows, as recorded.
    pub(super) recorded_fingerprint: Option<String>,
}

impl ModelStatus {
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
        say!(
            "{:<28} {:<10} {:>3}  {:<10} {:<34} events",
            "MODEL",
            "DOMAIN",
            "V",
            "KIND",
            "TABLE"
        );
        for model in registry.iter() {
            let c = model.contract();
            say!(
                "{:<28} {:<10} {:>3}  {:<10} {:<34} {}",
                c.name,
                c.domain,
                c.version,
                c.kind,
                c.qualified_table(),
                c.consumed_events.join(", ")
            );
        }
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

    /// The reports of runs, one line each, and a total for several.
    /// The runs' reports, and a summary over `wall`, the time the command spent running
    /// them (runs in one pass share their time: their own `elapsed` values overlap).
    pub(super) fn runs(self, reports: &[RunReport], wall: Duration) -> Result<(), CliError> {
        if self == Output::Json {
            return print_json(&reports);
        }
        say!(
            "{:<28} {:>3} {:>5} {:<9} {:>10} {:>10} {:>8} {:>10}  checksum",
            "MODEL",
            "V",
            "RUN",
            "STATUS",
            "EVENTS",
            "ROWS",
            "SECONDS",
            "EVENTS/S"
        );
        let mut events = 0;
        let seconds = wall.as_secs_f64();
        for r in reports {
            events += r.events_read;
            say!(
                "{:<28} {:>3} {:>5} {:<9} {:>10} {:>10} {:>8.2} {:>10.0}  {}",
                r.model,
                r.version,
                r.run_id,
                r.status.as_str(),
                r.events_read,
                r.rows_written,
                r.elapsed.as_secs_f64(),
                r.events_per_second(),
                r.checksum
            );
        }
        if reports.len() > 1 {
            say!(
                "{} models, {events} events applied in {seconds:.2}s wall, checksums included ({:.0} events/s)",
                reports.len(),
                events as f64 / seconds.max(1e-9)
            );
        }
        Ok(())
    }

    /// `status`: one line per model.
    pub(super) fn status(self, statuses: &[ModelStatus]) -> Result<(), CliError> {
        if self == Output::Json {
            return print_json(&statuses);
        }
        say!(
            "{:<28} {:>3} {:>6} {:<10} {:>10} {:>8}  last run",
            "MODEL",
            "V",
            "ACTIVE",
            "KIND",
            "CHECKPOINT",
            "LAG"
        );
        for s in statuses {
            let checkpoint = s
                .checkpoint
                .map_or_else(|| "-".to_owned(), |c| c.to_string());
            let last = s.runs.first().map_or_else(
                || "never".to_owned(),
                |r| {
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
                    text
                },
            );
            let active = s
                .active_version
                .map_or_else(|| "-".to_owned(), |v| v.to_string());
            say!(
                "{:<28} {:>3} {:>6} {:<10} {:>10} {:>8}  {last}",
                s.model,
                s.version,
                active,
                s.kind,
                checkpoint,
                s.lag
            );
            if let Some(recorded) = s.built_by_other_code() {
                say!(
                    "  built by other code: fingerprint {recorded}, this binary's is {}; a catch-up is refused (see `replay verify --model {} --accept`)",
                    s.fingerprint,
                    s.model
                );
            }
            for p in &s.partitions {
                let checkpoint = p
                    .checkpoint
                    .map_or_else(|| "-".to_owned(), |c| c.to_string());
                let held = match (&p.owner, p.expires_at) {
                    (Some(owner), Some(expiry)) => format!(
                        "held by {owner} (token {}) until {}",
                        p.token,
                        expiry.format("%Y-%m-%d %H:%M:%S%.3f")
                    ),
                    _ => "free".to_owned(),
                };
                say!(
                    "  partition {:>3}/{:<3} {:>24} {:>10} {:>8}  {held}",
                    p.partition,
                    p.partitions,
                    "",
                    checkpoint,
                    p.lag
                );
            }
        }
        Ok(())
    }

    /// `verify`: the verdict, both checksums, and the first difference.
    pub(super) fn verification(self, v: &Verification) -> Result<(), CliError> {
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
            say!(
                "    live:    {}",
                d.live
                    .as_deref()
                    .unwrap_or("(absent)")
                    .replace('\u{1f}', " | ")
            );
            say!(
                "    rebuilt: {}",
                d.rebuilt
                    .as_deref()
                    .unwrap_or("(absent)")
                    .replace('\u{1f}', " | ")
            );
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
        say!(
            "{:<28} {:>3} {:>10}  {:<28} reason",
            "MODEL",
            "V",
            "EVENT",
            "TYPE"
        );
        for l in letters {
            say!(
                "{:<28} {:>3} {:>10}  {:<28} {}",
                l.model,
                l.model_version,
                l.event_id,
                l.event_type,
                l.reason
            );
        }
        Ok(())
    }
}
