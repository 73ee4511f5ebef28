package bench

// The upstream IdP of the brokering benchmark (brokered.go).

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/url"
	"strconv"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// upstream is the benchmark's upstream IdP: an RSA-2048 key with a
// self-signed certificate, signing assertions with goxmldsig (RSA-SHA256,
// exclusive c14n) as IdPs built on it do.
type upstream struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
	sign *dsig.SigningContext
}

func newUpstream() (*upstream, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp.example.org"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	u := &upstream{key: key}
	if u.cert, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	if u.sign, err = dsig.NewSigningContext(key, [][]byte{der}); err != nil {
		return nil, err
	}
	u.sign.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	return u, nil
}

func (u *upstream) metadata() string {
	return `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + upstreamEntity + `">` +
		`<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>` +
		base64.StdEncoding.EncodeToString(u.cert.Raw) + `</X509Certificate></X509Data></KeyInfo></KeyDescriptor>` +
		`<SingleSignOnService Binding="` + saml.HTTPRedirectBinding + `" Location="` + upstreamSSO + `"/>` +
		`</IDPSSODescriptor></EntityDescriptor>`
}

// response is the form body of a Response for the user, its Assertion
// signed; unsolicited when inResponseTo is empty.
func (u *upstream) response(n int64, inResponseTo string) (string, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(responseXML(strconv.FormatInt(n, 10), inResponseTo, time.Now())); err != nil {
		return "", err
	}
	asrt := doc.Root().SelectElement("Assertion")
	sig, err := u.sign.ConstructSignature(asrt, true)
	if err != nil {
		return "", err
	}
	asrt.InsertChildAt(asrt.SelectElement("Issuer").Index()+1, sig) // SAML Core §5.4.1 order
	raw, err := doc.WriteToBytes()
	return "SAMLResponse=" + url.QueryEscape(base64.StdEncoding.EncodeToString(raw)), err
}

func responseXML(n, inResponseTo string, now time.Time) string {
	irt := ""
	if inResponseTo != "" {
		irt = ` InResponseTo="` + inResponseTo + `"`
	}
	at, until := now.UTC().Format(time.RFC3339), now.Add(5*time.Minute).UTC().Format(time.RFC3339)
	const ns = `xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`
	return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ` + ns + ` ID="_r` + n +
		`" Version="2.0" IssueInstant="` + at + `" Destination="` + brokerACS + `"` + irt + `>` +
		`<saml:Issuer>` + upstreamEntity + `</saml:Issuer><samlp:Status><samlp:StatusCode ` +
		`Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
		`<saml:Assertion ` + ns + ` ID="_a` + n + `" Version="2.0" IssueInstant="` + at + `">` +
		`<saml:Issuer>` + upstreamEntity + `</saml:Issuer><saml:Subject><saml:NameID ` +
		`Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">` + brokerEmail + `</saml:NameID>` +
		`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData` + irt +
		` NotOnOrAfter="` + until + `" Recipient="` + brokerACS + `"/></saml:SubjectConfirmation></saml:Subject>` +
		`<saml:Conditions NotBefore="` + at + `" NotOnOrAfter="` + until + `"><saml:AudienceRestriction>` +
		`<saml:Audience>` + brokerSP + `</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
		`<saml:AuthnStatement AuthnInstant="` + at + `" SessionIndex="_s` + n + `"><saml:AuthnContext>` +
		`<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport` +
		`</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
		`<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>` + brokerEmail +
		`</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>`
}
