-- What provisioning (SCIM) needs of users and groups: the client's external
-- ID, a version that moves on with every change (the ETag), the time of the
-- last change, and for users the attributes the directory has no column for
-- (profile, a JSON document owned by package scim).

ALTER TABLE users ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN profile TEXT;
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN updated_at TEXT;
UPDATE users SET updated_at = created_at;
CREATE INDEX users_external_id ON users (external_id) WHERE external_id <> '';

ALTER TABLE groups ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE groups ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE groups ADD COLUMN updated_at TEXT;
UPDATE groups SET updated_at = created_at;
