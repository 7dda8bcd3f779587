DROP TABLE IF EXISTS readmodels.projects_task_board;
DROP TABLE IF EXISTS readmodels.projects_progress;
