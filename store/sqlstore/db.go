// Package sqlstore implements store.Store once, over database/sql, for every
// SQL backend. A backend (store/sqlite, store/postgres) opens the *sql.DB,
// runs its own migrations and hands both to New with a Flavor that describes
// its dialect; nothing here imports a driver.
//
// Decisions:
//   - Where the flavor asks (CacheStatements: SQLite), statements run
//     outside a transaction are prepared once per query text and kept
//     (stmtCache, at most maxStmts): parsing and planning was a large share
//     of a short query's cost. Inside a transaction they run as text.
//   - Queries are written with ? placeholders and rebound per flavor, as in
//     dex's storage/sql. New IDs come from INSERT ... RETURNING id, which
//     SQLite (3.35+) and PostgreSQL both support.
//   - Uniqueness without regard to case uses *_key columns holding
//     strings.ToLower of the trimmed value, computed here rather than by SQL
//     lower(), so that both backends fold Unicode the same way. Emails and
//     group, folder, app and IdP names are trimmed before they are stored.
//   - Event filters (Subject, Actor, Search) fold case with SQL lower(): in
//     SQLite that folds ASCII letters only.
//   - Times are written as UTC text with microseconds (which sorts in time
//     order in SQLite and parses as TIMESTAMPTZ in PostgreSQL); the zero time
//     is NULL. Maps, lists and settings are JSON text, kept byte for byte.
//   - Folder members are stored in two nullable columns, user_id and
//     group_id, each a foreign key with ON DELETE CASCADE, so deleting a user
//     or group removes its shares without code that could forget to.
//   - A missing referenced record (a member, app or folder that does not
//     exist) is ErrConflict, as a foreign-key violation is.
//   - Create methods leave their argument exactly as a later read returns it
//     (times in UTC to the microsecond, nil maps as empty maps), and set
//     CreatedAt only when the caller left it zero. UpdatedAt is the store's.
//   - Methods called on DB outside InTx that write more than one statement
//     run in their own transaction; inside InTx, in a savepoint.
//   - Where the flavor has a single writer (SQLite), Record outside a
//     transaction commits the events of concurrent calls together (group
//     commit, eventQueue): every commit writes the events table's and its
//     indexes' pages to the WAL, and a busy server's audit events then
//     share those writes. Each call still returns once its own event is
//     committed, with its own error. PostgreSQL groups commits itself.
//   - Writes that change a user, a group, a membership or an enrolment (a
//     second factor) run the hook set with OnDirectoryChange once they are
//     committed (a transaction, after its commit), outside the write lock,
//     so that copies kept in memory (forward auth's memo) can be dropped:
//     with the users concerned, or none for a change to a group itself.
//     Creating a user or a group does not run it: no copy of what did not
//     exist can be held. Audit events, credentials, apps and the rest do
//     not either.
//   - A failed call inside InTx undoes only itself and leaves the
//     transaction usable, so that a caller can handle ErrConflict and go on.
//     PostgreSQL aborts a transaction on any error, so there (Flavor
//     AbortsTxOnError) each write in a transaction runs in a savepoint.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"

	"github.com/portcullis/portcullis/store"
)

// DB is a store.Store over a *sql.DB.
type DB struct {
	conn
	sql    *sql.DB
	flavor *Flavor
	writer sync.Mutex // held by each write when flavor.SingleWriter
	events eventQueue // Record's group commit when flavor.SingleWriter
	// onClose runs before the *sql.DB closes: a backend's background work.
	onClose []func()
	// onDirectory runs after each committed write to users, groups or
	// memberships (OnDirectoryChange).
	onDirectory func(ctx context.Context, users []int64)
}

// OnDirectoryChange has fn run after every committed write that changes a
// user, a group, a membership or an enrolment (a transaction: once, after
// its commit, if it made any), once the write lock is released: the hook
// with which nodes that keep users, groups and factors in memory hear of
// the change (forward auth's memo). users are the users whose record,
// memberships or enrolments changed; nil
// means a group itself changed (renamed, deleted), which concerns all its
// members. Set it before the store is used.
func (d *DB) OnDirectoryChange(fn func(ctx context.Context, users []int64)) { d.onDirectory = fn }

// dirChange is what the writes of a transaction changed in the directory.
type dirChange struct {
	groups bool    // a group itself: every user may be concerned
	users  []int64 // users whose record or memberships changed
}

// usersChanged passes on err, the outcome of a write to users or
// memberships, noting the change to users when it succeeded.
func (c *conn) usersChanged(ctx context.Context, err error, users ...int64) error {
	if err == nil && len(users) > 0 {
		c.noteDirectory(ctx, dirChange{users: users})
	}
	return err
}

// groupsChanged passes on err, the outcome of a write to a group itself,
// noting the change when it succeeded.
func (c *conn) groupsChanged(ctx context.Context, err error) error {
	if err == nil {
		c.noteDirectory(ctx, dirChange{groups: true})
	}
	return err
}

// noteDirectory runs OnDirectoryChange's hook at once outside a
// transaction, and keeps the change for its commit inside one.
func (c *conn) noteDirectory(ctx context.Context, ch dirChange) {
	if c.isTx() {
		c.changed.groups = c.changed.groups || ch.groups
		c.changed.users = append(c.changed.users, ch.users...)
		return
	}
	c.owner.announce(ctx, ch)
}

// announce runs the hook for a committed change.
func (d *DB) announce(ctx context.Context, ch dirChange) {
	switch {
	case d.onDirectory == nil:
	case ch.groups:
		d.onDirectory(ctx, nil)
	case len(ch.users) > 0:
		slices.Sort(ch.users)
		d.onDirectory(ctx, slices.Compact(ch.users))
	}
}

// OnClose has Close run fn first, before the *sql.DB closes; a backend
// stops its background work (SQLite's checkpointer) with it.
func (d *DB) OnClose(fn func()) { d.onClose = append(d.onClose, fn) }

// lockWriter takes the writer lock when the flavor needs one and returns
// its release.
func (d *DB) lockWriter() func() {
	if !d.flavor.SingleWriter {
		return func() {}
	}
	d.writer.Lock()
	return d.writer.Unlock
}

// New returns a store over db, which must already hold the schema.
func New(db *sql.DB, f Flavor) *DB {
	d := &DB{sql: db, flavor: &f}
	d.conn = conn{q: db, flavor: d.flavor, owner: d}
	if f.CacheStatements {
		d.stmts = newStmtCache(db, d.flavor)
	}
	return d
}

// InTx runs fn in one transaction, rolling back when fn returns an error or
// panics (the panic then continues).
func (d *DB) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return d.inTx(ctx, func(c *conn) error { return fn(c) })
}

func (d *DB) inTx(ctx context.Context, fn func(c *conn) error) error {
	changed, err := d.runTx(ctx, fn)
	if err == nil {
		d.announce(ctx, changed)
	}
	return err
}

// runTx runs fn in a transaction and returns what it changed in the
// directory.
func (d *DB) runTx(ctx context.Context, fn func(c *conn) error) (changed dirChange, err error) {
	defer d.lockWriter()()
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return dirChange{}, d.fail("begin transaction", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
	}()
	c := &conn{q: tx, flavor: d.flavor, stmts: d.stmts, tx: tx}
	if err := fn(c); err != nil {
		_ = tx.Rollback()
		return dirChange{}, err
	}
	if err := tx.Commit(); err != nil {
		return dirChange{}, d.fail("commit", err)
	}
	return c.changed, nil
}

// Ping reports whether the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.sql.PingContext(ctx); err != nil {
		return d.fail("ping "+d.flavor.Name, err)
	}
	return nil
}

// Close closes the underlying *sql.DB.
func (d *DB) Close() error {
	for _, fn := range d.onClose {
		fn()
	}
	d.onClose = nil
	if d.stmts != nil {
		d.stmts.close()
	}
	if err := d.sql.Close(); err != nil {
		return fmt.Errorf("close %s: %w", d.flavor.Name, err)
	}
	return nil
}

var _ store.Store = (*DB)(nil)
