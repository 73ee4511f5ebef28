package filter

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Each input sits beside its canonical form, so the table shows precedence,
// associativity and keyword case at a glance.
func TestParse(t *testing.T) {
	tests := []struct{ in, want string }{
		{`userName eq "bjensen"`, `userName eq "bjensen"`},
		{`userName Eq "bjensen"`, `userName eq "bjensen"`},
		{`USERNAME EQ "x"`, `USERNAME eq "x"`},
		{`title pr`, `title pr`},
		{`title PR`, `title pr`},
		{`active eq TRUE`, `active eq true`},
		{`active ne False`, `active ne false`},
		{`manager eq Null`, `manager eq null`},
		{`age gt 42`, `age gt 42`},
		{`score le -1.5e+3`, `score le -1.5e+3`},
		{`name.familyName co "O'Malley"`, `name.familyName co "O'Malley"`},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{`a pr and b pr or c pr`, `((a pr and b pr) or c pr)`},
		{`a pr or b pr and c pr`, `(a pr or (b pr and c pr))`},
		{`a pr and b pr and c pr`, `(a pr and b pr and c pr)`},
		{`a pr and (b pr and c pr)`, `(a pr and (b pr and c pr))`},
		{`a pr or b pr or c pr`, `(a pr or b pr or c pr)`},
		{`(a pr or b pr) and c pr`, `((a pr or b pr) and c pr)`},
		{`a pr AND b pr OR c pr`, `((a pr and b pr) or c pr)`},
		{`not (a pr)`, `not (a pr)`},
		{`NOT(a pr and b pr)`, `not (a pr and b pr)`},
		{`not (not (a pr))`, `not (not (a pr))`},
		{`not (a pr) and b pr`, `(not (a pr) and b pr)`},
		{`((a pr))`, `a pr`},
		{`not pr`, `not pr`},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
			`(userType eq "Employee" and (emails co "example.com" or emails.value co "example.org"))`},
		{`emails[type eq "work" and value co "@example.com"]`, `emails[(type eq "work" and value co "@example.com")]`},
		{`emails[type eq "work"].value eq "a@b.c"`, `emails[type eq "work"].value eq "a@b.c"`},
		{`emails[type eq "work"].value pr`, `emails[type eq "work"].value pr`},
		{`emails[not (type eq "work")]`, `emails[not (type eq "work")]`},
		{`members[value eq "42"] or displayName sw "G"`, `(members[value eq "42"] or displayName sw "G")`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `userName sw "J"`},
		{`urn:ietf:params:scim:schemas:core:2.0:group:displayName eq "x"`, `displayName eq "x"`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"`,
			`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`,
			`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`},
		{`members.$ref pr`, `members.$ref pr`},
		{`x eq "q\"b\\s\/l\b\f\n\r\t"`, `x eq "q\"b\\s/l\u0008\u000c\n\r\t"`},
		{`x eq "\u00e9\uD83D\uDE00"`, `x eq "é😀"`},
		{`x eq "\ud800"`, `x eq "` + "\uFFFD" + `"`},
		{"a pr\tand\nb pr", `(a pr and b pr)`},
		{`x eq"y"`, `x eq "y"`},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := e.String(); got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseTree(t *testing.T) {
	e, err := Parse(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq 42`)
	if err != nil {
		t.Fatal(err)
	}
	want := Compare{
		Path:  AttrPath{URI: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", Name: "manager", Sub: "value"},
		Op:    OpEq,
		Value: json.Number("42"),
	}
	if e != want {
		t.Errorf("got %#v, want %#v", e, want)
	}
	e, _ = Parse(`emails[type eq "work"].value ne null`)
	vp, ok := e.(ValuePath)
	if !ok || vp.Path != (AttrPath{Name: "emails"}) || vp.Sub != "value" || vp.Op != OpNe || vp.Value != nil {
		t.Errorf("got %#v", e)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in  string
		pos int
		msg string // the exact message, or a prefix ending in "…"
	}{
		{``, 0, "empty filter"},
		{`   `, 3, "empty filter"},
		{`userName equals "x"`, 9, `expected a comparison operator after "userName", got "equals"`},
		{`userName`, 8, `expected a comparison operator after "userName", got end of input`},
		{`userName eq`, 11, `expected a value (string, number, true, false or null) after "eq", got end of input`},
		{`userName eq bjensen`, 12, `expected a value (string, number, true, false or null) after "eq", got "bjensen"`},
		{`userName eq "x`, 12, "unterminated string"},
		{`userName eq "a\qb"`, 14, `invalid escape "\\q" in string`},
		{`userName eq "\u12"`, 13, `invalid escape in string: \u needs four hex digits`},
		{`userName eq "a` + "\n" + `"`, 14, `control character '\n' in string; escape it`},
		{"userName eq \"\xff\"", 13, "invalid UTF-8 in string"},
		{`userName eq "x" foo`, 16, `expected "and", "or" or end of input, got "foo"`},
		{`userName eq "x")`, 15, `unmatched ")"`},
		{`(userName eq "x"`, 16, `expected "and", "or" or ")" closing the "(" at position 0, got end of input`},
		{`emails[type eq "work"`, 21, `expected "and", "or" or "]" closing the "[" at position 6, got end of input`},
		{`emails[type eq "work"]]`, 22, `unmatched "]"`},
		{`a pr and`, 8, `expected an attribute name, "not" or "(", got end of input`},
		{`and pr or`, 9, `expected an attribute name, "not" or "(", got end of input`},
		{`not a pr`, 0, `"not" must be followed by a parenthesised filter, as in not (title pr)`},
		{`()`, 1, `expected an attribute name, "not" or "(", got ")"`},
		{`age gt 01`, 7, "invalid number"},
		{`age gt 1.`, 7, "invalid number"},
		{`age gt 2fa`, 7, "invalid number"},
		{`age gt -`, 7, "invalid number"},
		{`a eq 1 # x`, 7, `unexpected character '#'`},
		{`emails[type[value eq "x"] pr]`, 11, `a "[...]" filter cannot contain another "["`},
		{`emails[emails.type eq "x"]`, 7, `inside "[...]" attributes are named relative to the element; "emails.type" is not a plain sub-attribute name`},
		{`name.givenName[value pr]`, 14, `"[" must follow an attribute, not the sub-attribute "givenName"`},
		{`emails[type eq "work"].value`, 28, `expected a comparison operator after "value", got end of input`},
		{`emails[type eq "work"].`, 23, `expected a sub-attribute name after ".", got end of input`},
		{`a.b.c eq 1`, 0, `invalid sub-attribute name "b.c" in "a.b.c"`},
		{`foo:bar eq 1`, 0, `attribute "foo:bar" contains ":" but does not start with "urn:"`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User: pr`, 0, `schema URN "urn:ietf:params:scim:schemas:extension:…`},
		{`urn:x pr`, 0, `schema URN "urn:x" is not followed by ":" and an attribute name`},
		{`9lives eq 1`, 0, "invalid number"},
		{`a-b eq 1 and _x pr`, 13, `unexpected character '_'`},
		{`a.1 pr`, 0, `invalid sub-attribute name "1" in "a.1"`},
		{`userName eq "` + strings.Repeat("x", 60) + `" junk`, 75, `expected "and", "or" or end of input, got "junk"`},
		{`a eq ` + strings.Repeat("y", 60), 5, `expected a value (string, number, true, false or null) after "eq", got "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…"`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		checkError(t, tt.in, err, tt.pos, tt.msg)
	}
}

func checkError(t *testing.T, in string, err error, pos int, msg string) {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Errorf("%q: got %v, want a *Error", in, err)
		return
	}
	prefix, clipped := strings.CutSuffix(msg, "…")
	if fe.Pos != pos || (fe.Msg != msg && !(clipped && strings.HasPrefix(fe.Msg, prefix))) {
		t.Errorf("%q: got position %d %q, want position %d %q", in, fe.Pos, fe.Msg, pos, msg)
	}
	if !strings.HasPrefix(err.Error(), "filter: position ") {
		t.Errorf("%q: Error() = %q", in, err.Error())
	}
}

func TestErrorText(t *testing.T) {
	_, err := Parse(`userName equals "x"`)
	want := `filter: position 9: expected a comparison operator after "userName", got "equals"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestLimits(t *testing.T) {
	long := `userName eq "` + strings.Repeat("x", MaxLen) + `"`
	_, err := Parse(long)
	checkError(t, "long", err, MaxLen, "filter is 4110 bytes long; the limit is 4096")

	deep := strings.Repeat("(", MaxDepth) + "a pr" + strings.Repeat(")", MaxDepth)
	if _, err := Parse(deep); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	_, err = Parse("(" + deep + ")")
	checkError(t, "too deep", err, MaxDepth, "filter nests deeper than 32 levels")

	nots := strings.Repeat("not (", MaxDepth) + "x[a pr]" + strings.Repeat(")", MaxDepth)
	_, err = Parse(nots)
	checkError(t, "not and bracket", err, 5*MaxDepth+1, "filter nests deeper than 32 levels")

	// A long chain is a loop, not recursion, and its canonical form stays
	// within the depth limit.
	chain := "a pr" + strings.Repeat(" or a pr", 500)
	e, err := Parse(chain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(e.String()); err != nil {
		t.Errorf("canonical chain: %v", err)
	}
}

func TestConjuncts(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`a pr`, []string{`a pr`}},
		{`a pr or b pr`, []string{`(a pr or b pr)`}},
		{`a pr and b pr and c pr`, []string{`a pr`, `b pr`, `c pr`}},
		{`a pr and (b pr or c pr) and (d pr and e pr)`, []string{`a pr`, `(b pr or c pr)`, `d pr`, `e pr`}},
		{`not (a pr and b pr)`, []string{`not (a pr and b pr)`}},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range Conjuncts(e) {
			got = append(got, c.String())
		}
		if strings.Join(got, " | ") != strings.Join(tt.want, " | ") {
			t.Errorf("Conjuncts(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
