package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/portcullis/portcullis/store"
)

const signingKeyCols = `id, cert_der, key_ciphertext, activates_at, created_at`

func scanSigningKey(s scanner) (store.SigningKey, error) {
	var k store.SigningKey
	err := s.Scan(&k.ID, bytesCol{&k.CertDER}, bytesCol{&k.KeyCiphertext},
		timeCol{&k.ActivatesAt}, timeCol{&k.CreatedAt})
	return k, err
}

// CreateSigningKey inserts k, setting k.ID, and k.CreatedAt when zero. A
// version without a certificate, a key or an activation time is refused.
func (c *conn) CreateSigningKey(ctx context.Context, k *store.SigningKey) error {
	op := "create signing key"
	n := *k
	n.CertDER, n.KeyCiphertext = normBytes(n.CertDER), normBytes(n.KeyCiphertext)
	n.ActivatesAt, n.CreatedAt = normTime(n.ActivatesAt), normTime(n.CreatedAt)
	if n.CertDER == nil || n.KeyCiphertext == nil || n.ActivatesAt.IsZero() {
		return c.fail(op, errors.New("certificate, key and activation time are required"))
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = now()
	}
	var err error
	n.ID, err = c.insert(ctx, op, `INSERT INTO signing_keys (cert_der, key_ciphertext, activates_at,
		created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		n.CertDER, n.KeyCiphertext, timeArg(n.ActivatesAt), timeArg(n.CreatedAt))
	if err != nil {
		return err
	}
	*k = n
	return nil
}

// ListSigningKeys returns every version ordered by activation time, then ID.
func (c *conn) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	return all(ctx, c, "list signing keys", scanSigningKey,
		`SELECT `+signingKeyCols+` FROM signing_keys ORDER BY activates_at, id`)
}

// DeleteSigningKey removes a version.
func (c *conn) DeleteSigningKey(ctx context.Context, id int64) error {
	return c.execOne(ctx, fmt.Sprintf("delete signing key %d", id),
		`DELETE FROM signing_keys WHERE id = ?`, id)
}
