package sp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

var update = flag.Bool("update", false, "rewrite sp/testdata (keys if missing, and the attack corpus)")

// The fixed world of the tests: the corpus is generated as of now, so that
// its files stay valid byte for byte.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	spEntity  = "https://gw.example.com/saml/sp"
	acsURL    = "https://gw.example.com/saml/sp/acs"
	idpEntity = "https://idp.example.org/metadata"
	requestID = "_req-4f1c2d"
)

// keyPair is a test IdP's signing key, kept in testdata so that the corpus
// signed with it verifies on every run.
type keyPair struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func loadKey(t testing.TB, name string) keyPair {
	t.Helper()
	path := filepath.Join("testdata", name+".pem")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && *update {
		b = newKeyPEM(t, name)
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		t.Fatalf("%v (run go test ./sp -update once)", err)
	}
	var kp keyPair
	for blk, rest := pem.Decode(b); blk != nil; blk, rest = pem.Decode(rest) {
		switch blk.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			kp.key = k.(*rsa.PrivateKey)
		case "CERTIFICATE":
			if kp.cert, err = x509.ParseCertificate(blk.Bytes); err != nil {
				t.Fatal(err)
			}
		}
	}
	return kp
}

func newKeyPEM(t testing.TB, name string) []byte {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
}

// msg holds the fields a test Response varies.
type msg struct {
	RespID, AsrtID, Destination, RespIRT, SCDIRT, Recipient, Audience string
	Issuer, NameID, Status, Email                                     string
	NotBefore, NotOnOrAfter, SCDNotOnOrAfter, IssueInstant            time.Time
}

func goodMsg() msg {
	return msg{RespID: "_resp-1", AsrtID: "_asrt-1", Destination: acsURL, RespIRT: requestID, SCDIRT: requestID,
		Recipient: acsURL, Audience: spEntity, Issuer: idpEntity, NameID: "alice@example.org",
		Status: statusSuccess, Email: "alice@example.org", IssueInstant: now.Add(-10 * time.Second),
		NotBefore: now.Add(-time.Minute), NotOnOrAfter: now.Add(5 * time.Minute), SCDNotOnOrAfter: now.Add(5 * time.Minute)}
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optAttr(name, v string) string {
	if v == "" {
		return ""
	}
	return fmt.Sprintf(` %s="%s"`, name, v)
}

// xml writes the Response as a typical IdP does: namespaces declared on
// the Response and again on the Assertion.
func (m msg) xml() string {
	return `<samlp:Response xmlns:samlp="` + samlpNS + `" xmlns:saml="` + samlNS + `" ID="` + m.RespID + `" Version="2.0" IssueInstant="` + ts(m.IssueInstant) + `"` +
		optAttr("Destination", m.Destination) + optAttr("InResponseTo", m.RespIRT) + `>` +
		`<saml:Issuer>` + m.Issuer + `</saml:Issuer>` +
		`<samlp:Status><samlp:StatusCode Value="` + m.Status + `"/></samlp:Status>` +
		m.assertionXML(m.AsrtID) + `</samlp:Response>`
}

func (m msg) assertionXML(id string) string {
	return `<saml:Assertion xmlns:saml="` + samlNS + `" ID="` + id + `" Version="2.0" IssueInstant="` + ts(m.IssueInstant) + `">` +
		`<saml:Issuer>` + m.Issuer + `</saml:Issuer>` +
		`<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">` + m.NameID + `</saml:NameID>` +
		`<saml:SubjectConfirmation Method="` + bearer + `"><saml:SubjectConfirmationData` + optAttr("InResponseTo", m.SCDIRT) +
		` NotOnOrAfter="` + ts(m.SCDNotOnOrAfter) + `" Recipient="` + m.Recipient + `"/></saml:SubjectConfirmation></saml:Subject>` +
		`<saml:Conditions NotBefore="` + ts(m.NotBefore) + `" NotOnOrAfter="` + ts(m.NotOnOrAfter) + `">` +
		`<saml:AudienceRestriction><saml:Audience>` + m.Audience + `</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
		`<saml:AuthnStatement AuthnInstant="` + ts(m.IssueInstant) + `" SessionIndex="_sess-1"><saml:AuthnContext>` +
		`<saml:AuthnContextClassRef>https://refeds.org/profile/mfa</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
		`<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>` + m.Email + `</saml:AttributeValue></saml:Attribute>` +
		`<saml:Attribute Name="groups"><saml:AttributeValue>staff</saml:AttributeValue><saml:AttributeValue>admins</saml:AttributeValue></saml:Attribute>` +
		`</saml:AttributeStatement></saml:Assertion>`
}

// signer signs like an IdP using goxmldsig: RSA-SHA256, exclusive c14n,
// the Signature placed after the Issuer (SAML Core §5.4.1 schema order).
type signer struct {
	kp       keyPair
	comments bool // exclusive c14n with comments
}

func (s signer) signEl(t testing.TB, el *etree.Element) {
	t.Helper()
	ctx, err := dsig.NewSigningContext(s.kp.key, [][]byte{s.kp.cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if s.comments {
		ctx.Canonicalizer = dsig.MakeC14N10ExclusiveWithCommentsCanonicalizerWithPrefixList("")
	}
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		t.Fatal(err)
	}
	issuer := children(el, samlNS, "Issuer")[0]
	el.InsertChildAt(issuer.Index()+1, sig)
}

// sign returns doc (a Response) with the parts signed, the Assertion first.
func (s signer) sign(t testing.TB, doc string, parts SignedParts) *etree.Document {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromString(doc); err != nil {
		t.Fatal(err)
	}
	if parts == SignedAssertion || parts == SignedBoth {
		s.signEl(t, children(d.Root(), samlNS, "Assertion")[0])
	}
	if parts == SignedResponse || parts == SignedBoth {
		s.signEl(t, d.Root())
	}
	return d
}

func str(t testing.TB, d *etree.Document) string {
	t.Helper()
	s, err := d.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func encode(xml string) string { return base64.StdEncoding.EncodeToString([]byte(xml)) }

// expect is what the tests' SP expects: our one pending request is
// requestID.
func expect(certs ...*x509.Certificate) Expect {
	return Expect{EntityID: spEntity, ACS: acsURL, IdPEntityID: idpEntity, Certs: certs,
		RequestIDs: func(id string) bool { return id == requestID }, Now: now, Skew: 90 * time.Second}
}

// nameID is the NameID element under el.
func nameID(el *etree.Element) *etree.Element { return el.FindElement(".//NameID") }

// sigOf is el's Signature child.
func sigOf(el *etree.Element) *etree.Element { return children(el, dsigNS, "Signature")[0] }

// setNameID replaces the NameID in el's subtree.
func setNameID(el *etree.Element, v string) { nameID(el).SetText(v) }
