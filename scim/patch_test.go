package scim

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestApplyOps runs PATCH operations on a document and compares the
// result as JSON (RFC 7644 §3.5.2.1–3).
func TestApplyOps(t *testing.T) {
	const doc = `{"userName":"a","name":{"givenName":"A","familyName":"F"},
		"emails":[{"value":"a@w","type":"work","primary":true},{"value":"a@h","type":"home"}]}`
	for _, c := range []struct {
		name, ops, want string
	}{
		{"add to a list keeps it and skips duplicates",
			`[{"op":"add","path":"emails","value":[{"value":"a@h","type":"home"},{"value":"a@o","type":"other"}]}]`,
			`{"userName":"a","name":{"givenName":"A","familyName":"F"},"emails":[{"value":"a@w","type":"work","primary":true},{"value":"a@h","type":"home"},{"value":"a@o","type":"other"}]}`},
		{"replace of a list replaces it",
			`[{"op":"replace","path":"emails","value":{"value":"x@w"}}]`,
			`{"userName":"a","name":{"givenName":"A","familyName":"F"},"emails":[{"value":"x@w"}]}`},
		{"replace of a complex attribute merges sub-attributes",
			`[{"op":"replace","path":"name","value":{"givenName":"B"}}]`,
			`{"userName":"a","name":{"givenName":"B","familyName":"F"},"emails":[{"value":"a@w","type":"work","primary":true},{"value":"a@h","type":"home"}]}`},
		{"remove through a filter drops matching elements",
			`[{"op":"remove","path":"emails[type eq \"home\"]"}]`,
			`{"userName":"a","name":{"givenName":"A","familyName":"F"},"emails":[{"value":"a@w","type":"work","primary":true}]}`},
		{"remove of a sub-attribute of filtered elements",
			`[{"op":"remove","path":"emails[type eq \"work\"].primary"}]`,
			`{"userName":"a","name":{"givenName":"A","familyName":"F"},"emails":[{"value":"a@w","type":"work"},{"value":"a@h","type":"home"}]}`},
		{"remove of members listed in value",
			`[{"op":"remove","path":"emails","value":[{"value":"a@w"}]}]`,
			`{"userName":"a","name":{"givenName":"A","familyName":"F"},"emails":[{"value":"a@h","type":"home"}]}`},
		{"remove of an attribute",
			`[{"op":"Remove","path":"NAME"}]`,
			`{"userName":"a","emails":[{"value":"a@w","type":"work","primary":true},{"value":"a@h","type":"home"}]}`},
		{"no path: each member applied as a path, attribute names in any case",
			`[{"op":"replace","value":{"USERNAME":"b","name.familyName":"G","emails[type eq \"home\"].value":"b@h"}}]`,
			`{"userName":"b","name":{"givenName":"A","familyName":"G"},"emails":[{"value":"a@w","type":"work","primary":true},{"value":"b@h","type":"home"}]}`},
		{"a filtered add that matches nothing appends from the filter",
			`[{"op":"add","path":"phoneNumbers[type eq \"mobile\"].value","value":"123"}]`,
			`{"userName":"a","name":{"givenName":"A","familyName":"F"},"emails":[{"value":"a@w","type":"work","primary":true},{"value":"a@h","type":"home"}],"phoneNumbers":[{"type":"mobile","value":"123"}]}`},
		{"an extension attribute by its full path",
			`[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"7"}]`,
			`{"userName":"a","name":{"givenName":"A","familyName":"F"},"emails":[{"value":"a@w","type":"work","primary":true},{"value":"a@h","type":"home"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"7"}}}`},
		{"the extension as a whole",
			`[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"D"}}]`,
			`{"userName":"a","name":{"givenName":"A","familyName":"F"},"emails":[{"value":"a@w","type":"work","primary":true},{"value":"a@h","type":"home"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D"}}`},
		{"a remove that matches nothing changes nothing",
			`[{"op":"remove","path":"emails[type eq \"fax\"]"}]`,
			doc},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d map[string]any
			if err := json.Unmarshal([]byte(doc), &d); err != nil {
				t.Fatal(err)
			}
			ops := mustOps(t, c.ops)
			if err := applyOps(userType, d, ops); err != nil {
				t.Fatal(err)
			}
			if got, want := canonical(t, d), canonical(t, c.want); got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestApplyOpsRefusals(t *testing.T) {
	for ops, scimType := range map[string]string{
		`[{"op":"replace","path":"emails[type sw \"x\"].value","value":"v"}]`: noTarget,
		`[{"op":"replace","path":"userName[type eq \"x\"]","value":"v"}]`:     invalidPath,
		`[{"op":"add","path":"meta","value":{}}]`:                             mutability,
		`[{"op":"add","value":"not an object"}]`:                              invalidValue,
		`[{"op":"replace","path":"name.givenName[type eq \"x\"]","value":1}]`: invalidPath,
	} {
		d := map[string]any{"userName": "a"}
		err := applyOps(userType, d, mustOps(t, ops))
		if e := asError(err); err == nil || e.Type != scimType {
			t.Errorf("%s: %v, want scimType %s", ops, err, scimType)
		}
	}
}

func mustOps(t *testing.T, ops string) []patchOp {
	t.Helper()
	var list []map[string]any
	dec := json.NewDecoder(strings.NewReader(ops))
	dec.UseNumber()
	if err := dec.Decode(&list); err != nil {
		t.Fatal(err)
	}
	var out []patchOp
	for i, m := range list {
		op, err := parseOp(m, i+1)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, op)
	}
	return out
}

func canonical(t *testing.T, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		var x any
		if err := json.Unmarshal([]byte(s), &x); err != nil {
			t.Fatal(err)
		}
		v = x
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
