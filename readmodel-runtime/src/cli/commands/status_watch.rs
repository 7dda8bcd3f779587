//! `replay status --watch [SECONDS]`: `status`'s models as a table redrawn every SECONDS
//! (ANSI clear and redraw) until Ctrl-C, with each model's rate between two frames and
//! who holds its partitions; `--once` prints one frame, without clearing, and exits.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::status::model_status;
use crate::cli::context::Context;
use crate::cli::output::ModelStatus;
use crate::cli::table::{Align::Left, Align::Right, Table};
use crate::cli::CliError;
use crate::stop::StopFlag;

/// Redraws until Ctrl-C (or after one frame, `once`), every `every` seconds.
pub(super) fn run(
    cx: &Context<'_>,
    model: Option<&str>,
    every: f64,
    once: bool,
) -> Result<(), CliError> {
    let stop = StopFlag::on_signals().map_err(CliError::Signals)?;
    let mut store = cx.read_store()?;
    let models = cx.models(model)?;
    let mut before: Option<(Instant, BTreeMap<&'static str, i64>)> = None;
    loop {
        let head = store.log_head()?;
        let statuses = models
            .iter()
            .map(|&model| model_status(&mut store, model, head))
            .collect::<Result<Vec<_>, _>>()?;
        let now = Instant::now();
        let rates = rates(&statuses, before.as_ref(), now);
        if !once {
            // Clear the screen and go home: the next frame replaces this one (a closed
            // stdout is noticed by the frame's own lines).
            use std::io::Write;
            let _ = write!(std::io::stdout(), "\x1b[H\x1b[2J");
        }
        say!(
            "replay status --watch: log head {head}, {} UTC{}",
            chrono::Utc::now().format("%H:%M:%S"),
            if once {
                String::new()
            } else {
                format!(", every {every}s (Ctrl-C to stop)")
            }
        );
        frame(&statuses, &rates).print();
        if once {
            return Ok(());
        }
        before = Some((now, checkpoints(&statuses)));
        let until = now + Duration::from_secs_f64(every);
        while Instant::now() < until {
            if stop.is_set() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
        }
    }
}

fn checkpoints(statuses: &[ModelStatus]) -> BTreeMap<&'static str, i64> {
    statuses
        .iter()
        .map(|s| (s.model, s.checkpoint.unwrap_or(0)))
        .collect()
}

/// Event ids applied per second since the previous frame, per model.
fn rates(
    statuses: &[ModelStatus],
    before: Option<&(Instant, BTreeMap<&'static str, i64>)>,
    now: Instant,
) -> Vec<Option<f64>> {
    statuses
        .iter()
        .map(|s| {
            let (at, then) = before?;
            let seconds = now.duration_since(*at).as_secs_f64().max(1e-9);
            let moved = s.checkpoint.unwrap_or(0) - then.get(s.model)?;
            Some(moved as f64 / seconds)
        })
        .collect()
}

fn frame(statuses: &[ModelStatus], rates: &[Option<f64>]) -> Table {
    let mut table = Table::new(&[
        ("MODEL", Left),
        ("V", Right),
        ("ACTIVE", Right),
        ("CHECKPOINT", Right),
        ("LAG", Right),
        ("EVENTS/S", Right),
        ("PARTITIONS", Right),
        ("OWNERS", Left),
    ]);
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
    for (s, rate) in statuses.iter().zip(rates) {
        table.row(vec![
            s.model.to_owned(),
            s.version.to_string(),
            or_dash(s.active_version.map(|v| v.to_string())),
            or_dash(s.checkpoint.map(|c| c.to_string())),
            s.lag.to_string(),
            or_dash(rate.map(|r| format!("{r:.0}"))),
            or_dash((!s.partitions.is_empty()).then(|| s.partitions.len().to_string())),
            owners(s),
        ]);
    }
    table
}

/// Who holds the model's partitions: `owner×count`, by owner; `-` when none is held.
fn owners(status: &ModelStatus) -> String {
    let mut held: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &status.partitions {
        if let Some(owner) = &p.owner {
            *held.entry(owner).or_default() += 1;
        }
    }
    if held.is_empty() {
        return "-".to_owned();
    }
    let owners: Vec<String> = held.iter().map(|(o, n)| format!("{o}×{n}")).collect();
    owners.join(", ")
}

/// `--watch`'s seconds: 0.1 or more.
pub(super) fn refresh_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.1 => Ok(value),
        _ => Err(format!(
            "{text:?} is not a refresh interval in seconds (0.1 or more)"
        )),
    }
}
