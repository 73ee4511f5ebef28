package session_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	"github.com/portcullis/portcullis/session/sessiontest"
)

var (
	testKey   = bytes.Repeat([]byte{7}, 32)
	testStart = time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
)

// harness is a Manager on a memory store, both on one manual clock, with the
// store's writes recorded.
type harness struct {
	t     *testing.T
	clock *sessiontest.ManualClock
	store *recorder
	m     *session.Manager
}

func newHarness(t *testing.T, opts ...func(*session.Options)) *harness {
	t.Helper()
	clock := sessiontest.NewManualClock(testStart)
	store := &recorder{Store: memory.New(memory.WithNow(clock.Now))}
	o := session.Options{Store: store, HashKey: testKey, Now: clock.Now}
	for _, f := range opts {
		f(&o)
	}
	m, err := session.NewManager(o)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	return &harness{t: t, clock: clock, store: store, m: m}
}

// login logs s in from a browser that sends cookies, and returns the
// cookie the response sets.
func (h *harness) login(s *session.Session, cookies ...*http.Cookie) *http.Cookie {
	h.t.Helper()
	w := httptest.NewRecorder()
	if err := h.m.Login(context.Background(), w, request(cookies...), s); err != nil {
		h.t.Fatalf("Login: %v", err)
	}
	return onlyCookie(h.t, w)
}

func (h *harness) load(c *http.Cookie) (*session.Session, error) {
	return h.m.Load(request(c))
}

func (h *harness) mustLoad(c *http.Cookie) *session.Session {
	h.t.Helper()
	s, err := h.load(c)
	if err != nil {
		h.t.Fatalf("Load: %v", err)
	}
	return s
}

func request(cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://gw.example.com/", nil)
	for _, c := range cookies {
		if c != nil {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return r
}

// onlyCookie returns the one cookie a response sets.
func onlyCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("response sets %d cookies, want 1: %v", len(cs), w.Header()["Set-Cookie"])
	}
	return cs[0]
}

func alice() *session.Session {
	s := &session.Session{UserID: 1, Email: "alice@example.com", AuthTime: testStart}
	s.AddFactor(session.FactorPassword, testStart)
	return s
}

// recorder is a Store that counts writes and keeps the last bytes written
// under each key.
type recorder struct {
	session.Store
	mu       sync.Mutex
	puts     int
	replaces int
	written  map[string][]byte
	// beforeReplace, when set, runs once before the next Replace reaches
	// the store: another request writing in between a read and a write.
	beforeReplace func()
}

func (r *recorder) Put(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration) error {
	r.note(key, data, &r.puts)
	return r.Store.Put(ctx, key, userID, data, ttl)
}

func (r *recorder) Replace(ctx context.Context, key string, userID int64, data []byte, ttl time.Duration, version int64) error {
	r.mu.Lock()
	hook := r.beforeReplace
	r.beforeReplace = nil
	r.mu.Unlock()
	if hook != nil {
		hook()
	}
	r.note(key, data, &r.replaces)
	return r.Store.Replace(ctx, key, userID, data, ttl, version)
}

func (r *recorder) note(key string, data []byte, count *int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*count++
	if r.written == nil {
		r.written = map[string][]byte{}
	}
	r.written[key] = bytes.Clone(data)
}

func (r *recorder) writes() (puts, replaces int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.puts, r.replaces
}

// failing is a Store whose every call fails with err.
type failing struct{ err error }

func (f failing) Put(context.Context, string, int64, []byte, time.Duration) error { return f.err }
func (f failing) Replace(context.Context, string, int64, []byte, time.Duration, int64) error {
	return f.err
}
func (f failing) Get(context.Context, string) ([]byte, int64, error)         { return nil, 0, f.err }
func (f failing) Delete(context.Context, string) error                       { return f.err }
func (f failing) DeleteUser(context.Context, int64) (int, error)             { return 0, f.err }
func (f failing) Reset(context.Context, string) error                        { return f.err }
func (f failing) Ping(context.Context) error                                 { return f.err }
func (f failing) Close() error                                               { return nil }
func (f failing) Claim(context.Context, string, time.Duration) (bool, error) { return false, f.err }
func (f failing) Incr(context.Context, string, time.Duration) (int64, time.Duration, error) {
	return 0, 0, f.err
}
func (f failing) Count(context.Context, string) (int64, time.Duration, error) { return 0, 0, f.err }
