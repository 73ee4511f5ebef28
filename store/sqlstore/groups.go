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

const groupCols = `id, name, external_id, created_at, updated_at, version`

func scanGroup(s scanner) (store.Group, error) {
	var g store.Group
	err := s.Scan(&g.ID, &g.Name, &g.ExternalID, timeCol{&g.CreatedAt}, timeCol{&g.UpdatedAt}, &g.Version)
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
	ext := strings.TrimSpace(g.ExternalID)
	id, err := c.insert(ctx, op, `INSERT INTO groups (name, name_key, external_id, created_at,
		updated_at, version) VALUES (?, ?, ?, ?, ?, 1) RETURNING id`,
		n, key(n), ext, timeArg(at), timeArg(at))
	if err != nil {
		return err
	}
	*g = store.Group{ID: id, Name: n, ExternalID: ext, CreatedAt: at, UpdatedAt: at, Version: 1}
	return nil
}

// Group returns the group with that ID.
func (c *conn) Group(ctx context.Context, id int64) (store.Group, error) {
	return one(ctx, c, fmt.Sprintf("group %d", id), scanGroup,
		`SELECT `+groupCols+` FROM groups WHERE id = ?`, id)
}

// GroupByName returns the group with that name, ignoring case.
func (c *conn) GroupByName(ctx context.Context, name string) (store.Group, error) {
	return one(ctx, c, fmt.Sprintf("group %q", name), scanGroup,
		`SELECT `+groupCols+` FROM groups WHERE name_key = ?`, key(name))
}

// ListGroups returns every group ordered by name, ignoring case.
func (c *conn) ListGroups(ctx context.Context) ([]store.Group, error) {
	return all(ctx, c, "list groups", scanGroup,
		`SELECT `+groupCols+` FROM groups ORDER BY name_key, id`)
}

// RenameGroup changes a group's name.
func (c *conn) RenameGroup(ctx context.Context, id int64, newName string) error {
	op := fmt.Sprintf("rename group %d to %q", id, newName)
	n, err := name(newName)
	if err != nil {
		return c.fail(op, err)
	}
	return c.groupsChanged(ctx, c.execOne(ctx, op, `UPDATE groups SET name = ?, name_key = ?, updated_at = ?,
		version = version + 1 WHERE id = ?`, n, key(n), timeArg(now()), id))
}

// UpdateGroup replaces the group's name and external ID.
func (c *conn) UpdateGroup(ctx context.Context, g store.Group) error {
	op := fmt.Sprintf("update group %d", g.ID)
	n, err := name(g.Name)
	if err != nil {
		return c.fail(op, err)
	}
	return c.groupsChanged(ctx, c.execOne(ctx, op, `UPDATE groups SET name = ?, name_key = ?, external_id = ?,
		updated_at = ?, version = version + 1 WHERE id = ?`,
		n, key(n), strings.TrimSpace(g.ExternalID), timeArg(now()), g.ID))
}

// LockGroup reads the group, locking its row where the flavor needs it.
// Every membership change also updates the group's row (touchGroup), so the
// lock covers the membership too.
func (c *conn) LockGroup(ctx context.Context, id int64) (store.Group, error) {
	return one(ctx, c, fmt.Sprintf("lock group %d", id), scanGroup,
		`SELECT `+groupCols+` FROM groups WHERE id = ?`+c.lockRows(), id)
}

// DeleteGroup removes the group; the schema cascades to its memberships and
// folder shares.
func (c *conn) DeleteGroup(ctx context.Context, id int64) error {
	return c.groupsChanged(ctx, c.execOne(ctx, fmt.Sprintf("delete group %d", id), `DELETE FROM groups WHERE id = ?`, id))
}

// AddMember adds a user to a group; adding a present member does nothing.
func (c *conn) AddMember(ctx context.Context, groupID, userID int64) error {
	return c.usersChanged(ctx, c.changeMembers(ctx, fmt.Sprintf("add user %d to group %d", userID, groupID), groupID,
		`INSERT INTO memberships (group_id, user_id) VALUES (?, ?)
		ON CONFLICT (group_id, user_id) DO NOTHING`, groupID, userID), userID)
}

// RemoveMember removes a user from a group, if present.
func (c *conn) RemoveMember(ctx context.Context, groupID, userID int64) error {
	return c.usersChanged(ctx, c.changeMembers(ctx, fmt.Sprintf("remove user %d from group %d", userID, groupID), groupID,
		`DELETE FROM memberships WHERE group_id = ? AND user_id = ?`, groupID, userID), userID)
}

// HasMember reports whether the user is in the group.
func (c *conn) HasMember(ctx context.Context, groupID, userID int64) (bool, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM memberships WHERE group_id = ? AND user_id = ?`,
		groupID, userID).Scan(&n)
	if err != nil {
		return false, c.fail(fmt.Sprintf("is user %d in group %d", userID, groupID), err)
	}
	return n > 0, nil
}

// changeMembers runs one membership statement and, when it changed a row,
// moves the group's version on in the same transaction.
func (c *conn) changeMembers(ctx context.Context, op string, groupID int64, query string, args ...any) error {
	err := c.atomic(ctx, func(c *conn) error {
		res, err := c.exec(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = c.exec(ctx, `UPDATE groups SET updated_at = ?, version = version + 1 WHERE id = ?`,
			timeArg(now()), groupID)
		return err
	})
	if err != nil {
		return c.fail(op, err)
	}
	return nil
}

// AddMembers adds users to a group in statements of up to maxInList rows
// and moves the group's version on once. Adding members one by one would
// update the group's row once each, and PostgreSQL keeps every version of
// a row a transaction updates until it ends: ten thousand members in one
// transaction then cost time quadratic in their number.
func (c *conn) AddMembers(ctx context.Context, groupID int64, userIDs []int64) ([]int64, error) {
	return c.changeMany(ctx, fmt.Sprintf("add %d users to group %d", len(userIDs), groupID), groupID, userIDs,
		func(n int) string {
			return `INSERT INTO memberships (group_id, user_id) SELECT ?, id FROM users
				WHERE id IN (` + placeholders(n) + `) ON CONFLICT (group_id, user_id) DO NOTHING RETURNING user_id`
		})
}

// RemoveMembers removes users from a group as AddMembers adds them.
func (c *conn) RemoveMembers(ctx context.Context, groupID int64, userIDs []int64) ([]int64, error) {
	return c.changeMany(ctx, fmt.Sprintf("remove %d users from group %d", len(userIDs), groupID), groupID, userIDs,
		func(n int) string {
			return `DELETE FROM memberships WHERE group_id = ? AND user_id IN (` + placeholders(n) + `) RETURNING user_id`
		})
}

// changeMany runs a membership statement over chunks of ids, each
// returning the user IDs it changed, and bumps the group's version once.
func (c *conn) changeMany(ctx context.Context, op string, groupID int64, ids []int64, query func(n int) string) ([]int64, error) {
	var changed []int64
	err := c.atomic(ctx, func(c *conn) error {
		if err := c.exists(ctx, op, "groups", groupID); err != nil {
			return err
		}
		for chunk := range chunks(ids) {
			var got []int64
			err := c.write(ctx, func() error {
				var err error
				got, err = all(ctx, c, op, func(s scanner) (int64, error) {
					var id int64
					return id, s.Scan(&id)
				}, query(len(chunk)), append([]any{groupID}, int64Args(chunk)...)...)
				return err
			})
			if err != nil {
				return err
			}
			changed = append(changed, got...)
		}
		if len(changed) == 0 {
			return nil
		}
		_, err := c.exec(ctx, `UPDATE groups SET updated_at = ?, version = version + 1 WHERE id = ?`,
			timeArg(now()), groupID)
		return err
	})
	if err != nil {
		return nil, c.fail(op, err)
	}
	return inOrder(ids, changed), c.usersChanged(ctx, nil, changed...)
}

// inOrder returns the members of got in the order of ids, each once.
func inOrder(ids, got []int64) []int64 {
	in := make(map[int64]bool, len(got))
	for _, id := range got {
		in[id] = true
	}
	var out []int64
	for _, id := range ids {
		if in[id] {
			out = append(out, id)
			delete(in, id)
		}
	}
	return out
}

// GroupMembers returns the members of each group in one query.
func (c *conn) GroupMembers(ctx context.Context, groupIDs []int64) (map[int64][]store.Member, error) {
	type row struct {
		group int64
		m     store.Member
	}
	out := make(map[int64][]store.Member)
	for chunk := range chunks(groupIDs) {
		rows, err := all(ctx, c, "members of groups", func(s scanner) (row, error) {
			var r row
			err := s.Scan(&r.group, &r.m.UserID, &r.m.Email, &r.m.Name)
			return r, err
		}, `SELECT m.group_id, u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id
			WHERE m.group_id IN (`+placeholders(len(chunk))+`) ORDER BY m.group_id, u.id`, int64Args(chunk)...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.group] = append(out[r.group], r.m)
		}
	}
	return out, nil
}

// GroupsOf returns the groups of each user in one query per few hundred
// users. Many IDs close together (a page or a batch of a listing in ID
// order) are read as one range of the memberships' user index instead of a
// lookup each, and the users not asked for dropped: 100,000 users in
// batches took 1.2 s as lookups.
func (c *conn) GroupsOf(ctx context.Context, userIDs []int64) (map[int64][]store.Group, error) {
	out := make(map[int64][]store.Group)
	if lo, hi, ok := denseRange(userIDs); ok {
		want := make(map[int64]bool, len(userIDs))
		for _, id := range userIDs {
			want[id] = true
		}
		err := c.groupsOfQuery(ctx, out, want, `m.user_id BETWEEN ? AND ?`, lo, hi)
		return out, err
	}
	for chunk := range chunks(userIDs) {
		if err := c.groupsOfQuery(ctx, out, nil, `m.user_id IN (`+placeholders(len(chunk))+`)`, int64Args(chunk)...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// groupsOfQuery adds to out the groups of the users cond selects (and
// want keeps, when not nil).
func (c *conn) groupsOfQuery(ctx context.Context, out map[int64][]store.Group, want map[int64]bool, cond string, args ...any) error {
	type row struct {
		user int64
		g    store.Group
	}
	rows, err := all(ctx, c, "groups of users", func(s scanner) (row, error) {
		var r row
		err := s.Scan(&r.user, &r.g.ID, &r.g.Name, &r.g.ExternalID, timeCol{&r.g.CreatedAt},
			timeCol{&r.g.UpdatedAt}, &r.g.Version)
		return r, err
	}, `SELECT m.user_id, `+prefixed("g.", groupCols)+` FROM memberships m
		JOIN groups g ON g.id = m.group_id
		WHERE `+cond+` ORDER BY m.user_id, g.name_key, g.id`, args...)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if want == nil || want[r.user] {
			out[r.user] = append(out[r.user], r.g)
		}
	}
	return nil
}

// denseRange reports the bounds of ids when they are many and fill at
// least a quarter of their range, so that reading the range costs little
// more than the IDs themselves.
func denseRange(ids []int64) (lo, hi int64, ok bool) {
	if len(ids) < 64 {
		return 0, 0, false
	}
	lo, hi = ids[0], ids[0]
	for _, id := range ids {
		lo, hi = min(lo, id), max(hi, id)
	}
	return lo, hi, hi-lo < 4*int64(len(ids))
}

// maxInList bounds the IDs in one IN list, below SQLite's and PostgreSQL's
// limits on parameters.
const maxInList = 500

// chunks yields ids in slices of at most maxInList.
func chunks(ids []int64) func(yield func([]int64) bool) {
	return func(yield func([]int64) bool) {
		for len(ids) > 0 {
			n := min(len(ids), maxInList)
			if !yield(ids[:n]) {
				return
			}
			ids = ids[n:]
		}
	}
}

// placeholders is "?, ?, ..." with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func int64Args(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
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
	rows, err := all(ctx, c, op, scanMaybeGroup, `SELECT `+prefixed("g.", groupCols)+`
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
		id, version sql.NullInt64
		name, ext   sql.NullString
		g           store.Group
	)
	err := s.Scan(&id, &name, &ext, timeCol{&g.CreatedAt}, timeCol{&g.UpdatedAt}, &version)
	g.ID, g.Name, g.ExternalID, g.Version = id.Int64, name.String, ext.String, version.Int64
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
