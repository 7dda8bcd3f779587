//! What a `replay run` may do for each kind of model, decided before anything is written.
//!
//! | kind | full (`--full`) | by user (`--user U`) | by range (`--from X --to Y`) |
//! |---|---|---|---|
//! | timeline | delete the version's rows, replay `--from` (default: start) … `--to` | delete U's rows, replay U's events up to the model's checkpoint | delete the rows of events X…Y (of U with `--user`), re-project exactly those events |
//! | snapshot | delete, replay start … `--to` | delete U's rows, replay U's events up to the checkpoint | refused: a row folds every earlier event |
//! | aggregate | as snapshot | as snapshot | refused, as snapshot |
//!
//! With none of these, `run` catches up from the checkpoint to `--to` (default: the log's
//! head when the run starts). By-user and by-range runs need `rebuild = "partial"`; a
//! by-range run of a timeline needs `event_id` in the key, so rows map to events.

use uuid::Uuid;

use super::error::ReplayError;
use crate::contract::{Contract, Kind, RebuildStrategy};
use crate::ledger::Scope;
use crate::store::rows::RowSet;

/// What the operator asked for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    /// Delete the rows in scope and rebuild them.
    pub full: bool,
    /// First event id of a range.
    pub from: Option<i64>,
    /// Last event id to apply; the log's head when the run starts if `None`.
    pub to: Option<i64>,
    /// Only this user's events and rows.
    pub user: Option<Uuid>,
    /// Events per batch: per read of the log in a pass, per batch and transaction when
    /// models replay one by one. [`BATCH_SIZE`] by default; the `replay` commands give a
    /// pass [`PASS_BATCH_SIZE`].
    #[serde(skip, default = "default_batch_size")]
    pub batch_size: usize,
    /// Stop (resumably) after this many batches.
    #[serde(skip)]
    pub max_batches: Option<u64>,
    /// What to do with an event that cannot be decoded.
    #[serde(default)]
    pub on_bad_event: BadEventPolicy,
    /// Start a new run, or continue the latest unfinished one.
    #[serde(skip)]
    pub start: Start,
    /// When a pass over many models writes what it holds.
    #[serde(skip)]
    pub flush: Flush,
    /// Apply each event twice to copies of its rows and fail on any difference
    /// (`--check-determinism`; always on in `verify`).
    #[serde(skip)]
    pub check_determinism: bool,
    /// Once the model's version reaches its bound (a follower: the settled head), make it
    /// the version readers use, in that flush's transaction, if the active version is not
    /// further (`follow`/`worker --cutover-when-caught-up`: blue/green deploys).
    #[serde(skip)]
    pub cutover_when_caught_up: bool,
}

/// When a pass writes the rows its handlers changed, with every model's checkpoint, in
/// one transaction: whichever budget is reached first. Between flushes a hot row is
/// changed in memory only, so it is written once per flush, not once per batch read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flush {
    /// Rows held in memory (read or changed, all models together; timeline rows are
    /// written into the open transaction after each read batch and do not count).
    pub rows: usize,
    /// Time since the last flush.
    pub interval: std::time::Duration,
}

impl Default for Flush {
    fn default() -> Self {
        Self {
            rows: 100_000,
            interval: std::time::Duration::from_secs(10),
        }
    }
}

/// Whether a run starts anew or continues an interrupted one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Start {
    /// A new run, as the plan says.
    #[default]
    New,
    /// Continue the model's latest unfinished run from its scope's checkpoint, to the
    /// bound that run fixed, with that run's plan (this plan's batch size, batch limit
    /// and `Park` policy apply).
    Resume,
}

/// What a run does with an event it cannot decode, or whose handler panics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BadEventPolicy {
    /// Stop at it, leaving rows and checkpoint at the last good batch (the default).
    #[default]
    Stop,
    /// Park it in `readmodels.replay_dead_letters` (with the decode error or the panic
    /// message) and go on; a panic's batch is redone without the event.
    Park,
}

fn default_batch_size() -> usize {
    BATCH_SIZE
}

/// Events per batch, and per transaction, when models replay one by one (the default of
/// [`Plan::batch_size`]).
pub const BATCH_SIZE: usize = 10_000;

/// Events per read of the log in a one-pass run: the default of `replay run` when the run
/// is a pass, and of `demo`, `follow` and `worker` (a [`Plan::default`] keeps
/// [`BATCH_SIZE`], also when given to `run_pass`). A pass's transactions follow the flush
/// budget, not the read batch, and each batch is held up to four times (read, two in
/// flight, applied): against 10,000, a 1M-event rebuild of the 19 LifeOS models peaked
/// about 12 MiB lower and took 2–6% longer.
pub const PASS_BATCH_SIZE: usize = 2_500;

impl Default for Plan {
    fn default() -> Self {
        Self {
            full: false,
            from: None,
            to: None,
            user: None,
            batch_size: default_batch_size(),
            max_batches: None,
            on_bad_event: BadEventPolicy::Stop,
            start: Start::New,
            flush: Flush::default(),
            check_determinism: false,
            cutover_when_caught_up: false,
        }
    }
}

/// A plan checked against the model, the log and the checkpoint: exactly what one run
/// executes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Execution {
    /// The checkpoint the run moves.
    pub(crate) scope: Scope,
    /// The rows deleted (with the first checkpoint) before events are applied.
    pub(crate) delete: Option<RowSet>,
    /// Events with ids above this are applied…
    pub(crate) after: i64,
    /// …up to this one.
    pub(crate) to: i64,
    /// Only events (and rows) of this user.
    pub(crate) user: Option<Uuid>,
}

impl Execution {
    /// Whether the run moves the model's own checkpoint (rather than a scope's).
    pub(crate) fn is_whole_model(&self) -> bool {
        self.scope == Scope::All
    }
}

fn refuse(contract: &Contract, reason: String) -> ReplayError {
    ReplayError::InvalidPlan {
        model: contract.name,
        reason,
    }
}

/// Checks `plan` for `contract`; `head` is the log's last id and `checkpoint` the model
/// version's.
pub(crate) fn resolve(
    contract: &Contract,
    plan: &Plan,
    head: i64,
    checkpoint: Option<i64>,
) -> Result<Execution, ReplayError> {
    check_bounds(contract, plan, head)?;
    check_partial(contract, plan)?;
    let to = plan.to.unwrap_or(head);
    if let Some(user) = plan.user {
        return by_user(contract, plan, user, to, checkpoint);
    }
    if plan.full {
        return full(contract, plan, to);
    }
    if let Some(from) = plan.from {
        if contract.kind != Kind::Timeline {
            return Err(refuse(contract, format!(
                "it is a {}: a row folds every earlier event, so events {from}..{to} cannot be replayed alone; valid instead: `replay run --model {name}` (catch up from the checkpoint), `--full` (rebuild everything) or `--user U` (rebuild one user)",
                contract.kind,
                name = contract.name
            )));
        }
        return range(contract, from, to, None);
    }
    let start_after = contract.start_after();
    let after = checkpoint.unwrap_or(start_after).max(start_after);
    Ok(Execution {
        scope: Scope::All,
        delete: None,
        after,
        to: to.max(after),
        user: None,
    })
}

/// `--from` and `--to` within the log, in order.
fn check_bounds(contract: &Contract, plan: &Plan, head: i64) -> Result<(), ReplayError> {
    for (flag, value) in [("--from", plan.from), ("--to", plan.to)] {
        match value {
            Some(id) if id < 0 => return Err(refuse(contract, format!("{flag} {id} is negative"))),
            Some(id) if id > head => {
                return Err(refuse(
                    contract,
                    format!("{flag} {id} is beyond the log's head (event {head})"),
                ))
            }
            _ => {}
        }
    }
    if let (Some(from), Some(to)) = (plan.from, plan.to) {
        if from > to {
            return Err(refuse(
                contract,
                format!("--from {from} is after --to {to}"),
            ));
        }
    }
    Ok(())
}

/// A partial rebuild (by user, or a range without `--full`) only where the model allows.
fn check_partial(contract: &Contract, plan: &Plan) -> Result<(), ReplayError> {
    let name = contract.name;
    let partial = plan.user.is_some() || (plan.from.is_some() && !plan.full);
    if partial && contract.rebuild_strategy == RebuildStrategy::Full {
        return Err(refuse(
            contract,
            format!("it declares rebuild = \"full\": only `replay run --model {name} --full` or a catch-up `replay run --model {name}` are valid"),
        ));
    }
    if plan.user.is_some() && !contract.has_user_column() {
        return Err(refuse(
            contract,
            "its rows have no user_id column, so they cannot be rebuilt by user".to_owned(),
        ));
    }
    Ok(())
}

/// `--user U` (with `--from` on a timeline: that user's events of a range).
fn by_user(
    contract: &Contract,
    plan: &Plan,
    user: Uuid,
    to: i64,
    checkpoint: Option<i64>,
) -> Result<Execution, ReplayError> {
    let name = contract.name;
    if plan.from.is_some() && contract.kind != Kind::Timeline {
        return Err(refuse(contract, format!(
            "it is a {}: a row folds every earlier event, so a range cannot be replayed alone; use `replay run --model {name} --user {user}` to rebuild the user's rows",
            contract.kind
        )));
    }
    if let Some(from) = plan.from {
        return range(contract, from, to, Some(user));
    }
    if plan.to.is_some() {
        return Err(refuse(contract, format!(
            "--to cannot be combined with --user: a user's rows are rebuilt up to the model's checkpoint so they stay consistent with every other user's; use `replay run --model {name} --user {user}`"
        )));
    }
    let Some(checkpoint) = checkpoint else {
        return Err(refuse(contract, format!(
            "it has never been replayed, so there is no checkpoint to rebuild user {user} to; run `replay run --model {name}` first"
        )));
    };
    Ok(Execution {
        scope: Scope::User(user),
        delete: Some(RowSet::User(user)),
        after: contract.start_after(),
        to: checkpoint,
        user: Some(user),
    })
}

/// `--full` (from `--from` on a timeline).
fn full(contract: &Contract, plan: &Plan, to: i64) -> Result<Execution, ReplayError> {
    let start_after = contract.start_after();
    let from = plan.from.unwrap_or(start_after + 1);
    if contract.kind != Kind::Timeline && from > start_after + 1 {
        return Err(refuse(
            contract,
            format!(
            "it is a {}: a full rebuild must start at its replay_start_version ({}); drop --from",
            contract.kind, contract.replay_start_version
        ),
        ));
    }
    Ok(Execution {
        scope: Scope::All,
        delete: Some(RowSet::WholeVersion),
        after: (from - 1).max(start_after),
        to,
        user: None,
    })
}

/// The rows of events `from..=to` (of one user with `user`) of a timeline.
fn range(
    contract: &Contract,
    from: i64,
    to: i64,
    user: Option<Uuid>,
) -> Result<Execution, ReplayError> {
    if !contract.idempotency_key.contains(&"event_id") {
        return Err(refuse(contract, "a range replay deletes the rows of the range's events, which needs `event_id` in the key; use --full".to_owned()));
    }
    let from = from.max(contract.replay_start_version);
    Ok(Execution {
        scope: Scope::Range { from, to, user },
        delete: Some(RowSet::EventRange { from, to, user }),
        after: from - 1,
        to,
        user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Column;

    const USER: Column = Column {
        name: "user_id",
        pg_type: "UUID",
        sqlite_type: "TEXT",
        nullable: false,
        sorts_as_text: false,
    };

    fn contract(kind: Kind, key: &'static [&'static str]) -> Contract {
        Contract {
            name: "t.m",
            domain: "t",
            version: 1,
            kind,
            consumed_events: &["t.e"],
            replay_start_version: 0,
            idempotency_key: key,
            rebuild_strategy: RebuildStrategy::Partial,
            schema: "readmodels",
            table: "m",
            columns: std::slice::from_ref(&USER),
            fingerprint: crate::Fingerprint::of(&[]),
        }
    }

    #[test]
    fn snapshot_ranges_are_refused_with_the_valid_alternatives() {
        let c = contract(Kind::Snapshot, &["model_version", "user_id"]);
        let plan = Plan {
            from: Some(5),
            to: Some(9),
            ..Plan::default()
        };
        let message = resolve(&c, &plan, 10, Some(10))
            .expect_err("refused")
            .to_string();
        assert!(message.contains("cannot be replayed alone"), "{message}");
        assert!(message.contains("--full"), "{message}");
    }

    #[test]
    fn timeline_ranges_delete_exactly_their_events() {
        let c = contract(Kind::Timeline, &["model_version", "event_id"]);
        let plan = Plan {
            from: Some(5),
            to: Some(9),
            ..Plan::default()
        };
        let resolved = resolve(&c, &plan, 10, Some(10)).expect("valid");
        assert_eq!(
            resolved.delete,
            Some(RowSet::EventRange {
                from: 5,
                to: 9,
                user: None
            })
        );
        assert_eq!((resolved.after, resolved.to), (4, 9));
    }

    #[test]
    fn bounds_are_checked() {
        let c = contract(Kind::Timeline, &["model_version", "event_id"]);
        let cases = [
            (Some(-1), None, "negative"),
            (None, Some(11), "beyond the log's head"),
            (Some(8), Some(3), "is after --to"),
        ];
        for (from, to, expected) in cases {
            let plan = Plan {
                from,
                to,
                ..Plan::default()
            };
            let message = resolve(&c, &plan, 10, None)
                .expect_err("refused")
                .to_string();
            assert!(message.contains(expected), "{message}");
        }
    }

    #[test]
    fn full_rebuild_models_refuse_users_and_ranges() {
        let c = Contract {
            rebuild_strategy: RebuildStrategy::Full,
            ..contract(Kind::Timeline, &["model_version", "event_id"])
        };
        let user = Plan {
            user: Some(Uuid::nil()),
            ..Plan::default()
        };
        let range = Plan {
            from: Some(5),
            ..Plan::default()
        };
        for plan in [user, range] {
            let refused = resolve(&c, &plan, 10, Some(10)).expect_err("refused");
            assert!(
                matches!(&refused, ReplayError::InvalidPlan { model: "t.m", .. }),
                "{refused:?}"
            );
            assert_eq!(
                refused.to_string(),
                "cannot replay t.m that way: it declares rebuild = \"full\": only \
                 `replay run --model t.m --full` or a catch-up `replay run --model t.m` are valid"
            );
        }
        let full_range = Plan {
            from: Some(5),
            full: true,
            ..Plan::default()
        };
        assert!(resolve(&c, &full_range, 10, Some(10)).is_ok());
    }

    #[test]
    fn users_are_rebuilt_to_the_checkpoint() {
        let c = contract(Kind::Aggregate, &["model_version", "user_id"]);
        let user = Uuid::nil();
        let plan = Plan {
            user: Some(user),
            ..Plan::default()
        };
        let refused = resolve(&c, &plan, 10, None).expect_err("no checkpoint yet");
        assert!(
            matches!(&refused, ReplayError::InvalidPlan { model: "t.m", .. }),
            "{refused:?}"
        );
        assert_eq!(
            refused.to_string(),
            "cannot replay t.m that way: it has never been replayed, so there is no checkpoint \
             to rebuild user 00000000-0000-0000-0000-000000000000 to; run `replay run --model t.m` first"
        );
        let resolved = resolve(&c, &plan, 10, Some(7)).expect("valid");
        assert_eq!(
            (resolved.delete, resolved.to),
            (Some(RowSet::User(user)), 7)
        );
    }
}
