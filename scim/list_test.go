package scim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/portcullis/portcullis/store/storetest/backends"
)

// userNames lists the userNames of a ListResponse in order.
func userNames(t *testing.T, r reply) []string {
	t.Helper()
	var out []string
	list, _ := r.body["Resources"].([]any)
	for _, x := range list {
		m, _ := x.(map[string]any)
		s, _ := m["userName"].(string)
		out = append(out, s)
	}
	return out
}

func listUsers(t *testing.T, s *server, params string) reply {
	t.Helper()
	return s.do(t, "GET", "/scim/v2/Users?"+params, "").want(t, http.StatusOK)
}

func filterParam(f string) string { return "filter=" + url.QueryEscape(f) }

func TestListUsersPaging(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		var all []string
		for i := range 7 {
			name := fmt.Sprintf("user%d@example.com", i)
			createUser(t, s, name)
			all = append(all, name)
		}
		for _, c := range []struct {
			params string
			want   []string
			start  float64
		}{
			{"", all, 1},
			{"startIndex=1&count=2", all[:2], 1},
			{"startIndex=6&count=5", all[5:], 6},
			{"startIndex=0&count=1", all[:1], 1},
			{"startIndex=-4&count=1", all[:1], 1},
			{"startIndex=20&count=5", nil, 20},
			{"count=0", nil, 1},
			{"count=-3", nil, 1},
			{filterParam(`userName sw "user"`) + "&startIndex=3&count=2", all[2:4], 3},
		} {
			r := listUsers(t, s, c.params)
			if got := userNames(t, r); !slices.Equal(got, c.want) || r.body["totalResults"] != float64(7) ||
				r.body["startIndex"] != c.start || r.body["itemsPerPage"] != float64(len(c.want)) {
				t.Errorf("%s: %v total %v start %v per page %v", c.params, got, r.body["totalResults"], r.body["startIndex"], r.body["itemsPerPage"])
			}
		}
		s.do(t, "GET", "/scim/v2/Users?count=ten", "").want(t, http.StatusBadRequest)
	})
}

func TestListUsersFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		createUser(t, s, "ann@example.com", `"externalId":"X1"`, `"title":"Engineer"`,
			`"emails":[{"value":"ann@example.com","type":"work"},{"value":"ann@home.example","type":"home"}]`,
			`"`+EnterpriseSchema+`":{"department":"R&D"}`)
		bid := createUser(t, s, "bob@example.org", `"externalId":"x1"`, `"active":false`, `"name":{"familyName":"Zed"}`)
		createUser(t, s, "cat@example.com", `"title":"Manager"`, `"userType":"Employee"`)
		gid := createGroup(t, s, "Admins", bid)
		for _, c := range []struct {
			filter string
			want   []string
		}{
			{`userName eq "ANN@example.com"`, []string{"ann@example.com"}},
			{`userName eq "nobody@example.com"`, nil},
			{`externalId eq "X1"`, []string{"ann@example.com"}}, // caseExact
			{`id eq "` + bid + `"`, []string{"bob@example.org"}},
			{`id eq "nope"`, nil},
			{`userName co "example.com"`, []string{"ann@example.com", "cat@example.com"}},
			{`userName ew ".org"`, []string{"bob@example.org"}},
			{`title pr`, []string{"ann@example.com", "cat@example.com"}},
			{`not (title pr)`, []string{"bob@example.org"}},
			{`active eq false`, []string{"bob@example.org"}},
			{`title eq "engineer" or userType eq "Employee"`, []string{"ann@example.com", "cat@example.com"}},
			{`userName sw "a" and (emails co "home" or title eq "x")`, []string{"ann@example.com"}},
			{`emails[type eq "home" and value ew ".example"]`, []string{"ann@example.com"}},
			{`emails[type eq "work"].value eq "ann@example.com"`, []string{"ann@example.com"}},
			{`name.familyName eq "zed"`, []string{"bob@example.org"}},
			{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d"`, []string{"ann@example.com"}},
			{`groups.value eq "` + gid + `"`, []string{"bob@example.org"}},
			{`meta.created gt "2000-01-01T00:00:00Z"`, []string{"ann@example.com", "bob@example.org", "cat@example.com"}},
			{`meta.lastModified lt "2000-01-01T00:00:00Z"`, nil},
			{`userName eq "ann@example.com" and active eq false`, nil},
		} {
			r := listUsers(t, s, filterParam(c.filter))
			if got := userNames(t, r); !slices.Equal(got, c.want) || r.body["totalResults"] != float64(len(c.want)) {
				t.Errorf("%s: %v (total %v), want %v", c.filter, got, r.body["totalResults"], c.want)
			}
		}
		for _, bad := range []string{`userName equals "x"`, `userName eq`, `(userName eq "x"`, `userName eq "x" and`} {
			r := s.do(t, "GET", "/scim/v2/Users?"+filterParam(bad), "")
			if r.status != http.StatusBadRequest || r.str("scimType") != invalidFilter {
				t.Errorf("%s: %d %s", bad, r.status, r.raw)
			}
		}
	})
}

func TestListUsersSortAndSearch(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	createUser(t, s, "b@example.com", `"name":{"familyName":"Alpha"}`)
	createUser(t, s, "a@example.com")
	createUser(t, s, "c@example.com", `"name":{"familyName":"beta"}`)
	for params, want := range map[string][]string{
		"sortBy=userName":                                               {"a@example.com", "b@example.com", "c@example.com"},
		"sortBy=userName&sortOrder=descending":                          {"c@example.com", "b@example.com", "a@example.com"},
		"sortBy=name.familyName":                                        {"b@example.com", "c@example.com", "a@example.com"},
		"sortBy=name.familyName&startIndex=2&count=1":                   {"c@example.com"},
		"sortBy=userName&" + filterParam(`userName ne "a@example.com"`): {"b@example.com", "c@example.com"},
	} {
		if got := userNames(t, listUsers(t, s, params)); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", params, got, want)
		}
	}
	s.do(t, "GET", "/scim/v2/Users?sortBy=userName&sortOrder=sideways", "").want(t, http.StatusBadRequest)
	r := s.do(t, "POST", "/scim/v2/Users/.search", `{"schemas":["`+searchSchema+`"],"filter":"userName sw \"b\"",
		"attributes":["userName"],"startIndex":1,"count":10}`).want(t, http.StatusOK)
	if got := fmt.Sprint(r.body["Resources"]); !slices.Equal(userNames(t, r), []string{"b@example.com"}) ||
		got != fmt.Sprintf("[map[id:%s schemas:[%s] userName:b@example.com]]", r.body["Resources"].([]any)[0].(map[string]any)["id"], UserSchema) {
		t.Fatalf(".search: %s", r.raw)
	}
}

func TestFilterScanLimit(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	for i := range 3 {
		createUser(t, s, fmt.Sprintf("u%d@example.com", i))
	}
	s.h.MaxScan = 2
	r := s.do(t, "GET", "/scim/v2/Users?"+filterParam(`title pr`), "")
	if r.status != http.StatusBadRequest || r.str("scimType") != tooMany {
		t.Fatalf("scan over the limit: %d %s", r.status, r.raw)
	}
	listUsers(t, s, filterParam(`userName eq "u1@example.com"`)) // an index needs no scan
}

func TestListGroups(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		a := createUser(t, s, "a@example.com")
		createGroup(t, s, "Sales", a)
		eng := createGroup(t, s, "Eng")
		createGroup(t, s, "Ops", a)
		names := func(r reply) []string {
			var out []string
			for _, x := range r.body["Resources"].([]any) {
				out = append(out, x.(map[string]any)["displayName"].(string))
			}
			return out
		}
		for params, want := range map[string][]string{
			"":                                   {"Eng", "Ops", "Sales"},
			filterParam(`displayName eq "eng"`):  {"Eng"},
			filterParam(`displayName eq "none"`): nil,
			filterParam(`members[value eq "` + a + `"]`): {"Ops", "Sales"},
			filterParam(`id eq "` + eng + `"`):           {"Eng"},
			"startIndex=2&count=1":                       {"Ops"},
			"sortBy=displayName&sortOrder=descending":    {"Sales", "Ops", "Eng"},
		} {
			r := s.do(t, "GET", "/scim/v2/Groups?"+params, "").want(t, http.StatusOK)
			if got := names(r); !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", params, got, want)
			}
		}
		r := s.do(t, "GET", "/scim/v2/Groups?excludedAttributes=members&"+filterParam(`displayName eq "Sales"`), "").want(t, http.StatusOK)
		if g := r.body["Resources"].([]any)[0].(map[string]any); g["members"] != nil {
			t.Fatalf("members despite excludedAttributes: %s", r.raw)
		}
		r = s.do(t, "GET", "/scim/v2/Groups?"+filterParam(`displayName eq "Sales"`), "").want(t, http.StatusOK)
		if g := r.body["Resources"].([]any)[0].(map[string]any); len(g["members"].([]any)) != 1 {
			t.Fatalf("members missing: %s", r.raw)
		}
	})
}
