//! `replay schema` and `replay new-migration`: models' DDL, from their contracts.

use std::path::{Path, PathBuf};

use crate::cli::context::Context;
use crate::cli::CliError;
use crate::contract::Contract;
use crate::ddl::{self, evolve, Backend, Defaults, EvolveError, Existing, Step};
use crate::registry::Registry;

/// Which models a DDL command is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub(crate) struct Selection {
    /// A model, by name (repeatable).
    #[arg(long = "model", value_name = "MODEL")]
    models: Vec<String>,
    /// Every model of a domain.
    #[arg(long, conflicts_with = "all")]
    domain: Option<String>,
    /// Every registered model.
    #[arg(long, conflicts_with = "models")]
    all: bool,
}

/// `replay schema`.
#[derive(Debug, clap::Args)]
pub(crate) struct SchemaArgs {
    #[command(flatten)]
    selection: Selection,
    /// Only this backend (`postgres` or `sqlite`); default both.
    #[arg(long)]
    backend: Option<Backend>,
}

/// `replay new-migration`.
#[derive(Debug, clap::Args)]
pub(crate) struct NewMigrationArgs {
    #[command(flatten)]
    selection: Selection,
    /// The migrations directory (holding postgres/ and sqlite/).
    #[arg(long, default_value = "migrations")]
    dir: PathBuf,
    /// The migration's name (default: the model's or domain's name).
    #[arg(long)]
    name: Option<String>,
    /// The directory's timestamp, YYYY-MM-DD-HHMMSS (default: now, as diesel_cli does).
    #[arg(long)]
    timestamp: Option<String>,
    /// COLUMN=VALUE: the value the rows of older versions get in a new NOT NULL column
    /// (a number, a 'quoted string', TRUE or FALSE); repeatable.
    #[arg(long = "default", value_name = "COLUMN=VALUE")]
    defaults: Vec<String>,
}

/// Why `replay new-migration` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// No `--model`, `--domain` or `--all`.
    #[error("no model selected: give --model MODEL (repeatable), --domain DOMAIN or --all")]
    NothingSelected,
    /// `--domain` names no registered model's domain.
    #[error("no registered model is in domain {domain:?}; known domains: {known}")]
    UnknownDomain {
        /// The domain asked for.
        domain: String,
        /// The domains the registry has.
        known: String,
    },
    /// `--name` would not make a diesel_cli directory name.
    #[error("invalid migration name {0:?}: use lowercase letters, digits and underscores")]
    InvalidName(String),
    /// `--timestamp` is not diesel_cli's `YYYY-MM-DD-HHMMSS`.
    #[error(
        "invalid migration timestamp {0:?}: expected YYYY-MM-DD-HHMMSS, e.g. 2026-11-30-120000"
    )]
    InvalidTimestamp(String),
    /// The migration directory is already there.
    #[error("{0} already exists: choose another --name or --timestamp")]
    Exists(PathBuf),
    /// A model's table cannot be migrated as its contract now declares it.
    #[error(transparent)]
    Evolve(#[from] EvolveError),
    /// An earlier migration could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Creating a directory or writing a file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The contracts `selection` names, in registry order (by name) or as given.
fn select(registry: &Registry, selection: &Selection) -> Result<Vec<&'static Contract>, CliError> {
    if selection.all {
        return Ok(registry.iter().map(|m| m.contract()).collect());
    }
    if let Some(domain) = &selection.domain {
        let contracts: Vec<_> = registry.by_domain(domain).map(|m| m.contract()).collect();
        if contracts.is_empty() {
            let known: std::collections::BTreeSet<&str> =
                registry.iter().map(|m| m.contract().domain).collect();
            return Err(SchemaError::UnknownDomain {
                domain: domain.clone(),
                known: known.into_iter().collect::<Vec<_>>().join(", "),
            }
            .into());
        }
        return Ok(contracts);
    }
    if selection.models.is_empty() {
        return Err(SchemaError::NothingSelected.into());
    }
    selection
        .models
        .iter()
        .map(|name| Ok(registry.get(name)?.contract()))
        .collect()
}

/// `replay schema`: prints the DDL of the selected models for one backend or both.
pub(in crate::cli) fn print(cx: &Context<'_>, args: &SchemaArgs) -> Result<(), CliError> {
    let contracts = select(cx.registry, &args.selection)?;
    let backends: Vec<Backend> = args
        .backend
        .map_or_else(|| Backend::ALL.to_vec(), |b| vec![b]);
    let mut text = String::new();
    let mut views = Vec::new();
    for backend in &backends {
        if backends.len() > 1 {
            text.push_str(&format!("-- {backend}\n"));
        }
        for contract in &contracts {
            let sql = ddl::create(contract, *backend);
            text.push_str(&sql);
            views.push(serde_json::json!({
                "model": contract.name,
                "backend": backend.as_str(),
                "up": sql,
                "down": ddl::drop(contract, *backend),
            }));
        }
    }
    cx.out.line(&serde_json::Value::Array(views), || {
        text.trim_end().to_owned()
    })
}

/// `replay new-migration`: compares each selected model's contract with what the
/// migrations in `--dir` already create, per backend, and writes what is missing as
/// `<dir>/{postgres,sqlite}/<timestamp>_<name>/{up,down}.sql` (only for a backend that
/// needs something); writes nothing when the migrations already create every table as
/// declared, and refuses what cannot change in place (see [`ddl::evolve`]).
pub(in crate::cli) fn write_migration(
    cx: &Context<'_>,
    args: &NewMigrationArgs,
) -> Result<(), CliError> {
    let contracts = select(cx.registry, &args.selection)?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => default_name(&args.selection, &contracts),
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(SchemaError::InvalidName(name).into());
    }
    let timestamp = match &args.timestamp {
        Some(t) => valid_timestamp(t)?,
        // The wall clock only names the directory, as diesel_cli does.
        None => chrono::Utc::now().format("%Y-%m-%d-%H%M%S").to_string(),
    };
    let defaults = args
        .defaults
        .iter()
        .map(|text| evolve::parse_default(text))
        .collect::<Result<Defaults, _>>()
        .map_err(SchemaError::from)?;
    let folder = format!("{timestamp}_{name}");
    let plans = Backend::ALL
        .iter()
        .map(|backend| plan_backend(&args.dir, *backend, &contracts, &defaults))
        .collect::<Result<Vec<_>, _>>()?;
    check_defaults_used(&plans, &defaults)?;
    let targets: Vec<(PathBuf, String, String)> = plans
        .iter()
        .filter(|(_, steps)| !steps.is_empty())
        .map(|(backend, steps)| {
            let (up, down) = ddl::evolution(steps, *backend, &defaults);
            (args.dir.join(backend.as_str()).join(&folder), up, down)
        })
        .collect();
    let models: Vec<&str> = contracts.iter().map(|c| c.name).collect();
    if targets.is_empty() {
        let dir = args.dir.display();
        return cx.out.line(
            &serde_json::json!({ "models": models, "directories": [] }),
            || format!("nothing to migrate: the migrations in {dir} already create the tables of {} as declared", models.join(", ")),
        );
    }
    write_targets(&targets)?;
    let paths: Vec<String> = targets
        .iter()
        .map(|(p, ..)| p.display().to_string())
        .collect();
    let changed: Vec<&str> = contracts
        .iter()
        .filter(|c| {
            plans
                .iter()
                .any(|(_, steps)| steps.iter().any(|(s, _)| s.name == c.name))
        })
        .map(|c| c.name)
        .collect();
    cx.out.line(
        &serde_json::json!({ "models": changed, "directories": paths }),
        || {
            format!(
                "wrote migration {folder} for {} model(s): {}",
                changed.len(),
                paths.join(", ")
            )
        },
    )
}

/// The steps one backend's migration takes: each model that needs one, with it.
type BackendSteps = (Backend, Vec<(&'static Contract, Step)>);

/// Each model's step on `backend`, from what the migrations in `dir/backend` create.
fn plan_backend(
    dir: &Path,
    backend: Backend,
    contracts: &[&'static Contract],
    defaults: &Defaults,
) -> Result<BackendSteps, SchemaError> {
    let source = dir.join(backend.as_str());
    let existing = read_existing(&source)?;
    let label = source.display().to_string();
    let mut steps = Vec::new();
    for contract in contracts {
        if let Some(step) = evolve::plan(contract, backend, &existing, &label, defaults)? {
            steps.push((*contract, step));
        }
    }
    Ok((backend, steps))
}

/// What the `up.sql` files under `source` create, in the order diesel applies them (by
/// directory name); nothing when the directory does not exist yet.
fn read_existing(source: &Path) -> Result<Existing, SchemaError> {
    let failed = |path: &Path| {
        let path = path.to_owned();
        move |source| SchemaError::Read { path, source }
    };
    let entries = match std::fs::read_dir(source) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Existing::default())
        }
        Err(error) => return Err(failed(source)(error)),
    };
    let mut folders = entries
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(failed(source))?;
    folders.sort();
    let mut scripts = Vec::new();
    for folder in folders {
        let up = folder.join("up.sql");
        if up.is_file() {
            scripts.push(std::fs::read_to_string(&up).map_err(failed(&up))?);
        }
    }
    Ok(Existing::read(scripts.iter().map(String::as_str)))
}

/// Refuses a `--default` that no step uses: a mistyped column name would otherwise be
/// silently ignored.
fn check_defaults_used(plans: &[BackendSteps], defaults: &Defaults) -> Result<(), SchemaError> {
    for column in defaults.keys() {
        let used = plans.iter().flat_map(|(_, steps)| steps).any(|(_, step)| {
            matches!(step, Step::AddColumns { columns, .. }
                if columns.iter().any(|c| c.name == column && !c.nullable))
        });
        if !used {
            return Err(EvolveError::UnusedDefault(column.clone()).into());
        }
    }
    Ok(())
}

/// Writes every target, or nothing: a failure removes the directories this call created.
fn write_targets(targets: &[(PathBuf, String, String)]) -> Result<(), SchemaError> {
    if let Some((existing, _, _)) = targets.iter().find(|(path, _, _)| path.exists()) {
        return Err(SchemaError::Exists(existing.clone()));
    }
    let mut written: Vec<PathBuf> = Vec::new();
    for (path, up, down) in targets {
        if let Err(error) = write_pair(path, up, down, &mut written) {
            for created in written.iter().rev() {
                let _ = std::fs::remove_dir_all(created);
            }
            return Err(error);
        }
    }
    Ok(())
}

fn write_pair(
    path: &Path,
    up: &str,
    down: &str,
    written: &mut Vec<PathBuf>,
) -> Result<(), SchemaError> {
    let failed = |path: &Path| {
        let path = path.to_owned();
        move |source| SchemaError::Write { path, source }
    };
    std::fs::create_dir_all(path).map_err(failed(path))?;
    written.push(path.to_owned());
    for (file, text) in [("up.sql", up), ("down.sql", down)] {
        let file = path.join(file);
        std::fs::write(&file, text).map_err(failed(&file))?;
    }
    Ok(())
}

fn default_name(selection: &Selection, contracts: &[&Contract]) -> String {
    match (&selection.domain, contracts) {
        (Some(domain), _) => domain.replace(['.', '-'], "_"),
        (None, [one]) => one.name.replace(['.', '-'], "_"),
        _ => "read_models".to_owned(),
    }
}

fn valid_timestamp(timestamp: &str) -> Result<String, SchemaError> {
    chrono::NaiveDateTime::parse_from_str(timestamp, "%Y-%m-%d-%H%M%S")
        .map(|_| timestamp.to_owned())
        .map_err(|_| SchemaError::InvalidTimestamp(timestamp.to_owned()))
}
