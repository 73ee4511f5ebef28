-- The directory and the audit trail. Times are UTC text with microseconds
-- (sqlstore's timeLayout); *_key columns hold the case-folded name that
-- uniqueness and lookups use. AUTOINCREMENT keeps IDs from being reused, as
-- external systems (SCIM, LastPass-compatible APIs) keep them.

CREATE TABLE users (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	email TEXT NOT NULL,
	email_key TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	disabled INTEGER NOT NULL DEFAULT 0,
	admin INTEGER NOT NULL DEFAULT 0,
	password_reset_required INTEGER NOT NULL DEFAULT 0,
	attributes TEXT NOT NULL DEFAULT '{}',
	created_at TEXT NOT NULL,
	last_login_at TEXT,
	password_changed_at TEXT
);

CREATE TABLE groups (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL,
	name_key TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL
);

CREATE TABLE memberships (
	group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE apps (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL,
	name_key TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL,
	entity_id TEXT UNIQUE, -- NULL when empty, so that only set ones are unique
	metadata_url TEXT NOT NULL DEFAULT '',
	metadata TEXT NOT NULL DEFAULT '',
	mfa TEXT NOT NULL DEFAULT '',
	group_names TEXT NOT NULL DEFAULT '[]',
	settings TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE folders (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL,
	name_key TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL
);

-- A member is a user or a group: one of the two columns is set, and each is
-- a foreign key, so deleting a user or group removes their shares.
CREATE TABLE folder_members (
	folder_id INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
	user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
	group_id INTEGER REFERENCES groups (id) ON DELETE CASCADE,
	read_only INTEGER NOT NULL DEFAULT 0,
	give INTEGER NOT NULL DEFAULT 0,
	can_administer INTEGER NOT NULL DEFAULT 0,
	CHECK ((user_id IS NULL) <> (group_id IS NULL)),
	UNIQUE (folder_id, user_id),
	UNIQUE (folder_id, group_id)
);
CREATE INDEX folder_members_user ON folder_members (user_id);
CREATE INDEX folder_members_group ON folder_members (group_id);

CREATE TABLE folder_apps (
	folder_id INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,
	app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	PRIMARY KEY (folder_id, app_id)
);
CREATE INDEX folder_apps_app ON folder_apps (app_id);

CREATE TABLE idps (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL,
	name_key TEXT NOT NULL UNIQUE,
	entity_id TEXT NOT NULL DEFAULT '',
	metadata_url TEXT NOT NULL DEFAULT '',
	metadata TEXT NOT NULL DEFAULT '',
	settings TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE credentials (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	client_id TEXT, -- NULL when empty, so that only set ones are unique
	secret_hash BLOB NOT NULL,
	created_at TEXT NOT NULL,
	last_used_at TEXT,
	UNIQUE (kind, name),
	UNIQUE (kind, client_id)
);

CREATE TABLE enrolments (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	factor TEXT NOT NULL,
	name TEXT NOT NULL DEFAULT '',
	data BLOB NOT NULL,
	confirmed INTEGER NOT NULL DEFAULT 0,
	created_at TEXT NOT NULL,
	last_used_at TEXT
);
CREATE INDEX enrolments_user ON enrolments (user_id);

CREATE TABLE events (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	occurred_at TEXT NOT NULL,
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
