package filter

import (
	"errors"
	"testing"
)

// fuzzUser is the small fixed resource every fuzzed filter is matched on.
const fuzzUser = `{"userName": "bjensen@example.com", "active": true, "loginCount": 42,
  "name": {"givenName": "Barbara", "middleName": null},
  "emails": [{"value": "a@b.c", "type": "work", "primary": true}, {"value": "x@y.z"}, null],
  "roles": ["admin", 7, false, [], {}],
  "meta": {"lastModified": "2011-05-13T04:42:34Z"},
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m"}}}`

func FuzzParse(f *testing.F) {
	seeds := []string{
		`userName eq "bjensen@example.com"`,
		`externalId eq "abc"`,
		`displayName eq "Group A"`,
		`emails[type eq "work"].value eq "a@b.c"`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`title pr and userType eq "Employee"`,
		`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`not (userName sw "a")`,
		`userName Eq "john" AND NOT (active eq FALSE)`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`members[value eq "2819c223-7f76-453a-919d-413861904646"]`,
		`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
		`active eq "True"`,
		`loginCount ge 4.2e1 and loginCount lt -1E-3`,
		`name.middleName eq null`,
		`x eq "\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"`,
		`a pr or b pr and c pr or not (d pr)`,
		`((((a pr))))`,
		`emails[not (primary eq true)]`,
		`members.$ref pr`,
		`not pr`,
		`userName eq "x`,
		`userName equals "x"`,
		`(a pr`,
		`a pr)`,
		`emails[type[value pr]]`,
		`age gt 01`,
		`urn:x pr`,
		"",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	res := decode(f, fuzzUser, true)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || fe.Pos < 0 || fe.Pos > len(s) {
				t.Fatalf("Parse(%q): bad error %v", s, err)
			}
			return
		}
		canon := e.String()
		e2, err := Parse(canon)
		var fe *Error
		if errors.As(err, &fe) && fe.limit {
			// The canonical form adds parentheses for precedence, so an
			// input near MaxLen or MaxDepth may not have room for them.
			return
		}
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not parse: %v", s, canon, err)
		}
		if got := e2.String(); got != canon {
			t.Fatalf("Parse(%q) = %s, reparsed as %s", s, canon, got)
		}
		if Match(e, res, Options{}) != Match(e2, res, Options{}) {
			t.Fatalf("%s and its canonical form %s disagree", s, canon)
		}
		Match(e, res, Options{CaseExact: func(string) bool { return true }})
		Conjuncts(e)
	})
}

func FuzzPath(f *testing.F) {
	for _, s := range []string{"members", "name.givenName", `members[value eq "42"]`,
		`emails[type eq "work"].value`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
		`emails[type eq "work"] x`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		p2, err := ParsePath(p.String())
		var fe *Error
		if errors.As(err, &fe) && fe.limit {
			return
		}
		if err != nil || p2.String() != p.String() {
			t.Fatalf("ParsePath(%q) = %s, reparsed as %v, %v", s, p, p2, err)
		}
	})
}
