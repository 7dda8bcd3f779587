//! The events of the projects domain: the payloads stored in `event_record.payload`.
//!
//! A project is one stream (`stream_id` = `project_id`) and so is each of its tasks
//! (`stream_id` = `task_id`). Task payloads name their project, and a deletion says
//! whether the task was done, so per-project aggregates need no other state.

use readmodel_runtime::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `projects.project_created`: the user started a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "projects.project_created")]
pub struct ProjectCreated {
    /// The project (also the stream id).
    pub project_id: Uuid,
    /// Its name.
    pub name: String,
}

/// `projects.task_created`: a task was added to a project's board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "projects.task_created")]
pub struct TaskCreated {
    /// The task (also the stream id).
    pub task_id: Uuid,
    /// Its project.
    pub project_id: Uuid,
    /// What to do.
    pub title: String,
    /// The board column it starts in, e.g. `backlog`.
    pub column: String,
}

/// `projects.task_moved`: the task moved to another column of the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "projects.task_moved")]
pub struct TaskMoved {
    /// The task.
    pub task_id: Uuid,
    /// Its project.
    pub project_id: Uuid,
    /// The column it is now in.
    pub column: String,
}

/// `projects.task_completed`: the task is done (it moves to the `done` column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "projects.task_completed")]
pub struct TaskCompleted {
    /// The task.
    pub task_id: Uuid,
    /// Its project.
    pub project_id: Uuid,
}

/// `projects.task_deleted`: the task was removed, done or not. No event of its stream
/// follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "projects.task_deleted")]
pub struct TaskDeleted {
    /// The task.
    pub task_id: Uuid,
    /// Its project.
    pub project_id: Uuid,
    /// Whether it had been completed.
    pub was_done: bool,
}

/// `projects.task_archived`: a done task left the board; it still counts as done. No
/// event of its stream follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DomainEvent)]
#[event(type = "projects.task_archived")]
pub struct TaskArchived {
    /// The task.
    pub task_id: Uuid,
    /// Its project.
    pub project_id: Uuid,
}
