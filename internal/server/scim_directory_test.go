package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/store"
)

// TestSCIMIsTheDirectory provisions over SCIM on one node of a cluster and
// checks the effect on another: the SCIM user logs in with the password
// SCIM set, a SCIM group opens a forward-auth rule that requires it, and
// active=false (as Entra ID sends it) ends the session everywhere at once
// and blocks the next login.
func TestSCIMIsTheDirectory(t *testing.T) {
	env := testenv.StartCluster(t, 2, func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32"}
		c.ForwardAuth.Rules = []config.Rule{{Host: "app.test", Policy: "one_factor", Groups: []string{"ops"}}}
	})
	a, b := env.Nodes[0], env.Nodes[1]
	token := issueSCIMToken(t, a.Server, "entra")
	const email, password = "scim.user@example.com", "a password SCIM set for me"

	user := scimDo(t, a, token, "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"`+email+`","password":"`+password+`","name":{"givenName":"Sam","familyName":"Cim"},"active":true}`, http.StatusCreated)
	id := jsonField(t, user, "id")

	c := testenv.NewClient(t)
	if r := c.Login(b, email, password); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the SCIM password = %d:\n%s", r.StatusCode, r.Body)
	}
	auth := func(want int) *testenv.Response { t.Helper(); return askAppTest(t, c, b, want) }
	auth(http.StatusForbidden) // not in ops yet

	scimDo(t, a, token, "POST", "/scim/v2/Groups", `{"displayName":"ops","members":[{"value":"`+id+`"}]}`, http.StatusCreated)
	if r := auth(http.StatusOK); r.Header.Get("Remote-User") != email || !strings.Contains(r.Header.Get("Remote-Groups"), "ops") ||
		r.Header.Get("Remote-Name") != "Sam Cim" {
		t.Fatalf("headers after the SCIM group: %v", r.Header)
	}

	scimDo(t, a, token, "PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":"False"}]}`, http.StatusOK)
	auth(http.StatusUnauthorized)
	again := testenv.NewClient(t)
	if r := again.Login(b, email, password); r.StatusCode == http.StatusSeeOther {
		t.Fatal("a user made inactive over SCIM logged in")
	}

	events, err := a.Server.Store.ListEvents(t.Context(), store.EventFilter{Actor: "scim:entra"})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	want := []string{audit.UserDisabled, audit.UserUpdated, audit.GroupMemberAdd, audit.GroupCreated, audit.UserCreated}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Fatalf("audit trail %v, want %v (newest first)", types, want)
	}
}

// askAppTest asks the node's /auth/request, as nginx would, whether c may
// reach https://app.test/, and fails unless the answer is want.
func askAppTest(t *testing.T, c *testenv.Client, node *testenv.Node, want int) *testenv.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, node.URL+"/auth/request", nil)
	req.Header.Set("X-Original-URL", "https://app.test/")
	r := c.Do(req)
	if r.StatusCode != want {
		t.Fatalf("/auth/request = %d, want %d", r.StatusCode, want)
	}
	return r
}

func scimDo(t *testing.T, node *testenv.Node, token, method, path, body string, want int) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, node.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d, want %d:\n%s", method, path, resp.StatusCode, want, raw)
	}
	return string(raw)
}

func jsonField(t *testing.T, doc, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	v, ok := m[field].(string)
	if !ok {
		t.Fatalf("no string %s in %s", field, doc)
	}
	return v
}
