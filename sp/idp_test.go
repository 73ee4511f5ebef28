package sp

import (
	"crypto/x509"
	"encoding/json"
	"encoding/xml"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crewjam/saml"
)

func readMetadata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "metadata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func certsEqual(got []*x509.Certificate, want ...*x509.Certificate) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !got[i].Equal(want[i]) {
			return false
		}
	}
	return true
}

func TestParseMetadataRealWorld(t *testing.T) {
	idpCert, other := loadKey(t, "idp").cert, loadKey(t, "other").cert
	const entra = "https://login.microsoftonline.com/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/saml2"
	const adfs = "https://adfs.example.com/adfs/ls/"
	for _, tc := range []struct {
		file, entityID string
		sso, slo       []Endpoint
		certs          []*x509.Certificate
	}{
		{"okta.xml", "http://www.okta.com/exk8portcullis0x5d7", []Endpoint{
			{Binding: saml.HTTPPostBinding, Location: "https://example.okta.com/app/example_portcullis_1/exk8portcullis0x5d7/sso/saml"},
			{Binding: saml.HTTPRedirectBinding, Location: "https://example.okta.com/app/example_portcullis_1/exk8portcullis0x5d7/sso/saml"},
		}, nil, []*x509.Certificate{idpCert}},
		// RoleDescriptors (WS-Federation) before the IDPSSODescriptor, a
		// signature, and two signing certificates during a rollover.
		{"entra.xml", "https://sts.windows.net/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/",
			[]Endpoint{{Binding: saml.HTTPRedirectBinding, Location: entra}, {Binding: saml.HTTPPostBinding, Location: entra}},
			[]Endpoint{{Binding: saml.HTTPRedirectBinding, Location: entra}}, []*x509.Certificate{idpCert, other}},
		// An SPSSODescriptor beside the IDPSSODescriptor, and an
		// encryption certificate that must not be taken for signing.
		{"adfs.xml", "http://adfs.example.com/adfs/services/trust",
			[]Endpoint{{Binding: saml.HTTPRedirectBinding, Location: adfs}, {Binding: saml.HTTPPostBinding, Location: adfs}},
			[]Endpoint{{Binding: saml.HTTPRedirectBinding, Location: adfs}, {Binding: saml.HTTPPostBinding, Location: adfs}},
			[]*x509.Certificate{idpCert}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			u, err := ParseMetadata([]byte(readMetadata(t, tc.file)))
			if err != nil {
				t.Fatal(err)
			}
			if u.EntityID != tc.entityID {
				t.Errorf("entity ID %q, want %q", u.EntityID, tc.entityID)
			}
			if !endpointsEqual(u.SSO, tc.sso) || !endpointsEqual(u.SLO, tc.slo) {
				t.Errorf("SSO %+v, SLO %+v; want %+v, %+v", u.SSO, u.SLO, tc.sso, tc.slo)
			}
			if !certsEqual(u.Certs, tc.certs...) {
				t.Errorf("%d certificates, want %d (or not the same ones)", len(u.Certs), len(tc.certs))
			}
		})
	}
}

func endpointsEqual(a, b []Endpoint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// crewjam's IdentityProvider is the upstream IdP peer of the end-to-end
// tests: its metadata must be accepted as it writes it.
func TestParseMetadataCrewjam(t *testing.T) {
	kp := loadKey(t, "idp")
	base, _ := url.Parse("https://upstream.example.org")
	idp := saml.IdentityProvider{Key: kp.key, Certificate: kp.cert,
		MetadataURL: *base.JoinPath("metadata"), SSOURL: *base.JoinPath("sso"), LogoutURL: *base.JoinPath("slo"),
		LogoutBindings: []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding}}
	doc, err := xml.Marshal(idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	u, err := ParseMetadata(doc)
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if u.EntityID != "https://upstream.example.org/metadata" || !certsEqual(u.Certs, kp.cert) {
		t.Errorf("entity ID %q, %d certificates", u.EntityID, len(u.Certs))
	}
	want := []Endpoint{{Binding: saml.HTTPRedirectBinding, Location: "https://upstream.example.org/sso"},
		{Binding: saml.HTTPPostBinding, Location: "https://upstream.example.org/sso"}}
	if !endpointsEqual(u.SSO, want) || len(u.SLO) != 2 || u.SLO[0].Location != "https://upstream.example.org/slo" {
		t.Errorf("SSO %+v, SLO %+v", u.SSO, u.SLO)
	}
}

func entities(entities ...string) string {
	for i, e := range entities {
		entities[i] = strings.TrimPrefix(e, `<?xml version="1.0" encoding="UTF-8"?>`)
	}
	return `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" Name="federation">` +
		strings.Join(entities, "") + `</EntitiesDescriptor>`
}

func TestParseMetadataEntitiesDescriptor(t *testing.T) {
	okta := readMetadata(t, "okta.xml")
	sp := `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example.com">` +
		`<SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.com/acs" index="0"/>` +
		`</SPSSODescriptor></EntityDescriptor>`
	u, err := ParseMetadata([]byte(entities(sp, entities(okta))))
	if err != nil || u.EntityID != "http://www.okta.com/exk8portcullis0x5d7" {
		t.Errorf("one IdP among SPs, nested: %q, %v", u.EntityID, err)
	}
	two := strings.ReplaceAll(okta, "exk8portcullis0x5d7", "exk9other")
	if _, err := ParseMetadata([]byte(entities(okta, two))); err == nil || !strings.Contains(err.Error(), "holds 2 identity providers") {
		t.Errorf("two IdPs: %v", err)
	}
	if _, err := ParseMetadata([]byte(entities(sp))); err == nil || !strings.Contains(err.Error(), "no entity with an IDPSSODescriptor") {
		t.Errorf("no IdP: %v", err)
	}
}

func TestParseMetadataRefusals(t *testing.T) {
	okta := readMetadata(t, "okta.xml")
	edit := func(old, new string) string {
		if !strings.Contains(okta, old) {
			t.Fatalf("okta.xml has no %q", old)
		}
		return strings.ReplaceAll(okta, old, new)
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"doctype", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]>` + strings.TrimPrefix(okta, `<?xml version="1.0" encoding="UTF-8"?>`),
			"refusing a <!DOCTYPE> declaration"},
		{"too large", okta + strings.Repeat(" ", MaxMetadataBytes), "more than 1048576"},
		{"not XML", "<md:EntityDescriptor", "not well-formed XML"},
		{"empty", "", "not a complete XML document"},
		{"two roots", okta + "<x/>", "more than one root element"},
		{"other root", `<html xmlns="http://www.w3.org/1999/xhtml"><body>login</body></html>`, "not a SAML EntityDescriptor or EntitiesDescriptor"},
		{"no entityID", edit(`entityID="http://www.okta.com/exk8portcullis0x5d7"`, ""), "no entityID"},
		{"SP metadata", edit("IDPSSODescriptor", "SPSSODescriptor"), "has no IDPSSODescriptor"},
		{"SAML 1.1 only", edit("urn:oasis:names:tc:SAML:2.0:protocol", "urn:oasis:names:tc:SAML:1.1:protocol"), "supports SAML 2.0"},
		{"artifact only", strings.ReplaceAll(edit("bindings:HTTP-POST", "bindings:HTTP-Artifact"), "bindings:HTTP-Redirect", "bindings:SOAP"),
			"no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding"},
		{"encryption key only", edit(`use="signing"`, `use="encryption"`), "no signing certificate"},
		{"relative location", edit("https://example.okta.com/app", "/app"), `invalid url scheme ""`},
		{"no host", edit("https://example.okta.com/app", "https:///app"), "not an absolute http(s) URL"},
		{"bad certificate", edit("<ds:X509Certificate>", "<ds:X509Certificate>AAAA"), "signing certificate of"},
		{"certificate not base64", edit("<ds:X509Certificate>", "<ds:X509Certificate>!"), "not base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseMetadata([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestParseSettings(t *testing.T) {
	s, err := ParseSettings(nil)
	if err != nil || s.Link != LinkByEmail || s.Want != WantEither || s.CreateUsers || s.TrustMFA || s.AllowUnsolicited {
		t.Errorf("defaults: %+v, %v", s, err)
	}
	raw := json.RawMessage(`{"link":"attribute","link_attribute":"employeeNumber","create_users":true,` +
		`"groups_attribute":"memberOf","trust_mfa":true,"allow_unsolicited":true,"want":"assertion"}`)
	s, err = ParseSettings(raw)
	if err != nil || s.LinkAttribute != "employeeNumber" || !s.CreateUsers || s.GroupsAttribute != "memberOf" ||
		s.SignedParts() != SignedAssertion || !s.AllowUnsolicited {
		t.Errorf("full: %+v, %v", s, err)
	}
	if b, _ := json.Marshal(s); string(b) != string(raw) {
		t.Errorf("round trip:\n%s\n%s", b, raw)
	}
	if !s.UpstreamMFA(" "+REFEDSMFA+" ") || s.UpstreamMFA("urn:oasis:names:tc:SAML:2.0:ac:classes:Password") {
		t.Error("UpstreamMFA with trust_mfa")
	}
	if (Settings{}).UpstreamMFA(REFEDSMFA) {
		t.Error("UpstreamMFA without trust_mfa")
	}
	if _, err := ParseSettings(json.RawMessage(`{"lnk":"email"}`)); err == nil || !strings.Contains(err.Error(), `unknown field "lnk"`) {
		t.Errorf("unknown field: %v", err)
	}
}

func TestSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		s    Settings
		want []string
	}{
		{Settings{Link: "upn"}, []string{`link "upn" is not email, nameid or attribute`}},
		{Settings{Link: LinkByAttribute}, []string{"link attribute needs link_attribute"}},
		{Settings{Link: LinkByNameID, LinkAttribute: "uid"}, []string{`link_attribute "uid" is only used with link attribute`}},
		{Settings{Want: "both", GroupsAttribute: " ", Link: LinkByAttribute, LinkAttribute: " "},
			[]string{`want "both" is not response, assertion or either`, "groups_attribute is blank", "needs link_attribute"}},
	} {
		err := tc.s.Validate()
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %v, want it to say %q", tc.s, err, w)
			}
		}
	}
	for want, parts := range map[string]SignedParts{WantResponse: SignedResponse, WantAssertion: SignedAssertion, WantEither: SignedEither, "": SignedEither} {
		if got := (Settings{Want: want}).SignedParts(); got != parts {
			t.Errorf("want %q: %v, want %v", want, got, parts)
		}
	}
}
