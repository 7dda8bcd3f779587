ALTER TABLE event_record DROP COLUMN IF EXISTS user_hash;
