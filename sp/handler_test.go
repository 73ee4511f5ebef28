package sp

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

func factorNames(s *session.Session) []string {
	var out []string
	for _, f := range s.Factors {
		out = append(out, f.Name)
	}
	return out
}

func TestSolicitedLoginCreatesSession(t *testing.T) {
	g := newGateway(t, Settings{CreateUsers: true, TrustMFA: true})
	b := g.browser()
	req := b.startLogin(t, "idp=okta&return=%2Fsaml%2Fsso%2Fresume%3Fkey%3Dk1")
	if req.Destination != idpSSO || req.AssertionConsumerServiceURL != acsURL || req.Issuer.Value != spEntity ||
		req.ProtocolBinding != saml.HTTPPostBinding {
		t.Fatalf("AuthnRequest %+v", req)
	}
	w := b.post(ACSPath, url.Values{"SAMLResponse": {g.answer(t, req.ID, goodMsg())}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/saml/sso/resume?key=k1" {
		t.Fatalf("ACS: %d %q %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	s := b.session(t)
	if s == nil || s.Email != "alice@example.org" {
		t.Fatalf("session %+v", s)
	}
	if got := factorNames(s); !slices.Equal(got, []string{session.FactorUpstream, policy.UpstreamMFA}) {
		t.Errorf("factors %v, want upstream and upstream_mfa", got)
	}
	if s.MFATime.IsZero() || s.Values[ValueIdP] != "okta" || s.Values[ValueNameID] != "alice@example.org" ||
		s.Values[ValueSessionIndex] != "_sess-1" {
		t.Errorf("session %+v", s)
	}
	evs := g.events(t, EventLogin)
	if len(evs) != 1 || evs[0].Outcome != audit.Success || evs[0].Details["created"] != "true" ||
		evs[0].Details["upstream_mfa"] != "true" || evs[0].Details["solicited"] != "true" {
		t.Fatalf("events %+v", evs)
	}
	if u, err := g.st.UserByEmail(t.Context(), "alice@example.org"); err != nil || u.PasswordHash != "" || u.LastLoginAt.IsZero() {
		t.Fatalf("JIT user %+v, %v", u, err)
	}
}

func TestUpstreamMFAOnlyWhenTrusted(t *testing.T) {
	g := newGateway(t, Settings{CreateUsers: true})
	b := g.browser()
	req := b.startLogin(t, "idp=okta")
	if w := b.post(ACSPath, url.Values{"SAMLResponse": {g.answer(t, req.ID, goodMsg())}}); w.Code != http.StatusSeeOther {
		t.Fatalf("ACS: %d", w.Code)
	}
	if s := b.session(t); !slices.Equal(factorNames(s), []string{session.FactorUpstream}) || !s.MFATime.IsZero() {
		t.Fatalf("untrusted upstream MFA counted: %+v", s)
	}
}

// refused posts resp and wants the generic 403, no new session, and one
// denied sp.login event with reason.
func refused(t *testing.T, g *gateway, b *browser, resp string, reason Reason) {
	t.Helper()
	before := len(g.events(t, EventLogin))
	had := b.session(t)
	w := b.post(ACSPath, url.Values{"SAMLResponse": {resp}})
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "Sign-in refused") {
		t.Fatalf("ACS: %d %s, want 403", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), string(reason)) {
		t.Errorf("the page tells the reason %q", reason)
	}
	if s := b.session(t); s != nil && (had == nil || s.ID != had.ID) {
		t.Fatalf("a refused Response made a session: %+v", s)
	}
	evs := g.events(t, EventLogin)
	if len(evs) != before+1 {
		t.Fatalf("%d sp.login events, want %d", len(evs), before+1)
	}
	if e := evs[len(evs)-1]; e.Outcome != audit.Denied || e.Details["reason"] != string(reason) {
		t.Fatalf("event %+v, want denied %s", e, reason)
	}
}

func TestResponseTiedToRequestAndBrowser(t *testing.T) {
	g := newGateway(t, Settings{CreateUsers: true})
	alice := g.browser()
	req := alice.startLogin(t, "idp=okta")
	resp := g.answer(t, req.ID, goodMsg())

	// Another browser (no cookie, or its own) cannot use alice's answer.
	refused(t, g, g.browser(), resp, ReasonInResponseTo)
	mallory := g.browser()
	mallory.startLogin(t, "idp=okta")
	refused(t, g, mallory, resp, ReasonInResponseTo)

	// A request ID we never sent, and an unsolicited Response, are refused.
	refused(t, g, alice, g.answer(t, "_forged", goodMsg()), ReasonInResponseTo)
	refused(t, g, alice, g.answer(t, "", goodMsg()), ReasonInResponseTo)

	if w := alice.post(ACSPath, url.Values{"SAMLResponse": {resp}}); w.Code != http.StatusSeeOther {
		t.Fatalf("alice's own answer: %d %s", w.Code, w.Body)
	}
	// Answered once: the same Response again is refused.
	refused(t, g, alice, resp, ReasonInResponseTo)
}

func TestUnsolicitedWhenAllowed(t *testing.T) {
	g := newGateway(t, Settings{CreateUsers: true, AllowUnsolicited: true})
	b := g.browser()
	resp := g.answer(t, "", goodMsg())
	w := b.post(ACSPath, url.Values{"SAMLResponse": {resp}, "RelayState": {"//evil.example/x"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("ACS: %d to %q, want 303 to / (foreign RelayState dropped)", w.Code, w.Header().Get("Location"))
	}
	if s := b.session(t); s == nil || s.Email != "alice@example.org" {
		t.Fatalf("no session: %+v", s)
	}
	// The assertion ID is spent on every node sharing the session store.
	refused(t, g, g.browser(), resp, ReasonReplay)
}

func TestRefusals(t *testing.T) {
	g := newGateway(t, Settings{})
	other := loadKey(t, "other")
	for name, c := range map[string]struct {
		resp   func(id string) string
		reason Reason
	}{
		"signed by another key": {func(id string) string {
			m := goodMsg()
			m.RespIRT, m.SCDIRT = id, id
			return encode(str(t, signer{kp: other}.sign(t, m.xml(), SignedBoth)))
		}, ReasonSignature},
		"unknown issuer": {func(id string) string {
			m := goodMsg()
			m.Issuer = "https://stranger.example/idp"
			return g.answer(t, id, m)
		}, ReasonUnknownIdP},
		"wrong audience": {func(id string) string {
			m := goodMsg()
			m.Audience = "https://other-sp.example"
			return g.answer(t, id, m)
		}, ReasonAudience},
		"not base64":         {func(string) string { return "%%%" }, ReasonMalformed},
		"no user and no JIT": {func(id string) string { return g.answer(t, id, goodMsg()) }, ReasonNoUser},
	} {
		t.Run(name, func(t *testing.T) {
			b := g.browser()
			req := b.startLogin(t, "idp=okta")
			refused(t, g, b, c.resp(req.ID), c.reason)
		})
	}
}

func TestLoginUnknownIdP(t *testing.T) {
	g := newGateway(t, Settings{})
	for _, q := range []string{"", "idp=", "idp=nope"} {
		if w := g.browser().get(LoginPath + "?" + q); w.Code != http.StatusNotFound {
			t.Errorf("%q: %d, want 404", q, w.Code)
		}
	}
}

func TestDisabledUserRefused(t *testing.T) {
	g := newGateway(t, Settings{})
	u := store.User{Email: "alice@example.org", Disabled: true}
	if err := g.st.CreateUser(t.Context(), &u); err != nil {
		t.Fatal(err)
	}
	b := g.browser()
	req := b.startLogin(t, "idp=okta")
	refused(t, g, b, g.answer(t, req.ID, goodMsg()), ReasonUserDisabled)
}
