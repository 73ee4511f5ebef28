-- Links from users to their subjects at upstream IdPs, for SAML brokering:
-- an assertion from an IdP finds its user by (IdP, subject), the subject
-- being the value the IdP's link setting names (the NameID or an
-- attribute). Each subject at an IdP links one user, the primary key; a
-- user may have links at several IdPs. The subject is kept as the IdP sent
-- it and compared with the default BINARY collation, as persistent NameIDs
-- are opaque and may differ in case alone. Deleting a user or an IdP
-- deletes its links through the foreign keys (on for every connection);
-- the index on user_id serves a user's listing and the cascade from users.

CREATE TABLE idp_links (
	idp_id INTEGER NOT NULL REFERENCES idps (id) ON DELETE CASCADE,
	subject TEXT NOT NULL,
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at TEXT NOT NULL,
	PRIMARY KEY (idp_id, subject)
);
CREATE INDEX idp_links_user ON idp_links (user_id);
