//! # Projects
//!
//! Projects and the tasks on their boards. A project and each task are event streams of
//! these [`events`]:
//!
//! | event type | payload |
//! |---|---|
//! | `projects.project_created` | [`ProjectCreated`] |
//! | `projects.task_created` | [`TaskCreated`] |
//! | `projects.task_moved` | [`TaskMoved`] |
//! | `projects.task_completed` | [`TaskCompleted`] |
//! | `projects.task_deleted` | [`TaskDeleted`] |
//! | `projects.task_archived` | [`TaskArchived`] |
//!
//! Two read models:
//!
//! * [`BoardTask`] — snapshot `projects.task_board` (`readmodels.projects_task_board`):
//!   one row per task on a board; deleting or archiving a task deletes its row.
//! * [`ProjectProgress`] — aggregate `projects.progress` (`readmodels.projects_progress`): open
//!   and done tasks per project.

use chrono::{DateTime, Utc};
use readmodel_runtime::{handlers, Event, ReadModel, Rows};
use uuid::Uuid;

pub mod events;

pub use events::{
    ProjectCreated, TaskArchived, TaskCompleted, TaskCreated, TaskDeleted, TaskMoved,
};

/// The board column of a completed task.
pub const COLUMN_DONE: &str = "done";

/// Snapshot: the tasks on the boards.
///
/// An event about a task without a row (a range replay starting after its creation)
/// creates the row with an empty title, in the column the event implies.
///
/// One task on a board.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "projects.task_board",
    domain = "projects",
    version = 1,
    kind = "snapshot",
    events = [TaskCreated, TaskMoved, TaskCompleted, TaskDeleted, TaskArchived],
    key = (model_version, task_id),
    table = readmodels::projects_task_board,
)]
pub struct BoardTask {
    /// Model version.
    pub model_version: i32,
    /// The task.
    pub task_id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Its project.
    pub project_id: Uuid,
    /// What to do.
    pub title: String,
    /// The board column (`column` is reserved in SQL).
    pub board_column: String,
    /// Whether it is completed.
    pub done: bool,
    /// When it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// `occurred_at` of the last event applied to the row.
    pub updated_at: DateTime<Utc>,
}

#[handlers]
impl BoardTask {
    /// Puts the task on the board (keeping what earlier events of a partial replay set).
    fn created(event: &Event<TaskCreated>, rows: &mut Rows<'_, BoardTask>) {
        rows.modify(
            event.task_id,
            || {
                new_task(
                    event.task_id,
                    event.user_id,
                    event.project_id,
                    &event.column,
                    event.occurred_at,
                )
            },
            |row| {
                row.title.clone_from(&event.title);
                row.updated_at = event.occurred_at;
            },
        );
    }

    /// Moves the task to its new column.
    fn moved(event: &Event<TaskMoved>, rows: &mut Rows<'_, BoardTask>) {
        rows.modify(
            event.task_id,
            || {
                new_task(
                    event.task_id,
                    event.user_id,
                    event.project_id,
                    &event.column,
                    event.occurred_at,
                )
            },
            |row| {
                row.board_column.clone_from(&event.column);
                row.updated_at = event.occurred_at;
            },
        );
    }

    /// Marks the task done, in the done column.
    fn completed(event: &Event<TaskCompleted>, rows: &mut Rows<'_, BoardTask>) {
        rows.modify(
            event.task_id,
            || {
                new_task(
                    event.task_id,
                    event.user_id,
                    event.project_id,
                    COLUMN_DONE,
                    event.occurred_at,
                )
            },
            |row| {
                row.board_column = COLUMN_DONE.to_owned();
                row.done = true;
                row.completed_at = Some(event.occurred_at);
                row.updated_at = event.occurred_at;
            },
        );
    }

    /// A deleted task leaves the board.
    fn deleted(event: &Event<TaskDeleted>, rows: &mut Rows<'_, BoardTask>) {
        rows.delete(&event.task_id);
    }

    /// An archived task leaves the board.
    fn archived(event: &Event<TaskArchived>, rows: &mut Rows<'_, BoardTask>) {
        rows.delete(&event.task_id);
    }
}

/// A task row nothing has been applied to yet.
fn new_task(
    task_id: Uuid,
    user_id: Uuid,
    project_id: Uuid,
    column: &str,
    at: DateTime<Utc>,
) -> BoardTask {
    BoardTask {
        model_version: BoardTask::MODEL_VERSION,
        task_id,
        user_id,
        project_id,
        title: String::new(),
        board_column: column.to_owned(),
        done: false,
        completed_at: None,
        updated_at: at,
    }
}

/// Aggregate: how far each project is.
///
/// One project's counts.
#[derive(Clone, Debug, PartialEq, ReadModel)]
#[read_model(
    name = "projects.progress",
    domain = "projects",
    version = 1,
    kind = "aggregate",
    events = [ProjectCreated, TaskCreated, TaskCompleted, TaskDeleted],
    key = (model_version, user_id, project_id),
    table = readmodels::projects_progress,
)]
pub struct ProjectProgress {
    /// Model version.
    pub model_version: i32,
    /// Owner.
    pub user_id: Uuid,
    /// The project.
    pub project_id: Uuid,
    /// Its name; empty until `projects.project_created` is seen.
    pub name: String,
    /// Tasks created and neither completed nor deleted.
    pub open_tasks: i64,
    /// Tasks completed and not deleted (archived ones still count).
    pub done_tasks: i64,
    /// `occurred_at` of the last event applied to the row.
    pub updated_at: DateTime<Utc>,
}

#[handlers]
impl ProjectProgress {
    /// Names the project.
    fn project_created(event: &Event<ProjectCreated>, rows: &mut Rows<'_, ProjectProgress>) {
        tally(
            rows,
            event.user_id,
            event.project_id,
            event.occurred_at,
            |row| {
                row.name.clone_from(&event.name);
            },
        );
    }

    /// One more open task.
    fn task_created(event: &Event<TaskCreated>, rows: &mut Rows<'_, ProjectProgress>) {
        tally(
            rows,
            event.user_id,
            event.project_id,
            event.occurred_at,
            |row| {
                row.open_tasks += 1;
            },
        );
    }

    /// An open task is done.
    fn task_completed(event: &Event<TaskCompleted>, rows: &mut Rows<'_, ProjectProgress>) {
        tally(
            rows,
            event.user_id,
            event.project_id,
            event.occurred_at,
            |row| {
                row.open_tasks -= 1;
                row.done_tasks += 1;
            },
        );
    }

    /// A task no longer counts.
    fn task_deleted(event: &Event<TaskDeleted>, rows: &mut Rows<'_, ProjectProgress>) {
        tally(
            rows,
            event.user_id,
            event.project_id,
            event.occurred_at,
            |row| {
                if event.was_done {
                    row.done_tasks -= 1;
                } else {
                    row.open_tasks -= 1;
                }
            },
        );
    }
}

/// Changes one project's counts, starting from zero.
fn tally(
    rows: &mut Rows<'_, ProjectProgress>,
    user_id: Uuid,
    project_id: Uuid,
    at: DateTime<Utc>,
    change: impl FnOnce(&mut ProjectProgress),
) {
    rows.modify(
        (user_id, project_id),
        || ProjectProgress {
            model_version: ProjectProgress::MODEL_VERSION,
            user_id,
            project_id,
            name: String::new(),
            open_tasks: 0,
            done_tasks: 0,
            updated_at: at,
        },
        |row| {
            change(row);
            row.updated_at = at;
        },
    );
}

#[cfg(test)]
mod tests;
