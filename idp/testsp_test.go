package idp_test

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"math/big"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
)

// testSP is a service provider made with crewjam/saml's SP side, used to
// build requests (including broken ones) and read the IdP's answers. The
// independent peer (gosaml2) is in interop_test.go.
type testSP struct {
	*saml.ServiceProvider
}

type spOpts struct {
	sign bool // sign AuthnRequests and say so in the metadata (AuthnRequestsSigned)
	slo  bool // publish SLO endpoints
	// noEncryption publishes no encryption key.
	noEncryption bool
}

var (
	keyOnce sync.Once
	spKeys  [3]*rsa.PrivateKey
)

// spKey returns one of a few RSA keys made once per test binary; RSA key
// generation is the slow part of making an SP.
func spKey(t testing.TB, i int) *rsa.PrivateKey {
	keyOnce.Do(func() {
		for n := range spKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			spKeys[n] = k
		}
	})
	return spKeys[i%len(spKeys)]
}

func selfSigned(t testing.TB, key *rsa.PrivateKey, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

func newTestSP(t testing.TB, name string, o spOpts) *testSP {
	t.Helper()
	base := "https://" + name + ".example.com"
	key := spKey(t, len(name))
	sp := &saml.ServiceProvider{
		EntityID: base + "/metadata", Key: key, Certificate: selfSigned(t, key, name),
		MetadataURL: mustURL(base + "/metadata"), AcsURL: mustURL(base + "/acs"),
		AuthnNameIDFormat: saml.UnspecifiedNameIDFormat,
	}
	if o.sign {
		sp.SignatureMethod = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	}
	if o.slo {
		sp.SloURL = mustURL(base + "/slo")
		sp.LogoutBindings = []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding}
		sp.LogoutSignatureMethod = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	}
	return &testSP{ServiceProvider: sp}
}

// metadataXML is the SP's metadata as registered with the IdP.
func (sp *testSP) metadataXML(t testing.TB, o spOpts) string {
	t.Helper()
	md := sp.Metadata()
	if o.noEncryption {
		for i := range md.SPSSODescriptors {
			var kds []saml.KeyDescriptor
			for _, kd := range md.SPSSODescriptors[i].KeyDescriptors {
				if kd.Use != "encryption" {
					kds = append(kds, kd)
				}
			}
			md.SPSSODescriptors[i].KeyDescriptors = kds
		}
	}
	b, err := xml.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// authnRequest makes an AuthnRequest to the IdP (its Destination is the
// SSO URL in the IdP's metadata; see trust), edited by edit.
func (sp *testSP) authnRequest(t testing.TB, edit func(*saml.AuthnRequest)) *saml.AuthnRequest {
	t.Helper()
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	return req
}

// redirectURL encodes req with the HTTP-Redirect binding, signed with a
// query signature when the SP signs, for the gateway at idpURL.
func (sp *testSP) redirectURL(t testing.TB, idpURL string, req *saml.AuthnRequest, relay string) string {
	t.Helper()
	u, err := req.Redirect(relay, sp.ServiceProvider)
	if err != nil {
		t.Fatal(err)
	}
	return idpURL + "/saml/sso?" + u.RawQuery
}

// postForm encodes req with the HTTP-POST binding, with an enveloped
// signature when the SP signs.
func (sp *testSP) postForm(t testing.TB, req *saml.AuthnRequest, relay string) url.Values {
	t.Helper()
	if sp.SignatureMethod != "" {
		if err := sp.SignAuthnRequest(req); err != nil {
			t.Fatal(err)
		}
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	v := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(b)}}
	if relay != "" {
		v.Set("RelayState", relay)
	}
	return v
}

// rawRedirect encodes any bytes as an unsigned HTTP-Redirect SAMLRequest.
func rawRedirect(t testing.TB, idpURL string, doc []byte) string {
	t.Helper()
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	fw.Write(doc)
	fw.Close()
	return idpURL + "/saml/sso?" + url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(buf.Bytes())}}.Encode()
}

// trust gives the SP the IdP's metadata.
func (sp *testSP) trust(t testing.TB, c *http.Client, idpURL string) {
	t.Helper()
	resp, err := c.Get(idpURL + "/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md saml.EntityDescriptor
	if err := xml.NewDecoder(resp.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	sp.IDPMetadata = &md
}

// parse validates a Response as the SP would at its ACS.
func (sp *testSP) parse(t testing.TB, samlResponse string, requestIDs ...string) (*saml.Assertion, error) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(samlResponse)
	if err != nil {
		t.Fatal(err)
	}
	if len(requestIDs) == 0 {
		sp.AllowIDPInitiated = true
	}
	return sp.ParseXMLResponse(raw, requestIDs, sp.AcsURL)
}

func mustURL(s string) url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return *u
}
