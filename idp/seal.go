package idp

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/portcullis/portcullis/web"
)

// seal builds the signed (and perhaps encrypted) Response for req, per the
// app's settings, base64-encoded as the HTTP-POST binding carries it
// (saml-bindings §3.5.4). crewjam's MakeResponse always signs both the
// assertion and the Response and encrypts whenever the app publishes an
// encryption key; an app chooses what is signed (saml-core §5.2: either or
// both may be), and whether to encrypt.
//
// The XML is written by xmlOut rather than built as etree trees for
// goxmldsig to copy and canonicalize: the IdP makes every element itself,
// so it writes the exclusive canonical form a signature covers directly,
// and sends the bytes crewjam's elements serialize to (seal_test.go holds
// both to the etree code it replaced).
func seal(req *saml.IdpAuthnRequest, st AppSettings) (Field, error) {
	return sealResponse(req, newResponse(req), st)
}

// sealResponse is seal with the Response envelope resp.
func sealResponse(req *saml.IdpAuthnRequest, resp *saml.Response, st AppSettings) (Field, error) {
	s, err := newSigner(req.IDP)
	if err != nil {
		return Field{}, err
	}
	a := req.Assertion
	if err := checkAssertion(a); err != nil {
		return Field{}, err
	}
	var asig *signature
	if st.Sign != SignResponse {
		if asig, err = signed(s, a.ID, func(w *xmlOut) { writeAssertion(w, a, nil) }); err != nil {
			return Field{}, err
		}
	}
	body := func(w *xmlOut) { writeAssertion(w, a, asig) }
	if st.Encrypt != "" && st.Encrypt != EncryptOff {
		enc, err := encrypt(req, body, st.Encrypt)
		if err != nil {
			return Field{}, err
		}
		body = enc.write
	}
	var rsig *signature
	if st.Sign == SignResponse || st.Sign == SignBoth {
		if rsig, err = signed(s, resp.ID, func(w *xmlOut) { writeResponse(w, resp, nil, body) }); err != nil {
			return Field{}, err
		}
	}
	w := getXMLOut(false)
	defer putXMLOut(w)
	writeResponse(w, resp, rsig, body)
	return web.Base64Field("SAMLResponse", w.b), nil
}

// encode64 is base64.StdEncoding.EncodeToString with one allocation, not
// two: a Response is some ten kilobytes.
func encode64(b []byte) string {
	buf := getXMLOut(false)
	defer putXMLOut(buf)
	buf.b = base64.StdEncoding.AppendEncode(buf.b, b)
	return string(buf.b)
}

// signed signs the element with ID id that write writes (without the
// signature) in canonical form.
func signed(s signer, id string, write func(*xmlOut)) (*signature, error) {
	w := getXMLOut(true)
	defer putXMLOut(w)
	write(w)
	return s.sign(id, w.b)
}

// writeResponse writes the Response envelope (saml-core §3.2.2) around
// body, with sig after the Issuer when not nil. As sent, it is what
// crewjam's Response.Element makes: the saml, samlp and xs prefixes
// declared on it (xs for the xsi:type="xs:string" attribute values, a
// declaration exclusive canonicalization drops), attributes in crewjam's
// order.
func writeResponse(w *xmlOut, r *saml.Response, sig *signature, body func(*xmlOut)) {
	w.start("samlp:Response")
	if w.canon {
		w.attr("xmlns:samlp", samlpNS)
		w.opt("Destination", r.Destination)
		w.attr("ID", r.ID)
		w.opt("InResponseTo", r.InResponseTo)
		w.time("IssueInstant", r.IssueInstant)
		w.attr("Version", r.Version)
	} else {
		w.attr("xmlns:saml", samlNS)
		w.attr("xmlns:samlp", samlpNS)
		w.attr("xmlns:xs", xsNS)
		w.attr("ID", r.ID)
		w.opt("InResponseTo", r.InResponseTo)
		w.attr("Version", r.Version)
		w.time("IssueInstant", r.IssueInstant)
		w.opt("Destination", r.Destination)
	}
	writeIssuer(w, r.Issuer, true)
	if sig != nil {
		sig.write(w)
	}
	w.start("samlp:Status")
	w.start("samlp:StatusCode")
	w.attr("Value", r.Status.StatusCode.Value)
	w.end()
	w.end()
	body(w)
	w.end()
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

// encrypt wraps the (signed) assertion in an EncryptedAssertion for the
// app's encryption certificate (saml-core §6.2). The content key is wrapped
// with rsa-oaep-mgf1p and a SHA-1 digest (XML Encryption 1.0 §5.4.2), which
// every SAML SP decrypts; OAEP's security does not rest on SHA-1 collision
// resistance, and SPs such as gosaml2 do not read the XML Encryption 1.1
// SHA-256 digest URI. An app configured for encryption that publishes no
// key gets no Response at all rather than a clear one.
func encrypt(req *saml.IdpAuthnRequest, assertion func(*xmlOut), alg string) (*encrypted, error) {
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
	plain := getXMLOut(false)
	defer putXMLOut(plain)
	assertion(plain)
	data, err := enc.Encrypt(cert, plain.b, nil)
	if err != nil {
		return nil, fmt.Errorf("idp: encrypt assertion: %w", err)
	}
	data.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
	var e encrypted
	if e.canonical, err = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(data.Copy()); err != nil {
		return nil, fmt.Errorf("idp: encrypted assertion: %w", err)
	}
	var sent bytes.Buffer
	data.WriteTo(&sent, &etree.WriteSettings{})
	e.sent = sent.Bytes()
	return &e, nil
}

// encrypted is an EncryptedData element, as sent and in canonical form
// (its prefixes are all declared inside it, so its canonical form is the
// same on its own as inside the Response).
type encrypted struct{ sent, canonical []byte }

// write writes the EncryptedAssertion around the data.
func (e *encrypted) write(w *xmlOut) {
	w.start("saml:EncryptedAssertion")
	if w.canon {
		w.attr("xmlns:saml", samlNS)
		w.raw(e.canonical)
	} else {
		w.raw(e.sent)
	}
	w.end()
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
