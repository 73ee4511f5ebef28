package testenv_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/internal/testenv"
)

// crewjamIdP is a crewjam/saml IdentityProvider on loopback with one signed
// in user, standing in for Portcullis in the SP's self-tests.
type crewjamIdP struct {
	*saml.IdentityProvider
	URL      string
	Key      *rsa.PrivateKey
	Sessions *idpSessions

	mu  sync.Mutex
	sps map[string]*saml.EntityDescriptor
}

// newCrewjamIdP starts the IdP; configure may change it before it serves.
func newCrewjamIdP(t *testing.T, configure ...func(*saml.IdentityProvider)) *crewjamIdP {
	key, cert := newTestKey(t, "crewjam test IdP")
	p := &crewjamIdP{Key: key, Sessions: newIdPSessions(), sps: map[string]*saml.EntityDescriptor{}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	p.IdentityProvider = &saml.IdentityProvider{
		Key:                     key,
		Certificate:             cert,
		Logger:                  log.New(testWriter{t}, "crewjam IdP: ", 0),
		MetadataURL:             mustURL(t, srv.URL+"/metadata"),
		SSOURL:                  mustURL(t, srv.URL+"/sso"),
		LogoutURL:               mustURL(t, srv.URL+"/slo"),
		LogoutBindings:          []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding},
		ServiceProviderProvider: p,
		SessionProvider:         p.Sessions,
	}
	for _, c := range configure {
		c(p.IdentityProvider)
	}
	mux.Handle("/", p.Handler())
	mux.HandleFunc("/launch", func(w http.ResponseWriter, r *http.Request) {
		p.ServeIDPInitiated(w, r, r.URL.Query().Get("sp"), "launched")
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		p.StartLogout(w, r, p.Sessions.session, "")
	})
	return p
}

// Register adds sp to the IdP from its metadata, as Portcullis's admin
// would, and has sp trust the IdP's metadata.
func (p *crewjamIdP) Register(t *testing.T, sp *testenv.SP) {
	t.Helper()
	var md saml.EntityDescriptor
	if err := xml.Unmarshal(sp.Metadata(), &md); err != nil {
		t.Fatalf("crewjam cannot parse the SP metadata: %v", err)
	}
	p.mu.Lock()
	p.sps[md.EntityID] = &md
	p.mu.Unlock()
	if err := sp.Trust(p.MetadataXML(t)); err != nil {
		t.Fatal(err)
	}
}

// MetadataXML is the IdP's metadata as it serves it.
func (p *crewjamIdP) MetadataXML(t *testing.T) []byte {
	b, err := xml.Marshal(p.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CertPEM is the IdP's signing certificate in PEM.
func (p *crewjamIdP) CertPEM() []byte { return testenv.PEMCert(p.Certificate.Raw) }

// GetServiceProvider implements saml.ServiceProviderProvider.
func (p *crewjamIdP) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if md, ok := p.sps[id]; ok {
		return md, nil
	}
	return nil, os.ErrNotExist
}

// idpSessions is one IdP session for alice that records the session
// participants and the last AuthnRequest, and can be ended by SLO.
type idpSessions struct {
	mu           sync.Mutex
	session      *saml.Session
	ended        bool
	participants []saml.SessionParticipant
	lastRequest  saml.AuthnRequest
}

func newIdPSessions() *idpSessions {
	now := time.Now()
	return &idpSessions{session: &saml.Session{
		ID: "session-1", Index: "index-1", CreateTime: now, ExpireTime: now.Add(time.Hour),
		NameID: "alice@example.com", NameIDFormat: string(saml.EmailAddressNameIDFormat),
		UserName: "alice", UserEmail: "alice@example.com", UserCommonName: "Alice Example",
	}}
}

func (s *idpSessions) GetSession(w http.ResponseWriter, _ *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastRequest = req.Request
	if s.ended {
		http.Error(w, "signed out", http.StatusUnauthorized)
		return nil
	}
	return s.session
}

func (s *idpSessions) InvalidateSession(_ http.ResponseWriter, _ *http.Request, req *saml.IdpLogoutRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.MatchesSession(s.session) {
		s.ended = true
	}
	return nil
}

func (s *idpSessions) AddSessionParticipant(_ *http.Request, _ *saml.Session, p saml.SessionParticipant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.participants {
		if q.ServiceProviderID == p.ServiceProviderID {
			return nil
		}
	}
	s.participants = append(s.participants, p)
	return nil
}

func (s *idpSessions) SessionParticipants(_ *http.Request, match func(*saml.Session) bool) ([]saml.SessionParticipant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || !match(s.session) {
		return nil, nil
	}
	return append([]saml.SessionParticipant(nil), s.participants...), nil
}

// Ended reports whether SLO ended the session.
func (s *idpSessions) Ended() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// LastRequest is the last AuthnRequest the IdP validated.
func (s *idpSessions) LastRequest() saml.AuthnRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastRequest
}

// newTestKey makes an RSA-2048 key and a self-signed certificate.
func newTestKey(t *testing.T, cn string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func mustURL(t *testing.T, s string) url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return *u
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
