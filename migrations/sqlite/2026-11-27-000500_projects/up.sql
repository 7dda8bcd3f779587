-- Read models of the projects domain (projections::projects), in the database ATTACHed as
-- `readmodels`. Uuids, dates and timestamps are TEXT, booleans and integers INTEGER.
-- No foreign keys: every table may be emptied.

-- projects.progress (aggregate), key (model_version, user_id, project_id).
CREATE TABLE readmodels.projects_progress (
    model_version INTEGER NOT NULL,
    user_id       TEXT    NOT NULL,
    project_id    TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    open_tasks    INTEGER NOT NULL,
    done_tasks    INTEGER NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.projects_progress_key
    ON projects_progress (model_version, user_id, project_id);

-- projects.task_board (snapshot), key (model_version, task_id).
CREATE TABLE readmodels.projects_task_board (
    model_version INTEGER NOT NULL,
    task_id       TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    project_id    TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    board_column  TEXT    NOT NULL,
    done          INTEGER NOT NULL,
    completed_at  TEXT,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX readmodels.projects_task_board_key
    ON projects_task_board (model_version, task_id);
CREATE INDEX readmodels.projects_task_board_user
    ON projects_task_board (user_id, model_version);
