-- What provisioning (SCIM) needs of users and groups, as store/sqlite's
-- 0003_provisioning.sql: external ID, version (the ETag), time of the last
-- change, and the users' profile document owned by package scim.

ALTER TABLE users ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN profile TEXT;
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN updated_at TIMESTAMPTZ;
UPDATE users SET updated_at = created_at;
CREATE INDEX users_external_id ON users (external_id) WHERE external_id <> '';

ALTER TABLE groups ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE groups ADD COLUMN updated_at TIMESTAMPTZ;
UPDATE groups SET updated_at = created_at;
