// Package postgres is the store backend for several gateway nodes sharing
// one PostgreSQL database, reached with pgx through database/sql. It owns the
// PostgreSQL schema and connection handling; the queries are
// store/sqlstore's.
//
// Decisions:
//   - Migrations are embedded and applied by Open under a session-level
//     pg_advisory_lock, so nodes starting together apply each exactly once.
//   - A connection attempt gives up after connectTimeout unless the URL sets
//     connect_timeout, so an unreachable server fails Open in seconds.
//   - Errors name the server as host:port/dbname (Redact), never the URL:
//     it may hold a password.
//   - Any query parameter pgx does not know is sent as a run-time
//     parameter, so ?search_path=SCHEMA keeps the tables in one schema.
//   - The pool keeps up to pool_max_idle_conns idle connections (a URL
//     parameter, default 16, taken off before connecting) instead of
//     database/sql's 2: with 2, concurrent requests opened and closed a
//     connection for nearly every query, which cost /auth/request 2.5 to
//     4.6 times its rate. Each node may hold that many connections open,
//     so nodes × pool_max_idle_conns must fit the server's
//     max_connections.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlstore"
)

// connectTimeout bounds one connection attempt when the URL does not.
const connectTimeout = 5 * time.Second

// migrationLock is the pg_advisory_lock key that serialises migrations.
const migrationLock int64 = 0x706f727463756c6c // "portcull"

//go:embed migrations/*.sql
var migrations embed.FS

// Flavor is PostgreSQL's dialect for sqlstore.
var Flavor = sqlstore.Flavor{
	Name:            "postgres",
	NumberedParams:  true,
	AbortsTxOnError: true,
	LockRows:        " FOR UPDATE",
	IsConflict:      isConflict,
	IsUnavailable:   isUnavailable,
}

// Open connects to the database at url (postgres:// or key=value form) and
// brings its schema up to date. A server that cannot be reached is an error
// wrapping store.ErrUnavailable.
func Open(ctx context.Context, url string) (*sqlstore.DB, error) {
	where := "postgres " + Redact(url)
	cfg, err := config(url)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	idle, err := maxIdle(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxIdleConns(idle)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w: %w", where, store.ErrUnavailable, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return sqlstore.New(db, Flavor), nil
}

// config parses url, bounding connection attempts.
func config(url string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(url) // its errors mask the password
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	return cfg, nil
}

// defaultMaxIdle is the pool's idle connections without pool_max_idle_conns.
const defaultMaxIdle = 16

// maxIdle takes the pool_max_idle_conns parameter off cfg (so it is not sent
// to the server as a run-time parameter) and returns it.
func maxIdle(cfg *pgx.ConnConfig) (int, error) {
	v, ok := cfg.RuntimeParams["pool_max_idle_conns"]
	if !ok {
		return defaultMaxIdle, nil
	}
	delete(cfg.RuntimeParams, "pool_max_idle_conns")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, fmt.Errorf("pool_max_idle_conns %q: want a number from 1 to 1000", v)
	}
	return n, nil
}

// Redact names the server a connection URL points to as host:port/dbname,
// leaving out the user, the password and every parameter.
func Redact(url string) string {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return "(unparsable URL)"
	}
	return net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
}

// migrate applies the embedded migrations holding migrationLock on one
// connection, so that concurrent Opens take turns.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := sqlstore.LoadMigrations(migrations, "migrations")
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer unlock(ctx, conn)
	return sqlstore.Migrate(ctx, conn, Flavor, ms)
}

// unlock releases migrationLock, or drops the connection holding it, so the
// lock can never stay behind in the pool.
func unlock(ctx context.Context, conn *sql.Conn) {
	_, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// isConflict reports unique_violation and foreign_key_violation.
func isConflict(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "23505" || e.Code == "23503")
}

// isUnavailable reports failures to connect and connections lost: network
// errors, class 08 (connection exception) and the server shutting down.
func isUnavailable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" ||
			pe.Code == "57P02" || pe.Code == "57P03"
	}
	return false
}
