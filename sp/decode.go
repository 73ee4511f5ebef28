package sp

import (
	"encoding/base64"
	"errors"

	"github.com/beevik/etree"

	"github.com/portcullis/portcullis/xmlcheck"
)

// MaxResponseBytes bounds the XML of a Response after base64 decoding. A
// real Response is a few kilobytes; the bound keeps parsing, copying and
// canonicalizing cheap for anything an attacker posts.
const MaxResponseBytes = 256 << 10

// maxDepth bounds element nesting; a Response is about eight levels deep.
const maxDepth = 64

// decode undoes the HTTP-POST binding's base64 (saml-bindings §3.5.4) and
// parses the XML, after refusing DTDs, duplicate attributes, excess depth and
// more than one root with encoding/xml, so that etree and goxmldsig only
// ever see a plain, bounded document.
func decode(samlResponse string) (*etree.Element, error) {
	if samlResponse == "" {
		return nil, refuse(ReasonMalformed, "no SAMLResponse")
	}
	// Base64 may be wrapped in lines; twice the decoded bound is generous.
	if len(samlResponse) > 2*MaxResponseBytes {
		return nil, refuse(ReasonTooLarge, "SAMLResponse field is %d bytes", len(samlResponse))
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(samlResponse)
	if err != nil {
		return nil, refuse(ReasonMalformed, "SAMLResponse is not base64: %v", err)
	}
	if len(raw) > MaxResponseBytes {
		return nil, refuse(ReasonTooLarge, "Response is %d bytes, more than %d", len(raw), MaxResponseBytes)
	}
	if err := scan(raw); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, refuse(ReasonMalformed, "Response is not XML: %v", err)
	}
	return doc.Root(), nil
}

// scan reads every token once (package xmlcheck): a DOCTYPE or entity
// declaration is ReasonDoctype (XXE, billion laughs; no SAML message needs
// one), a second root, excess depth, a repeated attribute or anything not
// well-formed is ReasonMalformed.
func scan(raw []byte) error {
	_, err := xmlcheck.Check(raw, maxDepth)
	var e *xmlcheck.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e) && e.Problem == xmlcheck.Declaration:
		return refuse(ReasonDoctype, "%s", e.Msg)
	}
	return refuse(ReasonMalformed, "%v", err)
}
