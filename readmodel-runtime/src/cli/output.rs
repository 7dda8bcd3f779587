//! How commands print: aligned text for people, `--json` for automation.

use serde::Serialize;

use super::CliError;
use crate::ledger::RunRecord;
use crate::registry::{Model, Registry};
use crate::replay::RunReport;

fn print_json(value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Usage(format!("cannot encode JSON output: {e}")))?;
    println!("{text}");
    Ok(())
}

pub(super) fn line(
    json: bool,
    value: &serde_json::Value,
    text: impl FnOnce() -> String,
) -> Result<(), CliError> {
    if json {
        print_json(value)
    } else {
        println!("{}", text());
        Ok(())
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

pub(super) fn list(registry: &Registry, json: bool) -> Result<(), CliError> {
    if json {
        return print_json(&registry.iter().map(view).collect::<Vec<_>>());
    }
    println!(
        "{:<28} {:<10} {:>3}  {:<10} {:<34} events",
        "MODEL", "DOMAIN", "V", "KIND", "TABLE"
    );
    for model in registry.iter() {
        let c = model.contract();
        println!(
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

pub(super) fn describe(model: &dyn Model, json: bool) -> Result<(), CliError> {
    let v = view(model);
    if json {
        return print_json(&v);
    }
    println!("model:                {}", v.name);
    println!("domain:               {}", v.domain);
    println!("version:              {}", v.version);
    println!("kind:                 {}", v.kind);
    println!("table:                {}", v.table);
    println!("consumed events:      {}", v.consumed_events.join(", "));
    println!("replay start version: {}", v.replay_start_version);
    println!("idempotency key:      ({})", v.idempotency_key.join(", "));
    println!("rebuild strategy:     {}", v.rebuild_strategy);
    println!("columns:");
    for c in &v.columns {
        let null = if c.nullable { " NULL" } else { "" };
        println!("  {:<22} {} / {}{null}", c.name, c.postgres, c.sqlite);
    }
    Ok(())
}

pub(super) fn runs(reports: &[RunReport], json: bool) -> Result<(), CliError> {
    if json {
        return print_json(&reports);
    }
    println!(
        "{:<28} {:>3} {:>5} {:>10} {:>10} {:>8} {:>10}  checksum",
        "MODEL", "V", "RUN", "EVENTS", "ROWS", "SECONDS", "EVENTS/S"
    );
    let mut events = 0;
    let mut seconds = 0.0;
    for r in reports {
        events += r.events_read;
        seconds += r.elapsed.as_secs_f64();
        println!(
            "{:<28} {:>3} {:>5} {:>10} {:>10} {:>8.2} {:>10.0}  {}",
            r.model,
            r.version,
            r.run_id,
            r.events_read,
            r.rows_written,
            r.elapsed.as_secs_f64(),
            r.events_per_second(),
            r.checksum
        );
    }
    if reports.len() > 1 {
        println!(
            "{} models, {events} events applied in {seconds:.2}s ({:.0} events/s)",
            reports.len(),
            events as f64 / seconds.max(1e-9)
        );
    }
    Ok(())
}

/// One model's line in `replay status`.
#[derive(Debug, Serialize)]
pub(super) struct ModelStatus {
    pub(super) model: &'static str,
    pub(super) version: i32,
    pub(super) kind: &'static str,
    pub(super) checkpoint: Option<i64>,
    pub(super) head: i64,
    pub(super) lag: i64,
    pub(super) runs: Vec<RunRecord>,
}

pub(super) fn status(statuses: &[ModelStatus], json: bool) -> Result<(), CliError> {
    if json {
        return print_json(&statuses);
    }
    println!(
        "{:<28} {:>3} {:<10} {:>10} {:>8}  last run",
        "MODEL", "V", "KIND", "CHECKPOINT", "LAG"
    );
    for s in statuses {
        let checkpoint = s
            .checkpoint
            .map_or_else(|| "-".to_owned(), |c| c.to_string());
        let last = s.runs.first().map_or_else(
            || "never".to_owned(),
            |r| {
                let mut text = format!(
                    "#{} {} {} events, started {}",
                    r.run_id,
                    r.status,
                    r.events_read,
                    r.started_at.format("%Y-%m-%d %H:%M:%S")
                );
                if let Some(error) = &r.error {
                    text.push_str(&format!(": {error}"));
                }
                text
            },
        );
        println!(
            "{:<28} {:>3} {:<10} {:>10} {:>8}  {last}",
            s.model, s.version, s.kind, checkpoint, s.lag
        );
    }
    Ok(())
}
