package scim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/storetest/backends"
)

const patchPrefix = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":`

// createUser makes a user over SCIM and returns its id.
func createUser(t *testing.T, s *server, userName string, extra ...string) string {
	t.Helper()
	body := `{"schemas":["` + UserSchema + `"],"userName":"` + userName + `"`
	for _, e := range extra {
		body += "," + e
	}
	return s.do(t, "POST", "/scim/v2/Users", body+"}").want(t, http.StatusCreated).str("id")
}

func storedUser(t *testing.T, s *server, id string) store.User {
	t.Helper()
	n, _ := strconv.ParseInt(id, 10, 64)
	u, err := s.st.User(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCreateUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		r := s.do(t, "POST", "/scim/v2/Users", `{"schemas":["`+UserSchema+`","`+EnterpriseSchema+`"],
			"userName":"bjensen@example.com","externalId":"00u1","password":"t1meMa$heen","active":true,
			"name":{"givenName":"Barbara","familyName":"Jensen"},"x-custom":{"shoe":42},
			"phoneNumbers":[{"value":"555-1234","type":"work"}],
			"`+EnterpriseSchema+`":{"department":"Tour Operations","employeeNumber":"701984"}}`).want(t, http.StatusCreated)
		id := r.str("id")
		if r.header.Get("Location") != s.url+"/scim/v2/Users/"+id || r.header.Get("ETag") != `W/"1"` {
			t.Fatalf("Location %q, ETag %q", r.header.Get("Location"), r.header.Get("ETag"))
		}
		if r.str("displayName") != "Barbara Jensen" || r.str("meta.version") != `W/"1"` || r.str("meta.resourceType") != "User" {
			t.Fatalf("resource: %s", r.raw)
		}
		if strings.Contains(string(r.raw), "password") || strings.Contains(string(r.raw), "t1me") {
			t.Fatalf("the password came back: %s", r.raw)
		}
		if !strings.Contains(string(r.raw), `"x-custom":{"shoe":42}`) {
			t.Fatalf("an unknown attribute was not kept verbatim: %s", r.raw)
		}
		u := storedUser(t, s, id)
		want := map[string]string{"given_name": "Barbara", "family_name": "Jensen", "department": "Tour Operations", "employee_number": "701984"}
		for k, v := range want {
			if u.Attributes[k] != v {
				t.Errorf("directory attribute %s = %q, want %q", k, u.Attributes[k], v)
			}
		}
		if u.PasswordHash != "hashed:t1meMa$heen" || u.Disabled || u.ExternalID != "00u1" || u.Name != "Barbara Jensen" {
			t.Fatalf("stored user: %+v", u)
		}
		events, err := s.st.ListEvents(t.Context(), store.EventFilter{Types: []string{audit.UserCreated}})
		if err != nil || len(events) != 1 || events[0].Actor != "scim:okta" || events[0].Subject != "bjensen@example.com" {
			t.Fatalf("events %+v, %v", events, err)
		}
	})
}

func TestCreateUserRefusals(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	createUser(t, s, "taken@example.com")
	for _, c := range []struct{ body, scimType string }{
		{`{"userName":"TAKEN@example.com"}`, uniqueness},
		{`{"userName":""}`, invalidValue},
		{`{"displayName":"nobody"}`, invalidValue},
		{`{"userName":42}`, invalidValue},
		{`{"userName":"a@example.com","active":"maybe"}`, invalidValue},
		{`{"userName":"a@example.com","emails":"nope"}`, invalidValue},
		{`{"userName":"a@example.com","name":"Alice"}`, invalidValue},
		{`{"userName":`, invalidSyntax},
		{`["userName"]`, invalidSyntax},
		{`{"userName":"a@example.com"} {}`, invalidSyntax},
	} {
		r := s.do(t, "POST", "/scim/v2/Users", c.body)
		if r.str("scimType") != c.scimType || r.str("status") != strconv.Itoa(r.status) ||
			!slices.Contains(r.body["schemas"].([]any), any(errorSchema)) {
			t.Errorf("%s: %d %s, want scimType %s", c.body, r.status, r.raw, c.scimType)
		}
	}
	_, total, _ := s.st.ListUsers(t.Context(), store.UserFilter{})
	if total != 1 {
		t.Fatalf("%d users after refusals, want 1", total)
	}
}

func TestGetUser(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	id := createUser(t, s, "g@example.com", `"emails":[{"value":"g@example.com","type":"work"}]`)
	r := s.do(t, "GET", "/scim/v2/Users/"+id, "").want(t, http.StatusOK)
	if r.str("userName") != "g@example.com" || r.header.Get("ETag") != `W/"1"` {
		t.Fatalf("%s", r.raw)
	}
	s.do(t, "GET", "/scim/v2/Users/"+id, "", "If-None-Match", `W/"1"`).want(t, http.StatusNotModified)
	s.do(t, "GET", "/scim/v2/Users/"+id, "", "If-None-Match", `W/"2"`).want(t, http.StatusOK)
	for _, bad := range []string{"999", "abc", "-1", "0"} {
		if r := s.do(t, "GET", "/scim/v2/Users/"+bad, ""); r.status != http.StatusNotFound || r.str("status") != "404" {
			t.Errorf("GET %s: %d %s", bad, r.status, r.raw)
		}
	}
	r = s.do(t, "GET", "/scim/v2/Users/"+id+"?attributes=emails.value", "").want(t, http.StatusOK)
	if got := fmt.Sprint(r.body); got != fmt.Sprintf("map[emails:[map[value:g@example.com]] id:%s schemas:[%s]]", id, UserSchema) {
		t.Fatalf("projection: %s", got)
	}
	r = s.do(t, "GET", "/scim/v2/Users/"+id+"?excludedAttributes=emails,meta,id", "").want(t, http.StatusOK)
	if _, ok := r.body["emails"]; ok || r.str("id") != id || r.body["meta"] != nil {
		t.Fatalf("exclusion: %s", r.raw)
	}
}

func TestLastPassPathsAndAuth(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	id := s.do(t, "POST", "/scimapi/8771312/users", `{"userName":"lp@example.com"}`).want(t, http.StatusCreated).str("id")
	s.do(t, "GET", "/scimapi/8771312/Users/"+id, "").want(t, http.StatusOK)
	s.do(t, "GET", "/scimapi/1/Users/"+id, "").want(t, http.StatusNotFound)
	for _, token := range []string{"", "nope", s.token + "x", "pcscim_0123456789abcdef_secret"} {
		r := s.doAs(t, token, "GET", "/scim/v2/Users/"+id, "")
		if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("token %q: %d %v", token, r.status, r.header)
		}
	}
	s.do(t, "GET", "/scim/v2/Me", "").want(t, http.StatusNotImplemented)
	s.do(t, "DELETE", "/scim/v2/Users", "").want(t, http.StatusMethodNotAllowed)
}

func TestReplaceUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		id := createUser(t, s, "r@example.com", `"title":"Boss"`, `"name":{"givenName":"R"}`, `"password":"first"`)
		r := s.do(t, "PUT", "/scim/v2/Users/"+id, `{"schemas":["`+UserSchema+`"],"id":"999","userName":"r2@example.com",
			"nickName":"Arr","meta":{"version":"W/\"9\""}}`).want(t, http.StatusOK)
		if r.str("id") != id || r.str("userName") != "r2@example.com" || r.str("nickName") != "Arr" ||
			r.body["title"] != nil || r.body["name"] != nil || r.body["active"] != true || r.str("meta.version") != `W/"2"` {
			t.Fatalf("after PUT: %s", r.raw)
		}
		u := storedUser(t, s, id)
		if u.PasswordHash != "hashed:first" || u.Attributes["given_name"] != "" || u.Attributes["nick_name"] != "Arr" {
			t.Fatalf("stored after PUT: %+v", u)
		}
		s.do(t, "PUT", "/scim/v2/Users/"+id, `{"userName":"r2@example.com","active":false}`).want(t, http.StatusOK)
		if !storedUser(t, s, id).Disabled || !slices.Contains(s.rev.Revoked(), storedUser(t, s, id).ID) {
			t.Fatalf("PUT active false: disabled %v, revoked %v", storedUser(t, s, id).Disabled, s.rev.Revoked())
		}
		s.do(t, "PUT", "/scim/v2/Users/12345", `{"userName":"x@example.com"}`).want(t, http.StatusNotFound)
	})
}

func TestPatchUserEntraDialect(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		id := createUser(t, s, "e@example.com", `"emails":[{"value":"e@example.com","type":"work","primary":true}]`,
			`"name":{"givenName":"Eve","familyName":"Ng"}`)
		r := s.do(t, "PATCH", "/scim/v2/Users/"+id, patchPrefix+`[
			{"op":"Replace","path":"active","value":"False"},
			{"op":"Replace","path":"emails[type eq \"work\"].value","value":"eve@example.com"},
			{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+44 1"},
			{"op":"replace","value":{"name.givenName":"Evelyn","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Sales","displayName":"Evie"}},
			{"op":"Remove","path":"name.familyName"}]}`).want(t, http.StatusOK)
		want := map[string]any{
			"active": false, "displayName": "Evie",
			"emails":         []any{map[string]any{"value": "eve@example.com", "type": "work", "primary": true}},
			"phoneNumbers":   []any{map[string]any{"value": "+44 1", "type": "mobile"}},
			"name":           map[string]any{"givenName": "Evelyn"},
			EnterpriseSchema: map[string]any{"department": "Sales"},
		}
		for k, v := range want {
			if fmt.Sprint(r.body[k]) != fmt.Sprint(v) {
				t.Errorf("%s = %v, want %v", k, r.body[k], v)
			}
		}
		u := storedUser(t, s, id)
		if !u.Disabled || u.Name != "Evie" || u.Attributes["department"] != "Sales" || u.Attributes["family_name"] != "" {
			t.Fatalf("stored: %+v", u)
		}
		if !slices.Equal(s.rev.Revoked(), []int64{u.ID}) {
			t.Fatalf("revoked %v, want [%d]", s.rev.Revoked(), u.ID)
		}
		events, _ := s.st.ListEvents(t.Context(), store.EventFilter{Types: []string{audit.UserDisabled}, Subject: "e@example.com"})
		if len(events) != 1 || events[0].Actor != "scim:okta" {
			t.Fatalf("disable events: %+v", events)
		}
		s.do(t, "PATCH", "/scim/v2/Users/"+id, patchPrefix+`[{"op":"replace","path":"active","value":true}]}`).want(t, http.StatusOK)
		if storedUser(t, s, id).Disabled {
			t.Fatal("active true did not enable the user")
		}
	})
}

func TestPatchUserRefusalsChangeNothing(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	id := createUser(t, s, "p@example.com")
	createUser(t, s, "other@example.com")
	for _, c := range []struct{ ops, scimType string }{
		{`[{"op":"replace","path":"id","value":"7"}]`, mutability},
		{`[{"op":"add","path":"groups","value":[{"value":"1"}]}]`, mutability},
		{`[{"op":"replace","path":"meta.version","value":"x"}]`, mutability},
		{`[{"op":"replace","path":"userName","value":"OTHER@example.com"}]`, uniqueness},
		{`[{"op":"replace","path":"active","value":"yes"}]`, invalidValue},
		{`[{"op":"move","path":"active","value":true}]`, invalidSyntax},
		{`[{"op":"remove"}]`, noTarget},
		{`[{"op":"replace","path":"emails[type eq","value":"x"}]`, invalidPath},
		{`[{"op":"replace","path":"urn:example:nope:attr","value":"x"}]`, invalidPath},
		{`[]`, invalidSyntax},
		{`[{"op":"replace","path":"title","value":"ok"},{"op":"replace","path":"active","value":"nope"}]`, invalidValue},
	} {
		r := s.do(t, "PATCH", "/scim/v2/Users/"+id, patchPrefix+c.ops+`}`)
		if r.status != http.StatusBadRequest && r.status != http.StatusConflict || r.str("scimType") != c.scimType {
			t.Errorf("%s: %d %s, want scimType %s", c.ops, r.status, r.raw, c.scimType)
		}
	}
	if u := storedUser(t, s, id); u.Version != 1 || u.Email != "p@example.com" || len(u.Profile) != 0 {
		t.Fatalf("a refused PATCH changed the user: %+v", u)
	}
}

func TestRenameUser(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	id := createUser(t, s, "old@example.com")
	s.do(t, "PATCH", "/scim/v2/Users/"+id, patchPrefix+`[{"op":"replace","path":"userName","value":"new@example.com"}]}`).want(t, http.StatusOK)
	if _, err := s.st.UserByEmail(t.Context(), "new@example.com"); err != nil {
		t.Fatalf("renamed login: %v", err)
	}
	events, _ := s.st.ListEvents(t.Context(), store.EventFilter{Types: []string{audit.UserUpdated}})
	if len(events) != 1 || events[0].Details["previous_user_name"] != "old@example.com" {
		t.Fatalf("events %+v", events)
	}
}

func TestIfMatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		id := createUser(t, s, "m@example.com")
		body := patchPrefix + `[{"op":"replace","path":"title","value":"T"}]}`
		s.do(t, "PATCH", "/scim/v2/Users/"+id, body, "If-Match", `W/"1"`).want(t, http.StatusOK)
		r := s.do(t, "PATCH", "/scim/v2/Users/"+id, body, "If-Match", `W/"1"`).want(t, http.StatusPreconditionFailed)
		if !strings.Contains(r.str("detail"), `W/"2"`) {
			t.Fatalf("412 detail: %s", r.raw)
		}
		s.do(t, "PUT", "/scim/v2/Users/"+id, `{"userName":"m@example.com"}`, "If-Match", `W/"1"`).want(t, http.StatusPreconditionFailed)
		s.do(t, "DELETE", "/scim/v2/Users/"+id, "", "If-Match", `"1", W/"7"`).want(t, http.StatusPreconditionFailed)
		if u := storedUser(t, s, id); u.Version != 2 {
			t.Fatalf("version %d after refused writes, want 2", u.Version)
		}
		s.do(t, "PATCH", "/scim/v2/Users/"+id, body, "If-Match", `"2"`).want(t, http.StatusOK)
		s.do(t, "DELETE", "/scim/v2/Users/"+id, "", "If-Match", `*`).want(t, http.StatusNoContent)
	})
}

func TestDeleteUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		id := createUser(t, s, "d@example.com")
		n := storedUser(t, s, id).ID
		r := s.do(t, "DELETE", "/scim/v2/Users/"+id, "").want(t, http.StatusNoContent)
		if len(r.raw) != 0 {
			t.Fatalf("204 with a body: %s", r.raw)
		}
		s.do(t, "GET", "/scim/v2/Users/"+id, "").want(t, http.StatusNotFound)
		s.do(t, "DELETE", "/scim/v2/Users/"+id, "").want(t, http.StatusNotFound)
		if !slices.Equal(s.rev.Revoked(), []int64{n}) {
			t.Fatalf("revoked %v", s.rev.Revoked())
		}
		events, _ := s.st.ListEvents(t.Context(), store.EventFilter{Types: []string{audit.UserDeleted}})
		if len(events) != 1 || events[0].Subject != "d@example.com" {
			t.Fatalf("events %+v", events)
		}
	})
}
