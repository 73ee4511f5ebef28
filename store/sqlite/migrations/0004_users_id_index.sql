-- A narrow index on users(id): an OFFSET page (SCIM, getuserdata) and
-- COUNT(*) walk it instead of the full-width table, whose rows carry the
-- profile and attributes; 100 users at offset 99,900 of 100,000 then read
-- index pages, not 100 MB of table.
CREATE INDEX users_id ON users (id);
