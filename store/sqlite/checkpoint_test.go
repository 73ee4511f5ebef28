package sqlite

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Commits stay in the WAL (no request pays for an fsync'ing auto-checkpoint)
// until the background checkpointer copies them into the database file.
func TestCheckpointInBackground(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.db")
	db, err := sql.Open("sqlite", dsn(file))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection, so the WAL outlives each statement
	var auto int
	if err := db.QueryRowContext(t.Context(), "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("wal_autocheckpoint = %d, %v; want 0", auto, err)
	}
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE t (x TEXT)"); err != nil {
		t.Fatal(err)
	}
	before := size(t, file)
	big := strings.Repeat("x", 4096)
	for range 2000 { // well past the 1000 pages that would auto-checkpoint
		if _, err := db.ExecContext(t.Context(), "INSERT INTO t VALUES (?)", big); err != nil {
			t.Fatal(err)
		}
	}
	if got := size(t, file); got != before {
		t.Fatalf("database file grew from %d to %d bytes before any checkpoint", before, got)
	}
	stop := checkpoint(db, 10*time.Millisecond)
	defer stop()
	for deadline := time.Now().Add(5 * time.Second); size(t, file) < 2000*4096; {
		if time.Now().After(deadline) {
			t.Fatalf("database file is %d bytes after 5 s; the checkpointer did not run", size(t, file))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func size(t *testing.T, file string) int64 {
	t.Helper()
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// A passive checkpoint copies the WAL but leaves the file its size; the
// TRUNCATE one the checkpointer runs every truncateEvery ticks empties it,
// so the WAL cannot grow without bound under continuous writes.
func TestTruncateCheckpointEmptiesTheWAL(t *testing.T) {
	file := filepath.Join(t.TempDir(), "w.db")
	db, err := sql.Open("sqlite", dsn(file))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE t (x TEXT)"); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("y", 4096)
	for range 500 {
		if _, err := db.ExecContext(t.Context(), "INSERT INTO t VALUES (?)", big); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkpointOnce(db, false); err != nil {
		t.Fatal(err)
	}
	if got := size(t, file+"-wal"); got < 500*4096 {
		t.Fatalf("WAL is %d bytes after a passive checkpoint; expected it to keep its size", got)
	}
	if err := checkpointOnce(db, true); err != nil {
		t.Fatal(err)
	}
	if got := size(t, file+"-wal"); got != 0 {
		t.Errorf("WAL is %d bytes after a TRUNCATE checkpoint, want 0", got)
	}
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM t").Scan(&n); err != nil || n != 500 {
		t.Errorf("rows after checkpoints = %d, %v", n, err)
	}
}
