package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered schema change, read from a file named like
// 0001_init.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads the *.sql files of dir in fsys, ordered by version.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	var ms []Migration
	for _, file := range files {
		m, err := loadMigration(fsys, file)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := 1; i < len(ms); i++ {
		if ms[i].Version == ms[i-1].Version {
			return nil, fmt.Errorf("load migrations: version %d twice", ms[i].Version)
		}
	}
	return ms, nil
}

func loadMigration(fsys fs.FS, file string) (Migration, error) {
	base := path.Base(file)
	num, _, _ := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	if err != nil || v <= 0 {
		return Migration{}, fmt.Errorf("load migrations: %s: name must start with a positive number", base)
	}
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		return Migration{}, fmt.Errorf("load migrations: %w", err)
	}
	return Migration{Version: v, Name: strings.TrimSuffix(base, ".sql"), SQL: string(b)}, nil
}

// Beginner starts transactions: a *sql.DB, or a *sql.Conn that holds a lock.
type Beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// Migrate applies the migrations not yet recorded in schema_migrations, each
// in its own transaction that also records it. It checks and applies inside
// the same transaction, so it is safe against a concurrent Migrate wherever
// the first write of a transaction excludes other writers (SQLite with
// immediate transactions); PostgreSQL callers hold an advisory lock instead.
func Migrate(ctx context.Context, db Beginner, f Flavor, ms []Migration) error {
	for _, m := range ms {
		if err := migrate(ctx, db, &f, m); err != nil {
			return fmt.Errorf("migrate %s %s: %w", f.Name, m.Name, err)
		}
	}
	return nil
}

func migrate(ctx context.Context, db Beginner, f *Flavor, m Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return f.wrap("begin", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	var n int
	err = tx.QueryRowContext(ctx, f.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`),
		m.Version).Scan(&n)
	if err != nil || n > 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, f.rebind(`INSERT INTO schema_migrations (version, name, applied_at)
		VALUES (?, ?, ?)`), m.Version, m.Name, timeArg(now()))
	if err != nil {
		return err
	}
	return tx.Commit()
}
