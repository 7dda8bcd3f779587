DROP TABLE IF EXISTS readmodels.relationships_last_contact;
DROP TABLE IF EXISTS readmodels.relationships_interactions;
