package testenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
)

// SPOptions configure a test service provider.
type SPOptions struct {
	// EntityID defaults to the SP's URL + "/metadata".
	EntityID string
	// SignAuthnRequests signs AuthnRequests (in the query for HTTP-Redirect,
	// enveloped for HTTP-POST) and says so in the metadata.
	SignAuthnRequests bool
	// WantAssertionsSigned publishes WantAssertionsSigned="true" and makes
	// the ACS reject a Response whose assertion carries no signature of its
	// own; WantResponseSigned rejects a Response without an enveloped
	// signature on the Response element.
	WantAssertionsSigned bool
	WantResponseSigned   bool
	// Encryption publishes an encryption key of its own and decrypts
	// EncryptedAssertions with it.
	Encryption bool
	// SLO publishes SingleLogoutService endpoints (HTTP-Redirect and
	// HTTP-POST) at /slo.
	SLO bool
	// FailSLO makes /slo answer 500 after recording the LogoutRequest, as an
	// application that is down would.
	FailSLO bool
	// NameIDFormat, if set, is asked for in the AuthnRequest's NameIDPolicy
	// and published in the metadata.
	NameIDFormat string
}

// SP is an independent SAML 2.0 service provider for interop tests, built on
// github.com/russellhaering/gosaml2 and goxmldsig rather than on
// crewjam/saml. It serves /metadata, /acs and /slo on loopback and records
// what the IdP sent it; its methods are safe for use by the test and its
// handlers at once. A test registers it with the IdP, signs in and checks
// what the SP got:
//
//	sp := testenv.NewSP(t, testenv.SPOptions{SignAuthnRequests: true, SLO: true})
//	// register sp.Metadata() with the IdP as an app, then:
//	if err := sp.Trust([]byte(c.Get(node.URL + "/saml/metadata").Body)); err != nil {
//		t.Fatal(err)
//	}
//	page := c.Get(sp.AuthnRequestURL("state"))  // c is signed in at the IdP
//	r := testenv.PostAutoForm(c, page)          // 200 from the SP's ACS
//	login, err := sp.LastLogin()                // err if gosaml2 rejected it
//	testenv.VerifyWithXMLSec1(t, login.ResponseXML, testenv.PEMCert(idpCertDER))
//	r = testenv.FollowSAML(c, c.Get(sp.LogoutRequestURL(login.NameID, login.SessionIndex)))
//	resp, err := sp.LastLogoutResponse()
type SP struct {
	// URL is the SP's base URL, such as http://127.0.0.1:41234.
	URL string

	t          testing.TB
	opts       SPOptions
	signing    tls.Certificate
	encryption *tls.Certificate

	mu      sync.Mutex
	saml    *saml2.SAMLServiceProvider
	idp     spIdP
	sent    map[string]string // ID of each pending request sent: its element name
	lastReq string
	acs     spOutcome
	slo     spSLORecord
}

// NewSP starts a service provider on loopback with a fresh RSA-2048 signing
// key (and encryption key with opts.Encryption); it stops when the test
// ends. Call Trust with the IdP's metadata before sending requests.
func NewSP(t testing.TB, opts SPOptions) *SP {
	t.Helper()
	sp := &SP{t: t, opts: opts, signing: newSPKeyPair(t, "test SP signing"), sent: map[string]string{}}
	if opts.Encryption {
		enc := newSPKeyPair(t, "test SP encryption")
		sp.encryption = &enc
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", sp.serveMetadata)
	mux.HandleFunc("POST /acs", sp.serveACS)
	mux.HandleFunc("/slo", sp.serveSLO)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	sp.URL = srv.URL
	if sp.opts.EntityID == "" {
		sp.opts.EntityID = sp.URL + "/metadata"
	}
	sp.saml = sp.newServiceProvider()
	return sp
}

// newServiceProvider configures gosaml2 with everything but the IdP.
func (sp *SP) newServiceProvider() *saml2.SAMLServiceProvider {
	s := &saml2.SAMLServiceProvider{
		AssertionConsumerServiceURL: sp.ACSURL(),
		ServiceProviderSLOURL:       sp.SLOURL(),
		ServiceProviderIssuer:       sp.opts.EntityID,
		AudienceURI:                 sp.opts.EntityID,
		SignAuthnRequests:           sp.opts.SignAuthnRequests,
		SignAuthnRequestsAlgorithm:  dsig.RSASHA256SignatureMethod,
		NameIdFormat:                sp.opts.NameIDFormat,
		AllowMissingAttributes:      true,
		IDPCertificateStore:         &dsig.MemoryX509CertificateStore{},
	}
	key := sp.signing.PrivateKey.(*rsa.PrivateKey)
	if err := s.SetSPSigningKeyStore(&saml2.KeyStore{Signer: key, Cert: sp.signing.Certificate[0]}); err != nil {
		sp.t.Fatalf("samlsp: %v", err)
	}
	if sp.encryption != nil {
		// gosaml2 v0.12.0 decrypts only with the (deprecated) SPKeyStore.
		s.SPKeyStore = dsig.TLSCertKeyStore(*sp.encryption)
	}
	return s
}

// newSPKeyPair makes an RSA-2048 key and a self-signed certificate valid
// for a day either side of now.
func newSPKeyPair(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-24 * time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// EntityID is the SP's entity ID.
func (sp *SP) EntityID() string { return sp.opts.EntityID }

// ACSURL is the SP's HTTP-POST assertion consumer service.
func (sp *SP) ACSURL() string { return sp.URL + "/acs" }

// SLOURL is the SP's single logout service (HTTP-Redirect and HTTP-POST).
func (sp *SP) SLOURL() string { return sp.URL + "/slo" }

// MetadataURL is where the SP serves Metadata.
func (sp *SP) MetadataURL() string { return sp.URL + "/metadata" }

// SigningCert is the SP's signing certificate, for checking its signatures
// (with VerifyWithXMLSec1 after PEMCert, for instance).
func (sp *SP) SigningCert() *x509.Certificate { return sp.signing.Leaf }

// EncryptionCert is the SP's encryption certificate, nil without
// SPOptions.Encryption.
func (sp *SP) EncryptionCert() *x509.Certificate {
	if sp.encryption == nil {
		return nil
	}
	return sp.encryption.Leaf
}
