package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/enterprise"
	"github.com/portcullis/portcullis/internal/server"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/store"
)

// TestEnterpriseAPIIsTheDirectory drives the gateway through the
// Enterprise API on one node of a cluster and checks the effect on the
// other, where a browser holds a session: batchadd's password signs in
// (a temporary one only to the forced change), batchchangegrp's group
// opens a forward-auth rule that requires it, disableuser ends the session
// at once and blocks the next sign-in, enableuser lets the user back in,
// and resetpassword ends the session and forces a new password.
func TestEnterpriseAPIIsTheDirectory(t *testing.T) {
	env := testenv.StartCluster(t, 2, func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32"}
		c.ForwardAuth.Rules = []config.Rule{{Host: "app.test", Policy: "one_factor", Groups: []string{"ops"}}}
	})
	a, b := env.Nodes[0], env.Nodes[1]
	api := issueEnterpriseSecret(t, a.Server, "8771312")
	const ann, annPW = "ann@example.com", "ann's permanent password"
	const tim, timPW = "tim@example.com", "tim's temporary password"

	api.want(t, a, "batchadd", `[{"username":"`+ann+`","fullname":"Ann Api","password":"`+annPW+`","password_reset_required":false},
		{"username":"`+tim+`","password":"`+timPW+`"}]`, `{"status":"OK"}`)
	c := testenv.NewClient(t)
	enterpriseRedirect(t, c.Login(b, ann, annPW), "/")
	if r := c.Get(b.URL + "/"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, ann) {
		t.Fatalf("portal after sign-in = %d", r.StatusCode)
	}
	fresh := testenv.NewClient(t)
	enterpriseRedirect(t, fresh.Login(b, tim, timPW), "/password")
	enterpriseRedirect(t, fresh.Get(b.URL+"/"), "/password")

	auth := func(c *testenv.Client, want int) *testenv.Response { t.Helper(); return askAppTest(t, c, b, want) }
	auth(c, http.StatusForbidden) // not in ops yet
	api.want(t, a, "batchchangegrp", `[{"username":"`+ann+`","add":["ops"]}]`, `{"status":"OK"}`)
	if r := auth(c, http.StatusOK); r.Header.Get("Remote-User") != ann || !strings.Contains(r.Header.Get("Remote-Groups"), "ops") ||
		r.Header.Get("Remote-Name") != "Ann Api" {
		t.Fatalf("headers after batchchangegrp: %v", r.Header)
	}

	api.want(t, a, "disableuser", `["`+ann+`"]`, `{"status":"success","disabled_users":["`+ann+`"],"unchanged_users":[]}`)
	auth(c, http.StatusUnauthorized)
	enterpriseRedirect(t, c.Get(b.URL+"/"), "/login")
	if r := testenv.NewClient(t).Login(b, ann, annPW); r.StatusCode == http.StatusSeeOther {
		t.Fatal("a user disabled through the API signed in")
	}

	api.want(t, a, "enableuser", `["`+ann+`"]`, `{"status":"success","enabled_users":["`+ann+`"],"unchanged_users":[]}`)
	c = testenv.NewClient(t)
	enterpriseRedirect(t, c.Login(b, ann, annPW), "/")
	auth(c, http.StatusOK)

	api.want(t, a, "resetpassword", `{"username":"`+ann+`"}`, `{"status":"OK"}`)
	auth(c, http.StatusUnauthorized)
	enterpriseRedirect(t, c.Get(b.URL+"/"), "/login")
	c = testenv.NewClient(t)
	enterpriseRedirect(t, c.Login(b, ann, annPW), "/password")
	auth(c, http.StatusUnauthorized) // forward-auth stays closed until the change
	enterpriseRedirect(t, c.Get(b.URL+"/"), "/password")

	// The audit trail the API reads back holds both surfaces' events.
	_, report := api.call(t, b, "reporting", `{"user":"`+ann+`"}`)
	for _, action := range []string{`"Action":"Log in"`, `"Action":"Deactivated User"`, `"Action":"Reactivated User"`,
		`"Action":"Master Password Reset by Super Admin"`, `"Action":"Adding User to Group","Data":"ann@example.com - ops"`} {
		if !strings.Contains(report, action) {
			t.Errorf("reporting for %s lacks %s:\n%s", ann, action, report)
		}
	}
}

// TestEnterpriseAPIBodyLimit: the API's body limit is its own
// (enterprise.max_body_bytes, 32 MiB by default), not max_body_bytes
// (1 MiB), which still bounds every other route.
func TestEnterpriseAPIBodyLimit(t *testing.T) {
	node := testenv.Start(t).Nodes[0]
	api := issueEnterpriseSecret(t, node.Server, "8771312")
	if limit := node.Server.Config.MaxBodyBytes; limit != 1<<20 {
		t.Fatalf("max_body_bytes %d, want the default 1 MiB", limit)
	}
	batch, users := enterpriseBatch(2 << 20)
	api.want(t, node, "batchadd", batch, `{"status":"OK"}`)
	api.want(t, node, "getuserdata", `{"pagesize":1,"pageindex":0,"admin":0}`, "") // status only
	if _, total, err := node.Server.Store.ListUsers(t.Context(), store.UserFilter{}); err != nil || total != users+1 {
		t.Fatalf("%d users after a 2 MB batchadd (%v), want %d and the admin", total, err, users)
	}
	// The sign-in form as a browser posts it (Origin, CSRF token), 2 MB.
	form := url.Values{"email": {"x@example.com"}, "password": {strings.Repeat("p", 2<<20)}}
	if r := testenv.NewClient(t).Submit(node.URL+"/login", node.URL+"/login", form); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MB POST /login = %d, want 413", r.StatusCode)
	}

	small := testenv.Start(t, func(c *config.Config) { c.Enterprise.MaxBodyBytes = 64 << 10 }).Nodes[0]
	api = issueEnterpriseSecret(t, small.Server, "8771312")
	batch, _ = enterpriseBatch(100 << 10)
	status, body := api.call(t, small, "batchadd", batch)
	if status != http.StatusRequestEntityTooLarge || body != `{"status":"FAIL","error":"Request body too large"}` {
		t.Fatalf("over enterprise.max_body_bytes: %d %s", status, body)
	}
	if _, total, _ := small.Server.Store.ListUsers(t.Context(), store.UserFilter{}); total != 1 {
		t.Fatalf("%d users after a refused batch, want the admin alone", total)
	}
}

// enterpriseBatch is a batchadd data array of at least size bytes.
func enterpriseBatch(size int) (string, int) {
	var b strings.Builder
	b.WriteByte('[')
	n := 0
	for ; b.Len() < size; n++ {
		if n > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"username":"user%06d@example.com","fullname":"User %06d","groups":["Staff"],`+
			`"attribs":{"Department":"Engineering","EmployeeNumber":"%06d","objectGUID":"5e2d9c4a-0000-4000-8000-%012d"}}`, n, n, n, n)
	}
	b.WriteByte(']')
	return b.String(), n
}

// enterpriseAPI calls the Enterprise API with a cid and provhash.
type enterpriseAPI struct{ cid, provhash string }

// issueEnterpriseSecret does what `gateway api enterprise-secret` does,
// with cid as the company ID.
func issueEnterpriseSecret(t *testing.T, s *server.Server, cid string) enterpriseAPI {
	t.Helper()
	provhash, hash, err := enterprise.NewSecret(server.EnterpriseSecretKey(s.Master))
	if err != nil {
		t.Fatal(err)
	}
	c := store.Credential{Kind: store.CredentialEnterprise, Name: enterprise.CredentialName, ClientID: cid, SecretHash: hash}
	if err := s.Store.PutCredential(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	return enterpriseAPI{cid: cid, provhash: provhash}
}

// call posts one command as JSON to /enterpriseapi.php; data is JSON text.
func (api enterpriseAPI) call(t *testing.T, node *testenv.Node, cmd, data string) (int, string) {
	t.Helper()
	return enterprisePost(t, node.URL+enterprise.Path, "application/json",
		`{"cid":"`+api.cid+`","provhash":"`+api.provhash+`","cmd":"`+cmd+`","data":`+data+`}`)
}

// want fails unless the command answers 200 with body (any body when "").
func (api enterpriseAPI) want(t *testing.T, node *testenv.Node, cmd, data, body string) {
	t.Helper()
	status, got := api.call(t, node, cmd, data)
	if status != http.StatusOK || body != "" && got != body {
		t.Fatalf("%s: %d %.500s\nwant 200 %s", cmd, status, got, body)
	}
}

func enterprisePost(t *testing.T, u, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func enterpriseRedirect(t *testing.T, r *testenv.Response, prefix string) {
	t.Helper()
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("%s %s = %d to %q, want 303 to %s…", r.Request.Method, r.Request.URL, r.StatusCode, loc, prefix)
	}
}
