package idp

import (
	"sync"
	"unicode/utf8"
)

// xmlOut writes the XML of a Response, either as it is sent or in exclusive
// canonical form (xml-exc-c14n without comments or an inclusive prefix
// list, as C14N 1.0 §2 serializes): what a signature's digest is computed
// over. The caller writes elements in document order with their namespace
// declarations first and, for the canonical form, their attributes in
// canonical order (by namespace URI, then local name) and each namespace
// declaration on the element that an exclusive canonicalization would put
// it on; the writer does the rest:
//   - an element without content is <a/> as sent, <a></a> canonically;
//   - text and attribute values are escaped as etree escapes them as sent
//     (so the bytes sent are those the etree-based encoder wrote), and as
//     C14N 1.0 §2.3 does canonically; characters that XML cannot carry are
//     replaced with U+FFFD in both, as etree does;
//   - in both forms, CR in text and TAB, LF and CR in attribute values are
//     character references, since a parser would otherwise normalize them
//     and the digest would no longer match what a verifier reads.
type xmlOut struct {
	b     []byte
	canon bool
	// open is set while a start tag waits for its '>' (or "/>").
	open  bool
	stack []string
}

// xmlBufs reuse writers: a signed Response is several kilobytes.
var xmlBufs = sync.Pool{New: func() any { return &xmlOut{b: make([]byte, 0, 16<<10)} }}

func getXMLOut(canon bool) *xmlOut {
	w := xmlBufs.Get().(*xmlOut)
	w.b, w.canon, w.open, w.stack = w.b[:0], canon, false, w.stack[:0]
	return w
}

func putXMLOut(w *xmlOut) {
	if cap(w.b) <= 1<<20 {
		xmlBufs.Put(w)
	}
}

// start opens an element; attributes follow with attr and opt.
func (w *xmlOut) start(tag string) {
	w.finishTag()
	w.b = append(w.b, '<')
	w.b = append(w.b, tag...)
	w.open = true
	w.stack = append(w.stack, tag)
}

// attr writes an attribute of the element just started.
func (w *xmlOut) attr(name, value string) {
	w.b = append(w.b, ' ')
	w.b = append(w.b, name...)
	w.b = append(w.b, '=', '"')
	w.escape(value, true)
	w.b = append(w.b, '"')
}

// opt writes an optional attribute: nothing when value is empty.
func (w *xmlOut) opt(name, value string) {
	if value != "" {
		w.attr(name, value)
	}
}

// text writes character data.
func (w *xmlOut) text(s string) {
	if s == "" {
		return
	}
	w.finishTag()
	w.escape(s, false)
}

// raw writes markup as it is.
func (w *xmlOut) raw(b []byte) {
	w.finishTag()
	w.b = append(w.b, b...)
}

// end closes the innermost open element.
func (w *xmlOut) end() {
	tag := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	if w.open && !w.canon {
		w.b = append(w.b, '/', '>')
		w.open = false
		return
	}
	w.finishTag()
	w.b = append(w.b, '<', '/')
	w.b = append(w.b, tag...)
	w.b = append(w.b, '>')
}

// leaf writes an element with only text (none when text is empty).
func (w *xmlOut) leaf(tag, text string) {
	w.start(tag)
	w.text(text)
	w.end()
}

func (w *xmlOut) finishTag() {
	if w.open {
		w.b = append(w.b, '>')
		w.open = false
	}
}

// escape appends s as text or as an attribute value (see xmlOut).
func (w *xmlOut) escape(s string, attr bool) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && n == 1) || !xmlChar(r) {
				w.b = append(w.b, s[last:i]...)
				w.b = append(w.b, "\uFFFD"...)
				last = i + n
			}
			i += n
			continue
		}
		if esc := w.escaped(c, attr); esc != "" {
			w.b = append(w.b, s[last:i]...)
			w.b = append(w.b, esc...)
			last = i + 1
		}
		i++
	}
	w.b = append(w.b, s[last:]...)
}

// plain marks the bytes that never need escaping in either form.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range "&<>'\"" {
		t[c] = false
	}
	return t
}()

// escaped is the replacement of an ASCII byte, or "" to keep it.
func (w *xmlOut) escaped(c byte, attr bool) string {
	switch c {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		if w.canon && attr {
			return ""
		}
		return "&gt;"
	case '\'':
		if w.canon {
			return ""
		}
		return "&apos;"
	case '"':
		if w.canon && !attr {
			return ""
		}
		return "&quot;"
	case '\t':
		if attr {
			return "&#x9;"
		}
	case '\n':
		if attr {
			return "&#xA;"
		}
	case '\r':
		return "&#xD;"
	default:
		if c < 0x20 {
			return "\uFFFD"
		}
	}
	return ""
}

// xmlChar reports whether XML 1.0 §2.2 allows r (for runes of two bytes or
// more; the ASCII controls are handled by escaped).
func xmlChar(r rune) bool {
	return r <= 0xD7FF || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
