package filter

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Op is a comparison operator, always lower-case.
type Op string

// The operators of RFC 7644 §3.4.2.2, Table 3.
const (
	OpEq Op = "eq"
	OpNe Op = "ne"
	OpCo Op = "co"
	OpSw Op = "sw"
	OpEw Op = "ew"
	OpGt Op = "gt"
	OpLt Op = "lt"
	OpGe Op = "ge"
	OpLe Op = "le"
	OpPr Op = "pr"
)

// AttrPath names an attribute: an optional schema URN, the attribute name
// and an optional sub-attribute (the attrPath rule of RFC 7644 §3.4.2.2).
type AttrPath struct {
	URI  string // schema URN as written; "" for core User and Group attributes
	Name string // attribute name as written; matched without case
	Sub  string // sub-attribute name, "" when none
}

// String returns the path as it would be written in a filter.
func (p AttrPath) String() string {
	s := p.Name
	if p.Sub != "" {
		s += "." + p.Sub
	}
	if p.URI != "" {
		s = p.URI + ":" + s
	}
	return s
}

// canonical is the lower-cased dotted form handed to Options.CaseExact.
func (p AttrPath) canonical() string { return strings.ToLower(p.String()) }

// Expr is a parsed filter. Its implementations are the value types Compare,
// And, Or, Not and ValuePath; String gives a canonical text that parses back
// to the same tree.
type Expr interface {
	String() string
	isExpr()
}

// Compare is attrPath compareOp compValue, or attrPath "pr" (Value nil).
// Value is a string, a bool, nil (null) or a json.Number.
type Compare struct {
	Path  AttrPath
	Op    Op
	Value any
}

// And is Left "and" Right.
type And struct{ Left, Right Expr }

// Or is Left "or" Right.
type Or struct{ Left, Right Expr }

// Not is "not" "(" X ")".
type Not struct{ X Expr }

// ValuePath is attrPath "[" Filter "]": it matches when one element of the
// attribute satisfies Filter, whose paths are relative to the element. When
// Op is set it is the Entra ID form attrPath "[" Filter "]" "." Sub Op
// Value, and that element's Sub must also compare true.
type ValuePath struct {
	Path   AttrPath // Sub is always empty
	Filter Expr
	Sub    string
	Op     Op
	Value  any
}

func (Compare) isExpr()   {}
func (And) isExpr()       {}
func (Or) isExpr()        {}
func (Not) isExpr()       {}
func (ValuePath) isExpr() {}

func (e Compare) String() string   { return exprString(e) }
func (e And) String() string       { return exprString(e) }
func (e Or) String() string        { return exprString(e) }
func (e Not) String() string       { return exprString(e) }
func (e ValuePath) String() string { return exprString(e) }

func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

// writeExpr writes the canonical form: every and/or chain and every not is
// parenthesised. A left-nested chain of one operator shares its parentheses,
// since both operators are left-associative; that keeps the text of a long
// chain from nesting past MaxDepth.
func writeExpr(b *strings.Builder, e Expr) {
	switch x := e.(type) {
	case Compare:
		b.WriteString(x.Path.String())
		writeOp(b, x.Op, x.Value)
	case And:
		b.WriteByte('(')
		writeChain(b, "and", x)
		b.WriteByte(')')
	case Or:
		b.WriteByte('(')
		writeChain(b, "or", x)
		b.WriteByte(')')
	case Not:
		b.WriteString("not ")
		writeGroup(b, x.X)
	case ValuePath:
		b.WriteString(x.Path.String())
		b.WriteByte('[')
		writeExpr(b, x.Filter)
		b.WriteByte(']')
		if x.Op != "" {
			b.WriteString("." + x.Sub)
			writeOp(b, x.Op, x.Value)
		}
	case nil:
		b.WriteString("<nil>")
	default:
		fmt.Fprintf(b, "%v", e)
	}
}

// writeChain writes the operands of a left-nested chain of kw, unwrapped.
func writeChain(b *strings.Builder, kw string, e Expr) {
	var left, right Expr
	switch x := e.(type) {
	case And:
		left, right = x.Left, x.Right
	case Or:
		left, right = x.Left, x.Right
	}
	if isKind(left, kw) {
		writeChain(b, kw, left)
	} else {
		writeExpr(b, left)
	}
	b.WriteString(" " + kw + " ")
	writeExpr(b, right)
}

func isKind(e Expr, kw string) bool {
	switch e.(type) {
	case And:
		return kw == "and"
	case Or:
		return kw == "or"
	}
	return false
}

// writeGroup writes e in parentheses, once: and/or bring their own.
func writeGroup(b *strings.Builder, e Expr) {
	if isKind(e, "and") || isKind(e, "or") {
		writeExpr(b, e)
		return
	}
	b.WriteByte('(')
	writeExpr(b, e)
	b.WriteByte(')')
}

func writeOp(b *strings.Builder, op Op, v any) {
	b.WriteString(" " + string(op))
	if op != OpPr {
		b.WriteByte(' ')
		writeValue(b, v)
	}
}

func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		fmt.Fprint(b, x)
	case string:
		writeQuoted(b, x)
	case json.Number:
		b.WriteString(string(x))
	default:
		fmt.Fprint(b, x)
	}
}

// writeQuoted writes s as a JSON string literal (RFC 8259 §7), escaping
// only what JSON requires so the literal reads as written.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteRune(r) // invalid UTF-8 becomes U+FFFD, which JSON can carry
		}
	}
	b.WriteByte('"')
}

// Conjuncts returns the operands of e's top-level and-tree, left to right,
// or e itself when it is not an And. A store can push each conjunct it
// understands down to its query and evaluate the rest with Match.
func Conjuncts(e Expr) []Expr {
	var out []Expr
	stack := []Expr{e}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if a, ok := x.(And); ok {
			stack = append(stack, a.Right, a.Left)
			continue
		}
		out = append(out, x)
	}
	return out
}
