//! `replay import --file F`: append a JSON Lines file to the log, all or nothing.

use std::path::PathBuf;

use crate::cli::context::{Context, Migrated};
use crate::cli::CliError;
use crate::import::{self, ImportError};
use crate::stop::StopFlag;
use crate::store::{Appended, Upkeep};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The file: one event object per line.
    #[arg(long)]
    file: PathBuf,
    /// Append events even when one does not decode as its type (unknown schema_version,
    /// payload fields that do not parse): strict replays of its models will stop on it.
    #[arg(long)]
    unchecked: bool,
    /// Append events of types no event of this binary declares (a log shared with other
    /// services); without it, such an event refuses the file (a typo would stay in the
    /// log for good).
    #[arg(long)]
    allow_unknown_types: bool,
}

pub(in crate::cli) fn run(cx: &Context<'_>, args: &Args) -> Result<(), CliError> {
    // From here on SIGINT/SIGTERM ask to stop: before the commit the import rolls back and
    // says so; after it, it says the events are in.
    let stop = StopFlag::on_signals_until_reported().map_err(CliError::Signals)?;
    let lines = import::parse_jsonl_lines(&args.file)?;
    // Checked before the store opens: a refused file touches nothing.
    import::check_duplicates(&args.file, &lines)?;
    let declared = cx.registry.declared_event_types();
    let undeclared =
        import::check_declared(&args.file, &lines, &declared, args.allow_unknown_types)?;
    let unconsumed = if args.unchecked {
        None
    } else {
        Some(import::check_decodes(&args.file, &lines, |event| {
            cx.registry.decodes(event)
        })?)
    };
    if stop.is_set() {
        return Err(ImportError::Interrupted {
            signal: stop.signal(),
        }
        .into());
    }
    let mut store = cx.store(Migrated::Required)?;
    let appended = import::append_lines(&mut store, &args.file, &lines, &stop)?;
    warn_about_upkeep(&appended, "imported", &stop);
    let count = appended.count;
    let json = serde_json::json!({
        "imported": count,
        "unconsumed": unconsumed,
        "undeclared": undeclared,
        "checked": !args.unchecked,
        "upkeep": upkeep_name(&appended.upkeep),
    });
    cx.out.line(&json, || {
        let mut notes = Vec::new();
        if let Some(m) = unconsumed {
            notes.push(format!("{m} of types no model consumes"));
        }
        if undeclared > 0 {
            notes.push(format!(
                "{undeclared} of types no event of this binary declares, allowed by --allow-unknown-types"
            ));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        };
        let unchecked = if args.unchecked {
            " without checking that they decode (--unchecked)"
        } else {
            ""
        };
        format!("imported {count} events{notes} from {}{unchecked}", args.file.display())
    })
}

/// Says on stderr what became of the work after the commit when it was not done: the
/// events are in the log either way, and appending them again would double them.
pub(super) fn warn_about_upkeep(appended: &Appended, verb: &str, stop: &StopFlag) {
    let count = appended.count;
    match &appended.upkeep {
        Upkeep::Done if stop.is_set() => eprintln!(
            "warning: interrupted by {} after the commit: the {count} events were {verb} and are in the log",
            import::signal_name(stop.signal())
        ),
        Upkeep::Done => {}
        Upkeep::Skipped => eprintln!(
            "warning: interrupted by {} after the commit: the {count} events were {verb} and are in the log; the maintenance after the commit was skipped",
            import::signal_name(stop.signal())
        ),
        Upkeep::Failed(error) => eprintln!(
            "warning: the {count} events were {verb} and committed, but the work after the commit failed: {error}; the events are in the log (do not append them again)"
        ),
    }
}

/// `done`, `skipped` or `failed`, for `--json`.
pub(super) fn upkeep_name(upkeep: &Upkeep) -> &'static str {
    match upkeep {
        Upkeep::Done => "done",
        Upkeep::Skipped => "skipped",
        Upkeep::Failed(_) => "failed",
    }
}
