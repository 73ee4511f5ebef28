-- Versions of the IdP signing key, shared by every node. The private key is
-- encrypted by the gateway before it gets here (keys.Seal).

CREATE TABLE signing_keys (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	cert_der BLOB NOT NULL,
	key_ciphertext BLOB NOT NULL,
	activates_at TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX signing_keys_activates_at ON signing_keys (activates_at, id);
