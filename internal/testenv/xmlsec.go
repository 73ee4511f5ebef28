package testenv

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"
)

// XPaths of the signatures a SAML Response can carry, for
// VerifyNodeWithXMLSec1 and XMLSec1Verify.
const (
	XMLSecResponseSignature  = "/*[local-name()='Response']/*[local-name()='Signature']"
	XMLSecAssertionSignature = "//*[local-name()='Assertion']/*[local-name()='Signature']"
)

const dsigNS = "http://www.w3.org/2000/09/xmldsig#"

// xmlsecIDNodes are the elements whose ID attribute a signature Reference
// may name: every SAML element with an ID (SAML Core §1.3.4) and metadata.
var xmlsecIDNodes = []string{
	"urn:oasis:names:tc:SAML:2.0:protocol:Response",
	"urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
	"urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest",
	"urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest",
	"urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse",
	"urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
}

// RequireXMLSec1 returns the path of the xmlsec1 binary. Without it the test
// skips, or fails under GATEWAY_TEST_REQUIRE_SERVICES=1 (DESIGN.md §7).
func RequireXMLSec1(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("GATEWAY_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("xmlsec1 is not installed and GATEWAY_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("xmlsec1 is not installed (Debian package xmlsec1)")
	}
	return path
}

// VerifyWithXMLSec1 checks every XML signature in signedXML with the real
// xmlsec1 --verify, one run per signature, against the public key of
// certPEM only: a certificate embedded in the signature's KeyInfo is not
// trusted. idAttr names further elements, as "namespace-uri:Name", whose ID
// attribute references may point to. It fails the test with xmlsec1's
// output when a signature does not verify or there is none, and returns how
// many signatures it verified.
func VerifyWithXMLSec1(t testing.TB, signedXML, certPEM []byte, idAttr ...string) int {
	t.Helper()
	RequireXMLSec1(t)
	n, err := countSignatures(signedXML)
	if err != nil {
		t.Fatalf("xmlsec1: %v", err)
	}
	if n == 0 {
		t.Fatalf("xmlsec1: no XML signature in:\n%s", signedXML)
	}
	for i := 1; i <= n; i++ {
		xpath := fmt.Sprintf("(//*[local-name()='Signature' and namespace-uri()='%s'])[%d]", dsigNS, i)
		if err := XMLSec1Verify(signedXML, certPEM, xpath, idAttr...); err != nil {
			t.Fatalf("signature %d of %d: %v\n%s", i, n, err, signedXML)
		}
	}
	return n
}

// VerifyNodeWithXMLSec1 checks with xmlsec1 the one signature that xpath
// selects, such as XMLSecResponseSignature or XMLSecAssertionSignature,
// failing the test when it does not verify.
func VerifyNodeWithXMLSec1(t testing.TB, signedXML, certPEM []byte, xpath string, idAttr ...string) {
	t.Helper()
	RequireXMLSec1(t)
	if err := XMLSec1Verify(signedXML, certPEM, xpath, idAttr...); err != nil {
		t.Fatalf("%v\n%s", err, signedXML)
	}
}

// XMLSec1Verify runs xmlsec1 --verify on the signature that xpath selects
// (the first signature of the document when xpath is empty) and returns an
// error holding xmlsec1's output unless it verifies with the key of
// certPEM. Tests that expect a signature to be rejected use it directly.
func XMLSec1Verify(signedXML, certPEM []byte, xpath string, idAttr ...string) error {
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		return fmt.Errorf("xmlsec1 is not installed (Debian package xmlsec1): %w", err)
	}
	dir, err := os.MkdirTemp("", "xmlsec1-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	docFile, certFile := filepath.Join(dir, "signed.xml"), filepath.Join(dir, "cert.pem")
	if err := errors.Join(os.WriteFile(docFile, signedXML, 0o600), os.WriteFile(certFile, certPEM, 0o600)); err != nil {
		return err
	}
	out, err := exec.Command(bin, xmlsec1Args(certFile, docFile, xpath, idAttr)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("xmlsec1 --verify failed: %w\n%s", err, out)
	}
	return nil
}

// xmlsec1Args builds the command line. Only key data "rsa" and "ec" are
// enabled, so xmlsec1 takes the key from --pubkey-cert-pem and never from
// an X509Certificate the signature carries (which anyone can put there).
func xmlsec1Args(certFile, docFile, xpath string, idAttr []string) []string {
	args := []string{"--verify", "--enabled-key-data", "rsa,ec", "--pubkey-cert-pem", certFile}
	for _, n := range append(append([]string(nil), xmlsecIDNodes...), idAttr...) {
		args = append(args, "--id-attr:ID", n)
	}
	if xpath != "" {
		args = append(args, "--node-xpath", xpath)
	}
	return append(args, docFile)
}

// countSignatures counts the ds:Signature elements of doc.
func countSignatures(doc []byte) (int, error) {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return 0, fmt.Errorf("parse signed XML: %w", err)
	}
	n := 0
	for _, el := range d.FindElements("//Signature") {
		if el.NamespaceURI() == dsigNS {
			n++
		}
	}
	return n, nil
}

// PEMCert encodes a DER certificate (x509.Certificate.Raw) as PEM, as
// VerifyWithXMLSec1 wants it.
func PEMCert(der []byte) []byte {
	var b bytes.Buffer
	pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	return b.Bytes()
}
