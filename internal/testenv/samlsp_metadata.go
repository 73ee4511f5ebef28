package testenv

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"time"

	saml2 "github.com/russellhaering/gosaml2"
	"github.com/russellhaering/gosaml2/types"
)

const (
	bindingRedirect = saml2.BindingHttpRedirect
	bindingPOST     = saml2.BindingHttpPost
)

// spEntityDescriptor is SP metadata (SAML Metadata §2.4.4). gosaml2 only
// writes an SLO endpoint with the POST binding and no way to leave the
// encryption key out, so the SP writes its own.
type spEntityDescriptor struct {
	XMLName    xml.Name          `xml:"urn:oasis:names:tc:SAML:2.0:metadata EntityDescriptor"`
	EntityID   string            `xml:"entityID,attr"`
	ValidUntil string            `xml:"validUntil,attr"`
	SSO        spSSODescriptorMD `xml:"SPSSODescriptor"`
}

type spSSODescriptorMD struct {
	AuthnRequestsSigned  bool              `xml:"AuthnRequestsSigned,attr"`
	WantAssertionsSigned bool              `xml:"WantAssertionsSigned,attr"`
	Protocols            string            `xml:"protocolSupportEnumeration,attr"`
	Keys                 []spKeyDescriptor `xml:"KeyDescriptor"`
	SLO                  []spEndpointMD    `xml:"SingleLogoutService"`
	NameIDFormat         string            `xml:"NameIDFormat,omitempty"`
	ACS                  []spEndpointMD    `xml:"AssertionConsumerService"`
}

type spKeyDescriptor struct {
	Use     string            `xml:"use,attr"`
	KeyInfo spKeyInfo         `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo"`
	Methods []spEncryptMethod `xml:"EncryptionMethod"`
}

type spKeyInfo struct {
	Cert string `xml:"X509Data>X509Certificate"`
}

type spEncryptMethod struct {
	Algorithm string `xml:"Algorithm,attr"`
}

type spEndpointMD struct {
	Binding   string `xml:"Binding,attr"`
	Location  string `xml:"Location,attr"`
	Index     string `xml:"index,attr,omitempty"`
	IsDefault string `xml:"isDefault,attr,omitempty"`
}

// Metadata returns the SP's EntityDescriptor: an SPSSODescriptor with the
// HTTP-POST ACS at /acs, the SLO endpoints with SPOptions.SLO, a signing
// KeyDescriptor and, with SPOptions.Encryption, an encryption one listing
// the block ciphers gosaml2 decrypts.
func (sp *SP) Metadata() []byte {
	md := spEntityDescriptor{
		EntityID:   sp.opts.EntityID,
		ValidUntil: time.Now().UTC().Add(48 * time.Hour).Format(time.RFC3339),
		SSO: spSSODescriptorMD{
			AuthnRequestsSigned:  sp.opts.SignAuthnRequests,
			WantAssertionsSigned: sp.opts.WantAssertionsSigned,
			Protocols:            saml2.SAMLProtocolNamespace,
			Keys:                 []spKeyDescriptor{keyDescriptor("signing", sp.signing.Certificate[0])},
			NameIDFormat:         sp.opts.NameIDFormat,
			ACS:                  []spEndpointMD{{Binding: bindingPOST, Location: sp.ACSURL(), Index: "0", IsDefault: "true"}},
		},
	}
	if sp.encryption != nil {
		k := keyDescriptor("encryption", sp.encryption.Certificate[0])
		for _, m := range []string{types.MethodAES256GCM, types.MethodAES128GCM, types.MethodAES256CBC, types.MethodAES128CBC} {
			k.Methods = append(k.Methods, spEncryptMethod{m})
		}
		md.SSO.Keys = append(md.SSO.Keys, k)
	}
	if sp.opts.SLO {
		md.SSO.SLO = []spEndpointMD{{Binding: bindingRedirect, Location: sp.SLOURL()}, {Binding: bindingPOST, Location: sp.SLOURL()}}
	}
	b, _ := xml.MarshalIndent(md, "", "  ") // fixed types of strings: cannot fail
	return append([]byte(xml.Header), b...)
}

func keyDescriptor(use string, der []byte) spKeyDescriptor {
	return spKeyDescriptor{Use: use, KeyInfo: spKeyInfo{Cert: base64.StdEncoding.EncodeToString(der)}}
}

func (sp *SP) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write(sp.Metadata())
}
