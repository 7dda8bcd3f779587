//! `replay schema` and `replay new-migration`: models' DDL, from their contracts.

use std::path::{Path, PathBuf};

use crate::cli::context::Context;
use crate::cli::CliError;
use crate::contract::Contract;
use crate::ddl::{self, Backend};
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

/// `replay new-migration`: writes `<dir>/{postgres,sqlite}/<timestamp>_<name>/{up,down}.sql`.
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
    let folder = format!("{timestamp}_{name}");
    let targets: Vec<(PathBuf, String, String)> = Backend::ALL
        .iter()
        .map(|backend| {
            let (up, down) = ddl::migration(&contracts, *backend);
            (args.dir.join(backend.as_str()).join(&folder), up, down)
        })
        .collect();
    if let Some((existing, _, _)) = targets.iter().find(|(path, _, _)| path.exists()) {
        return Err(SchemaError::Exists(existing.clone()).into());
    }
    let mut written: Vec<PathBuf> = Vec::new();
    for (path, up, down) in &targets {
        if let Err(error) = write_pair(path, up, down, &mut written) {
            // Nothing half-written: remove every directory this call created.
            for created in written.iter().rev() {
                let _ = std::fs::remove_dir_all(created);
            }
            return Err(error.into());
        }
    }
    let paths: Vec<String> = targets
        .iter()
        .map(|(p, ..)| p.display().to_string())
        .collect();
    let models: Vec<&str> = contracts.iter().map(|c| c.name).collect();
    cx.out.line(
        &serde_json::json!({ "models": models, "directories": paths }),
        || {
            format!(
                "wrote migration {folder} for {} model(s): {}",
                models.len(),
                paths.join(", ")
            )
        },
    )
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
