package idp_test

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/portal"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlite"
	"github.com/portcullis/portcullis/web"
)

// fixedNow is the clock of the golden files.
var fixedNow = time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)

// unit is an idp.Handler on its own, without the rest of the gateway: a
// real SQLite store and memory sessions, the fixed test key, a clock the
// test sets. It serves requests in-process.
type unit struct {
	t        testing.TB
	h        *idp.Handler
	mux      *http.ServeMux
	st       store.Store
	sessions *session.Manager
	mu       sync.Mutex
	now      time.Time
}

func newUnit(t testing.TB, now time.Time) *unit {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "portcullis.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	u := &unit{t: t, st: st, now: now}
	mem := memory.New(memory.WithNow(u.clock))
	u.sessions, err = session.NewManager(session.Options{Store: mem, HashKey: make([]byte, 32), Now: u.clock})
	if err != nil {
		t.Fatal(err)
	}
	render, err := web.NewRenderer("", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &portal.Handler{Store: st, Sessions: u.sessions, Render: render}
	u.h = &idp.Handler{Store: st, Sessions: u.sessions, Current: p.Current, Keys: keys.Static{Key: testKey(t)},
		Replay: mem, Render: render, Now: u.clock, BaseURL: "https://sso.example.com",
		PseudonymKey: []byte("test pseudonym key")}
	u.mux = http.NewServeMux()
	u.h.Mount(u.mux)
	return u
}

func (u *unit) clock() time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.now
}

// serve runs one request through the handler.
func (u *unit) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	w.Header().Set("Content-Security-Policy", "form-action 'self'")
	u.mux.ServeHTTP(w, r)
	return w
}

// signIn makes a session for a new user and returns its cookie.
func (u *unit) signIn(email string, groups ...string) *http.Cookie {
	u.t.Helper()
	ctx := context.Background()
	usr := store.User{Email: email, Name: "Ada Lovelace"}
	must(u.t, u.st.CreateUser(ctx, &usr))
	for _, name := range groups {
		g := store.Group{Name: name}
		must(u.t, u.st.CreateGroup(ctx, &g))
		must(u.t, u.st.AddMember(ctx, g.ID, usr.ID))
	}
	s := &session.Session{UserID: usr.ID, Email: email, AuthTime: u.clock()}
	s.AddFactor(session.FactorPassword, u.clock())
	w := httptest.NewRecorder()
	must(u.t, u.sessions.Login(ctx, w, httptest.NewRequest(http.MethodGet, "/", nil), s))
	return w.Result().Cookies()[0]
}

// app registers sp's metadata.
func (u *unit) app(name string, sp *testSP, settings idp.AppSettings, groups ...string) {
	u.t.Helper()
	raw, _ := json.Marshal(settings)
	a := store.App{Name: name, Kind: store.AppSAML, EntityID: sp.EntityID, Metadata: sp.metadataXML(u.t, spOpts{}),
		Groups: groups, Settings: raw}
	must(u.t, u.st.CreateApp(context.Background(), &a))
}

var (
	testKeyOnce sync.Once
	testKeyVal  *keys.Signing
)

// testKey is the fixed signing key of testdata/signing.{key,crt}.
func testKey(t testing.TB) *keys.Signing {
	testKeyOnce.Do(func() {
		pair, err := tls.LoadX509KeyPair("testdata/signing.crt", "testdata/signing.key")
		if err != nil {
			panic(err)
		}
		testKeyVal = &keys.Signing{Key: pair.PrivateKey.(*rsa.PrivateKey), Cert: pair.Leaf}
	})
	return testKeyVal
}
