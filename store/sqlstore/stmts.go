package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxStmts bounds the statement cache. The store's queries are constants
// but for a few built from filters (events, pages), whose variants are few;
// the bound only guards against a caller that makes many.
const maxStmts = 256

// stmtCache keeps one prepared statement per query text for calls outside a
// transaction. Preparing is a large share of a short query's cost (SQLite
// parses and plans the SQL every time otherwise); database/sql prepares a
// cached statement once per pooled connection and reuses it after.
type stmtCache struct {
	db     *sql.DB
	flavor *Flavor
	mu     sync.RWMutex
	m      map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB, f *Flavor) *stmtCache {
	return &stmtCache{db: db, flavor: f, m: map[string]*sql.Stmt{}}
}

// get returns the prepared statement for query (written with ? placeholders),
// or nil when it cannot be prepared or the cache is full: the caller then
// runs the query text as is, which reports any error the same way.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	s := c.m[query]
	c.mu.RUnlock()
	if s != nil {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.m[query]; s != nil {
		return s
	}
	if len(c.m) >= maxStmts {
		return nil
	}
	s, err := c.db.PrepareContext(ctx, c.flavor.rebind(query))
	if err != nil {
		return nil
	}
	c.m[query] = s
	return s
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		_ = s.Close()
		delete(c.m, q)
	}
}
