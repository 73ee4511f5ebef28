package scim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/store/storetest/backends"
)

func createGroup(t *testing.T, s *server, name string, memberIDs ...string) string {
	t.Helper()
	return s.do(t, "POST", "/scim/v2/Groups", `{"schemas":["`+GroupSchema+`"],"displayName":"`+name+`","members":`+members(memberIDs...)+`}`).
		want(t, http.StatusCreated).str("id")
}

func members(ids ...string) string {
	out := "["
	for i, id := range ids {
		if i > 0 {
			out += ","
		}
		out += `{"value":"` + id + `"}`
	}
	return out + "]"
}

// memberSet is the group's members in the store, as sorted ids.
func memberSet(t *testing.T, s *server, gid string) []string {
	t.Helper()
	n, _ := strconv.ParseInt(gid, 10, 64)
	all, err := s.st.GroupMembers(t.Context(), []int64{n})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range all[n] {
		ids = append(ids, strconv.FormatInt(m.UserID, 10))
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestGroupLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		a, b, c := createUser(t, s, "a@example.com"), createUser(t, s, "b@example.com"), createUser(t, s, "c@example.com")
		r := s.do(t, "POST", "/scim/v2/Groups", `{"displayName":"Eng","externalId":"g-1","members":[{"value":"`+a+`","display":"ignored"}]}`).
			want(t, http.StatusCreated)
		gid := r.str("id")
		if r.header.Get("Location") != s.url+"/scim/v2/Groups/"+gid || fmt.Sprint(r.body["members"]) !=
			fmt.Sprintf("[map[$ref:%s/scim/v2/Users/%s display:a@example.com type:User value:%s]]", s.url, a, a) {
			t.Fatalf("created: %s", r.raw)
		}
		s.do(t, "POST", "/scim/v2/Groups", `{"displayName":"eng"}`).want(t, http.StatusConflict)

		patch := func(ops string, status int) reply {
			t.Helper()
			return s.do(t, "PATCH", "/scim/v2/Groups/"+gid, patchPrefix+ops+`}`).want(t, status)
		}
		r = patch(`[{"op":"Add","path":"members","value":[{"value":"`+b+`"},{"value":"`+c+`"}]}]`, http.StatusNoContent)
		if r.header.Get("ETag") == "" || len(r.raw) != 0 {
			t.Fatalf("204: %v %s", r.header, r.raw)
		}
		patch(`[{"op":"Remove","path":"members","value":[{"value":"`+a+`"}]}]`, http.StatusNoContent) // Entra ID
		if got := memberSet(t, s, gid); !slices.Equal(got, sorted(b, c)) {
			t.Fatalf("members %v, want %v", got, sorted(b, c))
		}
		patch(`[{"op":"remove","path":"members[value eq \"`+b+`\"]"}]`, http.StatusNoContent)
		patch(`[{"op":"remove","path":"members[value eq \"`+b+`\"]"}]`, http.StatusNoContent) // again: nothing
		patch(`[{"op":"replace","path":"members","value":[{"value":"`+a+`"},{"value":"`+b+`"}]}]`, http.StatusNoContent)
		if got := memberSet(t, s, gid); !slices.Equal(got, sorted(a, b)) {
			t.Fatalf("members after replace %v, want %v", got, sorted(a, b))
		}
		patch(`[{"op":"remove","path":"members[display sw \"b@\"]"}]`, http.StatusNoContent)
		r = s.do(t, "PATCH", "/scim/v2/Groups/"+gid+"?attributes=displayName,members", patchPrefix+
			`[{"op":"Replace","path":"displayName","value":"Engineering"},{"op":"replace","value":{"externalId":"g-2","id":"x"}}]}`)
		if r.status != http.StatusBadRequest || r.str("scimType") != mutability {
			t.Fatalf("replace of id in a value object: %d %s", r.status, r.raw)
		}
		r = s.do(t, "PATCH", "/scim/v2/Groups/"+gid+"?attributes=displayName,members", patchPrefix+
			`[{"op":"Replace","path":"displayName","value":"Engineering"},{"op":"replace","value":{"externalId":"g-2"}}]}`).want(t, http.StatusOK)
		if r.str("displayName") != "Engineering" || r.body["externalId"] != nil || len(r.body["members"].([]any)) != 1 {
			t.Fatalf("200 with attributes: %s", r.raw)
		}
		g, _ := s.st.GroupByName(t.Context(), "engineering")
		if g.ExternalID != "g-2" {
			t.Fatalf("external ID %q", g.ExternalID)
		}
		r = s.do(t, "GET", "/scim/v2/Groups/"+gid+"?excludedAttributes=members", "").want(t, http.StatusOK)
		if _, ok := r.body["members"]; ok || r.str("displayName") != "Engineering" || r.header.Get("ETag") != r.str("meta.version") {
			t.Fatalf("GET without members: %s", r.raw)
		}
		s.do(t, "DELETE", "/scim/v2/Groups/"+gid, "").want(t, http.StatusNoContent)
		s.do(t, "GET", "/scim/v2/Groups/"+gid, "").want(t, http.StatusNotFound)
		for typ, want := range map[string]int{audit.GroupCreated: 1, audit.GroupMemberAdd: 5, audit.GroupMemberDel: 4, audit.GroupUpdated: 1, audit.GroupDeleted: 1} {
			events, _ := s.st.ListEvents(t.Context(), store.EventFilter{Types: []string{typ}, Actor: "scim:okta"})
			if len(events) != want {
				t.Errorf("%d %s events, want %d", len(events), typ, want)
			}
		}
	})
}

func TestGroupRefusalsChangeNothing(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	a := createUser(t, s, "a@example.com")
	gid := createGroup(t, s, "G", a)
	createGroup(t, s, "Taken")
	for _, c := range []struct {
		ops      string
		status   int
		scimType string
	}{
		{`[{"op":"add","path":"members","value":[{"value":"` + a + `"},{"value":"9999"}]}]`, 400, invalidValue},
		{`[{"op":"add","path":"members","value":[{"value":"` + gid + `","type":"Group"}]}]`, 400, invalidValue},
		{`[{"op":"replace","path":"members","value":[{"value":"x"}]}]`, 400, invalidValue},
		{`[{"op":"replace","path":"displayName","value":"taken"}]`, 409, uniqueness},
		{`[{"op":"remove","path":"displayName"}]`, 400, invalidValue},
		{`[{"op":"replace","path":"members","value":[]},{"op":"replace","path":"id","value":"999"}]`, 400, mutability},
		{`[{"op":"add","path":"members[value eq \"1\"]","value":{"value":"1"}}]`, 400, invalidPath},
	} {
		r := s.do(t, "PATCH", "/scim/v2/Groups/"+gid, patchPrefix+c.ops+`}`)
		if r.status != c.status || r.str("scimType") != c.scimType {
			t.Errorf("%s: %d %s", c.ops, r.status, r.raw)
		}
	}
	if got := memberSet(t, s, gid); !slices.Equal(got, []string{a}) {
		t.Fatalf("members after refusals: %v", got)
	}
	if g, _ := s.st.GroupByName(t.Context(), "G"); g.Version != 2 {
		t.Fatalf("version %d after refusals, want 2", g.Version)
	}
	s.do(t, "POST", "/scim/v2/Groups", `{"displayName":"New","members":[{"value":"777"}]}`).want(t, http.StatusBadRequest)
	if _, err := s.st.GroupByName(t.Context(), "New"); err == nil {
		t.Fatal("a refused POST left a group behind")
	}
	s.do(t, "PATCH", "/scim/v2/Groups/424242", patchPrefix+`[{"op":"add","path":"members","value":[]}]}`).want(t, http.StatusNotFound)
}

func TestGroupReplace(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		a, b := createUser(t, s, "a@example.com"), createUser(t, s, "b@example.com")
		gid := createGroup(t, s, "G", a)
		r := s.do(t, "PUT", "/scim/v2/Groups/"+gid, `{"displayName":"G2","members":[{"value":"`+b+`"}]}`).want(t, http.StatusOK)
		if r.str("displayName") != "G2" || len(r.body["members"].([]any)) != 1 || !slices.Equal(memberSet(t, s, gid), []string{b}) {
			t.Fatalf("PUT: %s", r.raw)
		}
	})
}

// TestConcurrentMemberPatches has several clients add and remove members of
// one group at once: every change must be there at the end.
func TestConcurrentMemberPatches(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		const clients, each = 4, 5
		var ids []string
		for i := range clients * each {
			ids = append(ids, createUser(t, s, fmt.Sprintf("u%d@example.com", i)))
		}
		keep := createUser(t, s, "keep@example.com")
		gone := createUser(t, s, "gone@example.com")
		gid := createGroup(t, s, "Busy", keep, gone)
		var wg sync.WaitGroup
		errs := make(chan string, clients*each+1)
		for c := range clients {
			wg.Go(func() {
				for _, id := range ids[c*each : (c+1)*each] {
					body := patchPrefix + `[{"op":"add","path":"members","value":[{"value":"` + id + `"}]}]}`
					if r := s.do(t, "PATCH", "/scim/v2/Groups/"+gid, body); r.status != http.StatusNoContent {
						errs <- fmt.Sprintf("add %s: %d %s", id, r.status, r.raw)
					}
				}
			})
		}
		wg.Go(func() {
			body := patchPrefix + `[{"op":"remove","path":"members[value eq \"` + gone + `\"]"}]}`
			if r := s.do(t, "PATCH", "/scim/v2/Groups/"+gid, body); r.status != http.StatusNoContent {
				errs <- fmt.Sprintf("remove: %d %s", r.status, r.raw)
			}
		})
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		if got := memberSet(t, s, gid); !slices.Equal(got, sorted(append(slices.Clone(ids), keep)...)) {
			t.Fatalf("members %v, want every added one and %s", got, keep)
		}
		g, _ := s.st.GroupByName(t.Context(), "Busy")
		if want := int64(2 + clients*each + 1); g.Version != want { // created, its members, one per PATCH
			t.Fatalf("version %d, want %d: one per change", g.Version, want)
		}
	})
}

// TestConcurrentIfMatch has clients race with the same ETag: exactly one
// wins, the others get 412.
func TestConcurrentIfMatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		gid := createGroup(t, s, "Race")
		etag := s.do(t, "GET", "/scim/v2/Groups/"+gid, "").want(t, http.StatusOK).header.Get("ETag")
		const clients = 5
		statuses := make(chan int, clients)
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				body := patchPrefix + fmt.Sprintf(`[{"op":"replace","path":"displayName","value":"Race %d"}]}`, i)
				statuses <- s.do(t, "PATCH", "/scim/v2/Groups/"+gid, body, "If-Match", etag).status
			})
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for st := range statuses {
			count[st]++
		}
		if count[http.StatusNoContent] != 1 || count[http.StatusPreconditionFailed] != clients-1 {
			t.Fatalf("statuses %v, want one 204 and %d 412", count, clients-1)
		}
	})
}
