package idp

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"
)

// The tests here hold seal's own XML writing to what the etree and
// goxmldsig code it replaced made (etreeSeal below, kept as the oracle):
// the same bytes, which is possible because RSA PKCS#1 v1.5 signatures are
// deterministic, and signatures that goxmldsig's general canonicalizer
// verifies. interop_test.go runs xmlsec1 and gosaml2 on real Responses.

// tricky are values that take every escaping path: markup characters,
// quotes, non-ASCII, a valid U+FFFD, invalid UTF-8 and a control character
// (both replaced with U+FFFD).
var tricky = []string{`a&b<c>d'e"f`, "Zoë ☃ 𝄞 \uFFFD", "bad \xff byte", "ctl \x01 char", "]]> end"}

func sealRequest(t *testing.T, values ...string) *saml.IdpAuthnRequest {
	t.Helper()
	pair, err := tls.LoadX509KeyPair("testdata/signing.crt", "testdata/signing.key")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 1, 2, 3, 4, 5, 678_900_000, time.UTC)
	until := at.Add(5 * time.Minute)
	var attrs []saml.Attribute
	for i, v := range values {
		attrs = append(attrs, saml.Attribute{Name: "attr" + v, NameFormat: basicNameFormat,
			FriendlyName: []string{"", "f" + v}[i%2],
			Values:       []saml.AttributeValue{{Type: "xs:string", Value: v}, {Value: v + v}}})
	}
	a := &saml.Assertion{
		ID: "id-assertion", IssueInstant: at, Version: "2.0",
		Issuer: saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", NameQualifier: "q",
			Value: "https://sso.example.com/saml/metadata"},
		Subject: &saml.Subject{
			NameID: &saml.NameID{Format: string(saml.EmailAddressNameIDFormat), SPNameQualifier: "sp", Value: values[0]},
			SubjectConfirmations: []saml.SubjectConfirmation{{Method: "urn:oasis:names:tc:SAML:2.0:cm:bearer",
				SubjectConfirmationData: &saml.SubjectConfirmationData{Address: "192.0.2.1", InResponseTo: "id-request",
					NotBefore: at, NotOnOrAfter: until, Recipient: "https://wiki.example.com/acs?a=1&b=2"}}},
		},
		Conditions: &saml.Conditions{NotBefore: at, NotOnOrAfter: until, AudienceRestrictions: []saml.AudienceRestriction{{
			Audience: saml.Audience{Value: "https://wiki.example.com/metadata"}, AdditionalAudiences: []saml.Audience{{Value: "other"}}}}},
		AuthnStatements: []saml.AuthnStatement{{AuthnInstant: at, SessionIndex: "_index", SessionNotOnOrAfter: &until,
			SubjectLocality: &saml.SubjectLocality{Address: "192.0.2.1", DNSName: "client.example.com"},
			AuthnContext: saml.AuthnContext{AuthnContextClassRef: &saml.AuthnContextClassRef{Value: PasswordProtectedTransport},
				AuthenticatingAuthorities: []saml.AuthenticatingAuthority{{Value: "https://upstream.example.com"}}}}},
		AttributeStatements: []saml.AttributeStatement{{Attributes: attrs}},
	}
	return &saml.IdpAuthnRequest{
		IDP:         &saml.IdentityProvider{Key: pair.PrivateKey, Certificate: pair.Leaf, MetadataURL: url.URL{Scheme: "https", Host: "sso.example.com", Path: "/saml/metadata"}},
		Request:     saml.AuthnRequest{ID: "id-request"},
		ACSEndpoint: &saml.IndexedEndpoint{Location: "https://wiki.example.com/acs?a=1&b=2"},
		// The app encrypts for the IdP's own certificate, so the test can
		// decrypt with the IdP's key.
		SPSSODescriptor: &saml.SPSSODescriptor{SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{
			KeyDescriptors: []saml.KeyDescriptor{{Use: "encryption", KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{
				X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(pair.Leaf.Raw)}}}}}}}}},
		Now:       at,
		Assertion: a,
	}
}

func TestSealMatchesEtree(t *testing.T) {
	for _, values := range [][]string{{"ada@example.com"}, tricky} {
		for _, sign := range []string{"", SignAssertion, SignResponse, SignBoth} {
			req := sealRequest(t, values...)
			resp := newResponse(req)
			got := sealed(t, req, resp, AppSettings{Sign: sign})
			if want := etreeSeal(t, req, resp, sign); string(got) != string(want) {
				t.Errorf("sign %q, values %q:\n got %s\nwant %s", sign, values, got, want)
			}
			verify(t, got, sign != SignResponse, sign == SignResponse || sign == SignBoth)
		}
	}
}

// Carriage returns, tabs and newlines would be normalized by a parser as
// etree writes them (CR in text, all three in attribute values), so that
// its signatures failed; seal writes them as character references.
func TestSealKeepsWhitespaceSigned(t *testing.T) {
	req := sealRequest(t, "line\r\nbreak", "tab\there", "cr\ronly")
	req.Assertion.Subject.SubjectConfirmations[0].SubjectConfirmationData.Recipient = "https://wiki.example.com/\tacs\n"
	got := sealed(t, req, newResponse(req), AppSettings{Sign: SignBoth})
	a := verify(t, got, true, true)
	v := a.FindElement("./AttributeStatement/Attribute/AttributeValue")
	if v == nil || v.Text() != "line\r\nbreak" {
		t.Errorf("first attribute value = %v", v)
	}
}

// The IdP-initiated Response has no InResponseTo.
func TestSealUnsolicited(t *testing.T) {
	req := sealRequest(t, "ada@example.com")
	req.Request.ID = ""
	resp := newResponse(req)
	got := sealed(t, req, resp, AppSettings{Sign: SignBoth})
	if want := etreeSeal(t, req, resp, SignBoth); string(got) != string(want) {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestSealEncrypted(t *testing.T) {
	for _, enc := range []string{EncryptAES256GCM, EncryptAES128CBC} {
		for _, sign := range []string{SignAssertion, SignResponse, SignBoth} {
			req := sealRequest(t, tricky...)
			resp := newResponse(req)
			got := sealed(t, req, resp, AppSettings{Sign: sign, Encrypt: enc})
			verify(t, got, false, sign != SignAssertion)
			doc := etree.NewDocument()
			must(t, doc.ReadFromBytes(got))
			data := doc.FindElement("/Response/EncryptedAssertion/EncryptedData")
			if data == nil {
				t.Fatalf("%s %s: no EncryptedData in %s", enc, sign, got)
			}
			key := req.IDP.Key.(*rsa.PrivateKey)
			plain, err := xmlenc.Decrypt(key, data)
			must(t, err)
			want := etreeAssertion(t, req, sign != SignResponse)
			if string(plain) != string(want) {
				t.Errorf("%s %s: decrypted\n%s\nwant\n%s", enc, sign, plain, want)
			}
			if sign != SignResponse {
				verify(t, append(append([]byte(`<r xmlns:xs="`+xsNS+`">`), plain...), "</r>"...), true, false)
			}
		}
	}
}

func TestSealRefusesUnwrittenElements(t *testing.T) {
	req := sealRequest(t, "ada@example.com")
	req.Assertion.Conditions.OneTimeUse = &saml.OneTimeUse{}
	if _, err := seal(req, AppSettings{}); !errors.Is(err, errAssertionShape) {
		t.Errorf("seal = %v, want errAssertionShape", err)
	}
}

func sealed(t *testing.T, req *saml.IdpAuthnRequest, resp *saml.Response, st AppSettings) []byte {
	t.Helper()
	f, err := sealResponse(req, resp, st)
	must(t, err)
	raw, err := base64.StdEncoding.DecodeString(f.Value)
	must(t, err)
	return raw
}

// verify checks the signatures of the Response (and of its assertion) with
// goxmldsig, and returns the assertion element.
func verify(t *testing.T, raw []byte, assertionSigned, responseSigned bool) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	must(t, doc.ReadFromBytes(raw))
	pair, _ := tls.LoadX509KeyPair("testdata/signing.crt", "testdata/signing.key")
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{pair.Leaf}})
	ctx.Clock = dsig.NewFakeClockAt(pair.Leaf.NotBefore.Add(time.Hour))
	root := doc.Root()
	if (root.FindElement("./Signature") != nil) != responseSigned {
		t.Fatalf("Response signed: %v, want %v", !responseSigned, responseSigned)
	}
	if responseSigned {
		if _, err := ctx.Validate(root); err != nil {
			t.Fatalf("Response signature: %v\n%s", err, raw)
		}
	}
	a := root.FindElement("//Assertion")
	if assertionSigned {
		if _, err := ctx.Validate(a); err != nil {
			t.Fatalf("assertion signature: %v\n%s", err, raw)
		}
	}
	return a
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// etreeSeal is how seal made a Response before it wrote XML itself:
// crewjam's elements, signed by goxmldsig (a copy, so that the declarations
// canonicalization drops stay), the Signature placed after the Issuer.
func etreeSeal(t *testing.T, req *saml.IdpAuthnRequest, resp *saml.Response, sign string) []byte {
	t.Helper()
	el := resp.Element()
	el.AddChild(etreeSigned(t, req, req.Assertion.Element(), sign != SignResponse))
	el = etreeSigned(t, req, el, sign == SignResponse || sign == SignBoth)
	buf := etree.NewDocument()
	buf.SetRoot(el)
	b, err := buf.WriteToBytes()
	must(t, err)
	return b
}

// etreeAssertion is the assertion as the etree code encrypted it.
func etreeAssertion(t *testing.T, req *saml.IdpAuthnRequest, signed bool) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(etreeSigned(t, req, req.Assertion.Element(), signed))
	b, err := doc.WriteToBytes()
	must(t, err)
	return b
}

func etreeSigned(t *testing.T, req *saml.IdpAuthnRequest, el *etree.Element, sign bool) *etree.Element {
	t.Helper()
	if !sign {
		return el
	}
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{
		Certificate: [][]byte{req.IDP.Certificate.Raw}, PrivateKey: req.IDP.Key, Leaf: req.IDP.Certificate}))
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	must(t, ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod))
	sig, err := ctx.ConstructSignature(el.Copy(), true)
	must(t, err)
	for i, tok := range el.Child {
		if c, ok := tok.(*etree.Element); ok && c.Tag == "Issuer" {
			el.InsertChildAt(i+1, sig)
			return el
		}
	}
	t.Fatal("no Issuer")
	return nil
}
