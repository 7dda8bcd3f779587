//! The projects models replayed in memory, with exact expected rows.

use readmodel_runtime::testing::{stored, InMemory};
use readmodel_runtime::StoredEvent;

use super::BoardTask;
use super::ProjectProgress;
use super::*;
use crate::test_support::{at, id};

const USER: Uuid = id(1);
const PROJECT: Uuid = id(10);
const PAINT: Uuid = id(20);
const FIX: Uuid = id(21);
const CLEAN: Uuid = id(22);
const SHOP: Uuid = id(23);

fn task(task_id: Uuid, title: &str) -> TaskCreated {
    TaskCreated {
        task_id,
        project_id: PROJECT,
        title: title.to_owned(),
        column: "backlog".to_owned(),
    }
}

/// A project with four tasks: one moved, two completed (one of them then archived), one
/// deleted before it was done.
fn log() -> Vec<StoredEvent> {
    let p = PROJECT;
    vec![
        stored(
            1,
            USER,
            p,
            1,
            at(3, 1, 9),
            &ProjectCreated {
                project_id: p,
                name: "House".to_owned(),
            },
        ),
        stored(2, USER, PAINT, 1, at(3, 1, 10), &task(PAINT, "Paint")),
        stored(3, USER, FIX, 1, at(3, 1, 11), &task(FIX, "Fix door")),
        stored(4, USER, CLEAN, 1, at(3, 1, 12), &task(CLEAN, "Clean")),
        stored(5, USER, SHOP, 1, at(3, 1, 13), &task(SHOP, "Shop")),
        stored(
            6,
            USER,
            PAINT,
            2,
            at(3, 2, 9),
            &TaskMoved {
                task_id: PAINT,
                project_id: p,
                column: "doing".to_owned(),
            },
        ),
        stored(
            7,
            USER,
            FIX,
            2,
            at(3, 2, 10),
            &TaskCompleted {
                task_id: FIX,
                project_id: p,
            },
        ),
        stored(
            8,
            USER,
            CLEAN,
            2,
            at(3, 2, 11),
            &TaskCompleted {
                task_id: CLEAN,
                project_id: p,
            },
        ),
        stored(
            9,
            USER,
            CLEAN,
            3,
            at(3, 3, 9),
            &TaskArchived {
                task_id: CLEAN,
                project_id: p,
            },
        ),
        stored(
            10,
            USER,
            SHOP,
            2,
            at(3, 3, 10),
            &TaskDeleted {
                task_id: SHOP,
                project_id: p,
                was_done: false,
            },
        ),
    ]
}

#[test]
fn board_keeps_live_tasks_in_their_columns() {
    let mut model = InMemory::<BoardTask>::new();
    model.apply_all(&log()).expect("applies");
    assert_eq!(
        model.rows(),
        vec![
            BoardTask {
                model_version: 1,
                task_id: PAINT,
                user_id: USER,
                project_id: PROJECT,
                title: "Paint".to_owned(),
                board_column: "doing".to_owned(),
                done: false,
                completed_at: None,
                updated_at: at(3, 2, 9),
            },
            BoardTask {
                model_version: 1,
                task_id: FIX,
                user_id: USER,
                project_id: PROJECT,
                title: "Fix door".to_owned(),
                board_column: COLUMN_DONE.to_owned(),
                done: true,
                completed_at: Some(at(3, 2, 10)),
                updated_at: at(3, 2, 10),
            },
        ]
    );
}

#[test]
fn progress_counts_open_and_done_tasks() {
    let mut model = InMemory::<ProjectProgress>::new();
    model.apply_all(&log()).expect("applies");
    assert_eq!(
        model.rows(),
        vec![ProjectProgress {
            model_version: 1,
            user_id: USER,
            project_id: PROJECT,
            name: "House".to_owned(),
            open_tasks: 1,
            done_tasks: 2,
            updated_at: at(3, 3, 10),
        }]
    );
    let done_deleted = stored(
        11,
        USER,
        FIX,
        3,
        at(3, 4, 9),
        &TaskDeleted {
            task_id: FIX,
            project_id: PROJECT,
            was_done: true,
        },
    );
    model.apply(&done_deleted).expect("applies");
    assert_eq!(
        (model.rows()[0].open_tasks, model.rows()[0].done_tasks),
        (1, 1)
    );
}
