package scim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/store/storetest/backends"
)

func bulkOps(t *testing.T, r reply) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, x := range r.body["Operations"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func TestBulkWithReferences(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		// The group refers to a user created after it: a forward reference.
		r := s.do(t, "POST", "/scim/v2/Bulk", `{"schemas":["`+bulkReqSchema+`"],"failOnErrors":0,"Operations":[
			{"method":"POST","path":"/Groups","bulkId":"g1","data":{"displayName":"Bulk","members":[{"value":"bulkId:u1"}]}},
			{"method":"POST","path":"/Users","bulkId":"u1","data":{"userName":"bulk@example.com"}},
			{"method":"PATCH","path":"/Users/bulkId:u1","data":{"Operations":[{"op":"replace","path":"title","value":"T"}]}},
			{"method":"POST","path":"/Users","bulkId":"dup","data":{"userName":"BULK@example.com"}},
			{"method":"DELETE","path":"/Users/424242"},
			{"method":"POST","path":"/Users","data":{"userName":"nobulkid@example.com"}},
			{"method":"GET","path":"/Schemas"}]}`).want(t, http.StatusOK)
		ops := bulkOps(t, r)
		got := map[string]string{}
		for _, op := range ops {
			got[fmt.Sprint(op["method"], " ", op["bulkId"])] += fmt.Sprint(op["status"]) + " "
		}
		want := map[string]string{"POST g1": "201 ", "POST u1": "201 ", "PATCH <nil>": "200 ", "POST dup": "409 ",
			"DELETE <nil>": "404 ", "POST <nil>": "400 ", "GET <nil>": "400 "}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("statuses %v, want %v\n%s", got, want, r.raw)
		}
		u, err := s.st.UserByEmail(t.Context(), "bulk@example.com")
		if err != nil || u.Attributes["title"] != "T" {
			t.Fatalf("user %+v, %v", u, err)
		}
		g, err := s.st.GroupByName(t.Context(), "Bulk")
		if err != nil {
			t.Fatal(err)
		}
		if got := memberSet(t, s, fmt.Sprint(g.ID)); !slices.Equal(got, []string{fmt.Sprint(u.ID)}) {
			t.Fatalf("bulkId reference: members %v, want [%d]", got, u.ID)
		}
		for _, op := range ops {
			if op["bulkId"] == "u1" && !strings.HasSuffix(op["location"].(string), fmt.Sprintf("/scim/v2/Users/%d", u.ID)) {
				t.Fatalf("location %v", op["location"])
			}
			if op["status"] == "409" && op["response"].(map[string]any)["scimType"] != uniqueness {
				t.Fatalf("409 response %v", op["response"])
			}
		}
	})
}

func TestBulkFailOnErrorsAndLimits(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	r := s.do(t, "POST", "/scim/v2/Bulk", `{"failOnErrors":1,"Operations":[
		{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":""}},
		{"method":"POST","path":"/Users","bulkId":"b","data":{"userName":"never@example.com"}}]}`).want(t, http.StatusOK)
	if ops := bulkOps(t, r); len(ops) != 1 || ops[0]["status"] != "400" {
		t.Fatalf("failOnErrors 1: %s", r.raw)
	}
	if _, err := s.st.UserByEmail(t.Context(), "never@example.com"); err == nil {
		t.Fatal("an operation after failOnErrors ran")
	}
	r = s.do(t, "POST", "/scim/v2/Bulk", `{"Operations":[{"method":"POST","path":"/Users","bulkId":"x","data":{"userName":"x@example.com","manager":"bulkId:nobody"}}]}`)
	if ops := bulkOps(t, r); ops[0]["status"] != "400" || !strings.Contains(fmt.Sprint(ops[0]["response"]), "nobody") {
		t.Fatalf("unresolved bulkId: %s", r.raw)
	}
	many := strings.Repeat(`{"method":"DELETE","path":"/Users/1"},`, maxOperations)
	r = s.do(t, "POST", "/scim/v2/Bulk", `{"Operations":[`+many+`{"method":"DELETE","path":"/Users/1"}]}`)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.str("detail"), "maxOperations") {
		t.Fatalf("over maxOperations: %d %s", r.status, r.raw)
	}
	big := `{"Operations":[{"method":"POST","path":"/Users","bulkId":"x","data":{"userName":"` + strings.Repeat("a", maxPayloadSize) + `"}}]}`
	r = s.do(t, "POST", "/scim/v2/Bulk", big)
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.str("detail"), "maxPayloadSize") {
		t.Fatalf("over maxPayloadSize: %d %s", r.status, r.raw)
	}
	s.do(t, "POST", "/scim/v2/Bulk", `{"Operations":`).want(t, http.StatusBadRequest)
	s.do(t, "GET", "/scim/v2/Bulk", "").want(t, http.StatusMethodNotAllowed)
}

// TestBulkPayloadFollowsBodyLimit: with a gateway body limit under 1 MiB,
// the advertised maxPayloadSize is that limit, and it is what is enforced.
func TestBulkPayloadFollowsBodyLimit(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	s.h.MaxBody = 4096
	r := s.do(t, "GET", "/scim/v2/ServiceProviderConfig", "").want(t, http.StatusOK)
	if got := r.body["bulk"].(map[string]any)["maxPayloadSize"]; got != float64(4096) {
		t.Fatalf("advertised maxPayloadSize %v, want 4096", got)
	}
	big := `{"Operations":[{"method":"POST","path":"/Users","bulkId":"x","data":{"userName":"` + strings.Repeat("a", 5000) + `"}}]}`
	if r := s.do(t, "POST", "/scim/v2/Bulk", big); r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.str("detail"), "4096") {
		t.Fatalf("over the body limit: %d %s", r.status, r.raw)
	}
}

// TestEntraOptInFlag: Entra ID's tenant URL may carry ?aadOptscim062020,
// which must not disturb routing or the query.
func TestEntraOptInFlag(t *testing.T) {
	s := newServer(t, backends.SQLite(t))
	createUser(t, s, "flag@example.com")
	r := s.do(t, "GET", "/scim/v2/Users?aadOptscim062020&filter="+strings.ReplaceAll(`userName eq "flag@example.com"`, " ", "%20"), "").want(t, http.StatusOK)
	if r.body["totalResults"] != float64(1) {
		t.Fatalf("%s", r.raw)
	}
}
