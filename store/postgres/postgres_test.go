package postgres

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlstore"
	"github.com/portcullis/portcullis/store/storetest"
)

func TestConformance(t *testing.T) {
	u := storetest.PostgresSchema(t, storetest.PostgresURL(t))
	openSchemaURL(t, u) // migrates once; each subtest then empties the tables
	storetest.Run(t, func(t *testing.T) store.Store {
		empty(t, u)
		return openSchemaURL(t, u)
	})
}

// Nodes starting together migrate one schema once, without errors.
func TestConcurrentOpen(t *testing.T) {
	u := storetest.PostgresSchema(t, storetest.PostgresURL(t))
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			s, err := Open(t.Context(), u)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s := openSchemaURL(t, u)
	if err := s.CreateUser(t.Context(), &store.User{Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
}

func openSchemaURL(t *testing.T, u string) *sqlstore.DB {
	t.Helper()
	s, err := Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// empty deletes every row of the schema at u but schema_migrations, and
// restarts its sequences. DELETE is much faster than TRUNCATE or a new
// schema on tables this small.
func empty(t *testing.T, u string) {
	t.Helper()
	db, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stmt string
	err = db.QueryRowContext(t.Context(), `SELECT string_agg('DELETE FROM ' || quote_ident(tablename), '; ')
		FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'`).Scan(&stmt)
	if err != nil {
		t.Fatal(err)
	}
	stmt += `; SELECT setval(c.oid, 1, false) FROM pg_class c
		WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace`
	if _, err := db.ExecContext(t.Context(), stmt); err != nil {
		t.Fatal(err)
	}
}

// pool_max_idle_conns sizes the pool and is never sent to the server (which
// would refuse it as an unknown run-time parameter).
func TestPoolMaxIdleConns(t *testing.T) {
	u := storetest.PostgresSchema(t, storetest.PostgresURL(t))
	sep := "&"
	if !strings.Contains(u, "?") {
		sep = "?"
	}
	s, err := Open(t.Context(), u+sep+"pool_max_idle_conns=40")
	if err != nil {
		t.Fatalf("open with pool_max_idle_conns: %v", err)
	}
	if err := s.CreateUser(t.Context(), &store.User{Email: "pool@example.com"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, bad := range []string{"0", "many", "5000"} {
		if _, err := Open(t.Context(), u+sep+"pool_max_idle_conns="+bad); err == nil || !strings.Contains(err.Error(), "pool_max_idle_conns") {
			t.Errorf("pool_max_idle_conns=%s: %v, want an error naming it", bad, err)
		}
	}
	cfg, err := config("postgres://u@h/db?pool_max_idle_conns=7&search_path=s")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := maxIdle(cfg); n != 7 || err != nil || cfg.RuntimeParams["pool_max_idle_conns"] != "" || cfg.RuntimeParams["search_path"] != "s" {
		t.Errorf("maxIdle = %d, %v; params left %v", n, err, cfg.RuntimeParams)
	}
	cfg, _ = config("postgres://u@h/db")
	if n, _ := maxIdle(cfg); n != defaultMaxIdle {
		t.Errorf("default = %d", n)
	}
}
