-- The schema `readmodels` belongs to the runtime: only the tables go.
DROP TABLE IF EXISTS readmodels.projects_task_board;
DROP TABLE IF EXISTS readmodels.projects_progress;
