package postgres

import (
	"database/sql"
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
