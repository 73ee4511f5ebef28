package idp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/crewjam/saml"
)

// Algorithms of the IdP's signatures (XML Signature 1.1 §6, xml-exc-c14n,
// RFC 6931 §2.3.2), as goxmldsig and crewjam/saml write them.
const (
	excC14N      = "http://www.w3.org/2001/10/xml-exc-c14n#"
	rsaSHA256    = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	envelopedSig = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	sha256Digest = "http://www.w3.org/2001/04/xmlenc#sha256"
)

// signer makes enveloped signatures with the active key: RSA-SHA256 over
// the exclusive canonical form, without an inclusive prefix list, with the
// certificate in KeyInfo, as crewjam/saml signs (via goxmldsig).
type signer struct {
	key  crypto.Signer
	cert string // base64 of the DER certificate
}

func newSigner(idp *saml.IdentityProvider) (signer, error) {
	key, ok := idp.Key.(crypto.Signer)
	if !ok || idp.Certificate == nil {
		return signer{}, errors.New("idp: no signing key")
	}
	if _, ok := key.Public().(*rsa.PublicKey); !ok {
		return signer{}, errors.New("idp: the signing key is not an RSA key")
	}
	return signer{key: key, cert: certText(idp.Certificate)}, nil
}

// lastCert is the base64 text of the certificate that signed last: the
// same one, nearly always, so it is encoded once rather than per Response.
var lastCert atomic.Pointer[encodedCert]

type encodedCert struct {
	cert *x509.Certificate
	text string
}

func certText(cert *x509.Certificate) string {
	if c := lastCert.Load(); c != nil && c.cert == cert {
		return c.text
	}
	c := &encodedCert{cert: cert, text: base64.StdEncoding.EncodeToString(cert.Raw)}
	lastCert.Store(c)
	return c.text
}

// signature is a ds:Signature (XML Signature §4.1) with one Reference.
type signature struct {
	ref, digest, value, cert string
}

// sign signs the element with ID id whose exclusive canonical form, without
// this signature, is canonical: the digest of that goes into SignedInfo,
// and SignedInfo's own canonical form is signed (XML Signature §3.1).
func (s signer) sign(id string, canonical []byte) (*signature, error) {
	d := sha256.Sum256(canonical)
	sig := &signature{ref: "#" + id, digest: base64.StdEncoding.EncodeToString(d[:]), cert: s.cert}
	w := getXMLOut(true)
	sig.signedInfo(w, true)
	h := sha256.Sum256(w.b)
	putXMLOut(w)
	v, err := s.key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("idp: sign: %w", err)
	}
	sig.value = base64.StdEncoding.EncodeToString(v)
	return sig, nil
}

// write writes the Signature element; it declares the ds prefix itself.
func (sig *signature) write(w *xmlOut) {
	w.start("ds:Signature")
	w.attr("xmlns:ds", dsigNS)
	sig.signedInfo(w, false)
	w.leaf("ds:SignatureValue", sig.value)
	w.start("ds:KeyInfo")
	w.start("ds:X509Data")
	w.leaf("ds:X509Certificate", sig.cert)
	w.end()
	w.end()
	w.end()
}

// signedInfo writes SignedInfo; apex is set for the canonical form that is
// signed, where SignedInfo is the apex and declares the ds prefix.
func (sig *signature) signedInfo(w *xmlOut, apex bool) {
	w.start("ds:SignedInfo")
	if apex {
		w.attr("xmlns:ds", dsigNS)
	}
	algorithm(w, "ds:CanonicalizationMethod", excC14N)
	algorithm(w, "ds:SignatureMethod", rsaSHA256)
	w.start("ds:Reference")
	w.attr("URI", sig.ref)
	w.start("ds:Transforms")
	algorithm(w, "ds:Transform", envelopedSig)
	algorithm(w, "ds:Transform", excC14N)
	w.end()
	algorithm(w, "ds:DigestMethod", sha256Digest)
	w.leaf("ds:DigestValue", sig.digest)
	w.end()
	w.end()
}

func algorithm(w *xmlOut, tag, uri string) {
	w.start(tag)
	w.attr("Algorithm", uri)
	w.end()
}
