package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/portal"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/sqlite"
	"github.com/portcullis/portcullis/web"
)

// Names of the benchmark's IdP and app.
const (
	baseURL  = "https://sso.example.com"
	appID    = "https://app.example.com/metadata"
	appACS   = "https://app.example.com/acs"
	postBind = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
)

// appMetadata is a plain SP: one HTTP-POST ACS, no keys (it neither signs
// requests nor wants encryption).
var appMetadata = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + appID + `">` +
	`<SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
	`<AssertionConsumerService Binding="` + postBind + `" Location="` + appACS + `" index="0"/>` +
	`</SPSSODescriptor></EntityDescriptor>`

// SSO is an IdP on a real SQLite store and memory sessions with one app and
// one signed-in user: the case of an SSO for a user who already has a
// session. Do answers one AuthnRequest. It is safe for concurrent use.
type SSO struct {
	Handler http.Handler
	// Key signs the assertions; Signature benchmarks use it too.
	Key *keys.Signing
	// cookie is the Cookie header with the session cookie.
	cookie string
	store  store.Store
	n      atomic.Int64
}

// NewSSO builds the fixture with its database in dir.
func NewSSO(dir string) (*SSO, error) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		return nil, err
	}
	s := &SSO{store: st}
	if err := s.build(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

func (s *SSO) build(ctx context.Context) error {
	mem := memory.New()
	sessions, err := session.NewManager(session.Options{Store: mem, HashKey: random(32)})
	if err != nil {
		return err
	}
	render, err := web.NewRenderer("", nil)
	if err != nil {
		return err
	}
	if s.Key, err = keys.NewSigning("sso.example.com", time.Now()); err != nil {
		return err
	}
	p := &portal.Handler{Store: s.store, Sessions: sessions, Render: render}
	h := &idp.Handler{Store: s.store, Sessions: sessions, Current: p.Current, Keys: keys.Static{Key: s.Key},
		Replay: mem, Render: render, BaseURL: baseURL, PseudonymKey: random(32)}
	mux := http.NewServeMux()
	h.Mount(mux)
	s.Handler = mux
	if err := s.register(ctx); err != nil {
		return err
	}
	s.cookie, err = s.signIn(ctx, sessions)
	return err
}

// register adds the app and a user of the group it is assigned to.
func (s *SSO) register(ctx context.Context) error {
	settings, _ := json.Marshal(idp.AppSettings{})
	a := store.App{Name: "App", Kind: store.AppSAML, EntityID: appID, Metadata: appMetadata,
		MFA: "off", Groups: []string{"staff"}, Settings: settings}
	u := store.User{Email: "ada@example.com", Name: "Ada Lovelace"}
	g := store.Group{Name: "staff"}
	return errors.Join(s.store.CreateApp(ctx, &a), s.store.CreateUser(ctx, &u),
		s.store.CreateGroup(ctx, &g), s.store.AddMember(ctx, g.ID, u.ID))
}

func (s *SSO) signIn(ctx context.Context, m *session.Manager) (string, error) {
	u, err := s.store.UserByEmail(ctx, "ada@example.com")
	if err != nil {
		return "", err
	}
	now := time.Now()
	sess := &session.Session{UserID: u.ID, Email: u.Email, AuthTime: now}
	sess.AddFactor(session.FactorPassword, now)
	w := httptest.NewRecorder()
	if err := m.Login(ctx, w, httptest.NewRequest(http.MethodGet, "/", nil), sess); err != nil {
		return "", err
	}
	c := w.Result().Cookies()[0]
	return (&http.Cookie{Name: c.Name, Value: c.Value}).String(), nil
}

// Request returns a new AuthnRequest of the app with the HTTP-POST binding
// (a fresh ID each time: the IdP refuses a replayed one), as
// httptest.NewRequest makes it (from 192.0.2.1, to example.com) without
// parsing a request line.
func (s *SSO) Request() *http.Request {
	xml := `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ` +
		`xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="id-bench-` + strconv.FormatInt(s.n.Add(1), 10) +
		`" Version="2.0" IssueInstant="` + time.Now().UTC().Format(time.RFC3339) +
		`" Destination="` + baseURL + `/saml/sso" AssertionConsumerServiceURL="` + appACS +
		`" ProtocolBinding="` + postBind + `"><saml:Issuer>` + appID + `</saml:Issuer></samlp:AuthnRequest>`
	body := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(xml))) + "&RelayState=bench"
	return &http.Request{
		Method: http.MethodPost, URL: &url.URL{Path: "/saml/sso"}, RequestURI: "/saml/sso",
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Host: "example.com", RemoteAddr: "192.0.2.1:1234",
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {s.cookie}},
		Body:   io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
	}
}

// bodies are the recorders' buffers: a Response page is some 20 KB, which a
// new buffer reaches by growing through a dozen sizes.
var bodies = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 32<<10)) }}

// Do answers one AuthnRequest and checks that a signed Response came back.
func (s *SSO) Do() error {
	body := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(body)
	body.Reset()
	w := &httptest.ResponseRecorder{HeaderMap: http.Header{}, Body: body, Code: http.StatusOK}
	s.Handler.ServeHTTP(w, s.Request())
	if w.Code != http.StatusOK || !bytes.Contains(body.Bytes(), []byte(`name="SAMLResponse"`)) {
		return fmt.Errorf("bench: SSO answered %d", w.Code)
	}
	return nil
}

// Close releases the store.
func (s *SSO) Close() error { return s.store.Close() }

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
