//! # Insights
//!
//! Cross-domain read models: they consume events of the other domains and own no events
//! of their own. Consumed:
//!
//! | event type | from |
//! |---|---|
//! | `habits.checked_in` | [`HabitCheckedIn`] |
//! | `finance.expense_recorded` | [`ExpenseRecorded`] |
//! | `journal.entry_written` | [`EntryWritten`] |
//! | `health.steps_recorded` | [`StepsRecorded`] |
//! | `relationships.interaction_logged` | [`InteractionLogged`] |
//! | `projects.task_completed` | [`TaskCompleted`] |
//!
//! Two read models:
//!
//! * [`DailySummary`] — aggregate `insights.daily_summary`
//!   (`readmodels.insights_daily_summary`): one row per user and day summing up the day
//!   across domains.
//! * [`Engagement`] — snapshot `insights.engagement` (`readmodels.insights_engagement`):
//!   one row per user: first and last active day, active days, events.
//!
//! The day of an event is the day its payload names when it has one (check-ins, journal
//! entries, steps), else the UTC date of its `occurred_at`.

use chrono::{DateTime, NaiveDate, Utc};
use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use uuid::Uuid;

pub use crate::finance::ExpenseRecorded;
pub use crate::habits::HabitCheckedIn;
pub use crate::health::StepsRecorded;
pub use crate::journal::EntryWritten;
pub use crate::projects::TaskCompleted;
pub use crate::relationships::InteractionLogged;

/// Aggregate: one user's day across domains.
///
/// One user's day.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "insights.daily_summary",
    domain = "insights",
    version = 1,
    kind = "aggregate",
    events = [HabitCheckedIn, ExpenseRecorded, EntryWritten, StepsRecorded, InteractionLogged, TaskCompleted],
    key = (model_version, user_id, day),
    table = readmodels::insights_daily_summary,
)]
pub struct DailySummary {
    /// Model version.
    pub model_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// The day.
    pub day: NaiveDate,
    /// Habit check-ins for the day.
    pub habit_check_ins: i64,
    /// Money spent, in cents.
    pub spent_cents: i64,
    /// Words written in journal entries about the day.
    pub journal_words: i64,
    /// The day's latest step count (0 until synced).
    pub steps: i64,
    /// Interactions with people.
    pub interactions: i64,
    /// Tasks completed.
    pub tasks_completed: i64,
}

#[handlers]
impl DailySummary {
    /// Counts a check-in on its day.
    fn check_in(event: &Event<HabitCheckedIn>, rows: &mut Rows<'_, DailySummary>) {
        summarize(rows, event.user_id, event.day, |row| {
            row.habit_check_ins += 1
        });
    }

    /// Adds an expense.
    fn expense(event: &Event<ExpenseRecorded>, rows: &mut Rows<'_, DailySummary>) {
        let day = event.occurred_at.date_naive();
        summarize(rows, event.user_id, day, |row| {
            row.spent_cents += event.amount_cents;
        });
    }

    /// Adds a journal entry's words.
    fn entry(event: &Event<EntryWritten>, rows: &mut Rows<'_, DailySummary>) {
        summarize(rows, event.user_id, event.day, |row| {
            row.journal_words += i64::from(event.word_count);
        });
    }

    /// Replaces the day's steps (each sync reports the day's total so far).
    fn steps(event: &Event<StepsRecorded>, rows: &mut Rows<'_, DailySummary>) {
        summarize(rows, event.user_id, event.day, |row| {
            row.steps = event.steps
        });
    }

    /// Counts an interaction.
    fn interaction(event: &Event<InteractionLogged>, rows: &mut Rows<'_, DailySummary>) {
        let day = event.occurred_at.date_naive();
        summarize(rows, event.user_id, day, |row| row.interactions += 1);
    }

    /// Counts a completed task.
    fn task(event: &Event<TaskCompleted>, rows: &mut Rows<'_, DailySummary>) {
        let day = event.occurred_at.date_naive();
        summarize(rows, event.user_id, day, |row| row.tasks_completed += 1);
    }
}

/// Changes one user's day, starting from an empty day.
fn summarize(
    rows: &mut Rows<'_, DailySummary>,
    user_id: Uuid,
    day: NaiveDate,
    change: impl FnOnce(&mut DailySummary),
) {
    rows.modify(
        (user_id, day),
        || DailySummary {
            model_version: DailySummary::MODEL_VERSION,
            user_id,
            day,
            habit_check_ins: 0,
            spent_cents: 0,
            journal_words: 0,
            steps: 0,
            interactions: 0,
            tasks_completed: 0,
        },
        change,
    );
}

/// Snapshot: how engaged each user is, across domains.
///
/// A day counts as active when an event of it is seen after the last active day; events
/// are in time order in the log, so this counts distinct days exactly as long as
/// `occurred_at` never goes back (an event of an earlier day is counted as an event, not
/// as a new active day).
///
/// One user's engagement.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "insights.engagement",
    domain = "insights",
    version = 1,
    kind = "snapshot",
    events = [HabitCheckedIn, ExpenseRecorded, EntryWritten, StepsRecorded, InteractionLogged, TaskCompleted],
    key = (model_version, user_id),
    table = readmodels::insights_engagement,
)]
pub struct Engagement {
    /// Model version.
    pub model_version: i32,
    /// The user.
    pub user_id: Uuid,
    /// The UTC date of the first event seen.
    pub first_active_day: NaiveDate,
    /// The UTC date of the latest event seen.
    pub last_active_day: NaiveDate,
    /// Days with at least one event.
    pub active_days: i64,
    /// Events seen.
    pub events: i64,
    /// The domain of the latest event, e.g. `habits`.
    pub last_domain: String,
    /// `occurred_at` of the latest event.
    pub updated_at: DateTime<Utc>,
}

#[handlers]
impl Engagement {
    /// A habit check-in.
    fn check_in(event: &Event<HabitCheckedIn>, rows: &mut Rows<'_, Engagement>) {
        engage(rows, event.user_id, event.occurred_at, "habits");
    }

    /// An expense.
    fn expense(event: &Event<ExpenseRecorded>, rows: &mut Rows<'_, Engagement>) {
        engage(rows, event.user_id, event.occurred_at, "finance");
    }

    /// A journal entry.
    fn entry(event: &Event<EntryWritten>, rows: &mut Rows<'_, Engagement>) {
        engage(rows, event.user_id, event.occurred_at, "journal");
    }

    /// A step count sync.
    fn steps(event: &Event<StepsRecorded>, rows: &mut Rows<'_, Engagement>) {
        engage(rows, event.user_id, event.occurred_at, "health");
    }

    /// An interaction.
    fn interaction(event: &Event<InteractionLogged>, rows: &mut Rows<'_, Engagement>) {
        engage(rows, event.user_id, event.occurred_at, "relationships");
    }

    /// A completed task.
    fn task(event: &Event<TaskCompleted>, rows: &mut Rows<'_, Engagement>) {
        engage(rows, event.user_id, event.occurred_at, "projects");
    }
}

/// Counts one event of `domain` at `at` for the user.
fn engage(rows: &mut Rows<'_, Engagement>, user_id: Uuid, at: DateTime<Utc>, domain: &str) {
    let day = at.date_naive();
    rows.modify(
        user_id,
        || Engagement {
            model_version: Engagement::MODEL_VERSION,
            user_id,
            first_active_day: day,
            last_active_day: day,
            active_days: 1,
            events: 0,
            last_domain: String::new(),
            updated_at: at,
        },
        |row| {
            if day > row.last_active_day {
                row.active_days += 1;
                row.last_active_day = day;
            }
            row.events += 1;
            domain.clone_into(&mut row.last_domain);
            row.updated_at = at;
        },
    );
}

#[cfg(test)]
mod tests;
