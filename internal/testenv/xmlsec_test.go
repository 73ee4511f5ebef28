package testenv_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/portcullis/portcullis/internal/testenv"
)

const unsignedResponse = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ` +
	`xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">` +
	`<saml:Issuer>https://idp.example.com</saml:Issuer>` +
	`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
	`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">` +
	`<saml:Issuer>https://idp.example.com</saml:Issuer>` +
	`<saml:Subject><saml:NameID>alice@example.com</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>`

// signResponse signs the Response with goxmldsig, and first its Assertion
// if signAssertion.
func signResponse(t *testing.T, ctx *dsig.SigningContext, signAssertion bool) []byte {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(unsignedResponse); err != nil {
		t.Fatal(err)
	}
	resp := doc.Root()
	if signAssertion {
		assertion := resp.SelectElement("Assertion")
		signed, err := ctx.SignEnveloped(assertion)
		if err != nil {
			t.Fatal(err)
		}
		resp.RemoveChild(assertion)
		resp.AddChild(signed)
	}
	signed, err := ctx.SignEnveloped(resp)
	if err != nil {
		t.Fatal(err)
	}
	doc.SetRoot(signed)
	b, _ := doc.WriteToBytes()
	return b
}

// TestXMLSec1VerifiesGoxmldsig proves the helper verifies every signature
// of a goxmldsig-signed Response and rejects a tampered one. Both the
// Response and the Assertion are signed with exclusive canonicalization,
// as SAML Core §5.4.3 advises; inclusive C14N 1.1 (goxmldsig's default) is
// tried on the Response alone, since an inclusive signature of an
// Assertion depends on the namespaces of the Response around it.
func TestXMLSec1VerifiesGoxmldsig(t *testing.T) {
	testenv.RequireXMLSec1(t)
	key, cert := newTestKey(t, "goxmldsig signer")
	for _, tc := range []struct {
		c14n          dsig.Canonicalizer
		signAssertion bool
		want          int
	}{
		{dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(""), true, 2},
		{dsig.MakeC14N11Canonicalizer(), false, 1},
	} {
		ctx, err := dsig.NewSigningContext(key, [][]byte{cert.Raw})
		if err != nil {
			t.Fatal(err)
		}
		ctx.Canonicalizer = tc.c14n
		signed := signResponse(t, ctx, tc.signAssertion)
		if n := testenv.VerifyWithXMLSec1(t, signed, testenv.PEMCert(cert.Raw)); n != tc.want {
			t.Errorf("%s: verified %d signatures, want %d", tc.c14n.Algorithm(), n, tc.want)
		}
		tampered := bytes.Replace(signed, []byte("alice@"), []byte("mallory@"), 1)
		xpaths := []string{testenv.XMLSecResponseSignature, testenv.XMLSecAssertionSignature}[:tc.want]
		for _, xpath := range xpaths {
			if err := testenv.XMLSec1Verify(tampered, testenv.PEMCert(cert.Raw), xpath); err == nil {
				t.Errorf("%s: xmlsec1 accepted the tampered Response at %s", tc.c14n.Algorithm(), xpath)
			}
		}
	}
}

// TestXMLSec1IgnoresEmbeddedCertificate proves the key comes from the
// certificate the test passes, not from the signature's KeyInfo.
func TestXMLSec1IgnoresEmbeddedCertificate(t *testing.T) {
	testenv.RequireXMLSec1(t)
	key, cert := newTestKey(t, "attacker")
	_, trusted := newTestKey(t, "trusted IdP")
	ctx, _ := dsig.NewSigningContext(key, [][]byte{cert.Raw})
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	signed := signResponse(t, ctx, true)
	if err := testenv.XMLSec1Verify(signed, testenv.PEMCert(cert.Raw), ""); err != nil {
		t.Fatalf("with the signer's own certificate: %v", err)
	}
	err := testenv.XMLSec1Verify(signed, testenv.PEMCert(trusted.Raw), "")
	if err == nil {
		t.Fatal("xmlsec1 verified a signature by a key other than the trusted certificate's")
	}
	if !strings.Contains(err.Error(), "xmlsec1") {
		t.Errorf("error does not carry xmlsec1's output: %v", err)
	}
}

// TestXMLSec1VerifiesCrewjamResponse checks what the SP records: the
// Response as posted (two signatures, or one with an encrypted assertion)
// and the assertion alone, decrypted.
func TestXMLSec1VerifiesCrewjamResponse(t *testing.T) {
	testenv.RequireXMLSec1(t)
	for _, enc := range []bool{false, true} {
		idp := newCrewjamIdP(t)
		sp := testenv.NewSP(t, testenv.SPOptions{Encryption: enc})
		idp.Register(t, sp)
		l := login(t, sp, testenv.NewClient(t), saml.HTTPRedirectBinding)
		want := map[bool]int{false: 2, true: 1}[enc]
		if n := testenv.VerifyWithXMLSec1(t, l.ResponseXML, idp.CertPEM()); n != want {
			t.Errorf("encrypted=%v: %d signatures in the Response, want %d", enc, n, want)
		}
		testenv.VerifyNodeWithXMLSec1(t, l.ResponseXML, idp.CertPEM(), testenv.XMLSecResponseSignature)
		testenv.VerifyNodeWithXMLSec1(t, l.AssertionXML, idp.CertPEM(), testenv.XMLSecAssertionSignature)
	}
}
