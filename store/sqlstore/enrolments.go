package sqlstore

import (
	"context"
	"fmt"

	"github.com/portcullis/portcullis/store"
)

const enrolmentCols = `id, user_id, factor, name, data, confirmed, created_at, last_used_at`

func scanEnrolment(s scanner) (store.Enrolment, error) {
	var e store.Enrolment
	err := s.Scan(&e.ID, &e.UserID, &e.Factor, &e.Name, bytesCol{&e.Data}, &e.Confirmed,
		timeCol{&e.CreatedAt}, timeCol{&e.LastUsedAt})
	return e, err
}

func normEnrolment(e store.Enrolment) store.Enrolment {
	e.Data = normBytes(e.Data)
	e.CreatedAt, e.LastUsedAt = normTime(e.CreatedAt), normTime(e.LastUsedAt)
	return e
}

// CreateEnrolment inserts e, setting e.ID, and e.CreatedAt when zero. A user
// that does not exist is ErrConflict.
func (c *conn) CreateEnrolment(ctx context.Context, e *store.Enrolment) error {
	n := normEnrolment(*e)
	if n.CreatedAt.IsZero() {
		n.CreatedAt = now()
	}
	var err error
	n.ID, err = c.insert(ctx, fmt.Sprintf("create %s enrolment for user %d", n.Factor, n.UserID),
		`INSERT INTO enrolments (user_id, factor, name, data, confirmed, created_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		n.UserID, n.Factor, n.Name, bytesArg(n.Data), n.Confirmed, timeArg(n.CreatedAt),
		timeArg(n.LastUsedAt))
	if err != nil {
		return err
	}
	*e = n
	return c.usersChanged(ctx, nil, n.UserID)
}

// Enrolment returns the enrolment with that ID.
func (c *conn) Enrolment(ctx context.Context, id int64) (store.Enrolment, error) {
	return one(ctx, c, fmt.Sprintf("enrolment %d", id), scanEnrolment,
		`SELECT `+enrolmentCols+` FROM enrolments WHERE id = ?`, id)
}

// UserEnrolments returns the user's enrolments ordered by ID; ErrNotFound
// when there is no such user.
func (c *conn) UserEnrolments(ctx context.Context, userID int64) ([]store.Enrolment, error) {
	op := fmt.Sprintf("enrolments of user %d", userID)
	if err := c.exists(ctx, op, "users", userID); err != nil {
		return nil, err
	}
	return all(ctx, c, op, scanEnrolment,
		`SELECT `+enrolmentCols+` FROM enrolments WHERE user_id = ? ORDER BY id`, userID)
}

// UpdateEnrolment replaces the factor, name, data, confirmation and last use
// of the enrolment with e.ID; its user and CreatedAt never change.
func (c *conn) UpdateEnrolment(ctx context.Context, e store.Enrolment) error {
	n := normEnrolment(e)
	return c.enrolmentWrite(ctx, fmt.Sprintf("update enrolment %d", n.ID),
		`UPDATE enrolments SET factor = ?, name = ?, data = ?, confirmed = ?, last_used_at = ?
		WHERE id = ? RETURNING user_id`,
		n.Factor, n.Name, bytesArg(n.Data), n.Confirmed, timeArg(n.LastUsedAt), n.ID)
}

// DeleteEnrolment removes an enrolment.
func (c *conn) DeleteEnrolment(ctx context.Context, id int64) error {
	return c.enrolmentWrite(ctx, fmt.Sprintf("delete enrolment %d", id),
		`DELETE FROM enrolments WHERE id = ? RETURNING user_id`, id)
}

// enrolmentWrite runs a statement on one enrolment that returns its user,
// ErrNotFound when there is none, and notes the change to that user.
func (c *conn) enrolmentWrite(ctx context.Context, op, query string, args ...any) error {
	var userID int64
	err := c.write(ctx, func() error { return c.queryRow(ctx, query, args...).Scan(&userID) })
	if err != nil {
		return c.fail(op, err)
	}
	return c.usersChanged(ctx, nil, userID)
}

// DeleteUserEnrolments removes all of a user's enrolments and returns how
// many there were (0 for a user that does not exist).
func (c *conn) DeleteUserEnrolments(ctx context.Context, userID int64) (int, error) {
	op := fmt.Sprintf("delete enrolments of user %d", userID)
	res, err := c.exec(ctx, `DELETE FROM enrolments WHERE user_id = ?`, userID)
	if err != nil {
		return 0, c.fail(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, c.fail(op, err)
	}
	if n == 0 {
		return 0, nil
	}
	return int(n), c.usersChanged(ctx, nil, userID)
}

// EnrolledFactors returns the distinct factors of each user's confirmed
// enrolments, in one query per maxInList users.
func (c *conn) EnrolledFactors(ctx context.Context, userIDs []int64) (map[int64][]string, error) {
	type row struct {
		user   int64
		factor string
	}
	out := make(map[int64][]string)
	for chunk := range chunks(userIDs) {
		rows, err := all(ctx, c, "enrolled factors of users", func(s scanner) (row, error) {
			var r row
			return r, s.Scan(&r.user, &r.factor)
		}, `SELECT DISTINCT user_id, factor FROM enrolments
			WHERE confirmed = ? AND user_id IN (`+placeholders(len(chunk))+`)
			ORDER BY user_id, factor`, append([]any{true}, int64Args(chunk)...)...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.user] = append(out[r.user], r.factor)
		}
	}
	return out, nil
}
