package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/portcullis/portcullis/store"
)

var errEmptyName = errors.New("name is empty")

// name trims a name that must not be empty.
func name(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errEmptyName
	}
	return s, nil
}

func scanGroup(s scanner) (store.Group, error) {
	var g store.Group
	err := s.Scan(&g.ID, &g.Name, timeCol{&g.CreatedAt})
	return g, err
}

// CreateGroup inserts g, setting g.ID, and g.CreatedAt when zero.
func (c *conn) CreateGroup(ctx context.Context, g *store.Group) error {
	op := fmt.Sprintf("create group %q", g.Name)
	n, err := name(g.Name)
	if err != nil {
		return c.fail(op, err)
	}
	at := normTime(g.CreatedAt)
	if at.IsZero() {
		at = now()
	}
	id, err := c.insert(ctx, op, `INSERT INTO groups (name, name_key, created_at)
		VALUES (?, ?, ?) RETURNING id`, n, key(n), timeArg(at))
	if err != nil {
		return err
	}
	*g = store.Group{ID: id, Name: n, CreatedAt: at}
	return nil
}

// Group returns the group with that ID.
func (c *conn) Group(ctx context.Context, id int64) (store.Group, error) {
	return one(ctx, c, fmt.Sprintf("group %d", id), scanGroup,
		`SELECT id, name, created_at FROM groups WHERE id = ?`, id)
}

// GroupByName returns the group with that name, ignoring case.
func (c *conn) GroupByName(ctx context.Context, name string) (store.Group, error) {
	return one(ctx, c, fmt.Sprintf("group %q", name), scanGroup,
		`SELECT id, name, created_at FROM groups WHERE name_key = ?`, key(name))
}

// ListGroups returns every group ordered by name, ignoring case.
func (c *conn) ListGroups(ctx context.Context) ([]store.Group, error) {
	return all(ctx, c, "list groups", scanGroup,
		`SELECT id, name, created_at FROM groups ORDER BY name_key, id`)
}

// RenameGroup changes a group's name.
func (c *conn) RenameGroup(ctx context.Context, id int64, newName string) error {
	op := fmt.Sprintf("rename group %d to %q", id, newName)
	n, err := name(newName)
	if err != nil {
		return c.fail(op, err)
	}
	return c.execOne(ctx, op, `UPDATE groups SET name = ?, name_key = ? WHERE id = ?`,
		n, key(n), id)
}

// DeleteGroup removes the group; the schema cascades to its memberships and
// folder shares.
func (c *conn) DeleteGroup(ctx context.Context, id int64) error {
	return c.execOne(ctx, fmt.Sprintf("delete group %d", id), `DELETE FROM groups WHERE id = ?`, id)
}

// AddMember adds a user to a group; adding a present member does nothing.
func (c *conn) AddMember(ctx context.Context, groupID, userID int64) error {
	_, err := c.exec(ctx, `INSERT INTO memberships (group_id, user_id) VALUES (?, ?)
		ON CONFLICT (group_id, user_id) DO NOTHING`, groupID, userID)
	if err != nil {
		return c.fail(fmt.Sprintf("add user %d to group %d", userID, groupID), err)
	}
	return nil
}

// RemoveMember removes a user from a group, if present.
func (c *conn) RemoveMember(ctx context.Context, groupID, userID int64) error {
	_, err := c.exec(ctx, `DELETE FROM memberships WHERE group_id = ? AND user_id = ?`,
		groupID, userID)
	if err != nil {
		return c.fail(fmt.Sprintf("remove user %d from group %d", userID, groupID), err)
	}
	return nil
}

// Members returns the group's users ordered by ID; ErrNotFound when there
// is no such group.
func (c *conn) Members(ctx context.Context, groupID int64) ([]store.User, error) {
	op := fmt.Sprintf("members of group %d", groupID)
	if err := c.exists(ctx, op, "groups", groupID); err != nil {
		return nil, err
	}
	return all(ctx, c, op, scanUser, `SELECT `+prefixed("u.", userCols)+`
		FROM users u JOIN memberships m ON m.user_id = u.id
		WHERE m.group_id = ? ORDER BY u.id`, groupID)
}

// UserGroups returns the user's groups ordered by name; ErrNotFound when
// there is no such user.
func (c *conn) UserGroups(ctx context.Context, userID int64) ([]store.Group, error) {
	op := fmt.Sprintf("groups of user %d", userID)
	// One round trip (it is on every sign-in): the user's row left-joined
	// to their groups, so no row means no such user and a row of NULLs
	// means no groups.
	rows, err := all(ctx, c, op, scanMaybeGroup, `SELECT g.id, g.name, g.created_at
		FROM users u LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN groups g ON g.id = m.group_id
		WHERE u.id = ? ORDER BY g.name_key, g.id`, userID)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, c.fail(op, sql.ErrNoRows)
	}
	var out []store.Group
	for _, g := range rows {
		if g.ID != 0 {
			out = append(out, g)
		}
	}
	return out, nil
}

// scanMaybeGroup scans a group of a LEFT JOIN, the zero Group for NULLs.
func scanMaybeGroup(s scanner) (store.Group, error) {
	var (
		id   sql.NullInt64
		name sql.NullString
		g    store.Group
	)
	err := s.Scan(&id, &name, timeCol{&g.CreatedAt})
	g.ID, g.Name = id.Int64, name.String
	return g, err
}

// prefixed qualifies each column of a comma-separated list with p.
func prefixed(p, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = p + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}
