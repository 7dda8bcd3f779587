-- The schema `readmodels` belongs to the runtime: only the tables go.
DROP TABLE IF EXISTS readmodels.calendar_weekly_busy;
DROP TABLE IF EXISTS readmodels.calendar_agenda;
