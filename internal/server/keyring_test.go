package server

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/postgres"
	"github.com/portcullis/portcullis/store/sqlite"
	"github.com/portcullis/portcullis/store/storetest"
)

const rollover = 48 * time.Hour

// clock is a manual clock safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openSQLite(t *testing.T, path string) store.Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "portcullis.db")
	}
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openPostgres opens a store in a new schema of GATEWAY_TEST_POSTGRES_URL,
// or skips.
func openPostgres(t *testing.T) func() store.Store {
	t.Helper()
	u := storetest.PostgresSchema(t, storetest.PostgresURL(t))
	return func() store.Store {
		st, err := postgres.Open(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
}

func testMaster(t *testing.T) *keys.Master {
	t.Helper()
	m, err := keys.NewMaster("0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// flakyStore is a store whose signing keys can be made unreadable, and
// which counts how often they are read.
type flakyStore struct {
	store.Store
	down  atomic.Bool
	reads atomic.Int32
}

func (f *flakyStore) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	f.reads.Add(1)
	if f.down.Load() {
		return nil, store.ErrUnavailable
	}
	return f.Store.ListSigningKeys(ctx)
}

func published(t *testing.T, kr *Keyring) (active string, all []string) {
	t.Helper()
	set, err := kr.SigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range set.Published {
		all = append(all, keys.Fingerprint(c))
	}
	return keys.Fingerprint(set.Active.Cert), all
}

func rotate(t *testing.T, st store.Store, m *keys.Master, now time.Time, immediate, force bool) Rotated {
	t.Helper()
	r, err := RotateSigningKey(t.Context(), st, m, Rotation{CommonName: "idp.example.com", Rollover: rollover,
		Immediate: immediate, Force: force, Now: now, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEnsureImportsDataDirKey(t *testing.T) {
	st, m, dir, now := openSQLite(t, ""), testMaster(t), t.TempDir(), newClock().Now()
	imported, err := EnsureSigningKey(t.Context(), st, m, dir, "idp.example.com", now)
	if err != nil || !imported {
		t.Fatalf("first: imported=%v err=%v", imported, err)
	}
	onDisk, created, err := keys.LoadOrCreateSigning(dir, "idp.example.com", now)
	if err != nil || created {
		t.Fatalf("data-dir key: created=%v err=%v", created, err)
	}
	if imported, err = EnsureSigningKey(t.Context(), st, m, dir, "idp.example.com", now); err != nil || imported {
		t.Fatalf("second: imported=%v err=%v", imported, err)
	}
	kr := NewKeyring(st, m, KeyringOptions{Rollover: rollover, Now: func() time.Time { return now }})
	set, err := kr.SigningKeys(t.Context())
	if err != nil || !set.Active.Key.Equal(onDisk.Key) || len(set.Published) != 1 {
		t.Fatalf("set = %+v, %v; want the data-dir key alone", set, err)
	}
	events, _ := st.ListEvents(t.Context(), store.EventFilter{Types: []string{EventKeyCreated}})
	if len(events) != 1 || events[0].Actor != "bootstrap" {
		t.Errorf("key.created events = %+v", events)
	}
}

// Nodes starting together on one SQLite file import exactly one key.
func TestEnsureConcurrentSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portcullis.db")
	m, now := testMaster(t), newClock().Now()
	var wg sync.WaitGroup
	for range 3 {
		st, dir := openSQLite(t, path), t.TempDir()
		wg.Go(func() {
			if _, err := EnsureSigningKey(t.Context(), st, m, dir, "idp", now); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	list, err := openSQLite(t, path).ListSigningKeys(t.Context())
	if err != nil || len(list) != 1 {
		t.Fatalf("%d keys, %v; want 1", len(list), err)
	}
}

// Nodes starting together on PostgreSQL may both import their key, but
// they agree on which one signs.
func TestEnsureConcurrentPostgres(t *testing.T) {
	open := openPostgres(t)
	m, now := testMaster(t), newClock().Now()
	stores := []store.Store{open(), open(), open()}
	var wg sync.WaitGroup
	for _, st := range stores {
		dir := t.TempDir()
		wg.Go(func() {
			if _, err := EnsureSigningKey(t.Context(), st, m, dir, "idp", now); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var first string
	for i, st := range stores {
		kr := NewKeyring(st, m, KeyringOptions{Rollover: rollover, Now: func() time.Time { return now }})
		active, _ := published(t, kr)
		if i == 0 {
			first = active
		} else if active != first {
			t.Errorf("node %d signs with %s, node 0 with %s", i, active, first)
		}
	}
}

// A rotation made elsewhere (the CLI) is seen within a minute, or at once
// after Reload; then the new key activates and the old one is dropped on
// time, without anyone reloading by hand.
func TestKeyringFollowsRotation(t *testing.T) {
	st, m, c := openSQLite(t, ""), testMaster(t), newClock()
	if _, err := EnsureSigningKey(t.Context(), st, m, t.TempDir(), "idp", c.Now()); err != nil {
		t.Fatal(err)
	}
	kr := NewKeyring(st, m, KeyringOptions{Rollover: rollover, Now: c.Now})
	old, _ := published(t, kr)
	r := rotate(t, st, m, c.Now(), false, false)
	next := keys.Fingerprint(r.Cert)

	c.Add(30 * time.Second)
	if _, all := published(t, kr); len(all) != 1 {
		t.Fatalf("after 30s: published %v; the cache should still hold", all)
	}
	c.Add(31 * time.Second)
	if active, all := published(t, kr); active != old || strings.Join(all, " ") != old+" "+next {
		t.Fatalf("after 61s: active %s, published %v; want old active and new announced", active, all)
	}
	c.Add(rollover - time.Minute)
	if active, all := published(t, kr); active != next || strings.Join(all, " ") != next+" "+old {
		t.Fatalf("at activation: active %s, published %v", active, all)
	}
	c.Add(rollover)
	if active, all := published(t, kr); active != next || len(all) != 1 {
		t.Fatalf("after the rollover: active %s, published %v; want the old key dropped", active, all)
	}

	r = rotate(t, st, m, c.Now(), false, false)
	if err := kr.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, all := published(t, kr); len(all) != 2 || all[1] != keys.Fingerprint(r.Cert) {
		t.Fatalf("after Reload: published %v", all)
	}
}

// With the store unreachable, the cached versions still activate and
// retire on time, and the store is not hammered.
func TestKeyringKeepsCacheWhenStoreDown(t *testing.T) {
	inner, m, c := openSQLite(t, ""), testMaster(t), newClock()
	st := &flakyStore{Store: inner}
	if _, err := EnsureSigningKey(t.Context(), st, m, t.TempDir(), "idp", c.Now()); err != nil {
		t.Fatal(err)
	}
	r := rotate(t, st, m, c.Now(), false, false)
	kr := NewKeyring(st, m, KeyringOptions{Rollover: rollover, Now: c.Now})
	published(t, kr)
	st.down.Store(true)
	reads := st.reads.Load()
	c.Add(rollover)
	for range 10 {
		if active, _ := published(t, kr); active != keys.Fingerprint(r.Cert) {
			t.Fatalf("active %s after activation with the store down; want the new key", active)
		}
	}
	if n := st.reads.Load() - reads; n != 1 {
		t.Errorf("%d reads of a down store in one retry period, want 1", n)
	}
	st.down.Store(false)
	c.Add(keyringRetryDelay)
	published(t, kr)
	if kr.loadedAt != c.Now() {
		t.Error("no reload once the store is back")
	}
}

func TestKeyringFirstLoadFails(t *testing.T) {
	st := &flakyStore{Store: openSQLite(t, "")}
	kr := NewKeyring(st, testMaster(t), KeyringOptions{Rollover: rollover})
	if _, err := kr.SigningKeys(t.Context()); !errors.Is(err, keys.ErrNoActiveKey) {
		t.Errorf("empty store: %v, want ErrNoActiveKey", err)
	}
	st.down.Store(true)
	if _, err := kr.SigningKeys(t.Context()); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("down store: %v", err)
	}
}

func TestKeyringWrongMasterSecret(t *testing.T) {
	st, now := openSQLite(t, ""), newClock().Now()
	if _, err := EnsureSigningKey(t.Context(), st, testMaster(t), t.TempDir(), "idp", now); err != nil {
		t.Fatal(err)
	}
	other, _ := keys.NewMaster("another master secret of enough length")
	_, err := NewKeyring(st, other, KeyringOptions{Rollover: rollover}).SigningKeys(t.Context())
	if err == nil || !strings.Contains(err.Error(), "master_secret") {
		t.Errorf("error %v should point at the master secret", err)
	}
}

func TestRotateRules(t *testing.T) {
	st, m, c := openSQLite(t, ""), testMaster(t), newClock()
	_, err := RotateSigningKey(t.Context(), st, m, Rotation{CommonName: "idp", Rollover: rollover, Now: c.Now()})
	if !errors.Is(err, keys.ErrNoActiveKey) {
		t.Fatalf("rotate on an empty store: %v", err)
	}
	if _, err := EnsureSigningKey(t.Context(), st, m, t.TempDir(), "idp", c.Now()); err != nil {
		t.Fatal(err)
	}
	first := rotate(t, st, m, c.Now(), false, false)
	if want := c.Now().Add(rollover); !first.Key.ActivatesAt.Equal(want) {
		t.Errorf("activates at %v, want %v", first.Key.ActivatesAt, want)
	}
	_, err = RotateSigningKey(t.Context(), st, m, Rotation{CommonName: "idp", Rollover: rollover, Now: c.Now()})
	if !errors.Is(err, ErrRotationPending) {
		t.Fatalf("second rotation: %v, want ErrRotationPending", err)
	}
	forced := rotate(t, st, m, c.Now(), false, true)
	if len(forced.Replaced) != 1 || forced.Replaced[0] != first.Key.ID {
		t.Errorf("forced rotation replaced %v, want [%d]", forced.Replaced, first.Key.ID)
	}
	c.Add(3 * rollover) // forced is active, the bootstrap key dropped
	now := rotate(t, st, m, c.Now(), true, false)
	if len(now.Pruned) != 1 {
		t.Errorf("pruned %v, want the dropped bootstrap key", now.Pruned)
	}
	statuses, err := SigningKeyStatuses(t.Context(), st, c.Now(), rollover)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, s := range statuses {
		states = append(states, string(s.State))
	}
	if strings.Join(states, ",") != "retired,active" || statuses[1].ID != now.Key.ID {
		t.Errorf("states %v (active %d), want the immediate key active", states, statuses[1].ID)
	}
	events, _ := st.ListEvents(t.Context(), store.EventFilter{Types: []string{EventKeyRotated}})
	if len(events) != 3 || events[0].Details["immediate"] != "true" || events[0].Outcome != audit.Success {
		t.Errorf("key.rotated events: %+v", events)
	}
}

// Many requests at once, across reloads and an activation, all get a
// usable Set (run with -race).
func TestKeyringConcurrentUse(t *testing.T) {
	st, m, c := openSQLite(t, ""), testMaster(t), newClock()
	if _, err := EnsureSigningKey(t.Context(), st, m, t.TempDir(), "idp", c.Now()); err != nil {
		t.Fatal(err)
	}
	rotate(t, st, m, c.Now(), false, false)
	kr := NewKeyring(st, m, KeyringOptions{Rollover: rollover, Now: c.Now})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				set, err := kr.SigningKeys(t.Context())
				if err != nil || set.Active == nil || len(set.Published) < 1 {
					t.Errorf("set %+v, %v", set, err)
					return
				}
			}
		})
	}
	for range 20 {
		c.Add(rollover / 10)
	}
	wg.Wait()
}

func TestRotateRefusesOtherMaster(t *testing.T) {
	st, c := openSQLite(t, ""), newClock()
	if _, err := EnsureSigningKey(t.Context(), st, testMaster(t), t.TempDir(), "idp", c.Now()); err != nil {
		t.Fatal(err)
	}
	other, _ := keys.NewMaster("another master secret of enough length")
	_, err := RotateSigningKey(t.Context(), st, other, Rotation{CommonName: "idp", Rollover: rollover, Now: c.Now()})
	if err == nil || !strings.Contains(err.Error(), "master_secret") {
		t.Fatalf("rotation with another master secret: %v", err)
	}
	if list, _ := st.ListSigningKeys(t.Context()); len(list) != 1 {
		t.Errorf("%d keys after the refusal, want 1", len(list))
	}
}
