package idp

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"
)

// seal builds the signed (and perhaps encrypted) Response for req into
// req.ResponseEl, per the app's settings. crewjam's MakeResponse always
// signs both the assertion and the Response and encrypts whenever the app
// publishes an encryption key; an app chooses what is signed
// (saml-core §5.2: either or both may be), and whether to encrypt.
func seal(req *saml.IdpAuthnRequest, st AppSettings) error {
	signer, err := signingContext(req.IDP)
	if err != nil {
		return err
	}
	assertionEl := req.Assertion.Element()
	if st.Sign != SignResponse {
		if assertionEl, err = signEnveloped(signer, assertionEl); err != nil {
			return err
		}
	}
	if st.Encrypt != "" && st.Encrypt != EncryptOff {
		if assertionEl, err = encrypt(req, assertionEl, st.Encrypt); err != nil {
			return err
		}
	}
	req.AssertionEl = assertionEl
	respEl := newResponse(req).Element()
	respEl.AddChild(assertionEl)
	if st.Sign == SignResponse || st.Sign == SignBoth {
		if respEl, err = signEnveloped(signer, respEl); err != nil {
			return err
		}
	}
	req.ResponseEl = respEl
	return nil
}

// signEnveloped signs el with an enveloped signature (saml-core §5.4) and
// puts the Signature where the schema wants it: right after the Issuer
// (saml-core §2.3.3, §3.2.1). goxmldsig canonicalizes what it signs in
// place, dropping the xmlns:xs declaration that xsi:type="xs:string" values
// need, so it signs a copy and el keeps its declarations; a verifier
// canonicalizes what it receives the same way. Inserting the signature
// spares a second canonicalization, which rebuilding el from crewjam's
// types (as crewjam does) would cost.
func signEnveloped(ctx *dsig.SigningContext, el *etree.Element) (*etree.Element, error) {
	sig, err := ctx.ConstructSignature(el.Copy(), true)
	if err != nil {
		return nil, fmt.Errorf("idp: sign: %w", err)
	}
	for i, tok := range el.Child {
		if c, ok := tok.(*etree.Element); ok && c.Tag == "Issuer" {
			el.InsertChildAt(i+1, sig)
			return el, nil
		}
	}
	return nil, errors.New("idp: sign: no Issuer to place the signature after")
}

// newResponse is the Response envelope (saml-core §3.2.2) crewjam would make.
func newResponse(req *saml.IdpAuthnRequest) *saml.Response {
	return &saml.Response{
		Destination:  req.ACSEndpoint.Location,
		ID:           newID(),
		InResponseTo: req.Request.ID,
		IssueInstant: req.Now,
		Version:      "2.0",
		Issuer: &saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity",
			Value: req.IDP.MetadataURL.String()},
		Status: saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}},
	}
}

// newID is an xs:ID (saml-core §1.3.4): 160 random bits, starting with a
// letter.
func newID() string {
	b := make([]byte, 20)
	rand.Read(b)
	return "id-" + hex.EncodeToString(b)
}

// signingContext signs with the active key: RSA-SHA256 and exclusive c14n
// without an inclusive prefix list, as crewjam does.
func signingContext(idp *saml.IdentityProvider) (*dsig.SigningContext, error) {
	if idp.Key == nil || idp.Certificate == nil {
		return nil, errors.New("idp: no signing key")
	}
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{
		Certificate: [][]byte{idp.Certificate.Raw}, PrivateKey: idp.Key, Leaf: idp.Certificate}))
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, err
	}
	return ctx, nil
}

// encrypt wraps the (signed) assertion in an EncryptedAssertion for the
// app's encryption certificate (saml-core §6.2). The content key is wrapped
// with rsa-oaep-mgf1p and a SHA-1 digest (XML Encryption 1.0 §5.4.2), which
// every SAML SP decrypts; OAEP's security does not rest on SHA-1 collision
// resistance, and SPs such as gosaml2 do not read the XML Encryption 1.1
// SHA-256 digest URI. An app configured for encryption that publishes no
// key gets no Response at all rather than a clear one.
func encrypt(req *saml.IdpAuthnRequest, el *etree.Element, alg string) (*etree.Element, error) {
	cert, err := encryptionCert(req.SPSSODescriptor)
	if err != nil {
		return nil, err
	}
	enc := xmlenc.OAEP()
	enc.DigestMethod = &xmlenc.SHA1
	enc.BlockCipher = xmlenc.AES256GCM
	if alg == EncryptAES128CBC {
		enc.BlockCipher = xmlenc.AES128CBC
	}
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	plain, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	data, err := enc.Encrypt(cert, plain, nil)
	if err != nil {
		return nil, fmt.Errorf("idp: encrypt assertion: %w", err)
	}
	data.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
	wrapper := etree.NewElement("saml:EncryptedAssertion")
	wrapper.AddChild(data)
	return wrapper, nil
}

// encryptionCert is the first certificate of a KeyDescriptor for encryption
// (or with no use, which means both; saml-metadata §2.4.1.1).
func encryptionCert(sp *saml.SPSSODescriptor) (*x509.Certificate, error) {
	for _, kd := range sp.KeyDescriptors {
		if kd.Use != "" && kd.Use != "encryption" {
			continue
		}
		for _, c := range kd.KeyInfo.X509Data.X509Certificates {
			der, err := base64.StdEncoding.DecodeString(compact(c.Data))
			if err != nil {
				return nil, fmt.Errorf("idp: app encryption certificate: %w", err)
			}
			return x509.ParseCertificate(der)
		}
	}
	return nil, errors.New("idp: encryption is configured but the app's metadata has no encryption certificate")
}

func compact(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			out = append(out, c)
		}
	}
	return string(out)
}
