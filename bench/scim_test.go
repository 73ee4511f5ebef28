package bench_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for the schema

	"github.com/portcullis/portcullis/bench"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/postgres"
	"github.com/portcullis/portcullis/store/sqlite"
	"github.com/portcullis/portcullis/store/storetest"
)

// scimBackend is one store the SCIM benchmarks run on. Seeding 100,000
// users takes a minute, so each backend's directory is built once per test
// process, by the first benchmark that needs it, and removed by TestMain.
type scimBackend struct {
	name string
	// where is the backend's location; it skips b when there is none.
	where func(b *testing.B) string
	open  func(ctx context.Context, where string) (*scimStore, error)

	once    sync.Once
	st      *scimStore
	fx      *bench.SCIM
	err     error
	settled time.Duration // how long st.settle took
	// member says whether the outsider is in the big group: PATCH adds
	// and removes them in turn, across runs.
	member bool
}

// scimStore is an open store and what the benchmarks do with it besides.
type scimStore struct {
	store.Store
	// settle brings the store to rest after seeding; nil: nothing to do.
	settle func(ctx context.Context) error
	// remove closes the store and deletes its data.
	remove func()
}

var scimBackends = []*scimBackend{
	{name: "sqlite", where: func(*testing.B) string { return "" }, open: openSQLite},
	{name: "postgres", where: func(b *testing.B) string { return storetest.PostgresURL(b) }, open: openPostgres},
}

// TestMain sets the Go runtime as `gateway serve` does (the collector's
// target, server.TuneRuntime), so that every benchmark measures a node as
// it runs, and removes the SCIM directories after every test and benchmark.
func TestMain(m *testing.M) {
	server.TuneRuntime()
	bench.Child(loadChecks) // a load generator's child process runs its job and exits here
	code := m.Run()
	for _, be := range scimBackends {
		if be.fx != nil {
			be.fx.Close()
			be.st.remove()
		}
	}
	os.Exit(code)
}

// openSQLite opens a store in a directory of its own: a benchmark's
// TempDir would go when that benchmark ends.
func openSQLite(ctx context.Context, _ string) (*scimStore, error) {
	dir, err := os.MkdirTemp("", "portcullis-bench-scim-")
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "gw.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &scimStore{Store: st, remove: func() { st.Close(); os.RemoveAll(dir) }}, nil
}

// openPostgres opens a store in a new schema of the database at base (as
// storetest.PostgresSchema does, for the whole process rather than one
// test). Settling is VACUUM ANALYZE, as autovacuum would do on a server
// where it is on (it is off on the test server): seeding leaves the
// planner without statistics, and the groups table with 60,000 dead
// versions of its rows (each AddMember updates the group's version).
func openPostgres(ctx context.Context, base string) (*scimStore, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("GATEWAY_TEST_POSTGRES_URL must be a postgres:// URL here")
	}
	schema := "portcullis_bench_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := postgres.Open(ctx, u.String())
	if err != nil {
		drop()
		return nil, err
	}
	settle := func(ctx context.Context) error {
		_, err := admin.ExecContext(ctx, "VACUUM (ANALYZE) "+schema+".users, "+schema+".groups, "+schema+".memberships")
		return err
	}
	return &scimStore{Store: st, settle: settle, remove: func() { st.Close(); drop() }}, nil
}

// fixture returns the backend's seeded directory behind the handler.
func (be *scimBackend) fixture(b *testing.B) *bench.SCIM {
	b.Helper()
	where := be.where(b)
	be.once.Do(func() {
		be.err = be.build(context.Background(), where)
		if be.err == nil {
			b.Logf("%s: seeded %d users and %d groups in %v (then %v settling)", be.name, bench.SCIMUsers,
				bench.SCIMGroups, be.fx.Seeding.Round(time.Millisecond), be.settled.Round(time.Millisecond))
		}
	})
	if be.err != nil {
		b.Fatalf("%s: %v", be.name, be.err)
	}
	return be.fx
}

func (be *scimBackend) build(ctx context.Context, where string) error {
	st, err := be.open(ctx, where)
	if err != nil {
		return err
	}
	fx, err := bench.ServeSCIM(ctx, st)
	if err != nil {
		st.remove()
		return err
	}
	err = fx.Seed(ctx, st)
	if err == nil && st.settle != nil {
		start := time.Now()
		err = st.settle(ctx)
		be.settled = time.Since(start)
	}
	if err != nil {
		fx.Close()
		st.remove()
		return err
	}
	be.st, be.fx = st, fx
	return nil
}

// eachSCIM runs fn on each backend as a sub-benchmark.
func eachSCIM(b *testing.B, fn func(b *testing.B, be *scimBackend, s *bench.SCIM)) {
	for _, be := range scimBackends {
		b.Run(be.name, func(b *testing.B) { fn(b, be, be.fixture(b)) })
	}
}

// scimCall is one request and what its answer must be.
type scimCall struct {
	method, path, body string
	status             int
	check              func(l scimList) error // of a 200's list; nil: the status only
}

// scimList is what the checks read of a ListResponse.
type scimList struct {
	TotalResults int `json:"totalResults"`
	Resources    []struct {
		ID          string          `json:"id"`
		UserName    string          `json:"userName"`
		DisplayName string          `json:"displayName"`
		Members     json.RawMessage `json:"members"`
	} `json:"Resources"`
}

func (c scimCall) verify(status int, body []byte, err error) error {
	if err != nil {
		return err
	}
	if status != c.status {
		return fmt.Errorf("%s %s: status %d, want %d\n%.500s", c.method, c.path, status, c.status, body)
	}
	if c.check == nil {
		return nil
	}
	var l scimList
	if err := json.Unmarshal(body, &l); err != nil {
		return fmt.Errorf("%s %s: %v", c.method, c.path, err)
	}
	if err := c.check(l); err != nil {
		return fmt.Errorf("%s %s: %v", c.method, c.path, err)
	}
	return nil
}

// scimWarm is how many requests go before the timing: the connection,
// the prepared statements and the pages the queries read.
const scimWarm = 20

// scimBench sends b.N requests made by next, one after the other over the
// fixture's keep-alive connection, and reports their p50 and p99 in ms,
// each from sending the request to having the whole body: what the IdP
// waits. Each answer is checked outside the timing (ns/op too), so a broken
// endpoint fails rather than giving a fast number.
func scimBench(b *testing.B, s *bench.SCIM, next func() scimCall) {
	for range scimWarm {
		c := next()
		status, body, err := s.Do(c.method, c.path, c.body)
		if err := c.verify(status, body, err); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		c := next()
		b.StartTimer()
		t0 := time.Now()
		status, body, err := s.Do(c.method, c.path, c.body)
		lat = append(lat, time.Since(t0))
		b.StopTimer()
		if err := c.verify(status, body, err); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	var r bench.Result
	r.Add(bench.Result{Ops: b.N, Latencies: lat})
	b.ReportMetric(float64(r.Percentile(50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(r.Percentile(99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(s.Seeding.Seconds(), "seed-s")
}

// BenchmarkSCIMFilterUserName is Okta's and Entra ID's lookup before a
// create: GET /Users?filter=userName eq "…" for a random user (target:
// p50 under 5 ms).
func BenchmarkSCIMFilterUserName(b *testing.B) {
	eachSCIM(b, func(b *testing.B, _ *scimBackend, s *bench.SCIM) {
		rnd := rand.New(rand.NewPCG(1, 1))
		scimBench(b, s, func() scimCall {
			name := bench.SCIMUserName(rnd.IntN(bench.SCIMUsers))
			return scimCall{method: http.MethodGet, status: http.StatusOK,
				path: "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "`+name+`"`),
				check: func(l scimList) error {
					if l.TotalResults != 1 || len(l.Resources) != 1 || l.Resources[0].UserName != name {
						return fmt.Errorf("totalResults %d, %d resources, want the one user %s", l.TotalResults, len(l.Resources), name)
					}
					return nil
				}}
		})
	})
}

// BenchmarkSCIMUserPage is a full sync's read: GET /Users, 100 users from
// a random startIndex (target: under 20 ms).
func BenchmarkSCIMUserPage(b *testing.B) {
	eachSCIM(b, func(b *testing.B, _ *scimBackend, s *bench.SCIM) {
		rnd := rand.New(rand.NewPCG(1, 2))
		scimBench(b, s, func() scimCall {
			start := 1 + rnd.IntN(bench.SCIMUsers-100+1)
			return scimCall{method: http.MethodGet, status: http.StatusOK,
				path: "/scim/v2/Users?startIndex=" + strconv.Itoa(start) + "&count=100",
				check: func(l scimList) error {
					if l.TotalResults != bench.SCIMUsers || len(l.Resources) != 100 {
						return fmt.Errorf("totalResults %d, %d resources, want %d and 100", l.TotalResults, len(l.Resources), bench.SCIMUsers)
					}
					return nil
				}}
		})
	})
}

// BenchmarkSCIMPatchBigGroup is one membership change of the 10,000-member
// group: PATCH /Groups/{id} adding one user, then removing them, in turn
// (target: under 20 ms).
func BenchmarkSCIMPatchBigGroup(b *testing.B) {
	eachSCIM(b, func(b *testing.B, be *scimBackend, s *bench.SCIM) {
		outsider := strconv.Quote(strconv.FormatInt(s.UserID(1), 10)) // user 1 is not in group 0
		path := "/scim/v2/Groups/" + strconv.FormatInt(s.GroupID(0), 10)
		scimBench(b, s, func() scimCall {
			op := "add"
			if be.member {
				op = "remove"
			}
			be.member = !be.member
			return scimCall{method: http.MethodPatch, path: path, status: http.StatusNoContent,
				body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],` +
					`"Operations":[{"op":"` + op + `","path":"members","value":[{"value":` + outsider + `}]}]}`}
		})
	})
}

// BenchmarkSCIMGroupByName is Entra ID's group lookup: GET
// /Groups?filter=displayName eq "…"&excludedAttributes=members for a
// random group (no target; for context).
func BenchmarkSCIMGroupByName(b *testing.B) {
	eachSCIM(b, func(b *testing.B, _ *scimBackend, s *bench.SCIM) {
		rnd := rand.New(rand.NewPCG(1, 3))
		scimBench(b, s, func() scimCall {
			name := bench.SCIMGroupName(rnd.IntN(bench.SCIMGroups))
			return scimCall{method: http.MethodGet, status: http.StatusOK,
				path: "/scim/v2/Groups?filter=" + url.QueryEscape(`displayName eq "`+name+`"`) + "&excludedAttributes=members",
				check: func(l scimList) error {
					if l.TotalResults != 1 || len(l.Resources) != 1 || l.Resources[0].DisplayName != name || l.Resources[0].Members != nil {
						return fmt.Errorf("totalResults %d, %d resources, want the one group %q without members", l.TotalResults, len(l.Resources), name)
					}
					return nil
				}}
		})
	})
}

// TestSCIMFixtureUser checks that the seeded users are what the handler
// itself writes for the same POST /Users, so that the benchmarks read
// records of the real shape.
func TestSCIMFixtureUser(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := bench.ServeSCIM(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	doc, want := bench.SCIMUser(12345)
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if status, raw, err := s.Do(http.MethodPost, "/scim/v2/Users", string(body)); err != nil || status != http.StatusCreated {
		t.Fatalf("POST /Users: %d %v\n%s", status, err, raw)
	}
	got, err := st.UserByEmail(ctx, want.Email)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != want.Email || got.Name != want.Name || got.ExternalID != want.ExternalID || got.Disabled {
		t.Errorf("handler wrote %q %q %q disabled=%v, fixture %q %q %q", got.Email, got.Name, got.ExternalID,
			got.Disabled, want.Email, want.Name, want.ExternalID)
	}
	if !maps.Equal(got.Attributes, want.Attributes) {
		t.Errorf("attributes:\nhandler %v\nfixture %v", got.Attributes, want.Attributes)
	}
	if err := sameJSON(got.Profile, want.Profile); err != nil {
		t.Errorf("profile: %v\nhandler %s\nfixture %s", err, got.Profile, want.Profile)
	}
}

func sameJSON(a, b []byte) error {
	var x, y any
	if err := errors.Join(json.Unmarshal(a, &x), json.Unmarshal(b, &y)); err != nil {
		return err
	}
	if !reflect.DeepEqual(x, y) {
		return errors.New("differ")
	}
	return nil
}
