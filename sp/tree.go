package sp

import (
	"strings"
	"time"

	"github.com/beevik/etree"
)

const (
	samlpNS = "urn:oasis:names:tc:SAML:2.0:protocol"
	samlNS  = "urn:oasis:names:tc:SAML:2.0:assertion"
	dsigNS  = "http://www.w3.org/2000/09/xmldsig#"

	statusSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success"
	bearer        = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
)

// is reports whether el is the element local in namespace ns, resolved
// through its prefix rather than trusting the prefix itself.
func is(el *etree.Element, ns, local string) bool {
	return el.Tag == local && el.NamespaceURI() == ns
}

// children returns el's child elements named local in namespace ns.
func children(el *etree.Element, ns, local string) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if is(c, ns, local) {
			out = append(out, c)
		}
	}
	return out
}

// only returns the single child named local, refusing none or several.
func only(el *etree.Element, ns, local string) (*etree.Element, error) {
	cs := children(el, ns, local)
	if len(cs) != 1 {
		return nil, refuse(ReasonMalformed, "<%s> has %d <%s> elements, want 1", el.Tag, len(cs), local)
	}
	return cs[0], nil
}

// optional returns the child named local or nil, refusing several.
func optional(el *etree.Element, ns, local string) (*etree.Element, error) {
	cs := children(el, ns, local)
	if len(cs) > 1 {
		return nil, refuse(ReasonMalformed, "<%s> has %d <%s> elements, want at most 1", el.Tag, len(cs), local)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	return cs[0], nil
}

// attr is an unqualified attribute's value. etree's SelectAttr would also
// match a prefixed attribute of the same local name (x:ID for ID).
func attr(el *etree.Element, name string) string {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == name {
			return a.Value
		}
	}
	return ""
}

// text is el's whole character content, every text node joined, so that a
// comment splitting the text (admin@example.com<!---->.evil.com) cannot cut
// it short the way etree's Text, which returns the first node only, would.
// Simple content is required: a child element is refused.
func text(el *etree.Element) (string, error) {
	var b strings.Builder
	for _, t := range el.Child {
		switch c := t.(type) {
		case *etree.CharData:
			b.WriteString(c.Data)
		case *etree.Element:
			return "", refuse(ReasonMalformed, "<%s> contains element <%s>, want text only", el.Tag, c.Tag)
		}
	}
	return strings.TrimSpace(b.String()), nil
}

// instant parses an xs:dateTime attribute (SAML Core §1.3.3: UTC); a
// missing attribute is the zero time.
func instant(el *etree.Element, name string) (time.Time, error) {
	v := attr(el, name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, refuse(ReasonMalformed, "<%s %s=%q>: %v", el.Tag, name, v, err)
	}
	return t, nil
}
