package sqlstore

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/portcullis/portcullis/store"
)

func TestRebind(t *testing.T) {
	q := `SELECT a FROM t WHERE b = ? AND c IN (?, ?) LIMIT ?`
	if got := (&Flavor{}).rebind(q); got != q {
		t.Errorf("? flavor changed the query: %s", got)
	}
	want := `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) LIMIT $4`
	if got := (&Flavor{NumberedParams: true}).rebind(q); got != want {
		t.Errorf("rebind = %s, want %s", got, want)
	}
}

func TestWrap(t *testing.T) {
	driverErr := errors.New("driver says no")
	f := &Flavor{
		Name:          "test",
		IsConflict:    func(err error) bool { return strings.Contains(err.Error(), "unique") },
		IsUnavailable: func(err error) bool { return strings.Contains(err.Error(), "dial") },
	}
	for _, tc := range []struct {
		err, want error
	}{
		{fmt.Errorf("unique: %w", driverErr), store.ErrConflict},
		{fmt.Errorf("dial: %w", driverErr), store.ErrUnavailable},
		{fmt.Errorf("wrapped: %w", store.ErrNotFound), store.ErrNotFound},
	} {
		got := f.wrap("op", tc.err)
		if !errors.Is(got, tc.want) || !strings.HasPrefix(got.Error(), "op: ") {
			t.Errorf("wrap(%v) = %v, want %v with op", tc.err, got, tc.want)
		}
	}
	if got := f.wrap("op", fmt.Errorf("dial: %w", driverErr)); !errors.Is(got, driverErr) {
		t.Errorf("wrap lost the driver error: %v", got)
	}
	if got := f.wrap("op", driverErr); errors.Is(got, store.ErrConflict) || errors.Is(got, store.ErrUnavailable) {
		t.Errorf("plain error mapped to a sentinel: %v", got)
	}
}

func TestLikeArg(t *testing.T) {
	for in, want := range map[string]string{
		"Grafana": "%grafana%",
		"50%_off": `%50\%\_off%`,
		`a\b`:     `%a\\b%`,
	} {
		if got := likeArg(in); got != want {
			t.Errorf("likeArg(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTimeRoundTrip(t *testing.T) {
	in := time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.FixedZone("X", -7*3600))
	var got time.Time
	if err := (timeCol{&got}).Scan(timeArg(in)); err != nil {
		t.Fatal(err)
	}
	if want := in.UTC().Truncate(time.Microsecond); got != want {
		t.Errorf("round trip = %v, want %v", got, want)
	}
	if timeArg(time.Time{}) != nil {
		t.Error("zero time must be NULL")
	}
	if err := (timeCol{&got}).Scan(nil); err != nil || !got.IsZero() {
		t.Errorf("NULL scanned as %v, %v", got, err)
	}
	if err := (timeCol{&got}).Scan("yesterday"); err == nil {
		t.Error("bad text scanned without error")
	}
	// Fixed width keeps text order equal to time order, which SQLite relies on.
	a, b := timeArg(time.Unix(10, 0)).(string), timeArg(time.Unix(9, 999999000)).(string)
	if len(a) != len(b) || a <= b {
		t.Errorf("text order broken: %s vs %s", a, b)
	}
}

func TestLoadMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("two")},
		"m/0001_init.sql": {Data: []byte("one")},
		"m/README":        {Data: []byte("not a migration")},
	}
	ms, err := LoadMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[1].Name != "0002_more" || ms[1].SQL != "two" {
		t.Fatalf("migrations = %+v", ms)
	}
	for name, bad := range map[string]fstest.MapFS{
		"unnumbered": {"m/init.sql": {}},
		"zero":       {"m/0000_init.sql": {}},
		"twice":      {"m/1_a.sql": {}, "m/01_b.sql": {}},
	} {
		if _, err := LoadMigrations(bad, "m"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
