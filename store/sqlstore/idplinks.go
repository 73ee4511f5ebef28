package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/portcullis/portcullis/store"
)

// The subject is an opaque value of the IdP's: it is neither trimmed nor
// case-folded, and the column compares and orders it byte for byte (SQLite's
// BINARY collation, COLLATE "C" in PostgreSQL). Links go when their user or
// IdP does, through ON DELETE CASCADE.

const idpLinkCols = `idp_id, subject, user_id, created_at`

var errNoSubject = errors.New("subject is required")

func scanIdPLink(s scanner) (store.IdPLink, error) {
	var l store.IdPLink
	err := s.Scan(&l.IdPID, &l.Subject, &l.UserID, timeCol{&l.CreatedAt})
	return l, err
}

// IdPLink returns the link of subject at the IdP.
func (c *conn) IdPLink(ctx context.Context, idpID int64, subject string) (store.IdPLink, error) {
	return one(ctx, c, fmt.Sprintf("idp %d link %q", idpID, subject), scanIdPLink,
		`SELECT `+idpLinkCols+` FROM idp_links WHERE idp_id = ? AND subject = ?`, idpID, subject)
}

// CreateIdPLink inserts l, setting l.CreatedAt when zero. A subject the IdP
// already links, and a user or IdP that does not exist, are ErrConflict.
func (c *conn) CreateIdPLink(ctx context.Context, l *store.IdPLink) error {
	op := fmt.Sprintf("link idp %d subject %q to user %d", l.IdPID, l.Subject, l.UserID)
	if l.Subject == "" {
		return c.fail(op, errNoSubject)
	}
	n := *l
	n.CreatedAt = normTime(n.CreatedAt)
	if n.CreatedAt.IsZero() {
		n.CreatedAt = now()
	}
	_, err := c.exec(ctx, `INSERT INTO idp_links (idp_id, subject, user_id, created_at)
		VALUES (?, ?, ?, ?)`, n.IdPID, n.Subject, n.UserID, timeArg(n.CreatedAt))
	if err != nil {
		return c.fail(op, err)
	}
	*l = n
	return nil
}

// IdPLinksOfUser returns the user's links ordered by IdP ID, then subject;
// ErrNotFound when there is no such user.
func (c *conn) IdPLinksOfUser(ctx context.Context, userID int64) ([]store.IdPLink, error) {
	op := fmt.Sprintf("idp links of user %d", userID)
	if err := c.exists(ctx, op, "users", userID); err != nil {
		return nil, err
	}
	return all(ctx, c, op, scanIdPLink, `SELECT `+idpLinkCols+` FROM idp_links
		WHERE user_id = ? ORDER BY idp_id, subject`, userID)
}

// DeleteIdPLink removes the link of subject at the IdP.
func (c *conn) DeleteIdPLink(ctx context.Context, idpID int64, subject string) error {
	return c.execOne(ctx, fmt.Sprintf("delete idp %d link %q", idpID, subject),
		`DELETE FROM idp_links WHERE idp_id = ? AND subject = ?`, idpID, subject)
}
