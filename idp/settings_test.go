package idp

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseSettings(t *testing.T) {
	s, err := ParseSettings(nil)
	if err != nil || s.NameIDFormat != "" {
		t.Fatalf("empty settings: %+v %v", s, err)
	}
	good := json.RawMessage(`{"nameid_format":"persistent","attributes":[{"name":"mail","source":"email"},{"name":"dept","source":"attr:Department"},{"name":"tenant","value":"acme"}],"sign":"both","encrypt":"aes256-gcm"}`)
	if s, err = ParseSettings(good); err != nil || len(s.Attributes) != 3 || s.Sign != SignBoth {
		t.Fatalf("good settings: %+v %v", s, err)
	}
	bad := json.RawMessage(`{"nameid_format":"x","sign":"nope","encrypt":"des","attributes":[{"name":"a"},{"name":"a","source":"shoe"},{"source":"email"}]}`)
	_, err = ParseSettings(bad)
	for _, want := range []string{"nameid_format", "sign", "encrypt", "exactly one", "mapped twice", `source "shoe"`, "no name"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
	if _, err := ParseSettings(json.RawMessage(`{"unknown":1}`)); err == nil {
		t.Error("unknown field accepted")
	}
}

func TestParseMapping(t *testing.T) {
	for in, want := range map[string]AttributeMapping{
		"mail=email":     {Name: "mail", Source: "email"},
		`tenant="acme"`:  {Name: "tenant", Value: "acme"},
		"dept=attr:Dept": {Name: "dept", Source: "attr:Dept"},
	} {
		got, err := ParseMapping(in)
		if err != nil || got != want {
			t.Errorf("ParseMapping(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "=email", "noequals"} {
		if _, err := ParseMapping(in); err == nil {
			t.Errorf("ParseMapping(%q) accepted", in)
		}
	}
}
