-- The directory and the audit trail, as store/sqlite's 0001_init.sql in
-- PostgreSQL's types. *_key columns hold the case-folded name that
-- uniqueness and lookups use; COLLATE "C" makes ORDER BY on them the same
-- byte order as SQLite's whatever the database's locale. JSON is TEXT, not
-- JSONB, so that settings come back byte for byte.

CREATE TABLE users (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email TEXT NOT NULL,
	email_key TEXT COLLATE "C" NOT NULL UNIQUE,
	name TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	disabled BOOLEAN NOT NULL DEFAULT FALSE,
	admin BOOLEAN NOT NULL DEFAULT FALSE,
	password_reset_required BOOLEAN NOT NULL DEFAULT FALSE,
	attributes TEXT NOT NULL DEFAULT '{}',
	created_at TIMESTAMPTZ NOT NULL,
	last_login_at TIMESTAMPTZ,
	password_changed_at TIMESTAMPTZ
);

CREATE TABLE groups (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name TEXT NOT NULL,
	name_key TEXT COLLATE "C" NOT NULL UNIQUE,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE memberships (
	group_id BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE apps (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name TEXT NOT NULL,
	name_key TEXT COLLATE "C" NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	entity_id TEXT UNIQUE, -- NULL when empty, so that only set ones are unique
	metadata_url TEXT NOT NULL DEFAULT '',
	metadata TEXT NOT NULL DEFAULT '',
	mfa TEXT NOT NULL DEFAULT '',
	group_names TEXT NOT NULL DEFAULT '[]',
	settings TEXT,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE folders (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name TEXT NOT NULL,
	name_key TEXT COLLATE "C" NOT NULL UNIQUE,
	created_at TIMESTAMPTZ NOT NULL
);

-- A member is a user or a group: one of the two columns is set, and each is
-- a foreign key, so deleting a user or group removes their shares.
CREATE TABLE folder_members (
	folder_id BIGINT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
	user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
	group_id BIGINT REFERENCES groups (id) ON DELETE CASCADE,
	read_only BOOLEAN NOT NULL DEFAULT FALSE,
	give BOOLEAN NOT NULL DEFAULT FALSE,
	can_administer BOOLEAN NOT NULL DEFAULT FALSE,
	CHECK ((user_id IS NULL) <> (group_id IS NULL)),
	UNIQUE (folder_id, user_id),
	UNIQUE (folder_id, group_id)
);
CREATE INDEX folder_members_user ON folder_members (user_id);
CREATE INDEX folder_members_group ON folder_members (group_id);

CREATE TABLE folder_apps (
	folder_id BIGINT NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
	app_id BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	PRIMARY KEY (folder_id, app_id)
);
CREATE INDEX folder_apps_app ON folder_apps (app_id);

CREATE TABLE idps (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name TEXT NOT NULL,
	name_key TEXT COLLATE "C" NOT NULL UNIQUE,
	entity_id TEXT NOT NULL DEFAULT '',
	metadata_url TEXT NOT NULL DEFAULT '',
	metadata TEXT NOT NULL DEFAULT '',
	settings TEXT,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE credentials (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind TEXT NOT NULL,
	name TEXT COLLATE "C" NOT NULL,
	client_id TEXT, -- NULL when empty, so that only set ones are unique
	secret_hash BYTEA NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	last_used_at TIMESTAMPTZ,
	UNIQUE (kind, name),
	UNIQUE (kind, client_id)
);

CREATE TABLE enrolments (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	factor TEXT NOT NULL,
	name TEXT NOT NULL DEFAULT '',
	data BYTEA NOT NULL,
	confirmed BOOLEAN NOT NULL DEFAULT FALSE,
	created_at TIMESTAMPTZ NOT NULL,
	last_used_at TIMESTAMPTZ
);
CREATE INDEX enrolments_user ON enrolments (user_id);

CREATE TABLE events (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	occurred_at TIMESTAMPTZ NOT NULL,
	type TEXT NOT NULL,
	actor TEXT NOT NULL DEFAULT '',
	subject TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT '',
	app TEXT NOT NULL DEFAULT '',
	outcome TEXT NOT NULL DEFAULT '',
	reason TEXT NOT NULL DEFAULT '',
	details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_occurred_at ON events (occurred_at);
CREATE INDEX events_subject ON events (lower(subject));
CREATE INDEX events_actor ON events (lower(actor));
CREATE INDEX events_type ON events (type);
