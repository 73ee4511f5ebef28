package filter

import "testing"

func TestParsePath(t *testing.T) {
	tests := []struct {
		in     string
		attr   AttrPath
		filter string // Filter.String(), "" when nil
		sub    string
		str    string
	}{
		{"members", AttrPath{Name: "members"}, "", "", "members"},
		{"name.givenName", AttrPath{Name: "name", Sub: "givenName"}, "", "", "name.givenName"},
		{`members[value eq "42"]`, AttrPath{Name: "members"}, `value eq "42"`, "", `members[value eq "42"]`},
		{`emails[type eq "work"].value`, AttrPath{Name: "emails"}, `type eq "work"`, "value", `emails[type eq "work"].value`},
		{`emails[type eq "work" and primary eq TRUE].display`, AttrPath{Name: "emails"},
			`(type eq "work" and primary eq true)`, "display", `emails[(type eq "work" and primary eq true)].display`},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
			AttrPath{URI: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", Name: "manager"}, "", "",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"},
		{"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", AttrPath{Name: "name", Sub: "familyName"}, "", "", "name.familyName"},
		{" active ", AttrPath{Name: "active"}, "", "", "active"},
	}
	for _, tt := range tests {
		p, err := ParsePath(tt.in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tt.in, err)
			continue
		}
		filter := ""
		if p.Filter != nil {
			filter = p.Filter.String()
		}
		if p.Attr != tt.attr || filter != tt.filter || p.Sub != tt.sub || p.String() != tt.str {
			t.Errorf("ParsePath(%q) = %+v %q %q, String %q", tt.in, p.Attr, filter, p.Sub, p.String())
		}
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct {
		in  string
		pos int
		msg string
	}{
		{"", 0, "empty path"},
		{"  ", 2, "empty path"},
		{`members[value eq "42"] junk`, 23, `expected end of path, got "junk"`},
		{`members[value eq "42"]]`, 22, `expected end of path, got "]"`},
		{`members eq "42"`, 8, `expected end of path, got "eq"`},
		{`members[value eq "42"`, 21, `expected "and", "or" or "]" closing the "[" at position 7, got end of input`},
		{`emails[type[value eq "x"]]`, 11, `a "[...]" filter cannot contain another "["`},
		{`emails[type eq "work"].`, 23, `expected a sub-attribute name after ".", got end of input`},
		{`emails[type eq "work"].value.x`, 23, `invalid sub-attribute name "value.x"`},
		{`emails[]`, 7, `expected an attribute name, "not" or "(", got "]"`},
		{`"emails"`, 0, `expected an attribute name, got string "emails"`},
		{`name.givenName[value pr]`, 14, `"[" must follow an attribute, not the sub-attribute "givenName"`},
		{`(members)`, 0, `expected an attribute name, got "("`},
	}
	for _, tt := range tests {
		_, err := ParsePath(tt.in)
		checkError(t, tt.in, err, tt.pos, tt.msg)
	}
}
