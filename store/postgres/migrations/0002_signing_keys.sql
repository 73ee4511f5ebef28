-- Versions of the IdP signing key, shared by every node, as store/sqlite's
-- 0002_signing_keys.sql. The private key is encrypted by the gateway before
-- it gets here (keys.Seal).

CREATE TABLE signing_keys (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	cert_der BYTEA NOT NULL,
	key_ciphertext BYTEA NOT NULL,
	activates_at TIMESTAMPTZ NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX signing_keys_activates_at ON signing_keys (activates_at, id);
