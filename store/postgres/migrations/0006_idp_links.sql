-- Links from users to their subjects at upstream IdPs, as store/sqlite's
-- 0006_idp_links.sql: one user per (IdP, subject), cascades from users and
-- IdPs, an index on user_id for a user's listing and the cascade from
-- users. COLLATE "C" compares and orders the subject byte for byte, as
-- SQLite's BINARY does, whatever the database's locale: the subject is
-- opaque and case matters.

CREATE TABLE idp_links (
	idp_id BIGINT NOT NULL REFERENCES idps (id) ON DELETE CASCADE,
	subject TEXT COLLATE "C" NOT NULL,
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (idp_id, subject)
);
CREATE INDEX idp_links_user ON idp_links (user_id);
