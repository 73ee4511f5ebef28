package testenv

import (
	"encoding/xml"
	"errors"
	"fmt"

	"github.com/beevik/etree"
	saml2 "github.com/russellhaering/gosaml2"
	"github.com/russellhaering/gosaml2/types"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// assertionXML returns the assertion of a Response as a document of its
// own, decrypting an EncryptedAssertion with the SP's encryption key.
func (sp *SP) assertionXML(response []byte) ([]byte, bool, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(response); err != nil || doc.Root() == nil {
		return nil, false, fmt.Errorf("samlsp: parse Response: %v", err)
	}
	if el, _ := etreeutils.NSFindOneChild(doc.Root(), saml2.SAMLAssertionNamespace, saml2.AssertionTag); el != nil {
		b, err := detachedXML(el)
		return b, false, err
	}
	el, _ := etreeutils.NSFindOneChild(doc.Root(), saml2.SAMLAssertionNamespace, saml2.EncryptedAssertionTag)
	if el == nil {
		return nil, false, errors.New("samlsp: the Response has no Assertion or EncryptedAssertion")
	}
	if sp.encryption == nil {
		return nil, true, errors.New("samlsp: EncryptedAssertion, but the SP publishes no encryption key")
	}
	var ea types.EncryptedAssertion
	if err := unmarshalDetached(el, &ea); err != nil {
		return nil, true, err
	}
	b, err := ea.DecryptBytes(sp.encryption)
	if err != nil {
		return nil, true, fmt.Errorf("samlsp: decrypt assertion: %w", err)
	}
	return b, true, nil
}

// detachedXML serializes el with the namespace declarations it inherits.
func detachedXML(el *etree.Element) ([]byte, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, fmt.Errorf("samlsp: %w", err)
	}
	d, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, fmt.Errorf("samlsp: %w", err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(d)
	return doc.WriteToBytes()
}

func unmarshalDetached(el *etree.Element, v any) error {
	b, err := detachedXML(el)
	if err != nil {
		return err
	}
	return xml.Unmarshal(b, v)
}

// hasSignature reports whether the root element of doc has a ds:Signature
// child (an enveloped signature of its own).
func hasSignature(doc []byte) bool {
	d := etree.NewDocument()
	if d.ReadFromBytes(doc) != nil || d.Root() == nil {
		return false
	}
	sig, _ := etreeutils.NSFindOneChild(d.Root(), dsigNS, "Signature")
	return sig != nil
}

// rootAttr returns an attribute of the root element of doc.
func rootAttr(doc []byte, name string) string {
	d := etree.NewDocument()
	if d.ReadFromBytes(doc) != nil || d.Root() == nil {
		return ""
	}
	return d.Root().SelectAttrValue(name, "")
}

func responseInResponseTo(response []byte) string { return rootAttr(response, "InResponseTo") }
