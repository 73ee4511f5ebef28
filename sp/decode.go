package sp

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"

	"github.com/beevik/etree"
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

// scan reads every token once. Any DOCTYPE or entity declaration is refused
// (XXE, billion laughs): no SAML message needs one, and encoding/xml leaving
// entities unexpanded is not a reason to accept them.
func scan(raw []byte) error {
	d := xml.NewDecoder(bytes.NewReader(raw))
	depth, roots := 0, 0
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return refuse(ReasonMalformed, "Response is not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return refuse(ReasonDoctype, "DOCTYPE or entity declaration in the Response")
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
			if err := checkElement(t, depth, roots); err != nil {
				return err
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return refuse(ReasonMalformed, "text outside the root element")
			}
		}
	}
	if roots == 0 || depth != 0 {
		return refuse(ReasonMalformed, "Response is not a complete XML document")
	}
	return nil
}

// checkElement refuses a second root, excess depth and repeated attributes,
// which etree would silently reduce to one value.
func checkElement(t xml.StartElement, depth, roots int) error {
	switch {
	case roots > 1:
		return refuse(ReasonMalformed, "more than one root element")
	case depth > maxDepth:
		return refuse(ReasonMalformed, "elements nested deeper than %d", maxDepth)
	}
	seen := make(map[xml.Name]bool, len(t.Attr))
	for _, a := range t.Attr {
		if seen[a.Name] {
			return refuse(ReasonMalformed, "attribute %s:%s repeated on <%s>", a.Name.Space, a.Name.Local, t.Name.Local)
		}
		seen[a.Name] = true
	}
	return nil
}
