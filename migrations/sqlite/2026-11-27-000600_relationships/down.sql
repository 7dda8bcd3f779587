-- The schema `readmodels` belongs to the runtime: only the tables go.
DROP TABLE IF EXISTS readmodels.relationships_last_contact;
DROP TABLE IF EXISTS readmodels.relationships_interactions;
