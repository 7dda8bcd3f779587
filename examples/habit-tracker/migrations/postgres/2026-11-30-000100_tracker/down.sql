-- The schema `readmodels` belongs to the runtime: only the tables go.
DROP TABLE IF EXISTS readmodels.habit_totals;
DROP TABLE IF EXISTS readmodels.done_log;
