package idp_test

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/session"
)

// oneApp is a gateway with ada in staff and the Wiki app for staff.
func oneApp(t *testing.T, settings idp.AppSettings) (*harness, *testSP) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	sp := newTestSP(t, "wiki", spOpts{})
	h.app("Wiki", sp, spOpts{}, settings, "staff")
	sp.trust(t, h.client().HTTP, h.url)
	return h, sp
}

func TestIdPInitiatedLaunch(t *testing.T) {
	h, sp := oneApp(t, idp.AppSettings{})
	c := h.client()
	r := c.Get(h.url + idp.LaunchPath("Wiki"))
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != "/login?return="+url.QueryEscape("/saml/apps/Wiki/launch") {
		t.Fatalf("launch without a session = %d to %q", r.StatusCode, loc)
	}
	form := readForm(t, h.signIn(c, "ada@example.com", idp.LaunchPath("Wiki")))
	if form.Fields.Has("RelayState") {
		t.Error("IdP-initiated Response carries a RelayState")
	}
	a, err := sp.parse(t, form.Fields.Get("SAMLResponse"))
	if err != nil {
		t.Fatalf("SP rejects the unsolicited response: %v", err)
	}
	if a.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo != "" {
		t.Error("unsolicited assertion has InResponseTo")
	}
	home := c.Get(h.url + "/")
	if !strings.Contains(home.Body, `href="/saml/apps/Wiki/launch"`) {
		t.Errorf("portal does not list the app:\n%s", pageText(home.Body))
	}
	if r := c.Get(h.url + idp.LaunchPath("Nope")); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown app = %d", r.StatusCode)
	}
}

func TestForceAuthn(t *testing.T) {
	h, sp := oneApp(t, idp.AppSettings{})
	c := h.loggedIn("ada@example.com")
	before := time.Now()
	req := sp.authnRequest(t, func(r *saml.AuthnRequest) { r.ForceAuthn = ptr(true) })
	r := c.Get(sp.redirectURL(t, h.url, req, relay))
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?prompt=login&return=") {
		t.Fatalf("ForceAuthn with a session = %d to %q, want a new sign-in", r.StatusCode, loc)
	}
	ret, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/login?prompt=login&return="))
	if again := c.Get(h.url + ret); !strings.HasPrefix(again.Header.Get("Location"), "/login?prompt=login") {
		t.Fatalf("resuming without signing in again = %d to %q", again.StatusCode, again.Header.Get("Location"))
	}
	resp := c.Submit(h.url+loc, h.url+"/login", url.Values{"email": {"ada@example.com"}, "password": {password}, "return": {ret}})
	form := readForm(t, h.follow(c, resp))
	a, err := sp.parse(t, form.Fields.Get("SAMLResponse"), req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if at := a.AuthnStatements[0].AuthnInstant; !at.After(before) {
		t.Errorf("AuthnInstant %s is not the new sign-in", at)
	}
}

func TestIsPassive(t *testing.T) {
	h, sp := oneApp(t, idp.AppSettings{})
	passive := func(r *saml.AuthnRequest) { r.IsPassive = ptr(true) }

	anon := h.client()
	form := readForm(t, anon.Get(sp.redirectURL(t, h.url, sp.authnRequest(t, passive), relay)))
	if got := statusOf(t, form); got != saml.StatusNoPassive {
		t.Errorf("IsPassive without a session: status %q, want NoPassive", got)
	}
	if form.Fields.Get("RelayState") != relay {
		t.Error("RelayState lost on the error Response")
	}
	force := sp.authnRequest(t, func(r *saml.AuthnRequest) { passive(r); r.ForceAuthn = ptr(true) })
	c := h.loggedIn("ada@example.com")
	if got := statusOf(t, readForm(t, c.Get(sp.redirectURL(t, h.url, force, "")))); got != saml.StatusNoPassive {
		t.Errorf("IsPassive with ForceAuthn: status %q, want NoPassive", got)
	}
	req := sp.authnRequest(t, passive)
	if _, err := sp.parse(t, readForm(t, c.Get(sp.redirectURL(t, h.url, req, ""))).Fields.Get("SAMLResponse"), req.ID); err != nil {
		t.Errorf("IsPassive with a session: %v", err)
	}
}

func TestRequestedAuthnContext(t *testing.T) {
	h, sp := oneApp(t, idp.AppSettings{})
	c := h.loggedIn("ada@example.com")
	mfa := func(r *saml.AuthnRequest) {
		r.RequestedAuthnContext = &saml.RequestedAuthnContext{Comparison: "exact", AuthnContextClassRef: idp.REFEDSMFA}
	}
	// A password session asked for REFEDS MFA is sent to step up (here:
	// to enrol, since the user has no factor) rather than refused.
	resp := c.Get(sp.redirectURL(t, h.url, sp.authnRequest(t, mfa), ""))
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/mfa?c=") {
		t.Fatalf("REFEDS MFA asked of a password session: %d %q, want a step-up redirect", resp.StatusCode, loc)
	}
	// A class that no factor reaches is still answered NoAuthnContext.
	x509 := func(r *saml.AuthnRequest) {
		r.RequestedAuthnContext = &saml.RequestedAuthnContext{Comparison: "exact", AuthnContextClassRef: "urn:oasis:names:tc:SAML:2.0:ac:classes:X509"}
	}
	form := readForm(t, c.Get(sp.redirectURL(t, h.url, sp.authnRequest(t, x509), "")))
	if got := statusOf(t, form); got != saml.StatusNoAuthnContext {
		t.Fatalf("X509 asked of a password session: status %q, want NoAuthnContext", got)
	}
	if e := h.lastEvent(idp.EventSSO); e.Outcome != "failure" || !strings.Contains(e.Reason, "NoAuthnContext") {
		t.Errorf("audit = %+v", e)
	}

	h.addFactor(c, session.FactorTOTP)
	req := sp.authnRequest(t, mfa)
	a, err := sp.parse(t, readForm(t, c.Get(sp.redirectURL(t, h.url, req, ""))).Fields.Get("SAMLResponse"), req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.AuthnStatements[0].AuthnContext.AuthnContextClassRef.Value; got != idp.REFEDSMFA {
		t.Errorf("AuthnContextClassRef = %s", got)
	}
	if amr := values(a, "amr"); strings.Join(amr, ",") != "pwd,otp,mfa" {
		t.Errorf("amr = %v", amr)
	}
	minPPT := sp.authnRequest(t, func(r *saml.AuthnRequest) {
		r.RequestedAuthnContext = &saml.RequestedAuthnContext{Comparison: "minimum", AuthnContextClassRef: idp.PasswordProtectedTransport}
	})
	if _, err := sp.parse(t, readForm(t, c.Get(sp.redirectURL(t, h.url, minPPT, ""))).Fields.Get("SAMLResponse"), minPPT.ID); err != nil {
		t.Errorf("minimum PasswordProtectedTransport with MFA: %v", err)
	}
}

func TestPasswordResetRequired(t *testing.T) {
	h, sp := oneApp(t, idp.AppSettings{})
	c := h.loggedIn("ada@example.com")
	ctx := context.Background()
	u, _ := h.st.UserByEmail(ctx, "ada@example.com")
	u.PasswordResetRequired = true
	if err := h.st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	r := c.Get(sp.redirectURL(t, h.url, sp.authnRequest(t, nil), ""))
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/password?return="+url.QueryEscape(idp.ResumePath)) {
		t.Fatalf("= %d to %q, want the password change", r.StatusCode, loc)
	}
}

func TestRelayStateIsNeverARedirect(t *testing.T) {
	h, sp := oneApp(t, idp.AppSettings{})
	c := h.loggedIn("ada@example.com")
	evil := "https://evil.example.net/steal"
	r := c.Get(sp.redirectURL(t, h.url, sp.authnRequest(t, nil), evil))
	form := readForm(t, r)
	if r.Header.Get("Location") != "" || form.URL != sp.AcsURL.String() || form.Fields.Get("RelayState") != evil {
		t.Fatalf("Location %q, form to %s", r.Header.Get("Location"), form.URL)
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' https://wiki.example.com") || strings.Contains(csp, "evil") {
		t.Errorf("CSP = %s", csp)
	}
}

// statusOf reads the second-level (else top-level) status of a posted
// Response that must carry no assertion.
func statusOf(t *testing.T, f postedForm) string {
	t.Helper()
	raw, _ := base64.StdEncoding.DecodeString(f.Fields.Get("SAMLResponse"))
	var resp saml.Response
	if err := xml.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Assertion != nil || resp.EncryptedAssertion != nil {
		t.Fatal("error Response carries an assertion")
	}
	if sc := resp.Status.StatusCode.StatusCode; sc != nil {
		return sc.Value
	}
	return resp.Status.StatusCode.Value
}

// addFactor records a second factor in c's session, as the MFA pages will.
func (h *harness) addFactor(c *testenv.Client, factor string) {
	h.t.Helper()
	r, _ := http.NewRequest(http.MethodGet, h.url+"/", nil)
	base, _ := url.Parse(h.url)
	for _, ck := range c.HTTP.Jar.Cookies(base) {
		r.AddCookie(ck)
	}
	m := h.node.Server.Sessions
	s, err := m.Load(r)
	if err != nil {
		h.t.Fatal(err)
	}
	s.AddFactor(factor, time.Now())
	if err := m.Save(context.Background(), s); err != nil {
		h.t.Fatal(err)
	}
}

// values returns an attribute's values.
func values(a *saml.Assertion, name string) []string {
	var out []string
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if at.Name == name {
				for _, v := range at.Values {
					out = append(out, v.Value)
				}
			}
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }
