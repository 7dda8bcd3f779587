//! Projects: one agent per user, one turn a day, with up to 2 projects and up to 16 tasks
//! each on their boards (one stream per project and per task).
//!
//! Per turn: creating a project when there is none (and 1 % of the time while there is
//! only one); otherwise, for a random project: 25 % a new task in `backlog`, 15 % moving an
//! open task to `todo`, `doing` or `review`, 15 % completing an open task, 5 % archiving a
//! done task, 3 % deleting any task, else nothing (and nothing when the chosen action has
//! no task to act on).

use readmodel_runtime::NewEvent;
use uuid::Uuid;

use super::{Stream, Turn};
use crate::projects::{
    ProjectCreated, TaskArchived, TaskCompleted, TaskCreated, TaskDeleted, TaskMoved,
};

const PROJECT_NAMES: &[&str] = &["House", "Garden", "Side project", "Trip", "Thesis", "Move"];
const TASK_TITLES: &[&str] = &[
    "Plan",
    "Buy materials",
    "Call the contractor",
    "Write draft",
    "Review",
    "Book tickets",
    "Clean up",
];
const COLUMNS: &[&str] = &["todo", "doing", "review"];
const MAX_PROJECTS: usize = 2;
const MAX_TASKS: usize = 16;

#[derive(Debug, Clone)]
struct Task {
    stream: Stream,
    done: bool,
}

#[derive(Debug, Clone)]
struct Project {
    id: Uuid,
    tasks: Vec<Task>,
}

/// One user's projects.
#[derive(Debug, Clone)]
pub(super) struct Projects {
    pub(super) user_id: Uuid,
    projects: Vec<Project>,
}

impl Projects {
    pub(super) fn new(user_id: Uuid) -> Self {
        Self {
            user_id,
            projects: Vec::new(),
        }
    }

    pub(super) fn turn(&mut self, turn: &mut Turn) -> Option<NewEvent> {
        if self.projects.is_empty() || (self.projects.len() < MAX_PROJECTS && turn.rng.chance(10)) {
            let mut stream = Stream::new(turn.mint());
            let payload = ProjectCreated {
                project_id: stream.id,
                name: (*turn.rng.pick(PROJECT_NAMES)).to_owned(),
            };
            self.projects.push(Project {
                id: stream.id,
                tasks: Vec::new(),
            });
            return Some(stream.emit(turn, &payload));
        }
        let index = turn.rng.index(self.projects.len());
        let project = &mut self.projects[index];
        let project_id = project.id;
        let roll = turn.rng.below(1000);
        let pick = |turn: &mut Turn, tasks: &[Task], done: Option<bool>| -> Option<usize> {
            let candidates: Vec<usize> = (0..tasks.len())
                .filter(|&i| done.is_none_or(|d| tasks[i].done == d))
                .collect();
            (!candidates.is_empty()).then(|| candidates[turn.rng.index(candidates.len())])
        };
        if roll < 250 {
            if project.tasks.len() >= MAX_TASKS {
                return None;
            }
            let mut stream = Stream::new(turn.mint());
            let payload = TaskCreated {
                task_id: stream.id,
                project_id,
                title: (*turn.rng.pick(TASK_TITLES)).to_owned(),
                column: "backlog".to_owned(),
            };
            let event = stream.emit(turn, &payload);
            project.tasks.push(Task {
                stream,
                done: false,
            });
            return Some(event);
        }
        if roll < 400 {
            let i = pick(turn, &project.tasks, Some(false))?;
            let task = &mut project.tasks[i];
            let payload = TaskMoved {
                task_id: task.stream.id,
                project_id,
                column: (*turn.rng.pick(COLUMNS)).to_owned(),
            };
            return Some(task.stream.emit(turn, &payload));
        }
        if roll < 550 {
            let i = pick(turn, &project.tasks, Some(false))?;
            let task = &mut project.tasks[i];
            task.done = true;
            let task_id = task.stream.id;
            return Some(task.stream.emit(
                turn,
                &TaskCompleted {
                    task_id,
                    project_id,
                },
            ));
        }
        if roll < 600 {
            let i = pick(turn, &project.tasks, Some(true))?;
            let mut task = project.tasks.swap_remove(i);
            let task_id = task.stream.id;
            return Some(task.stream.emit(
                turn,
                &TaskArchived {
                    task_id,
                    project_id,
                },
            ));
        }
        if roll < 630 {
            let i = pick(turn, &project.tasks, None)?;
            let mut task = project.tasks.swap_remove(i);
            let payload = TaskDeleted {
                task_id: task.stream.id,
                project_id,
                was_done: task.done,
            };
            return Some(task.stream.emit(turn, &payload));
        }
        None
    }
}
