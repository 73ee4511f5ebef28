package idp_test

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/testenv"
)

// rejectCase is a request the IdP must refuse: with status, no SAML message
// posted anywhere, and an audit event whose reason contains reason.
type rejectCase struct {
	name   string
	send   func(t *testing.T) *testenv.Response
	status int
	reason string
}

func TestMustReject(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	h.user("bob@example.com")
	wiki := newTestSP(t, "wiki", spOpts{})
	h.app("Wiki", wiki, spOpts{}, idp.AppSettings{}, "staff")
	signed := newTestSP(t, "signed", spOpts{sign: true})
	h.app("Signed", signed, spOpts{sign: true}, idp.AppSettings{}, "staff")
	stranger := newTestSP(t, "stranger", spOpts{})
	ada, bob := h.loggedIn("ada@example.com"), h.loggedIn("bob@example.com")
	for _, sp := range []*testSP{wiki, signed, stranger} {
		sp.trust(t, ada.HTTP, h.url)
	}
	redirect := func(sp *testSP, edit func(*saml.AuthnRequest)) string {
		return sp.redirectURL(t, h.url, sp.authnRequest(t, edit), "")
	}
	answered := func(c *testenv.Client, u string) string {
		readForm(t, c.Get(u))
		return u
	}
	signedOnce := answered(ada, redirect(signed, nil))
	unsignedOnce := answered(ada, redirect(wiki, nil))

	cases := []rejectCase{
		{"unknown issuer", get(ada, redirect(stranger, nil)), 400, `unknown issuer "https://stranger.example.com/metadata"`},
		{"ACS URL not in metadata", get(ada, redirect(wiki, func(r *saml.AuthnRequest) {
			r.AssertionConsumerServiceURL = "https://evil.example.com/acs"
		})), 400, `ACS URL "https://evil.example.com/acs" not in the app's metadata`},
		{"unsigned when the app signs", get(ada, unsignedFrom(t, h, signed)), 400, "unsigned AuthnRequest"},
		{"bad query signature", get(ada, tamper(redirect(signed, nil))), 400, "bad signature"},
		{"SHA-1 signature", get(ada, sha1Signed(t, h, signed)), 400, "SHA-1"},
		{"signed with another key", get(ada, otherKey(t, h, signed)), 400, "bad signature"},
		{"replayed signed request", get(ada, signedOnce), 400, "replayed request ID"},
		{"replayed unsigned request", get(ada, unsignedOnce), 400, "replayed request ID"},
		{"stale IssueInstant", get(ada, redirect(wiki, func(r *saml.AuthnRequest) {
			r.IssueInstant = time.Now().Add(-10 * time.Minute)
		})), 400, "outside the clock skew"},
		{"future IssueInstant", get(ada, redirect(wiki, func(r *saml.AuthnRequest) {
			r.IssueInstant = time.Now().Add(10 * time.Minute)
		})), 400, "outside the clock skew"},
		{"XXE", get(ada, rawRedirect(t, h.url, corpus(t, "xxe.xml"))), 400, "DOCTYPE"},
		{"XXE parameter entity", get(ada, rawRedirect(t, h.url, corpus(t, "xxe_parameter_entity.xml"))), 400, "DOCTYPE"},
		{"billion laughs", get(ada, rawRedirect(t, h.url, corpus(t, "billion_laughs.xml"))), 400, "DOCTYPE"},
		{"plain DOCTYPE", get(ada, rawRedirect(t, h.url, corpus(t, "doctype_plain.xml"))), 400, "DOCTYPE"},
		{"two root elements", get(ada, rawRedirect(t, h.url, corpus(t, "two_roots.xml"))), 400, "more than one root"},
		{"not an AuthnRequest", get(ada, rawRedirect(t, h.url, corpus(t, "not_authnrequest.xml"))), 400, "not a samlp:AuthnRequest"},
		{"deflate bomb", get(ada, rawRedirect(t, h.url, bomb())), 400, "deflate bomb"},
		{"oversized POST", post(ada, h.url, url.Values{"SAMLRequest": {strings.Repeat("QUFB", 100_000)}}), 400, "larger than"},
		{"not base64", post(ada, h.url, url.Values{"SAMLRequest": {"%%%"}}), 400, "not base64"},
		{"too large to park", post(h.client(), h.url, wiki.postForm(t, wiki.authnRequest(t, pad(70<<10)), "")), 400, "cannot wait for a sign-in"},
		{"not assigned", get(bob, redirect(wiki, nil)), 403, "not assigned"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(h.events(idp.EventSSORefused))
			r := c.send(t)
			if r.StatusCode != c.status || strings.Contains(r.Body, "SAMLResponse") {
				t.Fatalf("status %d, want %d and no SAML message:\n%s", r.StatusCode, c.status, pageText(r.Body))
			}
			evs := h.events(idp.EventSSORefused)
			if len(evs) != before+1 || evs[0].Outcome != audit.Denied || !strings.Contains(evs[0].Reason, c.reason) {
				t.Fatalf("audit: %d new events, newest %+v; want reason containing %q", len(evs)-before, evs[0], c.reason)
			}
		})
	}
}

func TestRejectUnsignedWhenConfigWantsSigned(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.SAML.WantAuthnRequestsSigned = true })
	h.user("ada@example.com", "staff")
	wiki := newTestSP(t, "wiki", spOpts{})
	h.app("Wiki", wiki, spOpts{}, idp.AppSettings{}, "staff")
	ada := h.loggedIn("ada@example.com")
	wiki.trust(t, ada.HTTP, h.url)
	if !strings.Contains(string(fetch(t, ada, h.url+"/saml/metadata")), `WantAuthnRequestsSigned="true"`) {
		t.Error("metadata does not say WantAuthnRequestsSigned")
	}
	r := ada.Get(wiki.redirectURL(t, h.url, wiki.authnRequest(t, nil), ""))
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(h.lastEvent(idp.EventSSORefused).Reason, "unsigned AuthnRequest") {
		t.Fatalf("status %d, reason %q", r.StatusCode, h.lastEvent(idp.EventSSORefused).Reason)
	}
}

func get(c *testenv.Client, u string) func(*testing.T) *testenv.Response {
	return func(*testing.T) *testenv.Response { return c.Get(u) }
}

func post(c *testenv.Client, idpURL string, form url.Values) func(*testing.T) *testenv.Response {
	return func(*testing.T) *testenv.Response { return c.PostForm(idpURL+"/saml/sso", form) }
}

// unsignedFrom is a request from an app whose metadata says it signs, sent
// without a signature.
func unsignedFrom(t *testing.T, h *harness, sp *testSP) string {
	bare := *sp.ServiceProvider
	bare.SignatureMethod = ""
	u := &testSP{ServiceProvider: &bare}
	return u.redirectURL(t, h.url, u.authnRequest(t, nil), "")
}

// otherKey is a request signed with a key the app's metadata does not have.
func otherKey(t *testing.T, h *harness, sp *testSP) string {
	other := *sp.ServiceProvider
	other.Key = spKey(t, 2)
	if other.Key == sp.Key {
		other.Key = spKey(t, 1)
	}
	o := &testSP{ServiceProvider: &other}
	return o.redirectURL(t, h.url, o.authnRequest(t, nil), "")
}

// pad makes a valid request larger with a long ProviderName.
func pad(n int) func(*saml.AuthnRequest) {
	return func(r *saml.AuthnRequest) { r.ProviderName = strings.Repeat("x", n) }
}

// sha1Signed is a request signed with RSA-SHA1, which the IdP refuses.
func sha1Signed(t *testing.T, h *harness, sp *testSP) string {
	weak := *sp.ServiceProvider
	weak.SignatureMethod = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	w := &testSP{ServiceProvider: &weak}
	return w.redirectURL(t, h.url, w.authnRequest(t, nil), "")
}

// tamper flips one character of the query signature.
func tamper(u string) string {
	i := strings.Index(u, "Signature=") + len("Signature=") + 5
	c := byte('A')
	if u[i] == 'A' {
		c = 'B'
	}
	return u[:i] + string(c) + u[i+1:]
}

func corpus(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bomb is a request that inflates to 1 MiB from about a kilobyte.
func bomb() []byte {
	return append([]byte(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x">`),
		bytes.Repeat([]byte(" "), 1<<20)...)
}

func fetch(t *testing.T, c *testenv.Client, u string) []byte {
	t.Helper()
	r := c.Get(u)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", u, r.StatusCode)
	}
	return []byte(r.Body)
}
