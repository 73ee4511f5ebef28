package sp

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/session/memory"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/storetest/backends"
	"github.com/portcullis/portcullis/web"
)

// The test IdP's endpoints.
const (
	idpSSO = "https://idp.example.org/sso"
	idpSLO = "https://idp.example.org/slo"
)

// gateway is a Handler on SQLite and in-memory sessions at the tests' fixed
// time, with the test IdP registered as "okta".
type gateway struct {
	h       *Handler
	st      store.Store
	mux     *http.ServeMux
	idp     keyPair // the upstream's signing key
	spKey   keyPair // ours
	idpRow  store.IdP
	appsOut []*session.Session // sessions AppsLogout was given
}

func newGateway(t *testing.T, s Settings) *gateway {
	t.Helper()
	g := &gateway{st: backends.SQLite(t), mux: http.NewServeMux(), idp: loadKey(t, "idp"), spKey: loadKey(t, "attacks/sp")}
	mgr, err := session.NewManager(session.Options{Store: memory.New(), HashKey: bytes.Repeat([]byte{9}, 32),
		Secure: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	render, err := web.NewRenderer("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	g.h = &Handler{Store: g.st, Sessions: mgr, Render: render, Now: func() time.Time { return now },
		Keys:    keys.Static{Key: &keys.Signing{Key: g.spKey.key, Cert: g.spKey.cert}},
		BaseURL: "https://gw.example.com", EntityID: spEntity, ClockSkew: 90 * time.Second,
		AppsLogout: func(w http.ResponseWriter, r *http.Request, s *session.Session, then string) bool {
			g.appsOut = append(g.appsOut, s)
			if len(s.SAML) == 0 {
				return false
			}
			http.Redirect(w, r, then, http.StatusSeeOther)
			return true
		}}
	g.h.Mount(g.mux)
	g.idpRow = g.register(t, "okta", idpEntity, g.idp.cert, s)
	return g
}

// register adds an upstream IdP with SSO and SLO endpoints of both bindings.
func (g *gateway) register(t *testing.T, name, entityID string, cert *x509.Certificate, s Settings) store.IdP {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	p := store.IdP{Name: name, EntityID: entityID, Metadata: idpMetadata(entityID, cert), Settings: raw}
	if err := g.st.CreateIdP(t.Context(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func idpMetadata(entityID string, cert *x509.Certificate) string {
	c := base64.StdEncoding.EncodeToString(cert.Raw)
	return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `">` +
		`<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>` +
		c + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
		`<md:SingleLogoutService Binding="` + saml.HTTPRedirectBinding + `" Location="` + idpSLO + `"/>` +
		`<md:SingleSignOnService Binding="` + saml.HTTPRedirectBinding + `" Location="` + idpSSO + `"/>` +
		`<md:SingleSignOnService Binding="` + saml.HTTPPostBinding + `" Location="` + idpSSO + `"/>` +
		`</md:IDPSSODescriptor></md:EntityDescriptor>`
}

// browser carries cookies between requests to the gateway.
type browser struct {
	g       *gateway
	cookies map[string]*http.Cookie
}

func (g *gateway) browser() *browser { return &browser{g: g, cookies: map[string]*http.Cookie{}} }

func (b *browser) do(r *http.Request) *httptest.ResponseRecorder {
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	web.SecurityHeaders(web.HeaderOptions{HSTS: true})(b.g.mux).ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return w
}

func (b *browser) get(path string) *httptest.ResponseRecorder {
	return b.do(httptest.NewRequest(http.MethodGet, "https://gw.example.com"+path, nil))
}

func (b *browser) post(path string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "https://gw.example.com"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(r)
}

// session is the browser's gateway session, or nil.
func (b *browser) session(t *testing.T) *session.Session {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://gw.example.com/", nil)
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	s, err := b.g.h.Sessions.Load(r)
	if err != nil {
		return nil
	}
	return s
}

// startLogin follows /saml/sp/login to the IdP and returns the AuthnRequest
// it carries, its signature checked against our certificate.
func (b *browser) startLogin(t *testing.T, query string) *saml.AuthnRequest {
	t.Helper()
	w := b.get(LoginPath + "?" + query)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	loc, err := url.Parse(w.Header().Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), idpSSO+"?") {
		t.Fatalf("login redirects to %q, want the IdP's SSO", loc)
	}
	var req saml.AuthnRequest
	readRedirect(t, loc, "SAMLRequest", b.g.spKey.cert, &req)
	return &req
}

// readRedirect decodes an HTTP-Redirect message and checks its query
// signature (saml-bindings §3.4.4.1) with cert.
func readRedirect(t *testing.T, loc *url.URL, param string, cert *x509.Certificate, into any) {
	t.Helper()
	q := loc.Query()
	if q.Get("SigAlg") != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" {
		t.Fatalf("SigAlg %q", q.Get("SigAlg"))
	}
	signed := param + "=" + url.QueryEscape(q.Get(param))
	if rs := q.Get("RelayState"); rs != "" {
		signed += "&RelayState=" + url.QueryEscape(rs)
	}
	signed += "&SigAlg=" + url.QueryEscape(q.Get("SigAlg"))
	sig, _ := base64.StdEncoding.DecodeString(q.Get("Signature"))
	sum := sha256.Sum256([]byte(signed))
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("redirect signature: %v", err)
	}
	deflated, err := base64.StdEncoding.DecodeString(q.Get(param))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(deflated)))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(raw, into); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}

// answer is the test IdP's signed Response to request id (unsolicited
// when id is ""), with m's other fields and fresh IDs.
func (g *gateway) answer(t *testing.T, id string, m msg) string {
	t.Helper()
	return g.answerEdited(t, id, m, func(x string) string { return x })
}

// answerEdited is answer with edit applied to the XML before signing.
func (g *gateway) answerEdited(t *testing.T, id string, m msg, edit func(string) string) string {
	t.Helper()
	m.RespIRT, m.SCDIRT = id, id
	m.RespID, m.AsrtID = "_r"+rand.Text(), "_a"+rand.Text()
	return encode(str(t, signer{kp: g.idp}.sign(t, edit(m.xml()), SignedBoth)))
}

// events lists the audit events of type typ, oldest first.
func (g *gateway) events(t *testing.T, typ string) []audit.Event {
	t.Helper()
	evs, err := g.st.ListEvents(t.Context(), store.EventFilter{Types: []string{typ}, Order: store.OldestByTime})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
