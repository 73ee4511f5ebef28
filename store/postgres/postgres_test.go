package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlstore"
	"github.com/portcullis/portcullis/store/storetest"
)

func TestConformance(t *testing.T) {
	u := newSchema(t, testURL(t))
	openSchemaURL(t, u) // migrates once; each subtest then empties the tables
	storetest.Run(t, func(t *testing.T) store.Store {
		empty(t, u)
		return openSchemaURL(t, u)
	})
}

// testURL is the server to test against, from GATEWAY_TEST_POSTGRES_URL.
func testURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("GATEWAY_TEST_POSTGRES_URL")
	switch {
	case u != "":
		return u
	case os.Getenv("GATEWAY_TEST_REQUIRE_SERVICES") == "1":
		t.Fatal("GATEWAY_TEST_POSTGRES_URL is not set, and GATEWAY_TEST_REQUIRE_SERVICES=1")
	default:
		t.Skip("GATEWAY_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return ""
}

// newSchema creates an empty schema and returns base with its search_path.
func newSchema(t *testing.T, base string) string {
	t.Helper()
	schema := "portcullis_test_" + strings.ToLower(rand.Text()[:12])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("%s: %v", Redact(base), err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withParam(t, base, "search_path", schema)
}

func withParam(t *testing.T, base, key, value string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return fmt.Sprintf("%s %s=%s", base, key, value) // key=value form
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// Nodes starting together migrate one schema once, without errors.
func TestConcurrentOpen(t *testing.T) {
	u := newSchema(t, testURL(t))
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
