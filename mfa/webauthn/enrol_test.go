package webauthn

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/mfatest"
	"github.com/portcullis/portcullis/session"
)

func TestRegister(t *testing.T) {
	h := newHarness(t)
	u := h.User("ada@example.com")
	b := h.browser()
	b.SignIn(u)
	k := newSoftKey(t, testRPID, testOrigin)

	_, page := b.page(mfa.EnrolPath("webauthn"))
	begun := b.post("/mfa/webauthn/enrol/begin", url.Values{"name": {"  YubiKey 5  "}}).must(t, "begin", http.StatusOK)
	var o struct {
		RP                     struct{ ID, Name string }
		User                   struct{ ID, Name, DisplayName string }
		Attestation            string
		AuthenticatorSelection struct{ ResidentKey, UserVerification string }
	}
	if err := json.Unmarshal(begun.PublicKey, &o); err != nil {
		t.Fatal(err)
	}
	if o.RP.ID != testRPID || o.User.Name != u.Email || o.Attestation != "none" ||
		o.AuthenticatorSelection.ResidentKey != "preferred" || o.AuthenticatorSelection.UserVerification != "preferred" {
		t.Errorf("creation options %+v", o)
	}
	if handle := unb64(t, o.User.ID); len(handle) != 16 || bytes.Contains([]byte(u.Email), handle) {
		t.Errorf("user handle %x", handle)
	}
	done := b.post("/mfa/webauthn/enrol/finish", url.Values{"ceremony": {begun.Ceremony},
		"credential": {k.create(t, begun.PublicKey)}}).must(t, "finish", http.StatusOK)
	if done.Redirect != mfa.DevicesPath {
		t.Errorf("redirect %q, want the devices page", done.Redirect)
	}
	if !strings.Contains(page, `data-webauthn="register"`) {
		t.Errorf("enrol page has no ceremony form:\n%s", page)
	}

	es := h.keys(u)
	if len(es) != 1 || es[0].Name != "YubiKey 5" || !es[0].Confirmed {
		t.Fatalf("enrolments %+v", es)
	}
	var cred gowebauthn.Credential
	if err := json.Unmarshal(es[0].Data, &cred); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cred.ID, k.id) || len(cred.PublicKey) == 0 || cred.AttestationFormat != "none" ||
		len(cred.Transport) != 1 || cred.Transport[0] != "usb" || !cred.Flags.UserVerified || len(cred.Authenticator.AAGUID) != 16 {
		t.Errorf("stored credential %+v", cred)
	}
	// Registration proved possession: it counts as presenting the factor.
	if s := b.Session(); s == nil || s.MFATime.IsZero() || !mfatest.HasFactor(s, session.FactorWebAuthn) {
		t.Errorf("session after registration: %+v", s)
	}
	if ev := h.events(mfa.EventEnrolled); len(ev) != 1 || ev[0].Details["factor"] != "webauthn" || ev[0].Details["name"] != "YubiKey 5" {
		t.Errorf("enrolled events %+v", ev)
	}
}

func TestRegisterSeveralKeys(t *testing.T) {
	h := newHarness(t)
	u, first, b := h.registered("ada@example.com")
	second := newSoftKey(t, testRPID, testOrigin)
	b.page(mfa.EnrolPath("webauthn"))
	begun := b.post("/mfa/webauthn/enrol/begin", url.Values{"name": {"Laptop"}}).must(t, "begin", http.StatusOK)
	var o options
	json.Unmarshal(begun.PublicKey, &o)
	if len(o.ExcludeCredentials) != 1 || o.ExcludeCredentials[0].ID != b64(first.id) {
		t.Errorf("excludeCredentials %+v, want the first key", o.ExcludeCredentials)
	}
	b.post("/mfa/webauthn/enrol/finish", url.Values{"ceremony": {begun.Ceremony},
		"credential": {second.create(t, begun.PublicKey)}}).must(t, "second key", http.StatusOK)
	if es := h.keys(u); len(es) != 2 || es[0].Name != "YubiKey" || es[1].Name != "Laptop" {
		t.Errorf("enrolments %+v", es)
	}
	// The same key again is refused, even past the browser's exclude list.
	again := b.enrol(first, "Again")
	if again.status != http.StatusBadRequest || len(h.keys(u)) != 2 {
		t.Errorf("duplicate key: %d %q, %d keys", again.status, again.Error, len(h.keys(u)))
	}
}

// TestRegisterRefused: each bad registration is refused with a message and
// stores nothing.
func TestRegisterRefused(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(k *softKey)
	}{
		{"wrong origin", func(k *softKey) { k.origin = "https://evil.test" }},
		{"wrong RP ID hash", func(k *softKey) { k.rpID = "evil.test" }},
		{"origin of a parent domain", func(k *softKey) { k.origin = "https://test" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			u := h.User("ada@example.com")
			b := h.browser()
			b.SignIn(u)
			k := newSoftKey(t, testRPID, testOrigin)
			c.change(k)
			got := b.enrol(k, "Key")
			if got.status != http.StatusBadRequest || got.Error == "" {
				t.Errorf("status %d, error %q", got.status, got.Error)
			}
			if es := h.keys(u); len(es) != 0 {
				t.Errorf("stored %+v", es)
			}
			if s := b.Session(); mfatest.HasFactor(s, session.FactorWebAuthn) {
				t.Error("refused registration counted as a factor")
			}
		})
	}
}

func TestRegisterName(t *testing.T) {
	h := newHarness(t)
	u := h.User("ada@example.com")
	b := h.browser()
	b.SignIn(u)
	b.page(mfa.EnrolPath("webauthn"))
	for _, name := range []string{"", "   ", strings.Repeat("x", 65), "tab\there"} {
		got := b.post("/mfa/webauthn/enrol/begin", url.Values{"name": {name}})
		if got.status != http.StatusBadRequest || !strings.HasPrefix(got.Error, "Name not accepted") || got.Ceremony != "" {
			t.Errorf("name %q: %d %+v", name, got.status, got)
		}
	}
}

// TestRegisterCeremonyOnce: a finished ceremony cannot be finished again,
// and one begun in another session cannot be finished in this one.
func TestRegisterCeremonyOnce(t *testing.T) {
	h := newHarness(t)
	u, k, b := h.registered("ada@example.com")
	b.page(mfa.EnrolPath("webauthn"))
	begun := b.post("/mfa/webauthn/enrol/begin", url.Values{"name": {"Key"}}).must(t, "begin", http.StatusOK)
	fields := url.Values{"ceremony": {begun.Ceremony}, "credential": {newSoftKey(t, testRPID, testOrigin).create(t, begun.PublicKey)}}
	b.post("/mfa/webauthn/enrol/finish", fields).must(t, "first finish", http.StatusOK)
	replay := b.post("/mfa/webauthn/enrol/finish", fields).must(t, "replayed finish", http.StatusBadRequest)
	if replay.Error != msgExpired || len(h.keys(u)) != 2 {
		t.Errorf("replay: %q, %d keys", replay.Error, len(h.keys(u)))
	}

	// The same user in another session, with a recent second factor of
	// its own, cannot finish what b began.
	other := h.browser()
	other.SignIn(u)
	other.verify(k, h.stepUp(u, "/")).must(t, "other's step-up", http.StatusOK)
	b.page(mfa.EnrolPath("webauthn"))
	begun = b.post("/mfa/webauthn/enrol/begin", url.Values{"name": {"Key 3"}}).must(t, "begin", http.StatusOK)
	other.page(mfa.EnrolPath("webauthn"))
	got := other.post("/mfa/webauthn/enrol/finish", url.Values{"ceremony": {begun.Ceremony},
		"credential": {newSoftKey(t, testRPID, testOrigin).create(t, begun.PublicKey)}})
	if got.status != http.StatusBadRequest || got.Error != msgExpired || len(h.keys(u)) != 2 {
		t.Errorf("finish from another session: %d %q, %d keys", got.status, got.Error, len(h.keys(u)))
	}
}

// TestRegisterNeedsSession: the endpoints refuse without a session and
// without the CSRF token.
func TestRegisterNeedsSession(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	if status, _ := b.page(mfa.EnrolPath("webauthn")); status != http.StatusSeeOther {
		t.Errorf("enrol page without a session: %d", status)
	}
	b.page("/login") // a CSRF token, but no session
	if got := b.post("/mfa/webauthn/enrol/begin", url.Values{"name": {"Key"}}); got.status != http.StatusSeeOther ||
		!strings.HasPrefix(got.header.Get("Location"), "/login?") {
		t.Errorf("begin without a session: %d %s", got.status, got.header.Get("Location"))
	}
	b.SignIn(h.User("ada@example.com"))
	b.CSRF = ""
	if got := b.post("/mfa/webauthn/enrol/begin", url.Values{"name": {"Key"}}); got.status != http.StatusForbidden {
		t.Errorf("begin without the CSRF token: %d", got.status)
	}
}
