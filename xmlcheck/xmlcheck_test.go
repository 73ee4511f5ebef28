package xmlcheck

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	deep := strings.Repeat("<a>", 5) + strings.Repeat("</a>", 5)
	for doc, want := range map[string]Problem{
		`<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>`: Declaration,
		`<r/><r/>`:                         Malformed,
		`<r>`:                              Malformed,
		``:                                 Malformed,
		`<r/>text`:                         Malformed,
		`<r a="1" a="2"/>`:                 Repeated,
		`<r xmlns:x="u" x:a="1" x:a="2"/>`: Repeated,
		deep:                               TooDeep,
		`<r><a></b></r>`:                   Malformed,
	} {
		_, err := Check([]byte(doc), 4)
		var e *Error
		if !errors.As(err, &e) || e.Problem != want {
			t.Errorf("%q: %v, want problem %d", doc, err, want)
		}
	}
}

func TestCheckAccepts(t *testing.T) {
	root, err := Check([]byte(`<?xml version="1.0"?>
<!-- a comment --><md:E xmlns:md="urn:m" a="1" b="1"><md:x>t</md:x></md:E>
`), 0)
	if err != nil || root.Space != "urn:m" || root.Local != "E" {
		t.Fatalf("root %v, %v", root, err)
	}
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	if _, err := Check([]byte(deep), 0); err != nil {
		t.Fatalf("no depth bound: %v", err)
	}
}
