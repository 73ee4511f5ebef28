package sqlstore

import (
	"context"
	"database/sql"
	"errors"
)

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn implements store.Tx over a querier. The DB's own conn has an owner,
// through which writes of several statements get a transaction of their own;
// a conn inside InTx has none, as it is already in one.
type conn struct {
	q       querier
	flavor  *Flavor
	owner   *DB
	stmts   *stmtCache // nil when the flavor caches none
	tx      *sql.Tx    // the transaction of a conn inside InTx
	changed dirChange  // inside InTx: what it changed in the directory
}

func (c *conn) isTx() bool { return c.owner == nil }

// atomic runs fn so that it changes all or nothing: in a new transaction, or
// inside a savepoint of c's.
func (c *conn) atomic(ctx context.Context, fn func(c *conn) error) error {
	if !c.isTx() {
		return c.owner.inTx(ctx, fn)
	}
	return c.savepoint(ctx, func() error { return fn(c) })
}

// savepoint runs fn inside a savepoint of c's transaction, rolling back to
// it when fn fails so that the transaction remains usable.
func (c *conn) savepoint(ctx context.Context, fn func() error) error {
	if _, err := c.q.ExecContext(ctx, "SAVEPOINT portcullis"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := c.q.ExecContext(ctx, "ROLLBACK TO SAVEPOINT portcullis"); rerr != nil {
			return errors.Join(err, rerr)
		}
		_, _ = c.q.ExecContext(ctx, "RELEASE SAVEPOINT portcullis")
		return err
	}
	_, err := c.q.ExecContext(ctx, "RELEASE SAVEPOINT portcullis")
	return err
}

// write runs one writing statement. Where a failed statement aborts the
// whole transaction (PostgreSQL), it runs inside a savepoint, so that every
// backend leaves a transaction usable after an error such as ErrConflict.
func (c *conn) write(ctx context.Context, fn func() error) error {
	if !c.isTx() {
		defer c.owner.lockWriter()()
		return fn()
	}
	if !c.flavor.AbortsTxOnError {
		return fn()
	}
	return c.savepoint(ctx, fn)
}

// lockRows is the suffix of a SELECT that locks what it reads: only
// inside a transaction, and only where the flavor needs it.
func (c *conn) lockRows() string {
	if !c.isTx() {
		return ""
	}
	return c.flavor.LockRows
}

func (c *conn) fail(op string, err error) error { return c.flavor.wrap(op, err) }

// exec runs a writing statement.
func (c *conn) exec(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	err = c.write(ctx, func() error {
		if s := c.prepared(ctx, query); s != nil {
			res, err = s.ExecContext(ctx, args...)
		} else {
			res, err = c.q.ExecContext(ctx, c.flavor.rebind(query), args...)
		}
		return err
	})
	return res, err
}

func (c *conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := c.prepared(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return c.q.QueryContext(ctx, c.flavor.rebind(query), args...)
}

func (c *conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s := c.prepared(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return c.q.QueryRowContext(ctx, c.flavor.rebind(query), args...)
}

// prepared is the cached statement for query, or nil. Inside a
// transaction it is the cached statement bound to the transaction
// (Tx.StmtContext), which reuses what the transaction's connection has
// prepared before instead of parsing and planning the SQL again: a third
// of a short statement's cost on SQLite.
func (c *conn) prepared(ctx context.Context, query string) *sql.Stmt {
	if c.stmts == nil {
		return nil
	}
	s := c.stmts.get(ctx, query)
	if s == nil || c.tx == nil {
		return s
	}
	return c.tx.StmtContext(ctx, s)
}

// execOne runs a statement that must touch exactly one row: none means the
// record does not exist.
func (c *conn) execOne(ctx context.Context, op, query string, args ...any) error {
	res, err := c.exec(ctx, query, args...)
	if err != nil {
		return c.fail(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return c.fail(op, err)
	}
	if n == 0 {
		return c.fail(op, sql.ErrNoRows)
	}
	return nil
}

// insert runs an INSERT ... RETURNING id and returns the new ID.
func (c *conn) insert(ctx context.Context, op, query string, args ...any) (int64, error) {
	var id int64
	err := c.write(ctx, func() error { return c.queryRow(ctx, query, args...).Scan(&id) })
	if err != nil {
		return 0, c.fail(op, err)
	}
	return id, nil
}

// exists fails with ErrNotFound unless table has a row with that ID. It lets
// reads of a record's children tell "none" from "no such record".
func (c *conn) exists(ctx context.Context, op, table string, id int64) error {
	var one int
	err := c.queryRow(ctx, "SELECT 1 FROM "+table+" WHERE id = ?", id).Scan(&one)
	if err != nil {
		return c.fail(op, err)
	}
	return nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// one runs a query for a single row and scans it.
func one[T any](ctx context.Context, c *conn, op string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(c.queryRow(ctx, query, args...))
	if err != nil {
		var zero T
		return zero, c.fail(op, err)
	}
	return v, nil
}

// all runs a query and scans every row.
func all[T any](ctx context.Context, c *conn, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := c.query(ctx, query, args...)
	if err != nil {
		return nil, c.fail(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, c.fail(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, c.fail(op, err)
	}
	return out, nil
}
