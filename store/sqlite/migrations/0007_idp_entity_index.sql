-- The SP finds the upstream IdP of every Response (and LogoutRequest) by
-- the entity ID it claims: an index, so that this costs one row read
-- rather than reading every IdP with its metadata. Not unique: the
-- catalogue refuses a second IdP with an entity ID in use, in its
-- transaction, with a clear message.
CREATE INDEX idps_entity_id ON idps (entity_id);
