package mfa

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlite"
	"github.com/portcullis/portcullis/web"
)

// fakeFactor is a second factor for testing the core: the code "123456"
// is right, anything else wrong. Its name is policy.TOTP so that policy
// treats it as a real factor.
type fakeFactor struct{ h *Handler }

func (f fakeFactor) Name() string  { return policy.TOTP }
func (f fakeFactor) Title() string { return "Test code" }
func (f fakeFactor) Mount(mux *http.ServeMux, csrf func(http.Handler) http.Handler) {
	mux.HandleFunc("GET /mfa/totp", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := f.h.Begin(w, r); ok {
			w.Write([]byte("enter code"))
		}
	})
	mux.HandleFunc("POST /mfa/totp", func(w http.ResponseWriter, r *http.Request) {
		a, ok := f.h.Begin(w, r)
		if !ok {
			return
		}
		if r.PostForm.Get("code") == "123456" {
			f.h.Succeed(w, r, a, policy.TOTP, nil)
			return
		}
		wait, err := f.h.Fail(r, a, policy.TOTP, "wrong code")
		switch {
		case err != nil:
			f.h.Unavailable(w, r, err)
		case wait > 0:
			f.h.Throttled(w, r, a, wait)
		default:
			http.Error(w, "wrong code", http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("GET /mfa/totp/enrol", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := f.h.BeginEnrol(w, r); ok {
			w.Write([]byte("enrol page"))
		}
	})
	mux.HandleFunc("POST /mfa/totp/enrol", func(w http.ResponseWriter, r *http.Request) {
		a, ok := f.h.BeginEnrol(w, r)
		if !ok {
			return
		}
		e := store.Enrolment{UserID: a.User.ID, Factor: policy.TOTP, Name: "Phone", Confirmed: true}
		if err := f.h.Store.CreateEnrolment(r.Context(), &e); err != nil {
			f.h.Unavailable(w, r, err)
			return
		}
		f.h.EnrolDone(w, r, a, e, r.PostForm.Get("code") == "123456")
	})
}

// flakySessions is a session.Store whose counters can be made to fail, to
// prove a backend failure never lets anyone in.
type flakySessions struct {
	session.Store
	mu   sync.Mutex
	down bool
}

func (f *flakySessions) setDown(d bool) { f.mu.Lock(); f.down = d; f.mu.Unlock() }

func (f *flakySessions) isDown() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.down }

func (f *flakySessions) Count(ctx context.Context, key string) (int64, time.Duration, error) {
	if f.isDown() {
		return 0, 0, session.ErrUnavailable
	}
	return f.Store.Count(ctx, key)
}

type harness struct {
	t        *testing.T
	h        *Handler
	st       store.Store
	sessions *session.Manager
	flaky    *flakySessions
	srv      *httptest.Server
	now      time.Time
	mu       sync.Mutex
}

const testIP = "192.0.2.7"

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mfa.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	x := &harness{t: t, st: st, now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	x.flaky = &flakySessions{Store: memory.New(memory.WithNow(x.clock))}
	x.sessions, err = session.NewManager(session.Options{Store: x.flaky, HashKey: bytes.Repeat([]byte{1}, 64), Now: x.clock})
	if err != nil {
		t.Fatal(err)
	}
	render, err := web.NewRenderer("", nil)
	if err != nil {
		t.Fatal(err)
	}
	master, err := keys.NewMaster(strings.Repeat("m", 32))
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{Store: st, Sessions: x.sessions, Render: render, Now: x.clock, Replay: x.flaky,
		Throttle:        &session.Throttle{Store: x.flaky, Scope: "mfa", MaxUser: 3, MaxIP: 50, Window: 15 * time.Minute},
		ContinuationKey: bytes.Repeat([]byte{2}, 32), Master: master, EnrolOnFirstUse: true}
	h.Current = func(r *http.Request) (*session.Session, store.User, error) {
		s, err := x.sessions.Load(r)
		if err != nil {
			return nil, store.User{}, err
		}
		u, err := st.User(r.Context(), s.UserID)
		if err != nil {
			return nil, store.User{}, session.ErrNotFound
		}
		return s, u, nil
	}
	h.Register(fakeFactor{h})
	x.h = h
	mux := http.NewServeMux()
	h.Mount(mux, nil)
	// /test/login signs the browser in as ?email= with a password session.
	mux.HandleFunc("GET /test/login", func(w http.ResponseWriter, r *http.Request) {
		u, err := st.UserByEmail(r.Context(), r.URL.Query().Get("email"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		s := &session.Session{UserID: u.ID, Email: u.Email, AuthTime: x.clock()}
		s.AddFactor(session.FactorPassword, x.clock())
		if err := x.sessions.Login(r.Context(), w, r, s); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	// /test/app requires MFA per the query (mode, factor) and answers
	// "in" when allowed.
	mux.HandleFunc("GET /test/app", func(w http.ResponseWriter, r *http.Request) {
		s, u, err := h.Current(r)
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		req := policy.Requirement{Mode: policy.Mode(r.URL.Query().Get("mode"))}
		if f := r.URL.Query().Get("factor"); f != "" {
			req.Factors = []string{f}
		}
		if h.Require(w, r, Need{User: u, Session: s, Requirement: req, App: "Test app",
			Resume: func() (string, error) { return r.URL.RequestURI(), nil }}) {
			return
		}
		w.Write([]byte("in"))
	})
	chain := web.Chain(mux, web.AssignRequestID, web.ResolveClientIP(nil))
	x.srv = httptest.NewServer(chain)
	t.Cleanup(x.srv.Close)
	return x
}

func (x *harness) clock() time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.now
}

func (x *harness) advance(d time.Duration) {
	x.mu.Lock()
	x.now = x.now.Add(d)
	x.mu.Unlock()
}

func (x *harness) user(email string, factors ...string) store.User {
	x.t.Helper()
	u := store.User{Email: email, Name: email}
	if err := x.st.CreateUser(context.Background(), &u); err != nil {
		x.t.Fatal(err)
	}
	for _, f := range factors {
		if err := x.st.CreateEnrolment(context.Background(), &store.Enrolment{UserID: u.ID, Factor: f, Name: f, Confirmed: true}); err != nil {
			x.t.Fatal(err)
		}
	}
	return u
}

type browser struct {
	x *harness
	c *http.Client
}

// browser returns a client signed in as email (no redirects followed).
func (x *harness) browser(email string) *browser {
	x.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{x: x, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
	if email != "" {
		if resp := b.get("/test/login?email=" + url.QueryEscape(email)); resp.code != 200 {
			x.t.Fatalf("test login: %d %s", resp.code, resp.body)
		}
	}
	return b
}

type answer struct {
	code     int
	location string
	body     string
	header   http.Header
}

func (b *browser) do(req *http.Request) answer {
	b.x.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.x.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("Location"), buf.String(), resp.Header}
}

func (b *browser) get(path string) answer {
	req, _ := http.NewRequest("GET", b.x.srv.URL+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) answer {
	req, _ := http.NewRequest("POST", b.x.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) cookie() string {
	u, _ := url.Parse(b.x.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == session.DefaultCookieName {
			return c.Value
		}
	}
	return ""
}

// token returns the continuation in a /mfa…?c= location.
func token(t *testing.T, location string) string {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil || u.Query().Get("c") == "" {
		t.Fatalf("location %q has no continuation", location)
	}
	return u.Query().Get("c")
}

func (x *harness) events(typ string) []string {
	x.t.Helper()
	evs, err := x.st.ListEvents(context.Background(), store.EventFilter{Types: []string{typ}})
	if err != nil {
		x.t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Subject+"|"+e.Outcome+"|"+e.Reason)
	}
	return out
}
