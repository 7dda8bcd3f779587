-- The schema `readmodels` belongs to the runtime's migrations: only the tables go.
DROP TABLE IF EXISTS readmodels.relationships_last_contact;
DROP TABLE IF EXISTS readmodels.relationships_interactions;
