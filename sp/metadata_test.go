package sp

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/session"
)

// rolling is a key source during a rollover: a second certificate is
// published beside the active one.
type rolling struct {
	active *keys.Signing
	next   *x509.Certificate
}

func (k rolling) SigningKeys(context.Context) (keys.Set, error) {
	return keys.Set{Active: k.active, Published: []*x509.Certificate{k.active.Cert, k.next}}, nil
}

func TestMetadata(t *testing.T) {
	g := newGateway(t, Settings{})
	next := loadKey(t, "other").cert
	g.h.Keys = rolling{active: &keys.Signing{Key: g.spKey.key, Cert: g.spKey.cert}, next: next}
	w := g.browser().get(MetadataPath)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/samlmetadata+xml") {
		t.Fatalf("metadata: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(w.Body.Bytes(), &ed); err != nil {
		t.Fatal(err)
	}
	if ed.EntityID != spEntity || len(ed.SPSSODescriptors) != 1 {
		t.Fatalf("entity %q with %d SP descriptors", ed.EntityID, len(ed.SPSSODescriptors))
	}
	d := ed.SPSSODescriptors[0]
	if len(d.AssertionConsumerServices) != 1 || d.AssertionConsumerServices[0].Binding != saml.HTTPPostBinding ||
		d.AssertionConsumerServices[0].Location != acsURL {
		t.Errorf("ACS %+v, want HTTP-POST at %s only", d.AssertionConsumerServices, acsURL)
	}
	slo := map[string]string{}
	for _, e := range d.SingleLogoutServices {
		slo[e.Binding] = e.Location
	}
	if slo[saml.HTTPRedirectBinding] != sloURL || slo[saml.HTTPPostBinding] != sloURL {
		t.Errorf("SLO %v", slo)
	}
	if d.AuthnRequestsSigned == nil || !*d.AuthnRequestsSigned || d.WantAssertionsSigned == nil || !*d.WantAssertionsSigned {
		t.Error("AuthnRequestsSigned and WantAssertionsSigned must be true")
	}
	uses := map[string][]*x509.Certificate{}
	for _, k := range d.KeyDescriptors {
		for _, c := range k.KeyInfo.X509Data.X509Certificates {
			der, _ := base64.StdEncoding.DecodeString(c.Data)
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			uses[k.Use] = append(uses[k.Use], cert)
		}
	}
	if len(uses["encryption"]) != 1 || !uses["encryption"][0].Equal(g.spKey.cert) {
		t.Errorf("encryption certificates %d, want the active one", len(uses["encryption"]))
	}
	if len(uses["signing"]) != 2 || !uses["signing"][0].Equal(g.spKey.cert) || !uses["signing"][1].Equal(next) {
		t.Errorf("signing certificates %d, want the active one and the next", len(uses["signing"]))
	}
}

func TestLoginOverPOSTBinding(t *testing.T) {
	g := newGateway(t, Settings{})
	p, err := g.st.IdPByName(t.Context(), "okta")
	if err != nil {
		t.Fatal(err)
	}
	p.Metadata = strings.Replace(p.Metadata, `<md:SingleSignOnService Binding="`+saml.HTTPRedirectBinding+`" Location="`+idpSSO+`"/>`, "", 1)
	if err := g.st.UpdateIdP(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	w := g.browser().get(LoginPath + "?idp=okta&prompt=login")
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, `action="`+idpSSO+`"`) || !strings.Contains(body, `name="SAMLRequest"`) {
		t.Fatalf("login over POST: %d %s", w.Code, body)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "https://idp.example.org") {
		t.Errorf("CSP %q does not let the form post to the IdP", csp)
	}
	i := strings.Index(body, `name="SAMLRequest" value="`) + len(`name="SAMLRequest" value="`)
	raw, err := base64.StdEncoding.DecodeString(body[i : i+strings.IndexByte(body[i:], '"')])
	if err != nil {
		t.Fatal(err)
	}
	var req saml.AuthnRequest
	if err := xml.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	if req.Signature == nil || req.ForceAuthn == nil || !*req.ForceAuthn {
		t.Fatalf("AuthnRequest over POST must be signed and carry ForceAuthn: %s", raw)
	}
}

func TestLoginChoices(t *testing.T) {
	g := newGateway(t, Settings{})
	got, err := g.h.LoginChoices(t.Context(), "/saml/sso/resume?key=k", true)
	if err != nil || len(got) != 1 || got[0].Name != "okta" {
		t.Fatalf("%+v, %v", got, err)
	}
	u, _ := url.Parse(got[0].URL)
	if u.Path != LoginPath || u.Query().Get("idp") != "okta" || u.Query().Get("return") != "/saml/sso/resume?key=k" ||
		u.Query().Get("prompt") != "login" {
		t.Fatalf("URL %s", got[0].URL)
	}
}

// flaky is a session backend that fails while down is set.
type flaky struct {
	session.Store
	down *bool
}

var errDown = errors.Join(session.ErrUnavailable, errors.New("connection refused"))

func (f flaky) Get(ctx context.Context, key string) ([]byte, int64, error) {
	if *f.down {
		return nil, 0, errDown
	}
	return f.Store.Get(ctx, key)
}

func (f flaky) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if *f.down {
		return false, errDown
	}
	return f.Store.Claim(ctx, key, ttl)
}

func TestBackendDownLetsNobodyIn(t *testing.T) {
	g := newGateway(t, Settings{CreateUsers: true, AllowUnsolicited: true})
	down := false
	mgr, err := session.NewManager(session.Options{Store: flaky{Store: g.h.Sessions.Store(), down: &down},
		HashKey: make([]byte, 32), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	g.h.Sessions = mgr
	for name, resp := range map[string]func(b *browser) string{
		"solicited":   func(b *browser) string { return g.answer(t, b.startLogin(t, "idp=okta").ID, goodMsg()) },
		"unsolicited": func(*browser) string { return g.answer(t, "", goodMsg()) },
	} {
		down = false
		b := g.browser()
		r := resp(b)
		down = true
		w := b.post(ACSPath, url.Values{"SAMLResponse": {r}})
		down = false
		if w.Code != http.StatusServiceUnavailable || b.session(t) != nil {
			t.Errorf("%s: %d with the session backend down, want 503 and no session", name, w.Code)
		}
	}
	if evs := g.events(t, EventLogin); len(evs) != 0 {
		t.Fatalf("events %+v", evs)
	}
}

func TestRedirectURLKeepsTheEndpointsQuery(t *testing.T) {
	key := loadKey(t, "attacks/sp")
	req := etree.NewElement("samlp:AuthnRequest")
	req.CreateAttr("ID", "_r1")
	to, err := redirectURL("https://adfs.example.com/adfs/ls/?tenant=a", "SAMLRequest", req, "rs", key.key)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(to)
	if err != nil || u.Query().Get("tenant") != "a" || u.Query().Get("RelayState") != "rs" {
		t.Fatalf("%s: %v", to, err)
	}
	var got struct {
		ID string `xml:"ID,attr"`
	}
	readRedirect(t, u, "SAMLRequest", key.cert, &got)
	if got.ID != "_r1" {
		t.Fatalf("message %+v", got)
	}
}
