package session_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
)

func TestNewManagerChecksOptions(t *testing.T) {
	_, err := session.NewManager(session.Options{HashKey: []byte("short")})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"no Store", "HashKey is 5 bytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not report %q", err, want)
		}
	}
}

func TestLoginCookie(t *testing.T) {
	h := newHarness(t, func(o *session.Options) {
		o.Secure = true
		o.CookieDomain = "example.com"
	})
	s := alice()
	c := h.login(s)
	if c.Name != session.DefaultCookieName || c.Path != "/" || c.Domain != "example.com" ||
		!c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie %+v: want %s, Path=/, Domain=example.com, Secure, HttpOnly, SameSite=Lax",
			c, session.DefaultCookieName)
	}
	if c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Errorf("cookie has Max-Age %d / Expires %v, want a browser-session cookie", c.MaxAge, c.Expires)
	}
	if strings.Contains(c.Value, s.ID) || strings.Contains(c.Value, "alice") {
		t.Errorf("cookie %q shows the ID or the user in clear", c.Value)
	}
	if id, err := base64.RawURLEncoding.DecodeString(s.ID); err != nil || len(id) != 32 {
		t.Errorf("ID %q is not 32 random bytes in base64url", s.ID)
	}
	if !s.CreatedAt.Equal(testStart) || !s.LastSeen.Equal(testStart) {
		t.Errorf("CreatedAt %v, LastSeen %v; want both %v", s.CreatedAt, s.LastSeen, testStart)
	}
}

func TestLoginCookieNotSecure(t *testing.T) {
	h := newHarness(t, func(o *session.Options) { o.CookieName = "gw" })
	c := h.login(alice())
	if c.Name != "gw" || c.Secure || c.Domain != "" {
		t.Errorf("cookie %+v: want gw, not Secure, host-only", c)
	}
}

func TestLoadRoundTrip(t *testing.T) {
	h := newHarness(t)
	s := alice()
	s.SAML = []session.SAMLEntry{{App: "wiki", SessionIndex: "idx1", NameID: "alice"}}
	s.Values = map[string]string{"return": "/apps"}
	s.IP, s.UserAgent = "192.0.2.1", "test"
	c := h.login(s)
	got := h.mustLoad(c)
	if !reflect.DeepEqual(got, s) {
		t.Errorf("Load = %+v\nwant %+v", got, s)
	}
}

func TestLoadRejectsBadCookies(t *testing.T) {
	h := newHarness(t)
	c := h.login(alice())
	other := newHarness(t).login(alice()) // signed with the same key, other store
	otherKey := newHarness(t, func(o *session.Options) { o.HashKey = bytes.Repeat([]byte{8}, 32) })
	tests := map[string]*http.Cookie{
		"none":        nil,
		"tampered":    {Name: c.Name, Value: flip(c.Value)},
		"truncated":   {Name: c.Name, Value: c.Value[:len(c.Value)-4]},
		"garbage":     {Name: c.Name, Value: "not-a-cookie"},
		"other name":  {Name: "other", Value: c.Value},
		"unknown ID":  other,
		"foreign key": otherKey.login(alice()),
	}
	for name, cookie := range tests {
		if s, err := h.load(cookie); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("%s: Load = %v, %v; want ErrNotFound", name, s, err)
		}
	}
	h.mustLoad(c)
}

// flip changes one character in the middle of v.
func flip(v string) string {
	b := []byte(v)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestLoadPicksTheValidCookie(t *testing.T) {
	h := newHarness(t)
	c := h.login(alice())
	r := request(&http.Cookie{Name: c.Name, Value: "stale"}, c)
	if _, err := h.m.Load(r); err != nil {
		t.Fatalf("Load with a stale cookie before the valid one: %v", err)
	}
}

func TestLoginRotatesID(t *testing.T) {
	h := newHarness(t)
	planted := h.login(&session.Session{}) // e.g. an anonymous pre-login session
	s := alice()
	c := h.login(s, planted)
	if c.Value == planted.Value {
		t.Fatal("Login kept the cookie it was sent")
	}
	if _, err := h.load(planted); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("old session after Login: %v, want ErrNotFound", err)
	}
	h.mustLoad(c)
}

func TestIdleTimeout(t *testing.T) {
	h := newHarness(t)
	c := h.login(alice())
	for range 6 { // active for 3h: every use pushes the idle deadline on
		h.clock.Advance(30 * time.Minute)
		h.mustLoad(c)
	}
	h.clock.Advance(session.DefaultIdleTimeout + time.Second)
	if _, err := h.load(c); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load after the idle timeout: %v, want ErrNotFound", err)
	}
}

func TestAbsoluteTimeout(t *testing.T) {
	h := newHarness(t)
	c := h.login(alice())
	for range 14 { // active for 11h40m, never idle for long
		h.clock.Advance(50 * time.Minute)
		h.mustLoad(c)
	}
	h.clock.Advance(21 * time.Minute)
	if _, err := h.load(c); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load after the absolute timeout: %v, want ErrNotFound", err)
	}
}

// TestManagerChecksDeadlines checks that the Manager enforces the deadlines
// itself, not only through the backend's TTL: here the backend's clock lags.
func TestManagerChecksDeadlines(t *testing.T) {
	h := newHarness(t)
	h.store.Store = memory.New() // real time, far behind the manual clock
	c := h.login(alice())
	h.clock.Advance(session.DefaultIdleTimeout + time.Second)
	if _, err := h.load(c); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load past the idle deadline: %v, want ErrNotFound", err)
	}
}

func TestLastSeenThrottled(t *testing.T) {
	h := newHarness(t) // idle 1h: write back at most once a minute
	c := h.login(alice())
	steps := []struct {
		advance  time.Duration
		written  bool
		lastSeen time.Duration // since testStart
	}{
		{30 * time.Second, false, 0},
		{31 * time.Second, true, 61 * time.Second},
		{30 * time.Second, false, 61 * time.Second},
		{30 * time.Second, true, 121 * time.Second},
	}
	for i, st := range steps {
		h.clock.Advance(st.advance)
		_, before := h.store.writes()
		s := h.mustLoad(c)
		_, after := h.store.writes()
		if (after > before) != st.written {
			t.Errorf("step %d: wrote back %v, want %v", i, after > before, st.written)
		}
		if want := testStart.Add(st.lastSeen); !s.LastSeen.Equal(want) {
			t.Errorf("step %d: LastSeen %v, want %v", i, s.LastSeen, want)
		}
	}
}

func TestLastSeenThrottleShortIdle(t *testing.T) {
	h := newHarness(t, func(o *session.Options) { o.IdleTimeout = 10 * time.Minute })
	c := h.login(alice())
	h.clock.Advance(31 * time.Second) // a twentieth of 10m is 30s
	_, before := h.store.writes()
	h.mustLoad(c)
	if _, after := h.store.writes(); after != before+1 {
		t.Errorf("no write-back after a twentieth of the idle timeout")
	}
}

func TestSave(t *testing.T) {
	h := newHarness(t)
	c := h.login(alice())
	s := h.mustLoad(c)
	h.clock.Advance(time.Second)
	s.AddFactor(session.FactorTOTP, h.clock.Now())
	if err := h.m.Save(context.Background(), s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got := h.mustLoad(c)
	if !got.MFATime.Equal(h.clock.Now()) || len(got.Factors) != 2 {
		t.Errorf("after Save: MFATime %v, factors %v", got.MFATime, got.Factors)
	}
}

// TestSaveAfterLogout checks that a flow finishing after the user logged out
// (in another tab) does not bring the session back.
func TestSaveAfterLogout(t *testing.T) {
	h := newHarness(t)
	c := h.login(alice())
	s := h.mustLoad(c)
	if _, err := h.m.Logout(context.Background(), httptest.NewRecorder(), request(c)); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Save(context.Background(), s); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Save after Logout: %v, want ErrNotFound", err)
	}
	if _, err := h.load(c); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load after Save after Logout: %v, want ErrNotFound", err)
	}
}

// TestTouchYieldsToWrite checks that a LastSeen write-back that loses to
// another request's write is skipped rather than undo that write.
func TestTouchYieldsToWrite(t *testing.T) {
	h := newHarness(t)
	c := h.login(alice())
	id := h.mustLoad(c).ID
	h.clock.Advance(2 * time.Minute) // the next Load writes LastSeen back
	entry := session.SAMLEntry{App: "https://wiki.example.com", SessionIndex: "1"}
	h.store.beforeReplace = func() {
		err := h.m.Update(context.Background(), &session.Session{ID: id}, func(s *session.Session) error {
			s.SAML = append(s.SAML, entry)
			return nil
		})
		if err != nil {
			t.Errorf("Update in between: %v", err)
		}
	}
	if _, err := h.load(c); err != nil {
		t.Fatalf("Load whose write-back conflicted: %v, want the session", err)
	}
	got := h.mustLoad(c)
	if len(got.SAML) != 1 || got.SAML[0] != entry {
		t.Fatalf("SAML after a conflicting write-back = %v, want [%v]", got.SAML, entry)
	}
	if !got.LastSeen.Equal(h.clock.Now()) {
		t.Errorf("LastSeen %v, want %v (the Update refreshed it)", got.LastSeen, h.clock.Now())
	}
}

// TestUpdateRetries checks that an Update that loses to another write reads
// the record again and applies its change on top, and leaves s as written.
func TestUpdateRetries(t *testing.T) {
	h := newHarness(t)
	c := h.login(alice())
	s := h.mustLoad(c)
	h.store.beforeReplace = func() {
		err := h.m.Update(context.Background(), &session.Session{ID: s.ID}, func(s *session.Session) error {
			s.SAML = append(s.SAML, session.SAMLEntry{App: "first"})
			return nil
		})
		if err != nil {
			t.Errorf("Update in between: %v", err)
		}
	}
	calls := 0
	err := h.m.Update(context.Background(), s, func(s *session.Session) error {
		calls++
		s.SAML = append(s.SAML, session.SAMLEntry{App: "second"})
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("Update = %v after %d calls of fn, want nil after 2", err, calls)
	}
	for name, got := range map[string]*session.Session{"s": s, "stored": h.mustLoad(c)} {
		if len(got.SAML) != 2 || got.SAML[0].App != "first" || got.SAML[1].App != "second" {
			t.Errorf("%s: SAML = %v, want first and second", name, got.SAML)
		}
	}
}

// TestUpdateFnError checks that an error from fn is returned and nothing is
// written.
func TestUpdateFnError(t *testing.T) {
	h := newHarness(t)
	c := h.login(alice())
	s := h.mustLoad(c)
	boom := errors.New("boom")
	_, before := h.store.writes()
	err := h.m.Update(context.Background(), s, func(s *session.Session) error {
		s.Email = "mallory@example.com"
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want %v", err, boom)
	}
	if _, after := h.store.writes(); after != before {
		t.Errorf("Update whose fn failed wrote the record")
	}
	if got := h.mustLoad(c); got.Email != "alice@example.com" || s.Email != "alice@example.com" {
		t.Errorf("after a failed Update: stored %q, s %q; want both alice's", got.Email, s.Email)
	}
}

// TestUpdateAfterLogout checks that Update does not bring an ended session
// back.
func TestUpdateAfterLogout(t *testing.T) {
	h := newHarness(t)
	c := h.login(alice())
	s := h.mustLoad(c)
	if _, err := h.m.Logout(context.Background(), httptest.NewRecorder(), request(c)); err != nil {
		t.Fatal(err)
	}
	err := h.m.Update(context.Background(), s, func(*session.Session) error { return nil })
	if !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Update after Logout: %v, want ErrNotFound", err)
	}
}

func TestSaveWithoutID(t *testing.T) {
	h := newHarness(t)
	if err := h.m.Save(context.Background(), alice()); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Save of a session never logged in: %v, want ErrNotFound", err)
	}
}

func TestRotate(t *testing.T) {
	h := newHarness(t)
	c := h.login(alice())
	s := h.mustLoad(c)
	oldID := s.ID
	s.AddFactor(session.FactorWebAuthn, h.clock.Now())
	w := httptest.NewRecorder()
	if err := h.m.Rotate(context.Background(), w, s); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	nc := onlyCookie(t, w)
	if s.ID == oldID || nc.Value == c.Value {
		t.Fatal("Rotate kept the ID")
	}
	if _, err := h.load(c); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("old ID after Rotate: %v, want ErrNotFound", err)
	}
	if got := h.mustLoad(nc); got.ID != s.ID || got.MFATime.IsZero() || !got.CreatedAt.Equal(testStart) {
		t.Errorf("after Rotate: %+v", got)
	}
}

func TestLogout(t *testing.T) {
	h := newHarness(t)
	s := alice()
	s.SAML = []session.SAMLEntry{{App: "wiki", SessionIndex: "idx1", NameID: "alice"}}
	c := h.login(s)
	w := httptest.NewRecorder()
	ended, err := h.m.Logout(context.Background(), w, request(c))
	if err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if ended == nil || ended.ID != s.ID || len(ended.SAML) != 1 {
		t.Errorf("Logout returned %+v, want the ended session with its SAML entry", ended)
	}
	wantCleared(t, w)
	if _, err := h.load(c); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Load after Logout: %v, want ErrNotFound", err)
	}
}

func TestLogoutWithoutSession(t *testing.T) {
	h := newHarness(t)
	w := httptest.NewRecorder()
	ended, err := h.m.Logout(context.Background(), w, request())
	if ended != nil || err != nil {
		t.Fatalf("Logout = %v, %v; want nil, nil", ended, err)
	}
	wantCleared(t, w)
}

func wantCleared(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	c := onlyCookie(t, w)
	if c.Name != session.DefaultCookieName || c.Value != "" || c.MaxAge >= 0 || c.Path != "/" {
		t.Errorf("cookie %+v does not clear the session cookie", c)
	}
}

func TestRevokeUser(t *testing.T) {
	h := newHarness(t)
	a1, a2 := h.login(alice()), h.login(alice())
	b := h.login(&session.Session{UserID: 2, Email: "bob@example.com"})
	n, err := h.m.RevokeUser(context.Background(), 1)
	if err != nil || n != 2 {
		t.Fatalf("RevokeUser = %d, %v; want 2", n, err)
	}
	for _, c := range []*http.Cookie{a1, a2} {
		if _, err := h.load(c); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("revoked session: %v, want ErrNotFound", err)
		}
	}
	if s := h.mustLoad(b); s.UserID != 2 {
		t.Errorf("other user's session: %+v", s)
	}
}

// TestBackendFailure checks that every failure of the backend reaches the
// caller as ErrUnavailable, never as "not found" or as a session.
func TestBackendFailure(t *testing.T) {
	for _, cause := range []error{errors.New("connection refused"), session.ErrUnavailable} {
		h := newHarness(t, func(o *session.Options) { o.Store = failing{cause} })
		c := newHarness(t).login(alice())
		ctx := context.Background()
		s := alice()
		s.ID = strings.Repeat("A", 43)
		s.CreatedAt, s.LastSeen = testStart, testStart
		_, loadErr := h.load(c)
		_, logoutErr := h.m.Logout(ctx, httptest.NewRecorder(), request(c))
		_, revokeErr := h.m.RevokeUser(ctx, 1)
		errs := map[string]error{
			"Load":       loadErr,
			"Login":      h.m.Login(ctx, httptest.NewRecorder(), request(), alice()),
			"Save":       h.m.Save(ctx, s),
			"Update":     h.m.Update(ctx, s, func(*session.Session) error { return nil }),
			"Rotate":     h.m.Rotate(ctx, httptest.NewRecorder(), s),
			"Logout":     logoutErr,
			"RevokeUser": revokeErr,
		}
		for name, err := range errs {
			if !errors.Is(err, session.ErrUnavailable) || errors.Is(err, session.ErrNotFound) {
				t.Errorf("%s with a failing store (%v): %v, want ErrUnavailable", name, cause, err)
			}
		}
	}
}

// TestRecordOpaque checks what a dump of the backend shows: neither the
// profile nor anything that could be replayed as a cookie.
func TestRecordOpaque(t *testing.T) {
	h := newHarness(t)
	s := alice()
	c := h.login(s)
	key := onlyKey(t, h.store.written)
	if key == s.ID || strings.Contains(key, s.ID) || strings.Contains(c.Value, key) {
		t.Errorf("stored key %q reveals the ID %q", key, s.ID)
	}
	for _, secret := range []string{"alice@example.com", "alice", "password", `"user_id"`, s.ID} {
		if bytes.Contains(h.store.written[key], []byte(secret)) {
			t.Errorf("stored record contains %q in clear", secret)
		}
	}
}

// TestRecordBoundToKey checks that a record copied under another session's
// key cannot be opened there: it is encrypted under a key derived from its
// own ID, with its storage key as additional data.
func TestRecordBoundToKey(t *testing.T) {
	h := newHarness(t)
	mallory := h.login(&session.Session{UserID: 9, Email: "mallory@example.com"})
	malloryKey := onlyKey(t, h.store.written)
	h.store.written = nil
	h.login(alice())
	aliceKey := onlyKey(t, h.store.written)
	ctx := context.Background()
	data, _, err := h.store.Get(ctx, aliceKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.Put(ctx, malloryKey, 9, data, time.Hour); err != nil {
		t.Fatal(err)
	}
	if s, err := h.load(mallory); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Load of a record moved under another key = %+v, %v; want ErrNotFound", s, err)
	}
}

func onlyKey(t *testing.T, written map[string][]byte) string {
	t.Helper()
	if len(written) != 1 {
		t.Fatalf("%d keys written, want 1", len(written))
	}
	for key := range written {
		return key
	}
	return ""
}
