package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

type tokKind int

const (
	tokEOF tokKind = iota
	tokError
	tokWord   // attribute path, operator or keyword
	tokString // JSON string literal; val holds the decoded text
	tokNumber // JSON number; text is kept verbatim
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
	tokDot
)

type token struct {
	kind tokKind
	pos  int    // byte offset in the input
	text string // source text
	val  string // decoded string, or the message of a tokError
}

// is reports whether t is the word kw, ignoring case: RFC 7644 §3.4.2.2
// makes operators and keywords case-insensitive.
func (t token) is(kw string) bool { return t.kind == tokWord && strings.EqualFold(t.text, kw) }

// describe names t for an error message, clipped so that a hostile
// 4 KiB token cannot bloat the message.
func (t token) describe() string {
	text := clip(t.text)
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + text
	case tokNumber:
		return "number " + text
	}
	return strconv.Quote(text)
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// lex splits s into tokens. A lexical error becomes a final tokError, so
// the parser reports the first problem in reading order.
func lex(s string) []token {
	var toks []token
	i := 0
	for {
		for i < len(s) && strings.IndexByte(" \t\r\n", s[i]) >= 0 {
			i++
		}
		if i == len(s) {
			return append(toks, token{kind: tokEOF, pos: i})
		}
		t, next := lexOne(s, i)
		toks = append(toks, t)
		if t.kind == tokError {
			return toks
		}
		i = next
	}
}

func lexOne(s string, i int) (token, int) {
	c := s[i]
	switch {
	case strings.IndexByte(puncts, c) >= 0:
		kind := tokLParen + tokKind(strings.IndexByte(puncts, c))
		return token{kind: kind, pos: i, text: s[i : i+1]}, i + 1
	case c == '"':
		return lexString(s, i)
	case c == '-' || isDigit(c):
		return lexNumber(s, i)
	case isAlpha(c) || c == '$':
		j := i + 1
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		return token{kind: tokWord, pos: i, text: s[i:j]}, j
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return errTok(i, fmt.Sprintf("unexpected character %q", r)), i
}

// puncts lists the single-byte tokens in the order of their kinds.
const puncts = "()[]."

func errTok(pos int, msg string) token { return token{kind: tokError, pos: pos, val: msg} }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// isWordByte admits the characters of ATTRNAME (RFC 7644 §3.4.2.2) plus
// those of the schema URNs SCIM uses (':' '.'), and '$' for "$ref".
func isWordByte(c byte) bool {
	return isAlpha(c) || isDigit(c) || strings.IndexByte("-_$:.", c) >= 0
}

// lexNumber reads a JSON number (RFC 8259 §6).
func lexNumber(s string, start int) (token, int) {
	i := start
	if s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return i - j
	}
	bad := errTok(start, "invalid number")
	switch n := digits(); {
	case n == 0, n > 1 && s[i-n] == '0':
		return bad, start
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return bad, start
		}
	}
	if i < len(s) && s[i]|0x20 == 'e' {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return bad, start
		}
	}
	if i < len(s) && isWordByte(s[i]) {
		return bad, start
	}
	return token{kind: tokNumber, pos: start, text: s[start:i]}, i
}

// lexString reads a JSON string literal (RFC 8259 §7) and decodes it.
func lexString(s string, start int) (token, int) {
	var b strings.Builder
	i := start + 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return token{kind: tokString, pos: start, text: s[start : i+1], val: b.String()}, i + 1
		case c == '\\':
			n, err := unescape(&b, s, i)
			if err != "" {
				return errTok(i, err), i
			}
			i += n
		case c < 0x20:
			return errTok(i, fmt.Sprintf("control character %q in string; escape it", c)), i
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return errTok(i, "invalid UTF-8 in string"), i
			}
			b.WriteString(s[i : i+n])
			i += n
		}
	}
	return errTok(start, "unterminated string"), start
}

// unescape decodes the escape at s[i] into b and returns its length, or an
// error message.
func unescape(b *strings.Builder, s string, i int) (int, string) {
	if i+1 >= len(s) {
		return 0, `unterminated escape "\"`
	}
	if j := strings.IndexByte(`"\/bfnrt`, s[i+1]); j >= 0 {
		b.WriteByte("\"\\/\b\f\n\r\t"[j])
		return 2, ""
	}
	if s[i+1] != 'u' {
		r, _ := utf8.DecodeRuneInString(s[i+1:])
		return 0, fmt.Sprintf("invalid escape %q in string", `\`+string(r))
	}
	r, ok := hex4(s, i+2)
	if !ok {
		return 0, `invalid escape in string: \u needs four hex digits`
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := hex4(s, i+8); ok && strings.HasPrefix(s[i+6:], `\u`) {
			if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
				b.WriteRune(pair)
				return 12, ""
			}
		}
		r = utf8.RuneError // a lone surrogate, as encoding/json decodes it
	}
	b.WriteRune(r)
	return 6, ""
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i:i+4], 16, 32)
	return rune(v), err == nil
}
