package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/portcullis/portcullis/store"
)

const credentialCols = `id, kind, name, COALESCE(client_id, ''), secret_hash, created_at,
	last_used_at`

func scanCredential(s scanner) (store.Credential, error) {
	var cr store.Credential
	err := s.Scan(&cr.ID, &cr.Kind, &cr.Name, &cr.ClientID, bytesCol{&cr.SecretHash},
		timeCol{&cr.CreatedAt}, timeCol{&cr.LastUsedAt})
	return cr, err
}

// PutCredential inserts cr, or replaces every field of the credential with
// the same kind and name in one statement, so the old secret stops working
// as the new one starts. The replaced credential keeps its ID; cr.ID is set
// either way, and cr.CreatedAt when zero. A client ID, when set, is unique
// per kind.
func (c *conn) PutCredential(ctx context.Context, cr *store.Credential) error {
	n := *cr
	n.SecretHash = normBytes(n.SecretHash)
	n.CreatedAt, n.LastUsedAt = normTime(n.CreatedAt), normTime(n.LastUsedAt)
	if n.CreatedAt.IsZero() {
		n.CreatedAt = now()
	}
	var err error
	n.ID, err = c.insert(ctx, fmt.Sprintf("put %s credential %q", n.Kind, n.Name),
		`INSERT INTO credentials (kind, name, client_id, secret_hash, created_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, name) DO UPDATE
		SET client_id = excluded.client_id, secret_hash = excluded.secret_hash,
		created_at = excluded.created_at, last_used_at = excluded.last_used_at
		RETURNING id`,
		string(n.Kind), n.Name, nullString(n.ClientID), bytesArg(n.SecretHash),
		timeArg(n.CreatedAt), timeArg(n.LastUsedAt))
	if err != nil {
		return err
	}
	*cr = n
	return nil
}

// Credential returns the credential of that kind and name.
func (c *conn) Credential(ctx context.Context, kind store.CredentialKind, name string) (store.Credential, error) {
	return one(ctx, c, fmt.Sprintf("%s credential %q", kind, name), scanCredential,
		`SELECT `+credentialCols+` FROM credentials WHERE kind = ? AND name = ?`,
		string(kind), name)
}

// CredentialByClientID returns the credential of that kind and client ID.
func (c *conn) CredentialByClientID(ctx context.Context, kind store.CredentialKind, clientID string) (store.Credential, error) {
	return one(ctx, c, fmt.Sprintf("%s credential for client %q", kind, clientID), scanCredential,
		`SELECT `+credentialCols+` FROM credentials WHERE kind = ? AND client_id = ?`,
		string(kind), clientID)
}

// ListCredentials returns the credentials of one kind ordered by name.
func (c *conn) ListCredentials(ctx context.Context, kind store.CredentialKind) ([]store.Credential, error) {
	return all(ctx, c, fmt.Sprintf("list %s credentials", kind), scanCredential,
		`SELECT `+credentialCols+` FROM credentials WHERE kind = ? ORDER BY name, id`,
		string(kind))
}

// DeleteCredential removes a credential.
func (c *conn) DeleteCredential(ctx context.Context, id int64) error {
	return c.execOne(ctx, fmt.Sprintf("delete credential %d", id),
		`DELETE FROM credentials WHERE id = ?`, id)
}

// TouchCredential records when a credential was last used.
func (c *conn) TouchCredential(ctx context.Context, id int64, at time.Time) error {
	return c.execOne(ctx, fmt.Sprintf("touch credential %d", id),
		`UPDATE credentials SET last_used_at = ? WHERE id = ?`, timeArg(at), id)
}
