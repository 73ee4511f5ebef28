package idp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/idp"
)

// relay is a RelayState with characters that must survive both bindings.
const relay = "https://app.example.com/deep/link?a=1&b=<x>"

func TestSPInitiatedRedirectWithLogin(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	sp := newTestSP(t, "wiki", spOpts{})
	h.app("Wiki", sp, spOpts{}, idp.AppSettings{}, "staff")
	c := h.client()
	sp.trust(t, c.HTTP, h.url)

	req := sp.authnRequest(t, nil)
	resp := c.Get(sp.redirectURL(t, h.url, req, relay))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?return=") {
		t.Fatalf("GET sso = %d to %q, want 303 to /login", resp.StatusCode, loc)
	}
	ret, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/login?return="))
	form := readForm(t, h.signIn(c, "ada@example.com", ret))

	if form.URL != sp.AcsURL.String() || form.Fields.Get("RelayState") != relay {
		t.Fatalf("posted to %s with RelayState %q", form.URL, form.Fields.Get("RelayState"))
	}
	a, err := sp.parse(t, form.Fields.Get("SAMLResponse"), req.ID)
	if err != nil {
		t.Fatalf("SP rejects the response: %v", err)
	}
	if got := a.Subject.NameID.Value; got != "ada@example.com" {
		t.Errorf("NameID = %q", got)
	}
	e := h.lastEvent(idp.EventSSO)
	if e.Outcome != audit.Success || e.Subject != "ada@example.com" || e.App != "Wiki" || e.Details["name_id"] != "ada@example.com" {
		t.Errorf("audit event = %+v", e)
	}
	// The parked request is used up.
	if r := c.Get(h.url + ret); r.StatusCode != http.StatusBadRequest {
		t.Errorf("resume again = %d, want 400", r.StatusCode)
	}
}

func TestSPInitiatedPostWithLogin(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	sp := newTestSP(t, "crm", spOpts{sign: true})
	h.app("CRM", sp, spOpts{sign: true}, idp.AppSettings{}, "staff")
	c := h.client()
	sp.trust(t, c.HTTP, h.url)

	req := sp.authnRequest(t, nil)
	resp := c.PostForm(h.url+"/saml/sso", sp.postForm(t, req, relay))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST sso = %d\n%s", resp.StatusCode, resp.Body)
	}
	ret, _ := url.QueryUnescape(strings.TrimPrefix(resp.Header.Get("Location"), "/login?return="))
	form := readForm(t, h.signIn(c, "ada@example.com", ret))
	if form.Fields.Get("RelayState") != relay {
		t.Errorf("RelayState = %q", form.Fields.Get("RelayState"))
	}
	if _, err := sp.parse(t, form.Fields.Get("SAMLResponse"), req.ID); err != nil {
		t.Fatalf("SP rejects the response: %v", err)
	}
}

func TestSPInitiatedWithSession(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	sp := newTestSP(t, "wiki", spOpts{})
	h.app("Wiki", sp, spOpts{}, idp.AppSettings{}, "staff")
	c := h.loggedIn("ada@example.com")
	sp.trust(t, c.HTTP, h.url)

	req := sp.authnRequest(t, nil)
	form := readForm(t, c.Get(sp.redirectURL(t, h.url, req, "")))
	if form.Fields.Has("RelayState") {
		t.Error("an empty RelayState was sent")
	}
	a, err := sp.parse(t, form.Fields.Get("SAMLResponse"), req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.AuthnStatements[0].AuthnContext.AuthnContextClassRef.Value; got != idp.PasswordProtectedTransport {
		t.Errorf("AuthnContextClassRef = %s", got)
	}
	_ = saml.HTTPPostBinding
}

// The success event is queued before the Response is sealed: when sealing
// fails (here the app's encryption certificate has an EC key, which RSA-OAEP
// cannot use), it is withdrawn, and the trail holds the failure alone.
func TestSealFailureLeavesNoSuccessEvent(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	sp := newTestSP(t, "wiki", spOpts{})
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "wiki"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	ecDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ecKey.PublicKey, ecKey)
	if err != nil {
		t.Fatal(err)
	}
	md := sp.metadataXML(t, spOpts{})
	rsaCert := base64.StdEncoding.EncodeToString(sp.Certificate.Raw)
	if !strings.Contains(md, rsaCert) {
		t.Fatal("the SP's certificate is not in its metadata as one base64 string")
	}
	md = strings.ReplaceAll(md, rsaCert, base64.StdEncoding.EncodeToString(ecDER))
	h.appXML("Wiki", sp.EntityID, md, idp.AppSettings{Encrypt: idp.EncryptAES256GCM}, "staff")
	c := h.loggedIn("ada@example.com")

	resp := c.Get(sp.redirectURL(t, h.url, sp.authnRequest(t, nil), ""))
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(resp.Body, "SAMLResponse") {
		t.Fatalf("SSO with an unusable encryption certificate = %d, want a 500 page and no Response", resp.StatusCode)
	}
	events := h.events(idp.EventSSO)
	if len(events) != 1 || events[0].Outcome != audit.Failure || !strings.Contains(events[0].Reason, "encrypt") {
		t.Errorf("saml.sso events = %+v, want the failure alone", events)
	}
}
