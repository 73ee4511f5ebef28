// Package sqlite is the embedded store backend: one database file, written
// through modernc.org/sqlite (pure Go, no cgo). It owns the SQLite schema
// and the DSN; the queries are store/sqlstore's.
//
// Decisions:
//   - WAL journal, so readers never wait for the writer, with
//     synchronous=NORMAL, as WAL makes safe against corruption.
//   - Every transaction begins IMMEDIATE (_txlock=immediate) and every
//     connection waits up to busyTimeout for a lock: a writer waits for the
//     one before it instead of failing with SQLITE_BUSY, which a DEFERRED
//     transaction that reads before it writes cannot do. This holds across
//     processes, so the CLI can write while the server runs.
//   - Foreign keys are on for every connection; the schema relies on them
//     for cascades.
//   - Checkpoints run in the background (checkpointInterval), not in the
//     request that happens to commit the 1000th WAL page: SQLite's
//     auto-checkpoint fsyncs the WAL and the database file inside that
//     request's statement, stalling it for up to tens of milliseconds while
//     its core sits idle (73 ms was seen under load). wal_autocheckpoint(0)
//     turns it off for this process's connections only. A commit is in the
//     WAL before it returns either way; with synchronous=NORMAL the WAL is
//     fsynced at checkpoints, which now come at most a second apart instead
//     of every 1000 pages. Every tenth is a TRUNCATE checkpoint, which
//     empties the WAL file: passive ones alone let it grow without bound
//     under continuous writes. The last connection to close still
//     checkpoints, as SQLite always does.
//   - Temporary tables and statement journals live in memory
//     (temp_store=MEMORY): a statement in a transaction that has written
//     keeps a journal to undo itself with, and on disk that was a third of
//     the time of a 10,000-user batch (a temporary file per transaction).
//   - Migrations are embedded and applied by Open, each in its own
//     immediate transaction, so two processes opening one file at once
//     apply each exactly once.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/portcullis/portcullis/store/sqlstore"
)

// busyTimeout is how long, in milliseconds, a connection waits for another
// writer before failing.
const busyTimeout = 10000

//go:embed migrations/*.sql
var migrations embed.FS

// Flavor is SQLite's dialect for sqlstore.
var Flavor = sqlstore.Flavor{
	Name:            "sqlite",
	SingleWriter:    true,
	CacheStatements: true,
	IsConflict:      isConflict,
	IsUnavailable:   isUnavailable,
}

// Open opens (creating when missing, with its parent directory) the
// database at path, which may be a file path or a sqlite://PATH or
// sqlite:PATH URL, and brings its schema up to date.
func Open(ctx context.Context, path string) (*sqlstore.DB, error) {
	file, err := filepath.Abs(FilePath(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(file))
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", file, err)
	}
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite %s: %w", file, err)
	}
	st := sqlstore.New(db, Flavor)
	st.OnClose(checkpoint(db, checkpointInterval))
	return st, nil
}

// maxIdleConns is how many connections the pool keeps open between
// queries, and connMaxIdleTime how long an unused one stays. database/sql
// keeps 2 by default, so under concurrent requests most queries opened a
// connection (the file, the pragmas, the schema read anew) and prepared
// their cached statement on it again, and closed it after: with 64
// concurrent /auth/request calls keeping them took a fifth off the CPU per
// request and raised the rate by a quarter (bench/README.md). The number of
// open connections stays unbounded, as before, so a caller holding one
// never waits for another.
const (
	maxIdleConns    = 64
	connMaxIdleTime = 5 * time.Minute
)

// checkpointInterval is how often the background checkpointer runs. At
// thousands of commits a second the WAL grows by a few tens of MB between
// checkpoints, which a passive checkpoint copies in one go.
const checkpointInterval = time.Second

// truncateEvery is how many ticks pass between TRUNCATE checkpoints.
const truncateEvery = 10

// checkpoint runs a passive checkpoint every interval, and every
// truncateEvery-th time a TRUNCATE one, until the returned stop is called,
// which waits for it to end. A passive checkpoint never waits for readers
// or writers; whatever it cannot copy yet, the next one does. But under
// continuous writes it never finds the WAL fully copied with no reader on
// it, so SQLite never starts the file over and it grows without bound (128
// MB in 9 s of the SSO benchmark): the TRUNCATE checkpoint waits (up to the
// busy timeout) for the readers of the moment, copies everything and
// empties the file. Failures are not fatal (the WAL only grows until one
// passes), so they are left to the next tick.
func checkpoint(db *sql.DB, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for tick := 1; ; tick++ {
			select {
			case <-done:
				return
			case <-t.C:
				_ = checkpointOnce(db, tick%truncateEvery == 0)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// checkpointOnce runs one passive checkpoint, or a TRUNCATE one.
func checkpointOnce(db *sql.DB, truncate bool) error {
	mode := "PASSIVE"
	if truncate {
		mode = "TRUNCATE"
	}
	_, err := db.Exec("PRAGMA wal_checkpoint(" + mode + ")")
	return err
}

// FilePath is the file that a database setting names.
func FilePath(path string) string {
	for _, prefix := range []string{"sqlite://", "sqlite:"} {
		if rest, ok := strings.CutPrefix(path, prefix); ok {
			return rest
		}
	}
	return path
}

// dsn is the driver's name for file, which must be absolute, with the
// pragmas every connection needs. It is a file: URI, so that a path holding
// '?' or '#' stays a path.
func dsn(file string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "wal_autocheckpoint(0)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(file), RawQuery: q.Encode()}
	return u.String()
}

// migrate applies the migrations. On a brand-new file, several processes
// opening it at once can get SQLITE_BUSY without the busy handler being
// consulted (while one of them switches the file to WAL, SQLite reports busy
// at once rather than risk a deadlock), so a busy error is retried, within
// the same bound as the busy timeout.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		return err
	}
	deadline := time.Now().Add(busyTimeout * time.Millisecond)
	for {
		err = sqlstore.Migrate(ctx, db, Flavor, ms)
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func isBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

func isConflict(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY,
		sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return true
	}
	return false
}

func isUnavailable(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CANTOPEN
}
