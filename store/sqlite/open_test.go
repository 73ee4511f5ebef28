package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlstore"
)

func TestOpenPathForms(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{
		filepath.Join(dir, "plain", "new", "a.db"),
		"sqlite://" + filepath.Join(dir, "url", "b.db"),
		"sqlite:" + filepath.Join(dir, "short", "c.db"),
		filepath.Join(dir, "odd ?#% name.db"),
	} {
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open(%q): %v", path, err)
		}
		if err := s.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, err := os.Stat(FilePath(path)); err != nil {
			t.Fatalf("Open(%q) did not create %s: %v", path, FilePath(path), err)
		}
	}
}

func TestOpenAgainKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	s := mustOpen(t, path)
	u := store.User{Email: "kept@example.com"}
	if err := s.CreateUser(t.Context(), &u); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = mustOpen(t, path)
	if _, err := s.UserByEmail(t.Context(), "kept@example.com"); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, path, "schema_migrations"); n != len(ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no write-ahead log beside the database: %v", err)
	}
}

// Two stores on one file, as the CLI and the server, opened at the same time
// on a new file: both migrate without error and see each other's writes.
func TestTwoOpensShareOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	stores := make([]*sqlstore.DB, 4)
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	a, b := stores[0], stores[1]
	g := store.Group{Name: "from-cli"}
	if err := a.CreateGroup(t.Context(), &g); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GroupByName(t.Context(), "from-cli"); err != nil {
		t.Fatalf("other store: %v", err)
	}
	err := b.CreateGroup(t.Context(), &store.Group{Name: "FROM-CLI"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("conflict across stores: %v", err)
	}
}

// helperEnv makes the test binary act as a second process writing to a
// database, in TestTwoProcesses.
const helperEnv = "PORTCULLIS_SQLITE_HELPER_DB"

func TestMain(m *testing.M) {
	if path := os.Getenv(helperEnv); path != "" {
		if err := writeEvents(path, "child"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const eventsPerWriter = 50

func writeEvents(path, actor string) error {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		return err
	}
	defer s.Close()
	for i := range eventsPerWriter {
		err := s.InTx(ctx, func(tx store.Tx) error {
			if _, err := tx.ListEvents(ctx, store.EventFilter{Limit: 1}); err != nil {
				return err
			}
			return tx.Record(ctx, &audit.Event{Type: "test.write", Actor: actor, Subject: fmt.Sprint(i)})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Another process (the CLI while the server runs) opens and writes the same
// new file at the same time: neither fails, and no write is lost.
func TestTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	out := make(chan error, 1)
	go func() {
		b, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%w: %s", err, b)
		}
		out <- err
	}()
	if err := writeEvents(path, "parent"); err != nil {
		t.Fatalf("parent: %v", err)
	}
	if err := <-out; err != nil {
		t.Fatalf("child process: %v", err)
	}
	if n := countRows(t, path, "events"); n != 2*eventsPerWriter {
		t.Fatalf("events = %d, want %d", n, 2*eventsPerWriter)
	}
}

func mustOpen(t *testing.T, path string) *sqlstore.DB {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func countRows(t *testing.T, path, table string) int {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A path that cannot be a database file (a directory) fails Open with
// ErrUnavailable, as a database that cannot be reached.
func TestOpenUnopenable(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(t.Context(), dir)
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Open(directory) = %v, want ErrUnavailable naming %s", err, dir)
	}
}
