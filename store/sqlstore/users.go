package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/portcullis/portcullis/store"
)

const userCols = `id, email, name, password_hash, disabled, admin, password_reset_required,
	attributes, external_id, profile, created_at, updated_at, last_login_at, password_changed_at,
	version`

func scanUser(s scanner) (store.User, error) {
	var u store.User
	err := s.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Disabled, &u.Admin,
		&u.PasswordResetRequired, mapCol{&u.Attributes}, &u.ExternalID, rawCol{&u.Profile},
		timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt}, timeCol{&u.LastLoginAt},
		timeCol{&u.PasswordChangedAt}, &u.Version)
	return u, err
}

// normUser is u as the store keeps it, or an error when u cannot be kept.
func normUser(u store.User) (store.User, error) {
	u.Email = strings.TrimSpace(u.Email)
	if u.Email == "" {
		return u, errors.New("user email is empty")
	}
	u.Attributes = normMap(u.Attributes)
	u.ExternalID = strings.TrimSpace(u.ExternalID)
	if len(u.Profile) == 0 {
		u.Profile = nil
	} else if !json.Valid(u.Profile) {
		return u, errBadProfile
	}
	u.CreatedAt = normTime(u.CreatedAt)
	u.LastLoginAt = normTime(u.LastLoginAt)
	u.PasswordChangedAt = normTime(u.PasswordChangedAt)
	return u, nil
}

// CreateUser inserts u, setting u.ID, and u.CreatedAt when zero.
func (c *conn) CreateUser(ctx context.Context, u *store.User) error {
	op := fmt.Sprintf("create user %q", u.Email)
	n, err := normUser(*u)
	if err != nil {
		return c.fail(op, err)
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = now()
	}
	n.UpdatedAt, n.Version = n.CreatedAt, 1
	n.ID, err = c.insert(ctx, op, `INSERT INTO users (email, email_key, name, password_hash,
		disabled, admin, password_reset_required, attributes, external_id, profile, created_at,
		updated_at, last_login_at, password_changed_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id`,
		n.Email, key(n.Email), n.Name, n.PasswordHash, n.Disabled, n.Admin,
		n.PasswordResetRequired, mapArg(n.Attributes), n.ExternalID, profileArg(n.Profile),
		timeArg(n.CreatedAt), timeArg(n.UpdatedAt), timeArg(n.LastLoginAt),
		timeArg(n.PasswordChangedAt))
	if err != nil {
		return err
	}
	*u = n
	return nil
}

// User returns the user with that ID.
func (c *conn) User(ctx context.Context, id int64) (store.User, error) {
	return one(ctx, c, fmt.Sprintf("user %d", id), scanUser,
		`SELECT `+userCols+` FROM users WHERE id = ?`, id)
}

// UserByEmail returns the user with that email, ignoring case.
func (c *conn) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return one(ctx, c, fmt.Sprintf("user %q", email), scanUser,
		`SELECT `+userCols+` FROM users WHERE email_key = ?`, key(email))
}

// ListUsers returns the users matching f by ID, and how many match in all.
func (c *conn) ListUsers(ctx context.Context, f store.UserFilter) ([]store.User, int, error) {
	where, args := userWhere(f)
	var total int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM users`+where, args...).Scan(&total)
	if err != nil {
		return nil, 0, c.fail("count users", err)
	}
	page, pageArgs := limitOffset(f.Limit, f.Offset)
	// The page's IDs first, then their rows: an OFFSET then skips index
	// entries (users_id in SQLite, the primary key in PostgreSQL) rather
	// than whole rows.
	users, err := all(ctx, c, "list users", scanUser,
		`SELECT `+userCols+` FROM users WHERE id IN (SELECT id FROM users`+where+` ORDER BY id`+page+`) ORDER BY id`,
		append(args, pageArgs...)...)
	return users, total, err
}

func userWhere(f store.UserFilter) (string, []any) {
	var conds []string
	var args []any
	if f.Email != "" {
		conds, args = append(conds, "email_key = ?"), append(args, key(f.Email))
	}
	if f.ExternalID != "" {
		conds, args = append(conds, "external_id = ?"), append(args, f.ExternalID)
	}
	if f.AfterID > 0 {
		conds, args = append(conds, "id > ?"), append(args, f.AfterID)
	}
	if f.Disabled != nil {
		conds, args = append(conds, "disabled = ?"), append(args, *f.Disabled)
	}
	if f.Admin != nil {
		conds, args = append(conds, "admin = ?"), append(args, *f.Admin)
	}
	return whereClause(conds), args
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// limitOffset renders paging. SQLite accepts OFFSET only after a LIMIT, so
// an offset alone gets the largest one.
func limitOffset(limit, offset int) (string, []any) {
	switch {
	case limit > 0 && offset > 0:
		return " LIMIT ? OFFSET ?", []any{limit, offset}
	case limit > 0:
		return " LIMIT ?", []any{limit}
	case offset > 0:
		return " LIMIT ? OFFSET ?", []any{int64(math.MaxInt64), offset}
	}
	return "", nil
}

// UpdateUser replaces every field of the user with u.ID but its ID,
// CreatedAt, UpdatedAt and Version, which the store sets.
func (c *conn) UpdateUser(ctx context.Context, u store.User) error {
	op := fmt.Sprintf("update user %d", u.ID)
	n, err := normUser(u)
	if err != nil {
		return c.fail(op, err)
	}
	return c.usersChanged(ctx, c.execOne(ctx, op, `UPDATE users SET email = ?, email_key = ?, name = ?,
		password_hash = ?, disabled = ?, admin = ?, password_reset_required = ?, attributes = ?,
		external_id = ?, profile = ?, last_login_at = ?, password_changed_at = ?,
		updated_at = ?, version = version + 1 WHERE id = ?`,
		n.Email, key(n.Email), n.Name, n.PasswordHash, n.Disabled, n.Admin,
		n.PasswordResetRequired, mapArg(n.Attributes), n.ExternalID, profileArg(n.Profile),
		timeArg(n.LastLoginAt), timeArg(n.PasswordChangedAt), timeArg(now()), n.ID), n.ID)
}

// LockUser reads the user, locking its row where the flavor needs it.
func (c *conn) LockUser(ctx context.Context, id int64) (store.User, error) {
	return one(ctx, c, fmt.Sprintf("lock user %d", id), scanUser,
		`SELECT `+userCols+` FROM users WHERE id = ?`+c.lockRows(), id)
}

var errBadProfile = errors.New("user profile is not valid JSON")

// profileArg stores an empty profile as NULL; normUser has checked it.
func profileArg(p json.RawMessage) any {
	if len(p) == 0 {
		return nil
	}
	return string(p)
}

// DeleteUser removes the user; the schema cascades to their memberships,
// folder shares and enrolments.
func (c *conn) DeleteUser(ctx context.Context, id int64) error {
	return c.usersChanged(ctx, c.execOne(ctx, fmt.Sprintf("delete user %d", id), `DELETE FROM users WHERE id = ?`, id), id)
}
