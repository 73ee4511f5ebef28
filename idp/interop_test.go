package idp_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/testenv"
)

// The tests in this file run against independent implementations:
// github.com/russellhaering/gosaml2 as the SP (testenv.SP) and xmlsec1.

// peer registers a gosaml2 SP as an app for staff and has it trust us.
func (h *harness) peer(name string, o testenv.SPOptions, settings idp.AppSettings) *testenv.SP {
	h.t.Helper()
	sp := testenv.NewSP(h.t, o)
	h.appXML(name, sp.EntityID(), string(sp.Metadata()), settings, "staff")
	if err := sp.Trust(fetch(h.t, h.client(), h.url+"/saml/metadata")); err != nil {
		h.t.Fatal(err)
	}
	return sp
}

// peerLogin signs c in at sp through the IdP and returns what sp accepted.
func (h *harness) peerLogin(c *testenv.Client, sp *testenv.SP, page *testenv.Response) *testenv.SPLogin {
	h.t.Helper()
	if page.StatusCode == http.StatusSeeOther {
		if !strings.HasPrefix(page.Header.Get("Location"), "/login?return=") {
			h.t.Fatalf("redirected to %s", page.Header.Get("Location"))
		}
		ret, _ := url.QueryUnescape(strings.TrimPrefix(page.Header.Get("Location"), "/login?return="))
		page = h.signIn(c, "ada@example.com", ret)
	}
	testenv.PostAutoForm(c, page)
	l, err := sp.LastLogin()
	if err != nil {
		h.t.Fatalf("gosaml2 SP rejected the login: %v", err)
	}
	if w := l.Warnings(); len(w) > 0 {
		h.t.Errorf("gosaml2 warnings: %v", w)
	}
	return l
}

func TestInteropSPInitiated(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	for _, tc := range []struct {
		name string
		opts testenv.SPOptions
		set  idp.AppSettings
		post bool
	}{
		{"redirect", testenv.SPOptions{WantAssertionsSigned: true}, idp.AppSettings{}, false},
		{"post signed requests", testenv.SPOptions{SignAuthnRequests: true, WantResponseSigned: true}, idp.AppSettings{Sign: idp.SignResponse}, true},
		{"aes256-gcm", testenv.SPOptions{Encryption: true}, idp.AppSettings{Encrypt: idp.EncryptAES256GCM, Sign: idp.SignBoth}, false},
		{"aes128-cbc", testenv.SPOptions{Encryption: true, WantAssertionsSigned: true}, idp.AppSettings{Encrypt: idp.EncryptAES128CBC}, false},
		{"persistent", testenv.SPOptions{NameIDFormat: string(saml.PersistentNameIDFormat)}, idp.AppSettings{NameIDFormat: idp.NameIDPersistent}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := h.peer(tc.name, tc.opts, tc.set)
			c := h.client()
			var first *testenv.Response
			if tc.post {
				first = sp.PostAuthnRequest(c, "relay-"+tc.name)
			} else {
				first = c.Get(sp.AuthnRequestURL("relay-" + tc.name))
			}
			l := h.peerLogin(c, sp, first)
			if l.RelayState != "relay-"+tc.name || l.InResponseTo != sp.LastRequestID() {
				t.Errorf("RelayState %q, InResponseTo %q", l.RelayState, l.InResponseTo)
			}
			if l.Encrypted != (tc.set.Encrypt != "") {
				t.Errorf("Encrypted = %v", l.Encrypted)
			}
			if tc.set.NameIDFormat == "" && (l.NameID != "ada@example.com" || l.Attributes["email"][0] != "ada@example.com") {
				t.Errorf("NameID %q, attributes %v", l.NameID, l.Attributes)
			}
		})
	}
}

func TestInteropIdPInitiated(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	sp := h.peer("Peer", testenv.SPOptions{}, idp.AppSettings{})
	c := h.client()
	l := h.peerLogin(c, sp, c.Get(h.url+idp.LaunchPath("Peer")))
	if l.InResponseTo != "" || l.NameID != "ada@example.com" {
		t.Errorf("InResponseTo %q, NameID %q", l.InResponseTo, l.NameID)
	}
}

func TestInteropSLO(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	c := h.client()
	one := h.peer("One", testenv.SPOptions{SLO: true}, idp.AppSettings{})
	two := h.peer("Two", testenv.SPOptions{SLO: true}, idp.AppSettings{NameIDFormat: idp.NameIDTransient})
	down := h.peer("Down", testenv.SPOptions{SLO: true, FailSLO: true}, idp.AppSettings{})
	l1 := h.peerLogin(c, one, c.Get(one.AuthnRequestURL("")))
	h.peerLogin(c, two, c.Get(two.AuthnRequestURL("")))
	h.peerLogin(c, down, c.Get(down.AuthnRequestURL("")))

	// One logs out; the IdP logs Two and Down out, Down answers 500, and the
	// user comes back to the IdP, which carries on and answers One.
	r := testenv.FollowSAML(c, c.Get(one.LogoutRequestURL(l1.NameID, l1.SessionIndex)))
	if r.StatusCode != http.StatusInternalServerError || !strings.HasPrefix(r.Request.URL.String(), down.URL) {
		t.Fatalf("chain stopped at %s with %d, want Down's 500", r.Request.URL, r.StatusCode)
	}
	testenv.FollowSAML(c, c.Get(h.url+idp.SLOPath))
	resp, err := one.LastLogoutResponse()
	if err != nil || resp.Status != saml.StatusSuccess || resp.SubStatus != saml.StatusPartialLogout {
		t.Fatalf("One's LogoutResponse %+v, %v; want Success/PartialLogout", resp, err)
	}
	for _, sp := range []*testenv.SP{two, down} {
		if n, errs := len(sp.LogoutRequests()), sp.SLOErrors(); n != 1 || len(errs) > 0 {
			t.Errorf("%s: %d LogoutRequests, errors %v", sp.EntityID(), n, errs)
		}
	}
	if r := c.Get(h.url + "/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("still signed in: %d", r.StatusCode)
	}
}

func TestInteropIdPInitiatedSLO(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	c := h.client()
	one := h.peer("One", testenv.SPOptions{SLO: true}, idp.AppSettings{NameIDFormat: idp.NameIDPersistent})
	two := h.peer("Two", testenv.SPOptions{SLO: true}, idp.AppSettings{})
	h.peerLogin(c, one, c.Get(one.AuthnRequestURL("")))
	h.peerLogin(c, two, c.Get(two.AuthnRequestURL("")))
	final := testenv.FollowSAML(c, c.Submit(h.url+"/logout", h.url+"/logout", url.Values{}))
	if text := pageText(final.Body); final.StatusCode != http.StatusOK || !strings.Contains(text, "One Signed out") || !strings.Contains(text, "Two Signed out") {
		t.Fatalf("final page %d:\n%s", final.StatusCode, text)
	}
	for _, sp := range []*testenv.SP{one, two} {
		if n, errs := len(sp.LogoutRequests()), sp.SLOErrors(); n != 1 || len(errs) > 0 {
			t.Errorf("%s: %d LogoutRequests, errors %v", sp.EntityID(), n, errs)
		}
	}
}

func TestXMLSec1VerifiesResponse(t *testing.T) {
	testenv.RequireXMLSec1(t)
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	sp := h.peer("Peer", testenv.SPOptions{}, idp.AppSettings{Sign: idp.SignBoth})
	c := h.client()
	l := h.peerLogin(c, sp, c.Get(sp.AuthnRequestURL("")))
	cert := metadataCert(t, fetch(t, c, h.url+"/saml/metadata"))
	certPEM := testenv.PEMCert(cert.Raw)
	testenv.VerifyNodeWithXMLSec1(t, l.ResponseXML, certPEM, testenv.XMLSecResponseSignature)
	testenv.VerifyNodeWithXMLSec1(t, l.ResponseXML, certPEM, testenv.XMLSecAssertionSignature)
	if n := testenv.VerifyWithXMLSec1(t, l.ResponseXML, certPEM); n != 2 {
		t.Errorf("%d signatures verified, want 2", n)
	}
	other := testenv.PEMCert(selfSigned(t, spKey(t, 0), "other").Raw)
	if err := testenv.XMLSec1Verify(l.ResponseXML, other, testenv.XMLSecResponseSignature); err == nil {
		t.Error("xmlsec1 verified the Response with the wrong certificate")
	}
}

// Every signing and encryption choice verifies with xmlsec1 (libxml2) and is
// accepted by gosaml2, with values that take every escaping path.
func TestXMLSec1VerifiesEverySigningMode(t *testing.T) {
	testenv.RequireXMLSec1(t)
	h := newHarness(t)
	u := h.user("ada@example.com", "staff")
	u.Name, u.Attributes = `Zoë O'Brien <&> "q"`, map[string]string{"note": "line\r\nbreak\ttab ]]>"}
	must(t, h.st.UpdateUser(context.Background(), u))
	attrs := append(slices.Clone(idp.DefaultAttributes), idp.AttributeMapping{Name: "note", Source: "attr:note"})
	for _, tc := range []struct{ sign, encrypt string }{
		{idp.SignAssertion, ""}, {idp.SignResponse, ""}, {idp.SignBoth, ""},
		{idp.SignAssertion, idp.EncryptAES128CBC}, {idp.SignBoth, idp.EncryptAES256GCM},
	} {
		name := "sign-" + tc.sign + "-" + tc.encrypt
		t.Run(name, func(t *testing.T) {
			sp := h.peer(name, testenv.SPOptions{Encryption: tc.encrypt != ""},
				idp.AppSettings{Sign: tc.sign, Encrypt: tc.encrypt, Attributes: attrs})
			c := h.client()
			l := h.peerLogin(c, sp, c.Get(sp.AuthnRequestURL("")))
			certPEM := testenv.PEMCert(metadataCert(t, fetch(t, c, h.url+"/saml/metadata")).Raw)
			if tc.sign != idp.SignAssertion {
				testenv.VerifyNodeWithXMLSec1(t, l.ResponseXML, certPEM, testenv.XMLSecResponseSignature)
			}
			// An encrypted assertion's signature is gosaml2's to check:
			// testenv's decrypted copy is written again by etree, which
			// leaves the CR of the note unescaped.
			if tc.sign != idp.SignResponse && tc.encrypt == "" {
				testenv.VerifyNodeWithXMLSec1(t, l.ResponseXML, certPEM, testenv.XMLSecAssertionSignature)
			}
			if l.ResponseSigned != (tc.sign != idp.SignAssertion) || l.AssertionSigned != (tc.sign != idp.SignResponse) {
				t.Errorf("gosaml2: Response signed %v, assertion signed %v", l.ResponseSigned, l.AssertionSigned)
			}
			if got := l.Attributes["name"]; len(got) != 1 || got[0] != u.Name {
				t.Errorf("name = %q, want %q", got, u.Name)
			}
			// gosaml2 reads values from a copy written again too: CRLF
			// comes back as LF.
			if got, want := l.Attributes["note"], strings.ReplaceAll(u.Attributes["note"], "\r\n", "\n"); len(got) != 1 || got[0] != want {
				t.Errorf("note = %q, want %q", got, want)
			}
		})
	}
}

// metadataCert is the first signing certificate of IdP metadata.
func metadataCert(t *testing.T, md []byte) *x509.Certificate {
	t.Helper()
	var ed saml.EntityDescriptor
	must(t, xml.Unmarshal(md, &ed))
	for _, kd := range ed.IDPSSODescriptors[0].KeyDescriptors {
		if kd.Use == "signing" {
			der, _ := base64.StdEncoding.DecodeString(kd.KeyInfo.X509Data.X509Certificates[0].Data)
			cert, err := x509.ParseCertificate(der)
			must(t, err)
			return cert
		}
	}
	t.Fatal("no signing certificate in metadata")
	return nil
}
