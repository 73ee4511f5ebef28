package filter

import (
	"encoding/json"
	"fmt"
	"strings"
)

// MaxLen is the longest filter or path accepted, in bytes. Real filters
// are far shorter; the limit bounds the work a hostile client can ask for.
const MaxLen = 4096

// MaxDepth is the deepest grouping accepted: each "(", "not (" and "["
// opens a level. It bounds the parser's recursion.
const MaxDepth = 32

// Error is a syntax error in a filter or path. Pos is the byte offset of
// the offending input (0-based), so s[Pos:] starts at the problem.
type Error struct {
	Pos int
	Msg string

	limit bool // MaxLen or MaxDepth exceeded, rather than bad syntax
}

func (e *Error) Error() string { return fmt.Sprintf("filter: position %d: %s", e.Pos, e.Msg) }

// Parse parses a filter (RFC 7644 §3.4.2.2). It accepts keywords and
// operators in any case and, as an extension, a valuePath followed by a
// sub-attribute comparison (see the package doc).
func Parse(s string) (Expr, error) {
	p, err := newParser(s, "filter")
	if err != nil {
		return nil, err
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	switch t := p.peek(); t.kind {
	case tokEOF:
		return e, nil
	case tokRParen, tokRBrack:
		return nil, &Error{Pos: t.pos, Msg: fmt.Sprintf("unmatched %q", t.text)}
	default:
		return nil, unexpected(t, `expected "and", "or" or end of input`)
	}
}

type parser struct {
	toks    []token
	i       int
	depth   int
	inValue bool // inside "[...]": paths are relative to the element
}

func newParser(s, what string) (*parser, error) {
	if len(s) > MaxLen {
		msg := fmt.Sprintf("%s is %d bytes long; the limit is %d", what, len(s), MaxLen)
		return nil, &Error{Pos: MaxLen, Msg: msg, limit: true}
	}
	p := &parser{toks: lex(s)}
	if t := p.peek(); t.kind == tokEOF {
		return nil, &Error{Pos: t.pos, Msg: "empty " + what}
	}
	return p, nil
}

func (p *parser) peek() token { return p.peekAt(0) }

// peekAt looks n tokens ahead; the last token (EOF or an error) repeats.
func (p *parser) peekAt(n int) token { return p.toks[min(p.i+n, len(p.toks)-1)] }

func (p *parser) next() token {
	t := p.peek()
	p.i = min(p.i+1, len(p.toks)-1)
	return t
}

// unexpected reports t where something else was wanted. A lexical error
// token reports itself instead, being the real cause.
func unexpected(t token, format string, args ...any) error {
	if t.kind == tokError {
		return &Error{Pos: t.pos, Msg: t.val}
	}
	return &Error{Pos: t.pos, Msg: fmt.Sprintf(format, args...) + ", got " + t.describe()}
}

// parseOr and parseAnd loop rather than recurse, so long chains cost no
// stack and come out left-associative; "and" binds tighter than "or".
func (p *parser) parseOr() (Expr, error) {
	left, err := p.parseAnd()
	for err == nil && p.peek().is("or") {
		p.next()
		var right Expr
		if right, err = p.parseAnd(); err == nil {
			left = Or{left, right}
		}
	}
	return left, err
}

func (p *parser) parseAnd() (Expr, error) {
	left, err := p.parseUnary()
	for err == nil && p.peek().is("and") {
		p.next()
		var right Expr
		if right, err = p.parseUnary(); err == nil {
			left = And{left, right}
		}
	}
	return left, err
}

func (p *parser) parseUnary() (Expr, error) {
	t, after := p.peek(), p.peekAt(1)
	switch {
	case t.kind == tokLParen:
		return p.group()
	case t.is("not") && after.kind == tokLParen:
		p.next()
		x, err := p.group()
		if err != nil {
			return nil, err
		}
		return Not{x}, nil
	case t.is("not") && after.kind == tokWord && !isOperator(after):
		return nil, &Error{Pos: t.pos, Msg: `"not" must be followed by a parenthesised filter, as in not (title pr)`}
	case t.kind == tokWord:
		return p.parseAttrExpr()
	}
	return nil, unexpected(t, `expected an attribute name, "not" or "("`)
}

// group parses "(" filter ")".
func (p *parser) group() (Expr, error) {
	open := p.next()
	if err := p.enter(open); err != nil {
		return nil, err
	}
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tokRParen {
		return nil, unexpected(t, `expected "and", "or" or ")" closing the "(" at position %d`, open.pos)
	}
	p.depth--
	return x, nil
}

func (p *parser) enter(open token) error {
	p.depth++
	if p.depth > MaxDepth {
		return &Error{Pos: open.pos, Msg: fmt.Sprintf("filter nests deeper than %d levels", MaxDepth), limit: true}
	}
	return nil
}

// parseAttrExpr parses a comparison or a valuePath, which both start with
// an attribute path.
func (p *parser) parseAttrExpr() (Expr, error) {
	t := p.next()
	path, err := p.attrPath(t)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tokLBrack {
		return p.parseValuePath(path)
	}
	op, v, err := p.comparison(t)
	if err != nil {
		return nil, err
	}
	return Compare{Path: path, Op: op, Value: v}, nil
}

func (p *parser) parseValuePath(path AttrPath) (Expr, error) {
	f, err := p.valueFilter(path)
	if err != nil {
		return nil, err
	}
	vp := ValuePath{Path: path, Filter: f}
	if p.peek().kind != tokDot {
		return vp, nil
	}
	sub, err := p.subAttr()
	if err != nil {
		return nil, err
	}
	vp.Sub = sub.text
	if vp.Op, vp.Value, err = p.comparison(sub); err != nil {
		return nil, err
	}
	return vp, nil
}

// comparison parses compareOp compValue, or "pr", after the path token.
func (p *parser) comparison(path token) (Op, any, error) {
	t := p.next()
	if !isOperator(t) {
		return "", nil, unexpected(t, "expected a comparison operator after %q", clip(path.text))
	}
	op := Op(strings.ToLower(t.text))
	if op == OpPr {
		return op, nil, nil
	}
	v, err := p.value(t)
	return op, v, err
}

func isOperator(t token) bool {
	switch Op(strings.ToLower(t.text)) {
	case OpEq, OpNe, OpCo, OpSw, OpEw, OpGt, OpLt, OpGe, OpLe, OpPr:
		return t.kind == tokWord
	}
	return false
}

// value parses compValue: a JSON string, number, true, false or null.
func (p *parser) value(op token) (any, error) {
	t := p.next()
	switch {
	case t.kind == tokString:
		return t.val, nil
	case t.kind == tokNumber:
		return json.Number(t.text), nil
	case t.is("true"), t.is("false"):
		return t.is("true"), nil
	case t.is("null"):
		return nil, nil
	}
	return nil, unexpected(t, "expected a value (string, number, true, false or null) after %q", op.text)
}
