package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// PostgresURL returns GATEWAY_TEST_POSTGRES_URL. Without it the test skips,
// naming the variable, or fails under GATEWAY_TEST_REQUIRE_SERVICES=1.
func PostgresURL(t testing.TB) string {
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

// PostgresSchema creates an empty schema of the test's own in the database
// base names, drops it when the test ends, and returns base with its
// search_path, so that tests sharing one database never meet.
func PostgresSchema(t testing.TB, base string) string {
	t.Helper()
	schema := "portcullis_test_" + strings.ToLower(rand.Text()[:12])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withParam(base, "search_path", schema)
}

// withParam sets a connection parameter in a URL or key=value DSN.
func withParam(base, key, value string) string {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return fmt.Sprintf("%s %s=%s", base, key, value)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
