-- As store/sqlite's 0005_event_index.sql: reports filter the audit trail by
-- type, actor or subject inside a time window, newest first, so each filter
-- column's index carries the time after it and replaces the index on the
-- column alone. The unfiltered report, ordered by time then ID, walks an
-- index on both, in place of the one on time alone.
DROP INDEX events_type;
DROP INDEX events_actor;
DROP INDEX events_subject;
DROP INDEX events_occurred_at;
CREATE INDEX events_type_time ON events (type, occurred_at);
CREATE INDEX events_actor_time ON events (lower(actor), occurred_at);
CREATE INDEX events_subject_time ON events (lower(subject), occurred_at);
CREATE INDEX events_occurred_at ON events (occurred_at, id);
