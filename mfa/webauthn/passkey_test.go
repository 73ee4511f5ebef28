package webauthn

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

func TestPasskeySignIn(t *testing.T) {
	h := newHarness(t)
	u, k, _ := h.registered("ada@example.com")
	b := h.browser() // a fresh browser: no session, no email typed

	begun := b.beginPasskey()
	var o options
	json.Unmarshal(begun.PublicKey, &o)
	if o.UserVerification != "required" || len(o.AllowCredentials) != 0 || o.RPID != testRPID {
		t.Errorf("passkey options %s", begun.PublicKey)
	}
	done := b.post(PasskeyFinishPath, url.Values{"ceremony": {begun.Ceremony}, "return": {"/saml/resume?key=k1"},
		"credential": {k.get(t, begun.PublicKey)}}).must(t, "finish", http.StatusOK)
	if done.Redirect != "/saml/resume?key=k1" {
		t.Errorf("redirect %q", done.Redirect)
	}
	s := b.Session()
	if s == nil || s.UserID != u.ID || s.Email != u.Email || s.AuthTime.IsZero() || s.MFATime.IsZero() {
		t.Fatalf("session %+v", s)
	}
	if len(s.Factors) != 1 || s.Factors[0].Name != session.FactorWebAuthn {
		t.Errorf("factors %+v, want webauthn alone", s.Factors)
	}
	ev := h.events(audit.LoginSucceeded)
	if len(ev) != 1 || ev[0].Subject != u.Email || ev[0].Details["method"] != "passkey" || ev[0].Details["name"] != "YubiKey" {
		t.Errorf("login events %+v", ev)
	}
	if cur, _ := h.Store.User(context.Background(), u.ID); cur.LastLoginAt.IsZero() {
		t.Error("LastLoginAt not set")
	}
	if got := h.stored(u).Authenticator.SignCount; got != k.counter {
		t.Errorf("stored count %d, want %d", got, k.counter)
	}
}

// TestPasskeyReturnTarget: only local paths are followed.
func TestPasskeyReturnTarget(t *testing.T) {
	h := newHarness(t)
	_, k, _ := h.registered("ada@example.com")
	for _, ret := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "", "javascript:alert(1)"} {
		if got := h.browser().passkey(k, ret).must(t, "sign in", http.StatusOK); got.Redirect != "/" {
			t.Errorf("return %q: redirect %q, want /", ret, got.Redirect)
		}
	}
}

// TestPasskeyRefused: each refusal answers one message, creates no
// session, and audits login.failed with the precise reason.
func TestPasskeyRefused(t *testing.T) {
	for _, c := range []struct {
		name, reason, msg string
		change            func(t *testing.T, h *harness, k *softKey)
	}{
		{"user verification missing", "User verification required", msgPasskey, func(_ *testing.T, _ *harness, k *softKey) { k.uv = false }},
		{"disabled user", "user disabled", msgPasskey, func(_ *testing.T, h *harness, _ *softKey) {
			u, _ := h.Store.UserByEmail(context.Background(), "ada@example.com")
			u.Disabled = true
			h.updateUser(u)
		}},
		{"password reset required", "password reset", msgResetFirst, func(_ *testing.T, h *harness, _ *softKey) {
			u, _ := h.Store.UserByEmail(context.Background(), "ada@example.com")
			u.PasswordResetRequired = true
			h.updateUser(u)
		}},
		{"unknown credential", "unknown credential", msgPasskey, func(t *testing.T, _ *harness, k *softKey) {
			*k = *newSoftKey(t, testRPID, testOrigin)
			k.handle = []byte("not one of ours")
		}},
		{"another user's credential", "not registered to eve", msgPasskey, func(t *testing.T, h *harness, k *softKey) {
			_, eve, _ := h.registered("eve@example.com")
			k.handle = eve.handle // ada's key, claiming to be eve's
		}},
		{"removed credential", "unknown credential", msgPasskey, func(_ *testing.T, h *harness, _ *softKey) {
			u, _ := h.Store.UserByEmail(context.Background(), "ada@example.com")
			h.Store.DeleteEnrolment(context.Background(), h.keys(u)[0].ID)
		}},
		{"wrong origin", "origin", msgPasskey, func(_ *testing.T, _ *harness, k *softKey) { k.origin = "https://evil.test" }},
		{"wrong RP ID hash", "RP Hash", msgPasskey, func(_ *testing.T, _ *harness, k *softKey) { k.rpID = "evil.test" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			_, k, _ := h.registered("ada@example.com")
			c.change(t, h, k)
			b := h.browser()
			got := b.passkey(k, "/")
			if got.status != http.StatusUnauthorized || got.Error != c.msg || got.Redirect != "" {
				t.Errorf("status %d, %+v", got.status, got)
			}
			if s := b.Session(); s != nil {
				t.Errorf("refused sign-in has a session: %+v", s)
			}
			ev := h.events(audit.LoginFailed)
			if len(ev) != 1 || ev[0].Details["method"] != "passkey" || !strings.Contains(ev[0].Reason, c.reason) {
				t.Errorf("failed events %+v, want a reason with %q", ev, c.reason)
			}
			if n := len(h.events(audit.LoginSucceeded)); n != 0 {
				t.Errorf("%d login.succeeded events", n)
			}
		})
	}
}

// TestPasskeyReplayedChallenge: the same answer twice signs in once.
func TestPasskeyReplayedChallenge(t *testing.T) {
	h := newHarness(t)
	_, k, _ := h.registered("ada@example.com")
	b := h.browser()
	begun := b.beginPasskey()
	fields := url.Values{"ceremony": {begun.Ceremony}, "credential": {k.get(t, begun.PublicKey)}}
	b.post(PasskeyFinishPath, fields).must(t, "first", http.StatusOK)
	thief := h.browser()
	thief.page("/login")
	if got := thief.post(PasskeyFinishPath, fields); got.status != http.StatusUnauthorized || got.Error != msgExpired || thief.Session() != nil {
		t.Errorf("replay: %d %q", got.status, got.Error)
	}
}

// TestPasskeyCounterRegression: a clone's sign-in is refused and audited.
func TestPasskeyCounterRegression(t *testing.T) {
	h := newHarness(t)
	u, k, _ := h.registered("ada@example.com")
	clone := *k
	h.browser().passkey(k, "/").must(t, "original", http.StatusOK)
	b := h.browser()
	if got := b.passkey(&clone, "/"); got.status != http.StatusUnauthorized || b.Session() != nil {
		t.Errorf("clone: %d %q", got.status, got.Error)
	}
	if ev := h.events(mfa.EventCounterRegression); len(ev) != 1 || ev[0].Subject != u.Email {
		t.Errorf("regression events %+v", ev)
	}
}

// TestPasskeyThrottled: failures from an unknown credential count against
// the IP; those of a known user against the user, whose next sign-in,
// even a good one, is then refused with 429.
func TestPasskeyThrottled(t *testing.T) {
	h := newHarness(t)
	_, k, _ := h.registered("ada@example.com")
	stranger := newSoftKey(t, testRPID, testOrigin)
	stranger.handle = []byte("0123456789abcdef")
	var last answer
	for range h.node.Core.Throttle.MaxUser {
		last = h.browser().passkey(stranger, "/")
	}
	if last.status != http.StatusUnauthorized {
		t.Fatalf("last failure before the limit: %d", last.status)
	}
	b := h.browser()
	b.page("/login")
	if got := b.post(PasskeyBeginPath, url.Values{}); got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") == "" {
		t.Errorf("begin from the throttled IP: %d %+v", got.status, got)
	}

	h = newHarness(t)
	_, k, _ = h.registered("ada@example.com")
	noUV := *k
	noUV.uv = false
	for range h.node.Core.Throttle.MaxUser {
		h.browser().passkey(&noUV, "/").must(t, "without UV", http.StatusUnauthorized)
	}
	b = h.browser()
	if got := b.passkey(k, "/"); got.status != http.StatusTooManyRequests || b.Session() != nil {
		t.Errorf("good passkey of a throttled user: %d", got.status)
	}
	if ev := h.events(audit.LoginThrottled); len(ev) != 1 || ev[0].Subject != "ada@example.com" {
		t.Errorf("throttled events %+v", ev)
	}
}

// TestPasskeyReplacesSession: signing in with a passkey in a browser that
// has a session of someone else replaces it (no fixation).
func TestPasskeyReplacesSession(t *testing.T) {
	h := newHarness(t)
	ada, k, _ := h.registered("ada@example.com")
	eve := h.User("eve@example.com")
	b := h.browser()
	b.SignIn(eve)
	before := b.Session()
	b.passkey(k, "/").must(t, "sign in", http.StatusOK)
	after := b.Session()
	if after.UserID != ada.ID || after.ID == before.ID {
		t.Errorf("session before %+v, after %+v", before, after)
	}
}

// TestPasskeyNeedsCSRF: the endpoints take no POST without the token.
func TestPasskeyNeedsCSRF(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	for _, path := range []string{PasskeyBeginPath, PasskeyFinishPath} {
		if got := b.post(path, url.Values{}); got.status != http.StatusForbidden {
			t.Errorf("%s without a token: %d", path, got.status)
		}
	}
}

// TestUserHandle: handles are stable, reversible, opaque, and a forged or
// mangled one names nobody.
func TestUserHandle(t *testing.T) {
	f := newHarness(t).factor
	a, b := f.userHandle(7), f.userHandle(8)
	if string(a) != string(f.userHandle(7)) || string(a) == string(b) || len(a) != 16 {
		t.Fatalf("handles %x %x", a, b)
	}
	if id, ok := f.userOf(a); !ok || id != 7 {
		t.Errorf("userOf = %d, %v", id, ok)
	}
	for _, bad := range [][]byte{nil, a[:15], append(append([]byte{}, a...), 0), []byte("0123456789abcdef")} {
		if id, ok := f.userOf(bad); ok {
			t.Errorf("userOf(%x) = %d", bad, id)
		}
	}
	flipped := append([]byte{}, a...)
	flipped[3] ^= 1
	if _, ok := f.userOf(flipped); ok {
		t.Error("a flipped handle names a user")
	}
}

// TestPasskeyChecksUVItself: the UV flag is required even if a ceremony
// record said otherwise (go-webauthn checks what the record says).
func TestPasskeyChecksUVItself(t *testing.T) {
	h := newHarness(t)
	_, k, _ := h.registered("ada@example.com")
	k.uv = false
	assertion, sd, err := h.factor.rp.BeginDiscoverableLogin(gowebauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		t.Fatal(err)
	}
	id, err := h.factor.begin(t.Context(), ceremony{Kind: kindPasskey, Data: *sd})
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := json.Marshal(assertion.Response)
	b := h.browser()
	b.page("/login")
	got := b.post(PasskeyFinishPath, url.Values{"ceremony": {id}, "credential": {k.get(t, pk)}})
	if got.status != http.StatusUnauthorized || b.Session() != nil {
		t.Errorf("sign-in without UV: %d %+v", got.status, got)
	}
	if ev := h.events(audit.LoginFailed); len(ev) != 1 || ev[0].Reason != "user verification missing" {
		t.Errorf("failed events %+v", ev)
	}
}

// TestFactorOffWithoutDomain: a base URL on an IP address cannot be an RP
// ID. The factor says why, counts no enrolment as usable, and its routes
// answer 503.
func TestFactorOffWithoutDomain(t *testing.T) {
	h := newHarness(t)
	f := New(h.node.Core, Options{RPID: "127.0.0.1", RPName: "Portcullis", Origin: "http://127.0.0.1:8080"})
	if f.Err() == nil || f.Usable(store.Enrolment{}) {
		t.Fatalf("Err %v, Usable %v", f.Err(), f.Usable(store.Enrolment{}))
	}
	mux := http.NewServeMux()
	f.Mount(mux, nil)
	for _, r := range []*http.Request{httptest.NewRequest("GET", "/mfa/webauthn/enrol", nil),
		httptest.NewRequest("POST", PasskeyBeginPath, nil)} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s %s: %d", r.Method, r.URL, w.Code)
		}
	}
}

// TestPasskeyBeginsBounded: anonymous ceremonies are counted per IP, so one
// client cannot fill the session backend with them.
func TestPasskeyBeginsBounded(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.page("/login")
	for i := range MaxPasskeyBegins {
		if got := b.post(PasskeyBeginPath, url.Values{}); got.status != http.StatusOK {
			t.Fatalf("begin %d: %d", i+1, got.status)
		}
	}
	if got := b.post(PasskeyBeginPath, url.Values{}); got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") == "" {
		t.Errorf("begin over the bound: %d", got.status)
	}
}
