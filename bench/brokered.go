package bench

// A brokered SAML login (issue 5): an app's AuthnRequest reaches the
// gateway without a session, the user signs in at an upstream IdP, and the
// app gets our signed Response. Decisions:
//
//   - The whole gateway (server.New: SQLite in the fixture's dir, memory
//     sessions, every middleware) answers in-process through its Handler,
//     with requests built directly and pages recorded into reused buffers,
//     as BenchmarkSSO does: the client's work stays out of the figure.
//   - What the upstream IdP and the app do is not ours to time: Prepare
//     makes every login's inputs (the app's AuthnRequest, the upstream's
//     Response, its Assertion signed with goxmldsig: one verify for us)
//     before the timer.
//   - The main mode is unsolicited (allow_unsolicited): it is exactly the
//     issue's "verify the upstream signature + issue our signed assertion",
//     and its Response can be signed ahead, since the one thing it carries
//     per login, the parked request's resume path, rides in the unsigned
//     RelayState. Solicited, the portal button's flow, also signs our
//     AuthnRequest (a second RSA signature) and needs its ID in the
//     Response: Do stops after /saml/sp/login, Sign plays the upstream
//     untimed, and a second Do finishes the login.
//   - The portal's /login page, where the user would pick the IdP, is not
//     visited: a page, not brokering.

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/sp"
	"github.com/portcullis/portcullis/store"
)

// Names of the brokering benchmark's gateway, upstream IdP, app and user.
const (
	brokerBase     = "https://sso.example.com"
	brokerACS      = brokerBase + sp.ACSPath
	brokerSP       = brokerBase + sp.MetadataPath // our SP entity ID (saml.sp_entity_id unset)
	upstreamName   = "upstream"
	upstreamEntity = "https://idp.example.org/metadata"
	upstreamSSO    = "https://idp.example.org/sso"
	brokerEmail    = "ada@example.com"
	// spCookie is the SP's browser cookie (sp.browserCookie).
	spCookie = "portcullis_sp"
)

// Mode is what part of a brokered login Do times.
type Mode int

const (
	// Unsolicited is the whole chain with an unsolicited upstream
	// Response: POST /saml/sso (parked), POST /saml/sp/acs, GET the resume
	// path (our signed Response).
	Unsolicited Mode = iota
	// ACSAndResume is Unsolicited with the app's request parked by
	// Prepare: only the two handlers on the cryptographic path.
	ACSAndResume
	// Solicited is the whole chain through GET /saml/sp/login: a first Do
	// up to our signed AuthnRequest, Sign, and a second Do from the ACS on.
	Solicited
)

// Brokered is the gateway with one upstream IdP (unsolicited Responses
// allowed, users linked by email), one SAML app usable by everyone and one
// user. It is safe for concurrent use.
type Brokered struct {
	Handler http.Handler
	Store   store.Store
	// Key is the gateway's active signing key.
	Key *rsa.PrivateKey
	// App is the app, a crewjam SP (its IDPMetadata left for a test to set).
	App *saml.ServiceProvider

	srv *server.Server
	up  *upstream
	n   atomic.Int64

	mu      sync.Mutex
	ready   []*login // prepared, or signed by Sign
	waiting []*login // stopped for the upstream's signature
}

// login is one brokered sign-in as far as it has got.
type login struct {
	request  string // the app's AuthnRequest, HTTP-POST form body
	resume   string // local path of the parked request
	location string // solicited: where /saml/sp/login sent the browser
	sp       string // solicited: the SP's browser cookie
	form     string // the upstream's Response, form body without RelayState
	session  string // the session cookie the ACS set
}

// NewBrokered builds the fixture with its data dir in dir.
func NewBrokered(dir string) (*Brokered, error) {
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.DataDir, cfg.BaseURL = dir, brokerBase
	cfg.MasterSecret = rand.Text() + rand.Text()
	cfg.Passwords.Argon2 = config.Argon2{MemoryKiB: 8 * 1024, Iterations: 1, Parallelism: 1} // the first admin's
	if problems := cfg.Validate(); len(problems) > 0 {
		return nil, fmt.Errorf("bench: config: %v", problems)
	}
	srv, err := server.New(ctx, &cfg, server.Options{})
	if err != nil {
		return nil, err
	}
	b := &Brokered{Handler: srv.Handler(), Store: srv.Store, srv: srv}
	if err := b.build(ctx); err != nil {
		srv.Close()
		return nil, err
	}
	return b, nil
}

func (b *Brokered) build(ctx context.Context) error {
	set, err := b.srv.Keys.SigningKeys(ctx)
	if err != nil {
		return err
	}
	b.Key = set.Active.Key
	if b.up, err = newUpstream(); err != nil {
		return err
	}
	acs, _ := url.Parse("https://app.example.com/acs")
	b.App = &saml.ServiceProvider{EntityID: "https://app.example.com/metadata", AcsURL: *acs,
		AuthnNameIDFormat: saml.EmailAddressNameIDFormat}
	return b.register(ctx)
}

// register adds the user, the app and the upstream IdP.
func (b *Brokered) register(ctx context.Context) error {
	md, err := xml.Marshal(b.App.Metadata())
	if err != nil {
		return err
	}
	settings, _ := json.Marshal(sp.Settings{Link: sp.LinkByEmail, AllowUnsolicited: true})
	u := store.User{Email: brokerEmail, Name: "Ada Lovelace"}
	a := store.App{Name: "App", Kind: store.AppSAML, EntityID: b.App.EntityID, Metadata: string(md),
		MFA: "off", Groups: []string{"*"}, Settings: []byte("{}")}
	p := store.IdP{Name: upstreamName, EntityID: upstreamEntity, Metadata: b.up.metadata(), Settings: settings}
	return errors.Join(b.Store.CreateUser(ctx, &u), b.Store.CreateApp(ctx, &a), b.Store.CreateIdP(ctx, &p))
}

// Close releases the store and the session backend.
func (b *Brokered) Close() error { return b.srv.Close() }

// Ceiling returns the baseline operation: one RSA-2048 PKCS#1 v1.5 SHA-256
// verification with the upstream's key and one signature with the
// gateway's, the cryptography a brokered login cannot avoid.
func (b *Brokered) Ceiling() (func() error, error) {
	digest := sha256.Sum256([]byte("portcullis bench"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, b.up.key, crypto.SHA256, digest[:])
	if err != nil {
		return nil, err
	}
	sign, pub := Signer(b.Key), &b.up.key.PublicKey
	return func() error {
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
			return err
		}
		return sign()
	}, nil
}

// Prepare makes n logins' inputs for Do, untimed: the app's AuthnRequests
// and, unless solicited, the upstream's signed Responses; for ACSAndResume
// it also parks the app's requests. It returns the app's request IDs.
func (b *Brokered) Prepare(n int, m Mode) ([]string, error) {
	ids := make([]string, 0, n)
	logins := make([]*login, 0, n)
	body := new(bytes.Buffer)
	for range n {
		id, request, err := b.appRequest()
		l := &login{request: request}
		if err == nil && m != Solicited {
			l.form, err = b.up.response(b.n.Add(1), "")
		}
		if err == nil && m == ACSAndResume {
			err = b.sso(l, body)
		}
		if err != nil {
			return ids, err
		}
		ids, logins = append(ids, id), append(logins, l)
	}
	b.mu.Lock()
	b.ready = append(b.ready, logins...)
	b.mu.Unlock()
	return ids, nil
}

// appRequest is a new AuthnRequest of the app, unsigned, HTTP-POST binding.
func (b *Brokered) appRequest() (id, form string, err error) {
	req, err := b.App.MakeAuthenticationRequest(brokerBase+idp.SSOPath, saml.HTTPPostBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", "", err
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	raw, err := doc.WriteToBytes()
	return req.ID, "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(raw)) + "&RelayState=app", err
}

// Sign plays the upstream IdP for every login stopped at its AuthnRequest
// (Solicited): it reads the request's ID and signs a Response to it.
func (b *Brokered) Sign() error {
	b.mu.Lock()
	waiting := b.waiting
	b.waiting = nil
	b.mu.Unlock()
	for _, l := range waiting {
		id, err := requestID(l.location)
		if err == nil {
			l.form, err = b.up.response(b.n.Add(1), id)
		}
		if err != nil {
			return err
		}
	}
	b.mu.Lock()
	b.ready = append(b.ready, waiting...)
	b.mu.Unlock()
	return nil
}

var authnID = regexp.MustCompile(`\sID="([^"]+)"`)

// requestID reads the ID of the AuthnRequest in an HTTP-Redirect URL.
func requestID(location string) (string, error) {
	u, err := url.Parse(location)
	if err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
	if err != nil {
		return "", err
	}
	doc, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), 1<<20))
	if m := authnID.FindSubmatch(doc); err == nil && m != nil {
		return string(m[1]), nil
	}
	return "", fmt.Errorf("bench: no AuthnRequest ID in %s (%v)", location, err)
}

// Do takes the next prepared login as far as it goes: to the app's signed
// Response, or, solicited and not yet signed, to the upstream's door.
func (b *Brokered) Do() error {
	body := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(body)
	_, err := b.step(body)
	return err
}

// DoPage is Do that returns the page with the app's Response, or "" when
// the login stopped for the upstream's signature.
func (b *Brokered) DoPage() (string, error) {
	body := new(bytes.Buffer)
	done, err := b.step(body)
	if !done || err != nil {
		return "", err
	}
	return body.String(), nil
}

func (b *Brokered) step(body *bytes.Buffer) (done bool, err error) {
	b.mu.Lock()
	var l *login
	if n := len(b.ready); n > 0 {
		l, b.ready = b.ready[n-1], b.ready[:n-1]
	}
	b.mu.Unlock()
	switch {
	case l == nil:
		return false, errors.New("bench: no prepared login left")
	case l.resume == "":
		if err := b.sso(l, body); err != nil {
			return false, err
		}
	}
	if l.form == "" {
		err := b.solicit(l, body)
		b.mu.Lock()
		b.waiting = append(b.waiting, l)
		b.mu.Unlock()
		return false, err
	}
	if err := b.acs(l, body); err != nil {
		return false, err
	}
	return true, b.resume(l, body)
}

// sso posts the app's AuthnRequest without a session: the gateway parks it
// and sends the browser to sign in.
func (b *Brokered) sso(l *login, body *bytes.Buffer) error {
	w := b.serve(b.request(http.MethodPost, idp.SSOPath, l.request, ""), body)
	loc := w.HeaderMap.Get("Location")
	if u, err := url.Parse(loc); err == nil && u.Path == "/login" {
		l.resume = u.Query().Get("return")
	}
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(l.resume, idp.ResumePath+"?") {
		return fmt.Errorf("bench: /saml/sso answered %d to %q", w.Code, loc)
	}
	return nil
}

// solicit follows the portal's button: our signed AuthnRequest to the
// upstream, over HTTP-Redirect.
func (b *Brokered) solicit(l *login, body *bytes.Buffer) error {
	to := sp.LoginPath + "?idp=" + upstreamName + "&return=" + url.QueryEscape(l.resume)
	w := b.serve(b.request(http.MethodGet, to, "", ""), body)
	l.location, l.sp = w.HeaderMap.Get("Location"), setCookie(w.HeaderMap, spCookie)
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(l.location, upstreamSSO+"?") || l.sp == "" {
		return fmt.Errorf("bench: %s answered %d to %q", sp.LoginPath, w.Code, l.location)
	}
	return nil
}

// acs posts the upstream's Response; unsolicited, its RelayState is the
// resume path.
func (b *Brokered) acs(l *login, body *bytes.Buffer) error {
	form := l.form
	if l.sp == "" {
		form += "&RelayState=" + url.QueryEscape(l.resume)
	}
	w := b.serve(b.request(http.MethodPost, sp.ACSPath, form, l.sp), body)
	l.session = setCookie(w.HeaderMap, session.DefaultCookieName)
	if loc := w.HeaderMap.Get("Location"); w.Code != http.StatusSeeOther || loc != l.resume || l.session == "" {
		return fmt.Errorf("bench: %s answered %d to %q", sp.ACSPath, w.Code, loc)
	}
	return nil
}

// resume follows the ACS back to the parked request, now with a session.
func (b *Brokered) resume(l *login, body *bytes.Buffer) error {
	w := b.serve(b.request(http.MethodGet, l.resume, "", l.session), body)
	if w.Code != http.StatusOK || !bytes.Contains(body.Bytes(), []byte(`name="SAMLResponse"`)) {
		return fmt.Errorf("bench: %s answered %d", idp.ResumePath, w.Code)
	}
	return nil
}

// request is a request to the gateway from 192.0.2.1, built without
// parsing a request line.
func (b *Brokered) request(method, target, form, cookie string) *http.Request {
	u, _ := url.ParseRequestURI(target)
	r := &http.Request{Method: method, URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Host: "sso.example.com", RemoteAddr: "192.0.2.1:1234", Header: http.Header{}, Body: http.NoBody}
	if form != "" {
		r.Header["Content-Type"] = []string{"application/x-www-form-urlencoded"}
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(form)), int64(len(form))
	}
	if cookie != "" {
		r.Header["Cookie"] = []string{cookie}
	}
	return r
}

func (b *Brokered) serve(r *http.Request, body *bytes.Buffer) *httptest.ResponseRecorder {
	body.Reset()
	w := &httptest.ResponseRecorder{HeaderMap: http.Header{}, Body: body, Code: http.StatusOK}
	b.Handler.ServeHTTP(w, r)
	return w
}

// setCookie returns "name=value" of the cookie h sets by that name.
func setCookie(h http.Header, name string) string {
	for _, line := range h["Set-Cookie"] {
		if v, ok := strings.CutPrefix(line, name+"="); ok {
			v, _, _ = strings.Cut(v, ";")
			return name + "=" + v
		}
	}
	return ""
}
