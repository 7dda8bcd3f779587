DROP TABLE IF EXISTS readmodels.done_log;
DROP TABLE IF EXISTS readmodels.habit_totals;
