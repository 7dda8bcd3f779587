-- The schema `readmodels` belongs to the runtime: only the tables go.
DROP TABLE IF EXISTS readmodels.habit_streaks;
DROP TABLE IF EXISTS readmodels.habit_monthly_completions;
DROP TABLE IF EXISTS readmodels.habit_checkins;
