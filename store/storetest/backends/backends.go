// Package backends opens a new, empty store of each backend for the tests
// of packages built on the store (scim, enterprise, bench): SQLite always,
// PostgreSQL when GATEWAY_TEST_POSTGRES_URL is set (in a schema of the
// test's own). It is apart from storetest because the backends' own tests
// import storetest. Only tests may import it.
package backends

import (
	"path/filepath"
	"testing"

	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/postgres"
	"github.com/portcullis/portcullis/store/sqlite"
	"github.com/portcullis/portcullis/store/storetest"
)

// Backend names a backend and opens a new, empty store of it, closed when
// the test ends.
type Backend struct {
	Name string
	Open func(t *testing.T) store.Store
}

// All are the backends, SQLite first. PostgreSQL's Open skips without
// GATEWAY_TEST_POSTGRES_URL, or fails under
// GATEWAY_TEST_REQUIRE_SERVICES=1.
var All = []Backend{{"sqlite", SQLite}, {"postgres", Postgres}}

// SQLite opens a store in a file of the test's temporary directory.
func SQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Postgres opens a store in a new schema of GATEWAY_TEST_POSTGRES_URL.
func Postgres(t *testing.T) store.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), storetest.PostgresSchema(t, storetest.PostgresURL(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
