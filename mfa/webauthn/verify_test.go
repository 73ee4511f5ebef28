package webauthn

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/mfatest"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

// stored returns the credential record of enrolment e as it is now.
func (h *harness) stored(u store.User) gowebauthn.Credential {
	h.T.Helper()
	es := h.keys(u)
	if len(es) == 0 {
		h.T.Fatal("no key enrolled")
	}
	var c gowebauthn.Credential
	if err := json.Unmarshal(es[0].Data, &c); err != nil {
		h.T.Fatal(err)
	}
	return c
}

func TestStepUp(t *testing.T) {
	h := newHarness(t)
	u, k, _ := h.registered("ada@example.com")
	b := h.browser()
	b.SignIn(u)
	c := h.stepUp(u, "/saml/resume?key=abc")

	status, page := b.page("/mfa/webauthn?c=" + url.QueryEscape(c))
	if status != http.StatusOK || !strings.Contains(page, "Grafana") || !strings.Contains(page, `data-webauthn="verify"`) {
		t.Fatalf("step-up page %d:\n%s", status, page)
	}
	begun := b.post("/mfa/webauthn/begin", url.Values{"c": {c}}).must(t, "begin", http.StatusOK)
	var o options
	json.Unmarshal(begun.PublicKey, &o)
	if o.RPID != testRPID || o.UserVerification != "preferred" || len(o.AllowCredentials) != 1 || o.AllowCredentials[0].ID != b64(k.id) {
		t.Errorf("request options %s", begun.PublicKey)
	}
	done := b.post("/mfa/webauthn/finish", url.Values{"c": {c}, "ceremony": {begun.Ceremony},
		"credential": {k.get(t, begun.PublicKey)}}).must(t, "finish", http.StatusOK)
	if done.Redirect != "/saml/resume?key=abc" {
		t.Errorf("redirect %q", done.Redirect)
	}
	s := b.Session()
	if !mfatest.HasFactor(s, session.FactorWebAuthn) || s.MFATime.IsZero() {
		t.Errorf("session %+v", s)
	}
	if got := h.stored(u).Authenticator.SignCount; got != k.counter || got == 0 {
		t.Errorf("stored sign count %d, want %d", got, k.counter)
	}
	if e := h.keys(u)[0]; e.LastUsedAt.IsZero() {
		t.Error("LastUsedAt not set")
	}
	if ev := h.events(mfa.EventSucceeded); len(ev) != 2 || ev[1].Details["name"] != "YubiKey" || ev[1].App != "Grafana" {
		t.Errorf("succeeded events %+v", ev)
	}
}

// TestStepUpWithoutUV: a security key with no PIN or biometric still
// counts as the second factor (user verification preferred).
func TestStepUpWithoutUV(t *testing.T) {
	h := newHarness(t)
	u, k, _ := h.registered("ada@example.com")
	k.uv = false
	b := h.browser()
	b.SignIn(u)
	b.verify(k, h.stepUp(u, "/")).must(t, "step-up without UV", http.StatusOK)
	if ev := h.events(mfa.EventSucceeded); ev[len(ev)-1].Details["user_verified"] != "false" {
		t.Errorf("audit %+v", ev[len(ev)-1].Details)
	}
}

// TestStepUpWithoutCounter: an authenticator that keeps no counter (always
// 0, as synced passkeys do) is not mistaken for a clone.
func TestStepUpWithoutCounter(t *testing.T) {
	h := newHarness(t)
	u, k, _ := h.registered("ada@example.com")
	k.count = false
	b := h.browser()
	b.SignIn(u)
	for i := range 3 {
		if got := b.verify(k, h.stepUp(u, "/")); got.status != http.StatusOK {
			t.Fatalf("use %d: %d %s", i, got.status, got.body)
		}
	}
	if n := len(h.events(mfa.EventCounterRegression)); n != 0 {
		t.Errorf("%d counter regressions", n)
	}
}

// TestStepUpRefused: each bad assertion is refused with the same message,
// counted and audited with its reason, and adds no factor.
func TestStepUpRefused(t *testing.T) {
	for _, c := range []struct {
		name, reason string
		change       func(t *testing.T, h *harness, k *softKey)
	}{
		{"wrong origin", "origin", func(_ *testing.T, _ *harness, k *softKey) { k.origin = "https://evil.test" }},
		{"wrong RP ID hash", "RP Hash", func(_ *testing.T, _ *harness, k *softKey) { k.rpID = "evil.test" }},
		{"another private key", "signature", func(t *testing.T, _ *harness, k *softKey) {
			k.priv = newSoftKey(t, testRPID, testOrigin).priv
		}},
		{"another user's key", "credential", func(t *testing.T, h *harness, k *softKey) {
			_, theirs, _ := h.registered("eve@example.com")
			*k = *theirs
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			u, k, _ := h.registered("ada@example.com")
			c.change(t, h, k)
			b := h.browser()
			b.SignIn(u)
			got := b.verify(k, h.stepUp(u, "/"))
			if got.status != http.StatusUnauthorized || got.Error != msgKeyRefused {
				t.Errorf("status %d, %q", got.status, got.Error)
			}
			if mfatest.HasFactor(b.Session(), session.FactorWebAuthn) {
				t.Error("refused assertion counted as a factor")
			}
			ev := h.events(mfa.EventFailed)
			if len(ev) != 1 || ev[0].Subject != u.Email || !strings.Contains(strings.ToLower(ev[0].Reason), strings.ToLower(c.reason)) {
				t.Errorf("failed events %+v, want a reason about %s", ev, c.reason)
			}
		})
	}
}

// TestStepUpReplayedChallenge: a ceremony is finished once; the same
// answer again is refused and counted.
func TestStepUpReplayedChallenge(t *testing.T) {
	h := newHarness(t)
	u, k, _ := h.registered("ada@example.com")
	b := h.browser()
	b.SignIn(u)
	c := h.stepUp(u, "/")
	begun := b.beginVerify(c)
	fields := url.Values{"c": {c}, "ceremony": {begun.Ceremony}, "credential": {k.get(t, begun.PublicKey)}}
	b.post("/mfa/webauthn/finish", fields).must(t, "first finish", http.StatusOK)
	got := b.post("/mfa/webauthn/finish", fields).must(t, "replay", http.StatusBadRequest)
	if got.Error != msgExpired {
		t.Errorf("replay answered %q", got.Error)
	}
	if ev := h.events(mfa.EventFailed); len(ev) != 1 || !strings.Contains(ev[0].Reason, "ceremony") {
		t.Errorf("failed events %+v", ev)
	}
	// A fresh assertion of an old challenge: the ceremony is gone too.
	fields.Set("credential", k.get(t, begun.PublicKey))
	b.post("/mfa/webauthn/finish", fields).must(t, "old challenge", http.StatusBadRequest)
}

// TestStepUpCeremonyOfAnotherSession: a ceremony begun in one session
// cannot be finished in another of the same user.
func TestStepUpCeremonyOfAnotherSession(t *testing.T) {
	h := newHarness(t)
	u, k, _ := h.registered("ada@example.com")
	b, other := h.browser(), h.browser()
	b.SignIn(u)
	other.SignIn(u)
	c := h.stepUp(u, "/")
	begun := b.beginVerify(c)
	other.page("/mfa/webauthn?c=" + url.QueryEscape(c))
	got := other.post("/mfa/webauthn/finish", url.Values{"c": {c}, "ceremony": {begun.Ceremony},
		"credential": {k.get(t, begun.PublicKey)}})
	if got.status != http.StatusBadRequest || mfatest.HasFactor(other.Session(), session.FactorWebAuthn) {
		t.Errorf("finish in another session: %d %q", got.status, got.Error)
	}
}

// TestCounterRegression: an assertion whose counter does not advance is
// refused, audited as a possible clone, and leaves the stored count alone.
func TestCounterRegression(t *testing.T) {
	h := newHarness(t)
	u, k, _ := h.registered("ada@example.com")
	b := h.browser()
	b.SignIn(u)
	k.counter = 41
	b.verify(k, h.stepUp(u, "/")).must(t, "count 42", http.StatusOK)
	clone := *k
	b.verify(k, h.stepUp(u, "/")).must(t, "count 43", http.StatusOK)
	// The clone still sits at 42: its next assertion says 43 again.
	got := b.verify(&clone, h.stepUp(u, "/"))
	if got.status != http.StatusUnauthorized || got.Error != msgKeyRefused {
		t.Errorf("clone: %d %q", got.status, got.Error)
	}
	ev := h.events(mfa.EventCounterRegression)
	if len(ev) != 1 || ev[0].Subject != u.Email || ev[0].Details["stored"] != "43" || ev[0].Details["received"] != "43" ||
		ev[0].Details["name"] != "YubiKey" {
		t.Errorf("regression events %+v", ev)
	}
	if got := h.stored(u).Authenticator.SignCount; got != 43 {
		t.Errorf("stored count %d after the refusal, want 43", got)
	}
	if n := len(h.events(mfa.EventFailed)); n != 1 {
		t.Errorf("%d failed events, want 1", n)
	}
	// A counter that went back to zero is a regression too (§7.2 step 21).
	clone.counter, clone.count = 0, false
	if got := b.verify(&clone, h.stepUp(u, "/")); got.status != http.StatusUnauthorized {
		t.Errorf("counter back to 0: %d", got.status)
	}
}

// TestCounterRegressionRace: the counter is checked again inside the
// transaction, against what another assertion stored meanwhile.
func TestCounterRegressionRace(t *testing.T) {
	h := newHarness(t)
	u, k, _ := h.registered("ada@example.com")
	us, err := h.factor.loadUser(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	stale := us.keys[0] // as loaded before the other assertion
	cred := stale.cred
	if _, err := h.factor.used(t.Context(), stale, &cred, k.counter+5, h.node.Core.NowTime(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.factor.used(t.Context(), stale, &cred, k.counter+3, h.node.Core.NowTime(), nil); err != errRegression {
		t.Errorf("second use with a lower count: %v, want errRegression", err)
	}
	if got := h.stored(u).Authenticator.SignCount; got != k.counter+5 {
		t.Errorf("stored %d", got)
	}
}

// TestStepUpThrottled: failures count against the user's budget; at the
// limit the answer is 429 with Retry-After, even for a good assertion.
func TestStepUpThrottled(t *testing.T) {
	h := newHarness(t)
	u, k, _ := h.registered("ada@example.com")
	b := h.browser()
	b.SignIn(u)
	bad := *k
	bad.origin = "https://evil.test"
	var last answer
	for range h.node.Core.Throttle.MaxUser {
		last = b.verify(&bad, h.stepUp(u, "/"))
	}
	if last.status != http.StatusTooManyRequests || last.header.Get("Retry-After") == "" {
		t.Errorf("at the limit: %d %q", last.status, last.header.Get("Retry-After"))
	}
	c := h.stepUp(u, "/")
	if status, _ := b.page("/mfa/webauthn?c=" + url.QueryEscape(c)); status != http.StatusTooManyRequests {
		t.Errorf("page while throttled: %d", status)
	}
	if got := b.post("/mfa/webauthn/begin", url.Values{"c": {c}}); got.status != http.StatusTooManyRequests {
		t.Errorf("begin while throttled: %d", got.status)
	}
}

// TestStepUpWithoutKey: a user with no key is sent to choose another way,
// and the begin says so.
func TestStepUpWithoutKey(t *testing.T) {
	h := newHarness(t)
	u := h.User("ada@example.com")
	b := h.browser()
	b.SignIn(u)
	c := h.stepUp(u, "/")
	w := b.Do(h.node, "GET", "/mfa/webauthn?c="+url.QueryEscape(c), nil)
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), mfa.ChoosePath+"?c=") {
		t.Errorf("page: %d %s", w.Code, w.Header().Get("Location"))
	}
	b.page("/login")
	if got := b.post("/mfa/webauthn/begin", url.Values{"c": {c}}); got.status != http.StatusBadRequest || got.Error == "" {
		t.Errorf("begin: %d %q", got.status, got.Error)
	}
}

// TestStepUpWrongContinuation: a continuation of another user is refused
// before any ceremony begins.
func TestStepUpWrongContinuation(t *testing.T) {
	h := newHarness(t)
	u, _, _ := h.registered("ada@example.com")
	eve, _, b := h.registered("eve@example.com")
	_ = eve
	b.page("/login")
	if got := b.post("/mfa/webauthn/begin", url.Values{"c": {h.stepUp(u, "/")}}); got.status != http.StatusBadRequest || got.Ceremony != "" {
		t.Errorf("begin with ada's continuation as eve: %d %+v", got.status, got)
	}
}

// TestStepUpFactorNotAccepted: a step-up that accepts only other factors
// is not served here, and the way back to the choice is offered only when
// there is another factor to choose.
func TestStepUpFactorNotAccepted(t *testing.T) {
	h := newHarness(t)
	u, k, b := h.registered("ada@example.com")
	c := h.stepUp(u, "/", "totp")
	w := b.Do(h.node, "GET", "/mfa/webauthn?c="+url.QueryEscape(c), nil)
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), mfa.ChoosePath) {
		t.Errorf("page: %d %s", w.Code, w.Header().Get("Location"))
	}
	b.page("/login")
	if got := b.post("/mfa/webauthn/begin", url.Values{"c": {c}}); got.status != http.StatusBadRequest || got.Ceremony != "" {
		t.Errorf("begin: %d %+v", got.status, got)
	}
	// A ceremony begun for a step-up that accepts the key cannot finish
	// one that does not.
	any := h.stepUp(u, "/")
	begun := b.beginVerify(any)
	got := b.post("/mfa/webauthn/finish", url.Values{"c": {c}, "ceremony": {begun.Ceremony}, "credential": {k.get(t, begun.PublicKey)}})
	if got.status != http.StatusBadRequest {
		t.Errorf("finish: %d %+v", got.status, got)
	}
	if _, page := b.page("/mfa/webauthn?c=" + url.QueryEscape(any)); strings.Contains(page, "Use another way") {
		t.Error("the only factor offers another way")
	}
	if err := h.Store.CreateEnrolment(t.Context(), &store.Enrolment{UserID: u.ID, Factor: "totp", Name: "Phone", Confirmed: true}); err != nil {
		t.Fatal(err)
	}
	if _, page := b.page("/mfa/webauthn?c=" + url.QueryEscape(any)); !strings.Contains(page, "Use another way") {
		t.Error("no way back to the choice with an authenticator app enrolled")
	}
}
