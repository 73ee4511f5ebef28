package forwardauth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/store"
)

const (
	userEmail    = "ann@example.com"
	userPassword = "ann's long userPassword"
)

func gateway(t *testing.T, trustLoopback bool) (*testenv.Env, *testenv.Node) {
	t.Helper()
	env := testenv.Start(t, func(c *config.Config) {
		if trustLoopback {
			c.TrustedProxies = []string{"127.0.0.1/32"}
		}
		c.ForwardAuth.Rules = []config.Rule{
			{Host: "public.test", Policy: "bypass"},
			{Host: "app.test", Path: "/ops/*", Policy: "one_factor", Groups: []string{"ops"}},
			{Host: "app.test", Policy: "one_factor"},
			{Host: "admin.test", Policy: "two_factor"},
			{Host: "closed.test", Policy: "deny"},
		}
	})
	env.AddUser(t, userEmail, userPassword)
	return env, env.Nodes[0]
}

// ask sends c's cookies to the forward-auth endpoint path with the headers.
func ask(c *testenv.Client, node *testenv.Node, path string, headers map[string]string) *testenv.Response {
	req, _ := http.NewRequest(http.MethodGet, node.URL+path, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return c.Do(req)
}

func nginx(target string) map[string]string {
	return map[string]string{"X-Original-URL": target, "X-Original-Method": "GET", "Remote-User": "admin@evil.test"}
}

func traefik(method, host, uri string) map[string]string {
	return map[string]string{"X-Forwarded-Method": method, "X-Forwarded-Proto": "https", "X-Forwarded-Host": host,
		"X-Forwarded-Uri": uri}
}

func TestDecisions(t *testing.T) {
	env, node := gateway(t, true)
	anon := testenv.NewClient(t)
	c := testenv.NewClient(t)
	c.Login(node, userEmail, userPassword)

	for _, tc := range []struct {
		name   string
		c      *testenv.Client
		target string
		nginx  int
	}{
		{"bypass without a session", anon, "https://public.test/x", 200},
		{"one factor without a session", anon, "https://app.test/x", 401},
		{"one factor with a session", c, "https://app.test/x", 200},
		{"group rule, not a member", c, "https://app.test/ops/panel", 403},
		{"two factors with a userPassword session", c, "https://admin.test/", 401},
		{"deny", c, "https://closed.test/", 403},
		{"default deny", c, "https://unknown.test/", 403},
	} {
		r := ask(tc.c, node, "/auth/request", nginx(tc.target))
		if r.StatusCode != tc.nginx {
			t.Errorf("%s: /auth/request = %d, want %d", tc.name, r.StatusCode, tc.nginx)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", tc.name, r.Header.Get("Cache-Control"))
		}
		// Only the proxy reads a 200; any other answer may reach the
		// browser, with the security headers.
		if csp := r.Header.Get("Content-Security-Policy") != ""; csp != (r.StatusCode != http.StatusOK) {
			t.Errorf("%s: %d answer with Content-Security-Policy %v", tc.name, r.StatusCode, csp)
		}
	}
	if r := ask(c, node, "/auth/start?rd="+url.QueryEscape("https://app.test/x"), nil); r.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("/auth/start (%d), a browser's page, without Content-Security-Policy", r.StatusCode)
	}

	r := ask(c, node, "/auth/request", nginx("https://app.test/x"))
	if got := r.Header.Get("Remote-User"); got != userEmail {
		t.Errorf("Remote-User = %q, want %s (the client's own header must not count)", got, userEmail)
	}
	if r.Header.Get("Remote-Email") != userEmail || r.Header.Get("Remote-Name") != "Test "+userEmail || r.Header.Get("Remote-Groups") != "" {
		t.Errorf("identity headers = %v", r.Header)
	}
	if r := ask(anon, node, "/auth/request", nginx("https://public.test/")); r.Header.Get("Remote-User") != "" {
		t.Error("a bypassed request got identity headers")
	}

	// Joining the group opens the group rule, and the groups header says so.
	st := node.Server.Store
	u, _ := st.UserByEmail(context.Background(), userEmail)
	g := store.Group{Name: "ops"}
	if err := st.CreateGroup(context.Background(), &g); err != nil {
		t.Fatal(err)
	}
	st.AddMember(context.Background(), g.ID, u.ID)
	if r := ask(c, node, "/auth/request", nginx("https://app.test/ops/panel")); r.StatusCode != 200 || r.Header.Get("Remote-Groups") != "ops" {
		t.Errorf("member: %d, groups %q", r.StatusCode, r.Header.Get("Remote-Groups"))
	}

	// Traefik/Caddy: the redirect comes from us, to /auth/start with the
	// original URL.
	f := ask(anon, node, "/auth/forward", traefik("GET", "app.test", "/page?q=1"))
	if f.StatusCode != http.StatusFound || f.Header.Get("Location") != node.URL+"/auth/start?rd="+url.QueryEscape("https://app.test/page?q=1") {
		t.Errorf("/auth/forward without a session = %d %q", f.StatusCode, f.Header.Get("Location"))
	}
	if f := ask(c, node, "/auth/forward", traefik("POST", "app.test", "/form")); f.StatusCode != 200 || f.Header.Get("Remote-User") != userEmail {
		t.Errorf("/auth/forward with a session = %d %v", f.StatusCode, f.Header)
	}
	if f := ask(c, node, "/auth/forward", traefik("GET", "closed.test", "/")); f.StatusCode != 403 {
		t.Errorf("/auth/forward deny = %d", f.StatusCode)
	}
	// Envoy: the original request arrives under the prefix, with the
	// original Host and the browser's cookies (a Go client would pick the
	// cookies by Host, so they are set by hand, as Envoy forwards them).
	envoy := func(method, host, path string) *testenv.Response {
		req, _ := http.NewRequest(method, node.URL+"/auth/envoy"+path, nil)
		req.Host = host
		for _, ck := range c.Cookies(node) {
			req.AddCookie(ck)
		}
		return c.Do(req)
	}
	if r := envoy(http.MethodDelete, "app.test", "/items/3"); r.StatusCode != 200 || r.Header.Get("Remote-User") != userEmail {
		t.Errorf("envoy with a session = %d", r.StatusCode)
	}
	if r := envoy(http.MethodGet, "admin.test", "/"); r.StatusCode != http.StatusFound || !strings.Contains(r.Header.Get("Location"), "/auth/start?rd=") {
		t.Errorf("envoy two factors = %d %q", r.StatusCode, r.Header.Get("Location"))
	}

	// Disabling the user takes effect on the very next request.
	u.Disabled = true
	if err := st.UpdateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if r := ask(c, node, "/auth/request", nginx("https://app.test/x")); r.StatusCode != 401 {
		t.Errorf("disabled user = %d, want 401", r.StatusCode)
	}
	_ = env
}

func TestBadRequests(t *testing.T) {
	_, node := gateway(t, true)
	c := testenv.NewClient(t)
	for name, h := range map[string]map[string]string{
		"no original URL":   {},
		"relative":          {"X-Original-URL": "/x"},
		"other scheme":      {"X-Original-URL": "ftp://app.test/"},
		"credentials":       {"X-Original-URL": "https://a:b@app.test/"},
		"not a method":      {"X-Original-URL": "https://app.test/", "X-Original-Method": "GET /"},
		"control character": {"X-Original-URL": "https://app.test/a\tb"},
	} {
		if r := ask(c, node, "/auth/request", h); r.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, r.StatusCode)
		}
	}
	if r := ask(c, node, "/auth/forward", traefik("GET", "app.test", "//evil.test/x")); r.StatusCode != http.StatusBadRequest {
		t.Errorf("protocol-relative forwarded URI: %d, want 400", r.StatusCode)
	}
}

// TestUntrustedPeerIsIgnored: without trusted_proxies the gateway does not
// believe anyone's forwarded headers, so nobody can ask it about another
// URL than the one they call.
func TestUntrustedPeerIsIgnored(t *testing.T) {
	_, node := gateway(t, false)
	c := testenv.NewClient(t)
	c.Login(node, userEmail, userPassword)
	if r := ask(c, node, "/auth/request", nginx("https://app.test/x")); r.StatusCode != http.StatusBadRequest ||
		r.Header.Get("Remote-User") != "" {
		t.Errorf("untrusted /auth/request = %d, want 400 without identity", r.StatusCode)
	}
	if r := ask(c, node, "/auth/forward", traefik("GET", "app.test", "/")); r.StatusCode != http.StatusBadRequest {
		t.Errorf("untrusted /auth/forward = %d, want 400", r.StatusCode)
	}
}

// TestStartSignsInAndReturns follows a browser through /auth/start: sign
// in, then back to the original URL; and refuses destinations no rule
// names.
func TestStartSignsInAndReturns(t *testing.T) {
	_, node := gateway(t, true)
	c := testenv.NewClient(t)
	target := "https://app.test/deep/page?x=1"
	start := node.URL + "/auth/start?rd=" + url.QueryEscape(target)
	r := c.Get(start)
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?return=") {
		t.Fatalf("/auth/start without a session = %d %q", r.StatusCode, loc)
	}
	ret, _ := url.Parse(loc)
	login := c.Submit(node.URL+loc, node.URL+"/login", url.Values{"email": {userEmail}, "password": {userPassword},
		"return": {ret.Query().Get("return")}})
	back := c.Follow(node, login)
	if back.StatusCode != http.StatusSeeOther || back.Header.Get("Location") != target {
		t.Fatalf("after sign-in = %d %q, want %s", back.StatusCode, back.Header.Get("Location"), target)
	}
	// The portal itself accepts a return to a covered host, and no other.
	for _, tc := range []struct{ ret, want string }{
		{"https://app.test/x", "https://app.test/x"},
		{"https://sub.admin.test.evil.com/", "/"},
		{"https://evil.test/", "/"},
	} {
		if r := c.Get(node.URL + "/login?return=" + url.QueryEscape(tc.ret)); r.Header.Get("Location") != tc.want {
			t.Errorf("/login?return=%s while signed in -> %q, want %q", tc.ret, r.Header.Get("Location"), tc.want)
		}
	}
	for _, bad := range []string{"https://evil.test/", "javascript:alert(1)", "//app.test/", ""} {
		if r := c.Get(node.URL + "/auth/start?rd=" + url.QueryEscape(bad)); r.StatusCode != http.StatusBadRequest {
			t.Errorf("/auth/start?rd=%q = %d, want 400", bad, r.StatusCode)
		}
	}
	// Two factors: a userPassword session is sent to the step-up, which
	// returns to the original URL.
	r = c.Get(node.URL + "/auth/start?rd=" + url.QueryEscape("https://admin.test/"))
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/mfa?c=") {
		t.Errorf("/auth/start for a two-factor host = %d %q, want the step-up", r.StatusCode, loc)
	}
	if r := c.Get(node.URL + "/auth/start?rd=" + url.QueryEscape("https://closed.test/")); r.StatusCode != http.StatusForbidden {
		t.Errorf("/auth/start for a denied host = %d, want 403", r.StatusCode)
	}
}
