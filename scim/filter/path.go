package filter

import (
	"fmt"
	"strings"
)

// The core schema URNs (RFC 7643 §8.7.1): an attribute written under one
// of them is a core attribute, stored at the top level of the resource.
const (
	coreUser  = "urn:ietf:params:scim:schemas:core:2.0:User"
	coreGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

// Path is a PATCH path (RFC 7644 §3.5.2): PATH = attrPath / valuePath
// [subAttr]. Filter is nil when the path has no "[...]"; Sub is the
// sub-attribute after "].", and Attr.Sub is empty whenever Filter is set.
type Path struct {
	Attr   AttrPath
	Filter Expr
	Sub    string
}

// String returns the path as it would be written in a PATCH operation.
func (p Path) String() string {
	s := p.Attr.String()
	if p.Filter != nil {
		s += "[" + p.Filter.String() + "]"
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// ParsePath parses a PATCH path such as "members",
// "name.givenName" or `emails[type eq "work"].value`.
func ParsePath(s string) (Path, error) {
	p, err := newParser(s, "path")
	if err != nil {
		return Path{}, err
	}
	t := p.next()
	if t.kind != tokWord {
		return Path{}, unexpected(t, "expected an attribute name")
	}
	var path Path
	if path.Attr, err = p.attrPath(t); err != nil {
		return Path{}, err
	}
	if p.peek().kind == tokLBrack {
		if path.Filter, err = p.valueFilter(path.Attr); err != nil {
			return Path{}, err
		}
		if p.peek().kind == tokDot {
			sub, err := p.subAttr()
			if err != nil {
				return Path{}, err
			}
			path.Sub = sub.text
		}
	}
	if t := p.peek(); t.kind != tokEOF {
		return Path{}, unexpected(t, "expected end of path")
	}
	return path, nil
}

// valueFilter parses "[" valFilter "]" after path. Inside the brackets
// attributes are named relative to the element, and RFC 7644 §3.4.2.2 gives
// valFilter no valuePath of its own, so brackets do not nest.
func (p *parser) valueFilter(path AttrPath) (Expr, error) {
	open := p.next()
	switch {
	case p.inValue:
		return nil, &Error{Pos: open.pos, Msg: `a "[...]" filter cannot contain another "["`}
	case path.Sub != "":
		return nil, &Error{Pos: open.pos, Msg: fmt.Sprintf(`"[" must follow an attribute, not the sub-attribute %q`, clip(path.Sub))}
	}
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.inValue = true
	f, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tokRBrack {
		return nil, unexpected(t, `expected "and", "or" or "]" closing the "[" at position %d`, open.pos)
	}
	p.inValue = false
	p.depth--
	return f, nil
}

// subAttr parses "." ATTRNAME after a "]".
func (p *parser) subAttr() (token, error) {
	p.next() // the dot
	t := p.next()
	if t.kind != tokWord {
		return t, unexpected(t, `expected a sub-attribute name after "."`)
	}
	if !validName(t.text) {
		return t, &Error{Pos: t.pos, Msg: fmt.Sprintf("invalid sub-attribute name %q", clip(t.text))}
	}
	return t, nil
}

// attrPath turns a word token into an AttrPath.
func (p *parser) attrPath(t token) (AttrPath, error) {
	if p.inValue && strings.ContainsAny(t.text, ":.") {
		msg := fmt.Sprintf(`inside "[...]" attributes are named relative to the element; %q is not a plain sub-attribute name`, clip(t.text))
		return AttrPath{}, &Error{Pos: t.pos, Msg: msg}
	}
	path, msg := splitAttrPath(t.text)
	if msg != "" {
		return AttrPath{}, &Error{Pos: t.pos, Msg: msg}
	}
	return path, nil
}

// splitAttrPath splits attrPath = [URI ":"] ATTRNAME *1subAttr (RFC 7644
// §3.4.2.2). A URN is recognised by its "urn:" prefix and ends at the
// last ':', since schema URNs contain ':' and '.' but attribute names
// contain neither. It returns an error message when s is malformed.
func splitAttrPath(s string) (AttrPath, string) {
	var p AttrPath
	rest := s
	if len(s) >= 4 && strings.EqualFold(s[:4], "urn:") {
		i := strings.LastIndexByte(s, ':')
		if i == 3 || i == len(s)-1 {
			return p, fmt.Sprintf("schema URN %q is not followed by \":\" and an attribute name", clip(s))
		}
		p.URI, rest = s[:i], s[i+1:]
		if strings.EqualFold(p.URI, coreUser) || strings.EqualFold(p.URI, coreGroup) {
			p.URI = ""
		}
	} else if strings.Contains(s, ":") {
		return p, fmt.Sprintf(`attribute %q contains ":" but does not start with "urn:"`, clip(s))
	}
	name, sub, dotted := strings.Cut(rest, ".")
	if !validName(name) {
		return p, fmt.Sprintf("invalid attribute name %q", clip(name))
	}
	if dotted && !validName(sub) {
		return p, fmt.Sprintf("invalid sub-attribute name %q in %q", clip(sub), clip(s))
	}
	p.Name, p.Sub = name, sub
	return p, ""
}

// validName checks ATTRNAME = ALPHA *(nameChar) (RFC 7644 §3.4.2.2),
// allowing the leading '$' of "$ref" (RFC 7643 §2.3.7).
func validName(s string) bool {
	s = strings.TrimPrefix(s, "$")
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && !isDigit(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
