package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// openTemp opens a new database in a test's temporary directory.
func openTemp(t testing.TB) store.Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "portcullis.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
