package testenv_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/testenv"
)

// forwardAuth asks node's Traefik/Caddy endpoint about GET https://host+uri
// with c's cookies, as the proxy would on the browser's behalf.
func forwardAuth(c *testenv.Client, node *testenv.Node, host, uri string) *testenv.Response {
	req, _ := http.NewRequest(http.MethodGet, node.URL+"/auth/forward", nil)
	req.Header.Set("X-Forwarded-Method", http.MethodGet)
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", host)
	req.Header.Set("X-Forwarded-Uri", uri)
	return c.Do(req)
}

// wantForwardRedirect checks a browser redirect back to the protected URL.
func wantForwardRedirect(t *testing.T, r *testenv.Response, target string) {
	t.Helper()
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != target {
		t.Fatalf("%s %s = %d to %q, want 303 to %s\n%s", r.Request.Method, r.Request.URL, r.StatusCode,
			r.Header.Get("Location"), target, r.Body)
	}
}

// wantForwardAllowed checks that the proxy may let alice through to host.
func wantForwardAllowed(t *testing.T, c *testenv.Client, node *testenv.Node, host, uri string) {
	t.Helper()
	if r := forwardAuth(c, node, host, uri); r.StatusCode != http.StatusOK || r.Header.Get("Remote-User") != aliceEmail {
		t.Fatalf("/auth/forward for %s%s = %d, Remote-User %q", host, uri, r.StatusCode, r.Header.Get("Remote-User"))
	}
}

// TestBrokerForwardAuthViaUpstream protects app.test (one factor) and
// admin.test (two factors) with B's forward-auth. A browser without a
// session is sent to B's login, signs in through A, and comes back to the
// original URL; admin.test then steps it up at B and comes back again.
func TestBrokerForwardAuthViaUpstream(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32"}
		c.ForwardAuth.Rules = []config.Rule{
			{Host: "app.test", Policy: "one_factor"},
			{Host: "admin.test", Policy: "two_factor"},
		}
	})
	ch := newChain(t, chainOpts{settings: jit, broker: b})
	c := testenv.NewClient(t)
	target := "https://app.test/page?q=1"

	f := forwardAuth(c, ch.bn, "app.test", "/page?q=1")
	start := ch.bn.URL + "/auth/start?rd=" + url.QueryEscape(target)
	if f.StatusCode != http.StatusFound || f.Header.Get("Location") != start {
		t.Fatalf("/auth/forward without a session = %d to %q, want 302 to %s", f.StatusCode, f.Header.Get("Location"), start)
	}
	login := c.Follow(ch.bn, c.Get(start))
	if ret := login.Request.URL.Query().Get("return"); !strings.Contains(ret, url.QueryEscape(target)) {
		t.Fatalf("login page %s does not return to %s", login.Request.URL, target)
	}
	wantForwardRedirect(t, ch.viaUpstream(t, c, login), target)
	wantForwardAllowed(t, c, ch.bn, "app.test", "/page?q=1")

	admin := "https://admin.test/console"
	f = forwardAuth(c, ch.bn, "admin.test", "/console")
	if f.StatusCode != http.StatusFound {
		t.Fatalf("/auth/forward for two factors after one = %d", f.StatusCode)
	}
	choice := testenv.FollowSAML(c, c.Get(f.Header.Get("Location")))
	atPath(t, choice, ch.bn, "/mfa")
	_, end := testenv.EnrolTOTPOnFirstUse(t, c, ch.bn, choice)
	wantForwardRedirect(t, end, admin)
	wantForwardAllowed(t, c, ch.bn, "admin.test", "/console")
}
