package sp

import (
	"crypto/x509"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// Algorithms accepted in a signature: SHA-1 is refused for both the
// signature and the digest (RFC 6931 §2.1.1, §2.3.2).
var (
	signatureMethods = map[string]bool{
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256":   true,
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384":   true,
		"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512":   true,
		"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": true,
		"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": true,
		"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": true,
	}
	digestMethods = map[string]bool{
		"http://www.w3.org/2001/04/xmlenc#sha256":       true,
		"http://www.w3.org/2001/04/xmldsig-more#sha384": true,
		"http://www.w3.org/2001/04/xmlenc#sha512":       true,
	}
)

// signed reports whether el carries a ds:Signature child.
func signed(el *etree.Element) bool {
	return len(children(el, dsigNS, "Signature")) > 0
}

// verify checks el's enveloped signature (SAML Core §5.4) against certs
// only, and returns el as the signature covers it: goxmldsig re-parses the
// canonical bytes it digested. Everything is read from that copy, never
// from the message again, which is what defeats signature wrapping.
//
// The signature's KeyInfo is removed before goxmldsig sees it, so that a
// certificate in the message is never what decides: each registered
// certificate is tried in turn (two during a rollover).
func verify(el *etree.Element, certs []*x509.Certificate, now time.Time) (*etree.Element, error) {
	sigEl, err := checkSignature(el)
	if err != nil {
		return nil, err
	}
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, refuse(ReasonMalformed, "namespaces of <%s>: %v", el.Tag, err)
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, refuse(ReasonMalformed, "namespaces of <%s>: %v", el.Tag, err)
	}
	// The copy has the same child tokens, so the index finds its Signature.
	sigEl = detached.Child[sigEl.Index()].(*etree.Element)
	for _, k := range children(sigEl, dsigNS, "KeyInfo") {
		sigEl.RemoveChild(k)
	}
	if len(certs) == 0 {
		return nil, refuse(ReasonSignature, "no registered IdP certificate")
	}
	var last error
	for _, cert := range certs {
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
		vc.Clock = dsig.NewFakeClockAt(now)
		v, err := vc.Validate(detached)
		if err == nil {
			return v, nil
		}
		last = err
	}
	return nil, refuse(ReasonSignature, "<%s ID=%q> not signed by a registered certificate: %v", el.Tag, attr(el, "ID"), last)
}

// checkSignature requires exactly one Signature child, a SignatureValue,
// and one Reference whose URI is "#" + el's ID (SAML Core §5.4.2), with
// SHA-2 algorithms.
func checkSignature(el *etree.Element) (*etree.Element, error) {
	id := attr(el, "ID")
	sigs := children(el, dsigNS, "Signature")
	switch {
	case id == "":
		return nil, refuse(ReasonMalformed, "<%s> has no ID", el.Tag)
	case len(sigs) == 0:
		return nil, refuse(ReasonSignature, "<%s ID=%q> is not signed", el.Tag, id)
	case len(sigs) > 1:
		return nil, refuse(ReasonSignature, "<%s ID=%q> has %d signatures", el.Tag, id, len(sigs))
	}
	sig := sigs[0]
	value, err := only(sig, dsigNS, "SignatureValue")
	if err != nil {
		return nil, refuse(ReasonSignature, "%v", err)
	}
	if v, err := text(value); err != nil || v == "" {
		return nil, refuse(ReasonSignature, "<%s ID=%q> has an empty SignatureValue", el.Tag, id)
	}
	info, err := only(sig, dsigNS, "SignedInfo")
	if err != nil {
		return nil, refuse(ReasonSignature, "%v", err)
	}
	return sig, checkSignedInfo(el, info, id)
}

func checkSignedInfo(el, info *etree.Element, id string) error {
	method, err := only(info, dsigNS, "SignatureMethod")
	if err != nil || !signatureMethods[attr(method, "Algorithm")] {
		return refuse(ReasonSignature, "<%s ID=%q>: signature method not accepted", el.Tag, id)
	}
	refs := children(info, dsigNS, "Reference")
	if len(refs) != 1 {
		return refuse(ReasonSignature, "<%s ID=%q>: %d References, want 1", el.Tag, id, len(refs))
	}
	if uri := attr(refs[0], "URI"); uri != "#"+id {
		return refuse(ReasonSignature, "<%s ID=%q>: signature Reference URI %q covers another element", el.Tag, id, uri)
	}
	digest, err := only(refs[0], dsigNS, "DigestMethod")
	if err != nil || !digestMethods[attr(digest, "Algorithm")] {
		return refuse(ReasonSignature, "<%s ID=%q>: digest method not accepted", el.Tag, id)
	}
	return nil
}
