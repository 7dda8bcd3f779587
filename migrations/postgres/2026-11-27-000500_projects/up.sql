-- Read models of the projects domain (projections::projects). Runtime tables come from
-- readmodel-runtime's own migrations. No foreign keys: every table may be truncated.
CREATE SCHEMA IF NOT EXISTS readmodels;

-- projects.progress (aggregate), key (model_version, user_id, project_id).
CREATE TABLE readmodels.projects_progress (
    model_version INTEGER     NOT NULL,
    user_id       UUID        NOT NULL,
    project_id    UUID        NOT NULL,
    name          TEXT        NOT NULL,
    open_tasks    BIGINT      NOT NULL,
    done_tasks    BIGINT      NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX projects_progress_key
    ON readmodels.projects_progress (model_version, user_id, project_id);

-- projects.task_board (snapshot), key (model_version, task_id).
CREATE TABLE readmodels.projects_task_board (
    model_version INTEGER     NOT NULL,
    task_id       UUID        NOT NULL,
    user_id       UUID        NOT NULL,
    project_id    UUID        NOT NULL,
    title         TEXT        NOT NULL,
    board_column  TEXT        NOT NULL,
    done          BOOLEAN     NOT NULL,
    completed_at  TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX projects_task_board_key
    ON readmodels.projects_task_board (model_version, task_id);
CREATE INDEX projects_task_board_user
    ON readmodels.projects_task_board (user_id, model_version);
