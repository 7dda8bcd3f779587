//! What each subcommand does.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::output::{self, ModelStatus};
use super::{App, Cli, CliError, Command, GenerateSpec};
use crate::dead_letters::{self, BadEventPolicy};
use crate::import;
use crate::ledger;
use crate::registry::{Model, Registry};
use crate::replay::{Plan, Progress, RunReport};
use crate::store::{with_conn, DatabaseUrl, Store};
use crate::versions;

pub(super) fn execute(app: &App, cli: &Cli) -> Result<(), CliError> {
    let registry = Registry::global()?;
    // Only commands on the log itself make sense in a binary without models.
    if !matches!(
        cli.command,
        Command::Migrate | Command::Import { .. } | Command::Generate { .. }
    ) {
        registry.require_models()?;
    }
    match &cli.command {
        Command::List => output::list(registry, cli.json),
        Command::Describe { model } => output::describe(registry.get(model)?, cli.json),
        Command::Migrate => {
            let mut store = open(app, &cli.database_url, false)?;
            let applied = store.migrate(&app.migrations)?;
            output::line(cli.json, &serde_json::json!({ "applied": applied }), || {
                format!("{applied} migration(s) applied; the database is up to date")
            })
        }
        Command::Import { file } => {
            let events = import::parse_jsonl(file)?;
            let mut store = open(app, &cli.database_url, true)?;
            let count =
                import::append_all(&mut store, &events).map_err(crate::error::ImportError::from)?;
            output::line(cli.json, &serde_json::json!({ "imported": count }), || {
                format!("imported {count} event(s) from {}", file.display())
            })
        }
        Command::Generate {
            users,
            events,
            seed,
        } => {
            let mut store = open(app, &cli.database_url, true)?;
            let spec = GenerateSpec {
                users: *users,
                events: *events,
                seed: *seed,
            };
            let (count, seconds) = generate(app, &mut store, &spec)?;
            output::line(
                cli.json,
                &serde_json::json!({ "generated": count, "seconds": seconds }),
                || format!("generated {count} event(s) in {seconds:.2}s"),
            )
        }
        Command::Run {
            model,
            all: _,
            full,
            from,
            to,
            user,
            resume,
            batch_size,
            max_batches,
            on_bad_event,
        } => {
            let mut store = open(app, &cli.database_url, true)?;
            let models: Vec<&dyn Model> = match model {
                Some(name) => vec![registry.get(name)?],
                None => registry.iter().collect(),
            };
            let plan = Plan {
                full: *full,
                from: *from,
                to: *to,
                user: *user,
                batch_size: *batch_size as usize,
                max_batches: *max_batches,
                on_bad_event: *on_bad_event,
            };
            let reports = run_models(&mut store, &models, &plan, *resume, cli.quiet)?;
            output::runs(&reports, cli.json)
        }
        Command::DeadLetters { model, retry } => {
            let mut store = open(app, &cli.database_url, true)?;
            let model = model
                .as_deref()
                .map(|name| registry.get(name))
                .transpose()?;
            if *retry {
                if let Some(model) = model {
                    let contract = model.contract();
                    let started = chrono::Utc::now();
                    let plan = Plan {
                        full: true,
                        on_bad_event: BadEventPolicy::Park,
                        ..Plan::default()
                    };
                    let reports = run_models(&mut store, &[model], &plan, false, cli.quiet)?;
                    // Only now that the rebuild committed: what it did not park again is fixed.
                    let fixed = with_conn!(&mut store, |c| dead_letters::clear_before(
                        c,
                        contract.name,
                        contract.version,
                        Some(started)
                    ))?;
                    if !cli.json {
                        say!(
                            "rebuilt {}: {fixed} parked event(s) now apply",
                            contract.name
                        );
                    }
                    output::runs(&reports, cli.json)?;
                }
            }
            let name = model.map(|m| m.contract().name);
            let letters = with_conn!(&mut store, |c| dead_letters::list(c, name))?;
            output::dead_letters(&letters, cli.json)
        }
        Command::Checksum {
            model,
            version,
            user,
        } => {
            let model = registry.get(model)?;
            let mut store = open(app, &cli.database_url, true)?;
            let contract = model.contract();
            let version = version.unwrap_or(contract.version);
            let sum = model.checksum(&mut store, version, *user)?;
            let scope = user.map_or_else(String::new, |u| format!(" user {u}"));
            output::line(
                cli.json,
                &serde_json::json!({ "model": contract.name, "version": version, "user": user, "digest": sum.digest, "rows": sum.rows }),
                || {
                    format!(
                        "{} v{version}{scope} {} ({} rows)",
                        contract.name, sum.digest, sum.rows
                    )
                },
            )
        }
        Command::Verify { model } => {
            let model = registry.get(model)?;
            let mut store = open(app, &cli.database_url, true)?;
            // The rebuild writes a scratch version into the live table: refuse a missing
            // table or key index up front, with the message `run` gives.
            with_conn!(&mut store, |c| crate::store::schema::check_table(
                c,
                model.contract()
            ))?;
            let verification = model.verify(&mut store)?;
            output::verification(&verification, cli.json)?;
            if verification.matches() {
                Ok(())
            } else {
                Err(CliError::Mismatch(format!(
                    "{} v{} does not match a rebuild from the log{}",
                    verification.model,
                    verification.version,
                    verification
                        .first_difference
                        .as_ref()
                        .map_or_else(String::new, |d| format!(
                            " (first differing key: {})",
                            d.key
                        ))
                )))
            }
        }
        Command::Cutover { model, version } => {
            let model = registry.get(model)?;
            let mut store = open(app, &cli.database_url, true)?;
            let previous = model.cutover(&mut store, *version)?;
            let name = model.contract().name;
            output::line(
                cli.json,
                &serde_json::json!({ "model": name, "active_version": version, "previous_version": previous }),
                || match previous {
                    Some(p) => format!("{name}: active version {p} -> {version}"),
                    None => format!("{name}: active version {version}"),
                },
            )
        }
        Command::Drop { model, version } => {
            let model = registry.get(model)?;
            let mut store = open(app, &cli.database_url, true)?;
            let deleted = model.drop_version(&mut store, *version)?;
            let name = model.contract().name;
            output::line(
                cli.json,
                &serde_json::json!({ "model": name, "dropped_version": version, "rows_deleted": deleted }),
                || format!("{name}: dropped version {version} ({deleted} rows deleted)"),
            )
        }
        Command::Status { model } => {
            let mut store = open(app, &cli.database_url, true)?;
            let models: Vec<&dyn Model> = match model {
                Some(name) => vec![registry.get(name)?],
                None => registry.iter().collect(),
            };
            let statuses = status(&models, &mut store)?;
            output::status(&statuses, cli.json)
        }
        Command::Schema { selection, backend } => {
            super::schema::print(registry, selection, *backend, cli.json)
        }
        Command::NewMigration {
            selection,
            dir,
            name,
            timestamp,
        } => super::schema::write_migration(
            registry,
            selection,
            dir,
            name.as_deref(),
            timestamp.as_deref(),
            cli.json,
        ),
        Command::Demo {
            file,
            users,
            events,
            seed,
        } => demo(app, registry, cli, file, *users, *events, *seed),
    }
}

/// Opens the store; `ready` also requires every migration to be applied.
fn open(app: &App, url: &str, ready: bool) -> Result<Store, CliError> {
    let url = DatabaseUrl::parse(url)?;
    let mut store = Store::open(&url, &app.migrations)?;
    if ready {
        store.ensure_migrated(&app.migrations)?;
    }
    Ok(store)
}

fn generate(app: &App, store: &mut Store, spec: &GenerateSpec) -> Result<(usize, f64), CliError> {
    let generator = app
        .generator
        .ok_or_else(|| CliError::Usage("this binary has no event generator".to_owned()))?;
    let started = Instant::now();
    let count = import::append_iter(store, generator(spec))?;
    Ok((count, started.elapsed().as_secs_f64()))
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn batch(&mut self, model: &str, last_id: i64, to: i64, _events: u64) {
        self.0.set_length(to.max(0) as u64);
        self.0.set_position(last_id.max(0) as u64);
        self.0.set_message(model.to_owned());
    }
}

fn run_models(
    store: &mut Store,
    models: &[&dyn Model],
    plan: &Plan,
    resume: bool,
    quiet: bool,
) -> Result<Vec<RunReport>, CliError> {
    let mut reports = Vec::with_capacity(models.len());
    for model in models {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:24} [{bar:30}] event {pos}/{len} {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let mut progress = Bar(bar);
        let report = model.replay(store, plan, resume, &mut progress);
        progress.0.finish_and_clear();
        match report {
            // `run --all --resume` continues what was interrupted and skips the rest.
            Err(crate::error::ReplayError::NothingToResume { .. })
                if resume && models.len() > 1 => {}
            report => reports.push(report?),
        }
    }
    Ok(reports)
}

fn status(models: &[&dyn Model], store: &mut Store) -> Result<Vec<ModelStatus>, CliError> {
    let head = store.log_head()?;
    let mut statuses = Vec::new();
    for model in models {
        let contract = model.contract();
        let (checkpoint, active, runs) = with_conn!(store, |c| {
            let checkpoint =
                ledger::checkpoint(c, contract.name, contract.version, ledger::SCOPE_ALL)?;
            let active = versions::active(c, contract.name)?;
            let runs = ledger::recent_runs(c, contract.name, 3)?;
            Ok::<_, crate::error::StoreError>((checkpoint, active, runs))
        })?;
        statuses.push(ModelStatus {
            model: contract.name,
            version: contract.version,
            active_version: active,
            kind: contract.kind.as_str(),
            checkpoint,
            head,
            lag: head - checkpoint.unwrap_or(0),
            runs,
        });
    }
    Ok(statuses)
}

fn demo(
    app: &App,
    registry: &Registry,
    cli: &Cli,
    file: &std::path::Path,
    users: u32,
    events: u64,
    seed: u64,
) -> Result<(), CliError> {
    let url = DatabaseUrl::parse(&file.display().to_string())?;
    if let DatabaseUrl::Sqlite { main, readmodels } = &url {
        for path in [main.clone(), readmodels.clone()] {
            for suffix in ["", "-wal", "-shm"] {
                let path = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
                if path.exists() {
                    std::fs::remove_file(&path).map_err(|e| {
                        CliError::Usage(format!("cannot replace {}: {e}", path.display()))
                    })?;
                }
            }
        }
    }
    let mut store = Store::open(&url, &app.migrations)?;
    let spec = GenerateSpec {
        users,
        events,
        seed,
    };
    let (count, seconds) = generate(app, &mut store, &spec)?;
    if !cli.json {
        say!("demo database: {url}");
        say!("generated {count} events for {users} users in {seconds:.2}s");
    }
    let models: Vec<&dyn Model> = registry.iter().collect();
    let plan = Plan {
        full: true,
        ..Plan::default()
    };
    let reports = run_models(&mut store, &models, &plan, false, cli.quiet)?;
    output::runs(&reports, cli.json)?;
    if !cli.json {
        say!(
            "inspect it: replay --database-url {} status",
            file.display()
        );
    }
    Ok(())
}
