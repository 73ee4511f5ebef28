package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/store"
)

// Flavor describes what differs between SQL dialects and drivers. Backends
// fill it in with their driver's error types, so this package needs none.
type Flavor struct {
	// Name names the backend in errors, e.g. "sqlite".
	Name string
	// NumberedParams rewrites ? placeholders as $1, $2, ... (PostgreSQL).
	NumberedParams bool
	// AbortsTxOnError says that a failed statement aborts its whole
	// transaction (PostgreSQL), so that writes in a transaction need a
	// savepoint each to leave it usable, as SQLite does.
	AbortsTxOnError bool
	// SingleWriter says the database takes one writer at a time (SQLite).
	// Writers of this process then queue on a mutex, which hands over at
	// once, instead of on the database's lock, whose busy handler polls with
	// sleeps; other processes (the CLI) still meet the busy timeout.
	SingleWriter bool
	// CacheStatements has statements prepared once and kept (SQLite, whose
	// driver would parse and plan each anew); inside a transaction they are
	// bound to it with Tx.StmtContext. The first use of a query prepares it
	// on another pooled connection, so the pool must not be limited to one
	// connection. pgx
	// keeps its own per-connection statement cache, and an explicit Prepare
	// there would defeat a simple-protocol setting meant for a pooler.
	CacheStatements bool
	// LockRows is appended to a SELECT that must lock the rows it reads
	// until the transaction ends (" FOR UPDATE" in PostgreSQL). Empty where
	// a transaction already excludes every other writer (SQLite).
	LockRows string
	// IsConflict reports a unique or foreign-key violation.
	IsConflict func(error) bool
	// IsUnavailable reports that the database could not be reached.
	IsUnavailable func(error) bool
}

// rebind rewrites the ? placeholders of query for the flavor. Queries in
// this package never contain ? inside literals.
func (f *Flavor) rebind(query string) string {
	if !f.NumberedParams {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// wrap adds op to err and maps driver errors onto the store's sentinels,
// keeping the driver's error in the chain for the log.
func (f *Flavor) wrap(op string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict),
		errors.Is(err, store.ErrUnavailable):
		return fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	case f.IsConflict != nil && f.IsConflict(err):
		return fmt.Errorf("%s: %w: %w", op, store.ErrConflict, err)
	case f.IsUnavailable != nil && f.IsUnavailable(err):
		return fmt.Errorf("%s: %s %w: %w", op, f.Name, store.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
