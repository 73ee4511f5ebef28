package idp_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/keys"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := "testdata/" + name
	if *update {
		must(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestMetadataGolden(t *testing.T) {
	u := newUnit(t, fixedNow)
	w := u.serve(httptest.NewRequest(http.MethodGet, "/saml/metadata", nil))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/samlmetadata+xml" {
		t.Fatalf("= %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	golden(t, "metadata.golden", w.Body.Bytes())
}

func TestMetadataSigned(t *testing.T) {
	u := newUnit(t, fixedNow)
	u.h.SignMetadata = true
	w := u.serve(httptest.NewRequest(http.MethodGet, "/saml/metadata", nil))
	if _, err := saml.VerifyMetadataSignature(w.Body.Bytes(), []*x509.Certificate{testKey(t).Cert}); err != nil {
		t.Fatalf("metadata signature: %v\n%s", err, w.Body)
	}
}

// rotating publishes a next key before it signs, as keys.Source does
// during a rollover.
type rotating struct{ active, next *keys.Signing }

func (r rotating) SigningKeys(context.Context) (keys.Set, error) {
	return keys.Set{Active: r.active, Published: []*x509.Certificate{r.active.Cert, r.next.Cert}}, nil
}

func TestMetadataPublishesEveryCertificate(t *testing.T) {
	u := newUnit(t, fixedNow)
	next := &keys.Signing{Key: spKey(t, 0), Cert: selfSigned(t, spKey(t, 0), "next")}
	u.h.Keys = rotating{active: testKey(t), next: next}
	body := u.serve(httptest.NewRequest(http.MethodGet, "/saml/metadata", nil)).Body.String()
	for _, c := range []*x509.Certificate{testKey(t).Cert, next.Cert} {
		if !strings.Contains(body, base64.StdEncoding.EncodeToString(c.Raw)) {
			t.Errorf("metadata lacks certificate %s", c.Subject.CommonName)
		}
	}
	if n := strings.Count(body, `use="signing"`); n != 2 {
		t.Errorf("%d signing KeyDescriptors, want 2", n)
	}
}

// volatile matches what differs between two otherwise equal Responses:
// random IDs and SessionIndexes, and the digests and signatures over them.
var volatile = regexp.MustCompile(`id-[0-9a-f]{40}|_[A-Z2-7]{26}|<ds:DigestValue>[^<]*</ds:DigestValue>|<ds:SignatureValue>[^<]*</ds:SignatureValue>`)

func TestResponseGolden(t *testing.T) {
	u := newUnit(t, fixedNow)
	sp := newTestSP(t, "wiki", spOpts{})
	u.app("Wiki", sp, settingsBoth, "staff")
	cookie := u.signIn("ada@example.com", "staff")
	sp.IDPMetadata = u.metadata(t)
	req := sp.authnRequest(t, func(r *saml.AuthnRequest) { r.ID, r.IssueInstant = "id-request", fixedNow })
	form := u.sso(t, sp, req, cookie)
	raw, _ := base64.StdEncoding.DecodeString(form.Fields.Get("SAMLResponse"))
	golden(t, "response.golden", []byte(volatile.ReplaceAllStringFunc(string(raw), func(s string) string {
		switch {
		case strings.HasPrefix(s, "id-"):
			return "id-X"
		case strings.HasPrefix(s, "_"):
			return "_X"
		}
		tag := s[1:strings.Index(s, ">")]
		return "<" + tag + ">X</" + tag + ">"
	})))
}

var settingsBoth = idp.AppSettings{Sign: idp.SignBoth}

// metadata is the IdP metadata the handler serves.
func (u *unit) metadata(t testing.TB) *saml.EntityDescriptor {
	t.Helper()
	var md saml.EntityDescriptor
	must(t, xml.Unmarshal(u.serve(httptest.NewRequest(http.MethodGet, "/saml/metadata", nil)).Body.Bytes(), &md))
	return &md
}

// sso sends req with the HTTP-Redirect binding with cookie, and reads the
// posted form.
func (u *unit) sso(t testing.TB, sp *testSP, req *saml.AuthnRequest, cookie *http.Cookie) postedForm {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, sp.redirectURL(t, "", req, ""), nil)
	r.AddCookie(cookie)
	w := u.serve(r)
	return parseForm(t, w.Code, w.Body.String())
}
