package testenv_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/portcullis/portcullis/internal/testenv"
)

// twoSPs registers two SLO-capable SPs with the IdP and signs in to both.
func twoSPs(t *testing.T, idp *crewjamIdP, bOpts testenv.SPOptions) (a, b *testenv.SP, la *testenv.SPLogin, c *testenv.Client) {
	a = testenv.NewSP(t, testenv.SPOptions{SLO: true})
	bOpts.SLO = true
	b = testenv.NewSP(t, bOpts)
	idp.Register(t, a)
	idp.Register(t, b)
	c = testenv.NewClient(t)
	la = login(t, a, c, saml.HTTPRedirectBinding)
	login(t, b, c, saml.HTTPRedirectBinding)
	return a, b, la, c
}

// TestSPLogoutThroughCrewjamIdP runs SP-initiated SLO: A's signed
// LogoutRequest, the IdP's LogoutRequest to B and B's signed answer, and
// the IdP's LogoutResponse to A.
func TestSPLogoutThroughCrewjamIdP(t *testing.T) {
	idp := newCrewjamIdP(t)
	a, b, la, c := twoSPs(t, idp, testenv.SPOptions{})
	r := testenv.FollowSAML(c, c.Get(a.LogoutRequestURL(la.NameID, la.SessionIndex)))
	if r.StatusCode != http.StatusOK || r.Request.URL.Path != "/slo" || !strings.HasPrefix(r.Request.URL.String(), a.URL) {
		t.Fatalf("chain ended at %s %d:\n%s", r.Request.URL, r.StatusCode, r.Body)
	}
	resp, err := a.LastLogoutResponse()
	if err != nil || resp.Status != saml.StatusSuccess || resp.SubStatus != "" {
		t.Fatalf("A's LogoutResponse %+v, %v", resp, err)
	}
	reqs := b.LogoutRequests()
	if len(reqs) != 1 || reqs[0].NameID != "alice@example.com" || reqs[0].SessionIndexes[0] != "index-1" {
		t.Fatalf("B received %+v", reqs)
	}
	if !idp.Sessions.Ended() || len(a.LogoutRequests()) != 0 || len(b.SLOErrors()) != 0 {
		t.Errorf("IdP session ended %v, A got %d LogoutRequests, B's errors %v",
			idp.Sessions.Ended(), len(a.LogoutRequests()), b.SLOErrors())
	}
}

// TestSPLogoutPOSTBinding has an IdP whose SLO takes only HTTP-POST start
// the logout: the SPs answer with a form carrying an enveloped signature.
func TestSPLogoutPOSTBinding(t *testing.T) {
	idp := newCrewjamIdP(t, func(i *saml.IdentityProvider) { i.LogoutBindings = []string{saml.HTTPPostBinding} })
	a, b, _, c := twoSPs(t, idp, testenv.SPOptions{})
	r := testenv.FollowSAML(c, c.Get(idp.URL+"/logout"))
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Request.URL.String(), idp.URL) {
		t.Fatalf("chain ended at %s %d:\n%s", r.Request.URL, r.StatusCode, r.Body)
	}
	if !strings.Contains(r.Body, "logged out") || strings.Contains(r.Body, "could not") {
		t.Errorf("IdP reports a failed logout:\n%s", r.Body)
	}
	for _, sp := range []*testenv.SP{a, b} {
		if n := len(sp.LogoutRequests()); n != 1 || len(sp.SLOErrors()) != 0 {
			t.Errorf("%s: %d LogoutRequests, errors %v", sp.URL, n, sp.SLOErrors())
		}
	}
}

// TestSPFailSLO proves FailSLO records the LogoutRequest and answers 500.
func TestSPFailSLO(t *testing.T) {
	idp := newCrewjamIdP(t)
	a, b, la, c := twoSPs(t, idp, testenv.SPOptions{FailSLO: true})
	r := testenv.FollowSAML(c, c.Get(a.LogoutRequestURL(la.NameID, la.SessionIndex)))
	if r.StatusCode != http.StatusInternalServerError || !strings.HasPrefix(r.Request.URL.String(), b.URL) {
		t.Fatalf("chain ended at %s %d", r.Request.URL, r.StatusCode)
	}
	if n := len(b.LogoutRequests()); n != 1 {
		t.Errorf("B recorded %d LogoutRequests", n)
	}
}

// logoutRequestXML is a LogoutRequest from the IdP to sp.
func logoutRequestXML(idp *crewjamIdP, sp *testenv.SP) string {
	return fmt.Sprintf(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" `+
		`xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr1" Version="2.0" IssueInstant="%s" Destination="%s">`+
		`<saml:Issuer>%s</saml:Issuer><saml:NameID>alice@example.com</saml:NameID>`+
		`<samlp:SessionIndex>index-1</samlp:SessionIndex></samlp:LogoutRequest>`,
		time.Now().UTC().Format(time.RFC3339), sp.SLOURL(), idp.MetadataURL.String())
}

// TestSPAnswersPOSTLogoutRequest posts a LogoutRequest signed with
// goxmldsig: the SP records it and redirects to the IdP with a LogoutResponse
// whose query signature verifies with the SP's certificate. The same
// request, changed after signing, is rejected.
func TestSPAnswersPOSTLogoutRequest(t *testing.T) {
	idp := newCrewjamIdP(t)
	sp := testenv.NewSP(t, testenv.SPOptions{SLO: true})
	idp.Register(t, sp)
	ctx, _ := dsig.NewSigningContext(idp.Key, [][]byte{idp.Certificate.Raw})
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	doc := etree.NewDocument()
	doc.ReadFromString(logoutRequestXML(idp, sp))
	signed, err := ctx.SignEnveloped(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	doc.SetRoot(signed)
	b, _ := doc.WriteToBytes()
	c := testenv.NewClient(t)

	tampered := strings.Replace(string(b), "alice@", "mallory@", 1)
	r := c.PostForm(sp.SLOURL(), url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString([]byte(tampered))}})
	if r.StatusCode != http.StatusBadRequest || len(sp.SLOErrors()) != 1 || len(sp.LogoutRequests()) != 0 {
		t.Fatalf("tampered LogoutRequest: %d, errors %v", r.StatusCode, sp.SLOErrors())
	}

	r = c.PostForm(sp.SLOURL(), url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(b)}, "RelayState": {"rs"}})
	if r.StatusCode != http.StatusFound {
		t.Fatalf("LogoutRequest: %d %s", r.StatusCode, r.Body)
	}
	if reqs := sp.LogoutRequests(); len(reqs) != 1 || reqs[0].ID != "_lr1" || reqs[0].Binding != saml.HTTPPostBinding {
		t.Fatalf("recorded %+v", reqs)
	}
	checkRedirectSignature(t, r.Header.Get("Location"), sp.SigningCert().PublicKey.(*rsa.PublicKey))
}

// checkRedirectSignature verifies an HTTP-Redirect binding signature (SAML
// Bindings §3.4.4.1) independently of the SP's code.
func checkRedirectSignature(t *testing.T, location string, pub *rsa.PublicKey) {
	t.Helper()
	u, _ := url.Parse(location)
	var signed []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if k, _, _ := strings.Cut(kv, "="); k == "SAMLResponse" || k == "RelayState" || k == "SigAlg" {
			signed = append(signed, kv)
		}
	}
	if len(signed) != 3 || !strings.HasPrefix(signed[0], "SAMLResponse=") || u.Query().Get("SigAlg") != dsig.RSASHA256SignatureMethod {
		t.Fatalf("unexpected redirect query %s", u.RawQuery)
	}
	sig, _ := base64.StdEncoding.DecodeString(u.Query().Get("Signature"))
	sum := sha256.Sum256([]byte(strings.Join(signed, "&")))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("LogoutResponse redirect signature: %v", err)
	}
}
