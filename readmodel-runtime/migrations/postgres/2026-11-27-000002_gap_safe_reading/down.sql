ALTER TABLE event_record ALTER COLUMN id SET DEFAULT nextval(pg_get_serial_sequence('event_record', 'id')::regclass);
DROP FUNCTION readmodels.next_event_id();
