package filter

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// user is RFC 7643 §8.2's full user, trimmed, plus a few attributes that
// exercise edge cases (empty string, null, empty array, big integer).
const user = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "externalId": "701984",
  "userName": "bjensen@example.com",
  "name": {"familyName": "Jensen", "givenName": "Barbara", "middleName": null},
  "displayName": "Babs Jensen",
  "nickName": "",
  "title": "Tour Guide",
  "userType": "Employee",
  "active": true,
  "loginCount": 42,
  "rating": 4.5,
  "bigId": 9007199254740993,
  "emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@jensen.org", "type": "home"}
  ],
  "phoneNumbers": [],
  "nulled": null,
  "roles": ["admin", "Auditor"],
  "groups": [{"display": "Tour Guides"}],
  "meta": {"lastModified": "2011-05-13T04:42:34Z", "created": "2010-01-23T04:56:22+01:00"},
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984",
    "department": "Tour Operations",
    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
  }
}`

func decode(t testing.TB, s string, useNumber bool) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	if useNumber {
		d.UseNumber()
	}
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMatch(t *testing.T) {
	tests := []struct {
		filter string
		want   bool
	}{
		// Strings, case-insensitive by default, names too.
		{`userName eq "bjensen@example.com"`, true},
		{`userName eq "BJensen@Example.com"`, true},
		{`USERNAME eq "bjensen@example.com"`, true},
		{`userName eq "bjensen"`, false},
		{`userName ne "bjensen"`, true},
		{`userName ne "BJENSEN@example.com"`, false},
		{`userName co "JENSEN@"`, true},
		{`userName sw "bj"`, true},
		{`userName sw "jensen"`, false},
		{`userName ew ".COM"`, true},
		{`userName ew ".org"`, false},
		{`externalId eq "701984"`, true},
		{`externalId eq 701984`, false},
		{`title gt "Tour"`, true},
		{`title lt "Tour"`, false},
		{`title ge "tour guide"`, true},
		{`title le "TOUR GUIDE"`, true},
		{`displayName eq "Babs Jensen" and userType eq "Employee"`, true},
		{`title pr and userType eq "Employee"`, true},
		// Complex and multi-valued attributes.
		{`name.familyName eq "jensen"`, true},
		{`name.givenName eq "Jensen"`, false},
		{`NAME.FAMILYNAME sw "J"`, true},
		{`emails co "example.com"`, true},
		{`emails co "example.net"`, false},
		{`emails.value eq "babs@jensen.org"`, true},
		{`emails.type eq "other"`, false},
		{`emails.type ne "work"`, true},
		{`roles eq "auditor"`, true},
		{`roles eq "user"`, false},
		{`groups eq "Tour Guides"`, false},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, true},
		{`userType eq "Employee" and (emails co "example.net" or emails.value co "example.org")`, false},
		// valuePath, including the Entra ID sub-attribute form.
		{`emails[type eq "work" and value co "@example.com"]`, true},
		{`emails[type eq "home" and value co "@example.com"]`, false},
		{`emails[type eq "work"].value eq "bjensen@example.com"`, true},
		{`emails[type eq "work"].value eq "babs@jensen.org"`, false},
		{`emails[type eq "home"].primary pr`, false},
		{`emails[type eq "home"].primary ne true`, true},
		{`emails[primary eq true]`, true},
		{`emails[not (primary eq true)].type eq "home"`, true},
		{`phoneNumbers[type eq "work"]`, false},
		{`name[givenName eq "barbara"]`, true},
		{`userName[value pr]`, false},
		// Schema URNs.
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bjensen"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations"`, true},
		{`URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER eq "701984"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "26118915-6090-4610-87e4-49d8ca9f808d"`, true},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName pr`, false},
		{`urn:example:other:department pr`, false},
		// Booleans, including Entra's quoted form.
		{`active eq true`, true},
		{`active eq false`, false},
		{`active ne false`, true},
		{`active eq "True"`, true},
		{`active eq "FALSE"`, false},
		{`active ne "false"`, true},
		{`active eq "yes"`, false},
		{`active eq 1`, false},
		{`active gt false`, false},
		{`active co "t"`, false},
		// Numbers.
		{`loginCount eq 42`, true},
		{`loginCount eq 42.0`, true},
		{`loginCount eq 4.2e1`, true},
		{`loginCount gt 41`, true},
		{`loginCount gt 42`, false},
		{`loginCount ge 42`, true},
		{`loginCount lt 1e999`, true},
		{`loginCount le -1`, false},
		{`loginCount eq "42"`, false},
		{`loginCount co 4`, false},
		{`rating gt 4`, true},
		{`rating lt 4.5`, false},
		// dateTime.
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, false},
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, true},
		{`meta.lastModified gt "2011-05-13T04:42:33.999Z"`, true},
		{`meta.lastModified eq "2011-05-13T06:42:34+02:00"`, true},
		{`meta.created lt "2010-01-23T04:00:00Z"`, true},
		{`meta.created gt "2010-01-23T04:00:00Z"`, false},
		// Presence, null and absence.
		{`title pr`, true},
		{`nickName pr`, false},
		{`nulled pr`, false},
		{`missing pr`, false},
		{`phoneNumbers pr`, false},
		{`emails pr`, true},
		{`name pr`, true},
		{`name.middleName pr`, false},
		{`emails.value pr`, true},
		{`emails.display pr`, false},
		{`missing ne "x"`, true},
		{`missing eq "x"`, false},
		{`missing gt 1`, false},
		{`missing co "x"`, false},
		{`missing eq null`, true},
		{`missing ne null`, false},
		{`nulled eq null`, true},
		{`phoneNumbers eq null`, true},
		{`name.middleName eq null`, true},
		{`name.givenName eq null`, false},
		{`name.givenName ne null`, true},
		{`nickName ne null`, true},
		{`title gt null`, false},
		// Logic.
		{`not (userName eq "bjensen@example.com")`, false},
		{`not (userName sw "a")`, true},
		{`userName sw "a" or title pr and active eq false`, false},
		{`userName sw "b" or title pr and active eq false`, true},
		{`(userName sw "a" or title pr) and active eq true`, true},
	}
	for _, useNumber := range []bool{true, false} {
		res := decode(t, user, useNumber)
		for _, tt := range tests {
			e, err := Parse(tt.filter)
			if err != nil {
				t.Errorf("Parse(%q): %v", tt.filter, err)
				continue
			}
			if got := Match(e, res, Options{}); got != tt.want {
				t.Errorf("UseNumber=%v: Match(%s) = %v, want %v", useNumber, tt.filter, got, tt.want)
			}
		}
	}
}

func TestMatchCaseExact(t *testing.T) {
	var asked []string
	exact := Options{CaseExact: func(path string) bool {
		asked = append(asked, path)
		return path != "username"
	}}
	res := decode(t, user, true)
	tests := []struct {
		filter string
		want   bool
		path   string
	}{
		{`userName eq "BJENSEN@example.com"`, true, "username"},
		{`externalID co "701984"`, true, "externalid"},
		{`displayName eq "babs jensen"`, false, "displayname"},
		{`emails co "Example.com"`, false, "emails.value"},
		{`emails[type eq "WORK"]`, false, "emails.type"},
		{`emails[type eq "work"].Value eq "bjensen@example.com"`, true, "emails.value"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, true,
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:employeenumber"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName sw "john"`, false,
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager.displayname"},
	}
	for _, tt := range tests {
		asked = nil
		e, err := Parse(tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := Match(e, res, exact); got != tt.want {
			t.Errorf("Match(%s) = %v, want %v", tt.filter, got, tt.want)
		}
		if !slices.Contains(asked, tt.path) {
			t.Errorf("Match(%s) asked CaseExact about %q, want %q", tt.filter, asked, tt.path)
		}
	}
}

func TestMatchGoValues(t *testing.T) {
	res := map[string]any{
		"count": 7, "big": int64(1) << 62, "ratio": float32(0.5), "huge": uint64(1 << 63),
		"ids": []any{json.Number("9007199254740993")},
	}
	tests := []struct {
		filter string
		want   bool
	}{
		{`count eq 7`, true},
		{`count lt 7.5`, true},
		{`big eq 4611686018427387904`, true},
		{`big gt 4611686018427387903`, true},
		{`ratio eq 0.5`, true},
		{`huge gt 4611686018427387904`, true},
		// Held as integers, these differ; as float64 they would not.
		{`ids eq 9007199254740992`, false},
		{`ids eq 9007199254740993`, true},
	}
	for _, tt := range tests {
		e, err := Parse(tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := Match(e, res, Options{}); got != tt.want {
			t.Errorf("Match(%s) = %v, want %v", tt.filter, got, tt.want)
		}
	}
}

func TestMatchPointersAndNil(t *testing.T) {
	res := map[string]any{"a": "x"}
	c := &Compare{Path: AttrPath{Name: "a"}, Op: OpEq, Value: "x"}
	if !Match(&And{c, Not{&Compare{Path: AttrPath{Name: "b"}, Op: OpPr}}}, res, Options{}) {
		t.Error("pointer nodes did not match")
	}
	if Match(nil, res, Options{}) || Match((*Or)(nil), res, Options{}) {
		t.Error("nil matched")
	}
}

func TestValues(t *testing.T) {
	res := decode(t, user, true)
	tests := []struct {
		path string
		want string
	}{
		{"userName", `["bjensen@example.com"]`},
		{"emails.value", `["bjensen@example.com","babs@jensen.org"]`},
		{"emails.primary", `[true]`},
		{"roles", `["admin","Auditor"]`},
		{"name.middleName", `null`},
		{"phoneNumbers", `[]`},
		{"missing", `null`},
		{"loginCount", `[42]`},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName", `["John Smith"]`},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:Department", `["Tour Operations"]`},
	}
	for _, tt := range tests {
		p, err := ParsePath(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(Values(res, p.Attr))
		if !bytes.Equal(got, []byte(tt.want)) {
			t.Errorf("Values(%s) = %s, want %s", tt.path, got, tt.want)
		}
	}
}

func TestLookupPrefersExactKey(t *testing.T) {
	res := map[string]any{"Title": "b", "title": "a", "TITLE": "c"}
	if v := Values(res, AttrPath{Name: "title"}); len(v) != 1 || v[0] != "a" {
		t.Errorf("exact key: got %v", v)
	}
	if v := Values(res, AttrPath{Name: "tItle"}); len(v) != 1 || v[0] != "c" {
		t.Errorf("folded key: got %v, want the least key", v)
	}
}
