// Package xmlcheck reads an XML document that comes from outside (a SAML
// message, a peer's metadata) once with encoding/xml, before any other
// parser sees it, and refuses what no SAML document needs and what other
// parsers handle dangerously or silently differently:
//   - any <!...> declaration (DOCTYPE, ENTITY): XXE and billion laughs;
//   - a second root element, text outside the root, a truncated document;
//   - elements nested deeper than the caller's bound;
//   - an attribute repeated on one element, which etree and encoding/xml
//     each reduce to a different one of the values.
//
// xmlcheck is layer 0: it imports only the standard library.
package xmlcheck

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Problem is the kind of refusal.
type Problem int

// Problems.
const (
	Malformed   Problem = iota // not well-formed, incomplete, or not one root
	Declaration                // a DOCTYPE or other <!...> declaration
	TooDeep                    // nesting beyond the bound
	Repeated                   // an attribute repeated on one element
)

// Error is a refused document: Problem for callers that map it to their
// own reasons, Msg for people.
type Error struct {
	Problem Problem
	Msg     string
}

func (e *Error) Error() string { return e.Msg }

func refuse(p Problem, format string, args ...any) *Error {
	return &Error{Problem: p, Msg: fmt.Sprintf(format, args...)}
}

// Check reads doc once and returns its root element's name, or an *Error.
// maxDepth bounds element nesting; 0 means no bound.
func Check(doc []byte, maxDepth int) (xml.Name, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	var root xml.Name
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return root, refuse(Malformed, "not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			word, _, _ := strings.Cut(strings.TrimSpace(string(t)), " ")
			return root, refuse(Declaration, "refusing a <!%s> declaration", word)
		case xml.StartElement:
			if depth == 0 {
				roots++
				root = t.Name
			}
			depth++
			if err := checkElement(t, depth, roots, maxDepth); err != nil {
				return root, err
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return root, refuse(Malformed, "text outside the root element")
			}
		}
	}
	if roots == 0 || depth != 0 {
		return root, refuse(Malformed, "not a complete XML document")
	}
	return root, nil
}

func checkElement(t xml.StartElement, depth, roots, maxDepth int) error {
	switch {
	case roots > 1:
		return refuse(Malformed, "more than one root element")
	case maxDepth > 0 && depth > maxDepth:
		return refuse(TooDeep, "elements nested deeper than %d", maxDepth)
	}
	seen := make(map[xml.Name]bool, len(t.Attr))
	for _, a := range t.Attr {
		if seen[a.Name] {
			return refuse(Repeated, "attribute %s repeated on <%s>", qualified(a.Name), t.Name.Local)
		}
		seen[a.Name] = true
	}
	return nil
}

func qualified(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}
