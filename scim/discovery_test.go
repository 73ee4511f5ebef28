package scim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/store/storetest/backends"
)

// jpath follows keys (strings for objects, ints for arrays) into a decoded
// JSON value; nil when the path is missing.
func jpath(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// elemWith finds the element of a JSON array whose key equals value.
func elemWith(t *testing.T, list any, key, value string) map[string]any {
	t.Helper()
	a, _ := list.([]any)
	for _, e := range a {
		if m, _ := e.(map[string]any); m[key] == value {
			return m
		}
	}
	t.Fatalf("no element with %s %q in %v", key, value, list)
	return nil
}

func TestDiscoveryServiceProviderConfig(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	r := s.do(t, "GET", "/scim/v2/ServiceProviderConfig", "").want(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/scim+json") {
		t.Errorf("Content-Type %q", ct)
	}
	want := map[string]any{
		"schemas":          []any{spcSchema},
		"documentationUri": "https://github.com/portcullis/portcullis/blob/main/docs/scim.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": true, "maxOperations": 1000.0, "maxPayloadSize": 1048576.0},
		"filter":           map[string]any{"supported": true, "maxResults": 1000.0},
		"changePassword":   map[string]any{"supported": true},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []any{map[string]any{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
			"description": "A token from `gateway api scim-token NAME`", "primary": true}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": s.url + "/scim/v2/ServiceProviderConfig"},
	}
	if !sameDoc(r.body, want) {
		t.Errorf("ServiceProviderConfig =\n%s\nwant\n%s", r.raw, docText(want))
	}
	s.do(t, "GET", "/scim/v2/ServiceProviderConfig/x", "").want(t, http.StatusNotFound)
	s.do(t, "POST", "/scim/v2/ServiceProviderConfig", "{}").want(t, http.StatusMethodNotAllowed)
}

func TestDiscoveryResourceTypes(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	r := s.do(t, "GET", "/scim/v2/ResourceTypes", "").want(t, http.StatusOK)
	if jpath(r.body, "schemas", 0) != listSchema || jpath(r.body, "totalResults") != 2.0 ||
		jpath(r.body, "itemsPerPage") != 2.0 || jpath(r.body, "startIndex") != 1.0 {
		t.Fatalf("ListResponse envelope:\n%s", r.raw)
	}
	user := elemWith(t, r.body["Resources"], "id", "User")
	wantUser := map[string]any{
		"schemas": []any{rtSchema}, "id": "User", "name": "User", "endpoint": "/Users",
		"description": "User Account", "schema": UserSchema,
		"schemaExtensions": []any{map[string]any{"schema": EnterpriseSchema, "required": false}},
		"meta":             map[string]any{"resourceType": "ResourceType", "location": s.url + "/scim/v2/ResourceTypes/User"},
	}
	if !sameDoc(user, wantUser) {
		t.Errorf("User resource type = %s\nwant %s", docText(user), docText(wantUser))
	}
	group := elemWith(t, r.body["Resources"], "id", "Group")
	if group["endpoint"] != "/Groups" || group["schema"] != GroupSchema || group["schemaExtensions"] != nil ||
		jpath(group, "meta", "location") != s.url+"/scim/v2/ResourceTypes/Group" {
		t.Errorf("Group resource type = %s", docText(group))
	}

	one := s.do(t, "GET", "/scim/v2/ResourceTypes/User", "").want(t, http.StatusOK)
	if !sameDoc(one.body, wantUser) {
		t.Errorf("GET /ResourceTypes/User = %s", one.raw)
	}
	if g := s.do(t, "GET", "/scim/v2/ResourceTypes/Group", "").want(t, http.StatusOK); g.str("name") != "Group" {
		t.Errorf("GET /ResourceTypes/Group = %s", g.raw)
	}
	wantErrorBody(t, s.do(t, "GET", "/scim/v2/ResourceTypes/Device", ""), http.StatusNotFound)
}

func TestDiscoverySchemas(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	r := s.do(t, "GET", "/scim/v2/Schemas", "").want(t, http.StatusOK)
	if jpath(r.body, "schemas", 0) != listSchema || jpath(r.body, "totalResults") != 3.0 || jpath(r.body, "startIndex") != 1.0 {
		t.Fatalf("ListResponse envelope:\n%s", r.raw)
	}
	for _, id := range []string{UserSchema, EnterpriseSchema, GroupSchema} {
		sc := elemWith(t, r.body["Resources"], "id", id)
		if jpath(sc, "schemas", 0) != schemaSchema || jpath(sc, "meta", "resourceType") != "Schema" ||
			jpath(sc, "meta", "location") != s.url+"/scim/v2/Schemas/"+id {
			t.Errorf("schema %s envelope: %s", id, docText(sc))
		}
	}

	user := s.do(t, "GET", "/scim/v2/Schemas/"+UserSchema, "").want(t, http.StatusOK)
	if user.str("name") != "User" || user.str("description") != "User Account" {
		t.Errorf("User schema: %s", user.raw)
	}
	attrs := user.body["attributes"]
	if n := len(attrs.([]any)); n != len(userAttrs) {
		t.Errorf("User schema has %d attributes, want exactly the table's %d", n, len(userAttrs))
	}
	for _, name := range []string{"id", "externalId", "meta"} {
		for _, a := range attrs.([]any) {
			if jpath(a, "name") == name {
				t.Errorf("User schema publishes the common attribute %s (RFC 7643 §7 leaves it out)", name)
			}
		}
	}
	wantAttrChars(t, elemWith(t, attrs, "name", "password"), map[string]any{"type": "string", "mutability": "writeOnly",
		"returned": "never", "uniqueness": "none", "multiValued": false, "required": false})
	wantAttrChars(t, elemWith(t, attrs, "name", "userName"), map[string]any{"type": "string", "uniqueness": "server",
		"required": true, "caseExact": false, "mutability": "readWrite", "returned": "default"})
	groups := elemWith(t, attrs, "name", "groups")
	wantAttrChars(t, groups, map[string]any{"type": "complex", "multiValued": true, "mutability": "readOnly"})
	wantAttrChars(t, elemWith(t, groups["subAttributes"], "name", "$ref"), map[string]any{"type": "reference",
		"referenceTypes": []any{"Group"}, "mutability": "readOnly", "returned": "default", "uniqueness": "none",
		"multiValued": false, "required": false, "caseExact": false, "description": "The group's URI."})
	emails := elemWith(t, attrs, "name", "emails")
	wantAttrChars(t, elemWith(t, emails["subAttributes"], "name", "type"),
		map[string]any{"canonicalValues": []any{"work", "home", "other"}})
	if v, ok := elemWith(t, attrs, "name", "displayName")["referenceTypes"]; ok {
		t.Errorf("displayName has referenceTypes %v; want them only when set", v)
	}
	if v, ok := elemWith(t, attrs, "name", "displayName")["subAttributes"]; ok {
		t.Errorf("displayName has subAttributes %v", v)
	}

	ent := s.do(t, "GET", "/scim/v2/Schemas/"+EnterpriseSchema, "").want(t, http.StatusOK)
	mgr := elemWith(t, ent.body["attributes"], "name", "manager")
	wantAttrChars(t, elemWith(t, mgr["subAttributes"], "name", "displayName"), map[string]any{"mutability": "readOnly"})
	grp := s.do(t, "GET", "/scim/v2/Schemas/"+GroupSchema, "").want(t, http.StatusOK)
	wantAttrChars(t, elemWith(t, grp.body["attributes"], "name", "displayName"), map[string]any{"uniqueness": "server", "required": true})

	wantErrorBody(t, s.do(t, "GET", "/scim/v2/Schemas/urn:example:nope", ""), http.StatusNotFound)
}

// wantAttrChars fails unless the attribute has each of the characteristics.
func wantAttrChars(t *testing.T, attr map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if !sameDoc(attr[k], v) {
			t.Errorf("attribute %v: %s = %v, want %v", attr["name"], k, attr[k], v)
		}
	}
}

func TestDiscoveryFilterForbidden(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	for _, path := range []string{"/scim/v2/ServiceProviderConfig", "/scim/v2/ResourceTypes", "/scim/v2/Schemas",
		"/scim/v2/Schemas/" + UserSchema} {
		wantErrorBody(t, s.do(t, "GET", path+`?filter=id+eq+"User"`, ""), http.StatusForbidden)
	}
}

func TestDiscoveryNeedsToken(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	for _, path := range []string{"/scim/v2/ServiceProviderConfig", "/scim/v2/ResourceTypes", "/scim/v2/Schemas"} {
		r := s.doAs(t, "", "GET", path, "")
		wantErrorBody(t, r, http.StatusUnauthorized)
		if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q, want Bearer", path, h)
		}
		wantErrorBody(t, s.doAs(t, "pcscim_0123456789abcdef_wrong", "GET", path, ""), http.StatusUnauthorized)
	}
}

func TestDiscoveryLastPassAlias(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	r := s.do(t, "GET", "/scimapi/8771312/serviceproviderconfig", "").want(t, http.StatusOK)
	if jpath(r.body, "bulk", "maxOperations") != 1000.0 {
		t.Errorf("alias ServiceProviderConfig: %s", r.raw)
	}
	s.do(t, "GET", "/scimapi/8771312/resourcetypes/User", "").want(t, http.StatusOK)
	wantErrorBody(t, s.do(t, "GET", "/scimapi/999/ServiceProviderConfig", ""), http.StatusNotFound)
}

// TestSchemaTableDescribed checks the table /Schemas publishes: every
// top-level attribute says what it is, and every type is one of RFC 7643
// §2.3's.
func TestSchemaTableDescribed(t *testing.T) {
	types := []string{"string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex"}
	var walk func(path string, attrs []Attr, sub bool)
	walk = func(path string, attrs []Attr, sub bool) {
		for _, a := range attrs {
			p := path + a.Name
			if a.Description == "" && !sub {
				t.Errorf("%s has no description", p)
			}
			if !slices.Contains(types, a.Type) {
				t.Errorf("%s has type %q, not one of RFC 7643 §2.3", p, a.Type)
			}
			if (a.Type == "complex") != (len(a.Sub) > 0) {
				t.Errorf("%s: type %s with %d sub-attributes", p, a.Type, len(a.Sub))
			}
			walk(p+".", a.Sub, true)
		}
	}
	for _, s := range schemas {
		walk(s.ID+":", s.Attrs, false)
	}
	walk("common:", common, false)
}

// wantErrorBody fails unless r is a SCIM error with the status.
func wantErrorBody(t *testing.T, r reply, status int) {
	t.Helper()
	r.want(t, status)
	if jpath(r.body, "schemas", 0) != errorSchema || r.str("status") != strconv.Itoa(status) {
		t.Errorf("status %d body is not a SCIM error: %s", status, r.raw)
	}
}

func sameDoc(a, b any) bool { return docText(a) == docText(b) }

func docText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
