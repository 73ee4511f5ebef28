package forwardauth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/internal/testenv"
)

// The browser's side of the proxy tests: a client that keeps cookies and
// resolves every name to loopback signs in through the gateway, sets up an
// authenticator app, and checks what reaches the app through the proxy.
// The app is testenv's (EnrolTOTPOnFirstUse, SubmitTOTP), so its codes
// come from the tests' RFC 6238 reference, not from mfa/totp.

// browser is a client whose every host name resolves to loopback.
func (st *stack) browser(t *testing.T) *testenv.Client {
	c := testenv.NewClient(t)
	c.DialLoopback()
	return c
}

// getWith fetches u with extra request headers, given as name, value, ….
func getWith(t *testing.T, c *testenv.Client, u string, hdr ...string) *testenv.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return c.Do(req)
}

// walk follows redirects to any host, at most ten, and returns the first
// answer that is not one.
func walk(t *testing.T, c *testenv.Client, r *testenv.Response) *testenv.Response {
	t.Helper()
	for i := 0; i < 10 && r.StatusCode/100 == 3; i++ {
		loc, err := r.Request.URL.Parse(r.Header.Get("Location"))
		if err != nil {
			t.Fatalf("redirect from %s to %q: %v", r.Request.URL, r.Header.Get("Location"), err)
		}
		r = c.Get(loc.String())
	}
	return r
}

// wantSignIn checks that r sends the browser to the gateway's
// /auth/start for target, and that the app was not reached.
func (st *stack) wantSignIn(t *testing.T, r *testenv.Response, target string, hitsBefore int64) {
	t.Helper()
	loc, err := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusFound || err != nil || loc.Scheme+"://"+loc.Host != st.site.AuthURL ||
		loc.Path != "/auth/start" || loc.Query().Get("rd") != target {
		t.Fatalf("%s = %d to %q, want 302 to %s/auth/start?rd=%s\n%s", r.Request.URL, r.StatusCode,
			r.Header.Get("Location"), st.site.AuthURL, target, r.Body)
	}
	if n := st.app.Hits(); n != hitsBefore {
		t.Fatalf("the app was reached (%d requests) before sign-in", n-hitsBefore)
	}
}

// wantApp checks that r is the app's answer with the user's identity.
func wantApp(t *testing.T, r *testenv.Response, uri string) {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s = %d, want the app:\n%s", r.Request.URL, r.StatusCode, r.Body)
	}
	got := testenv.Echoed(t, r.Body)
	want := map[string]string{"Remote-User": ada, "Remote-Email": ada, "Remote-Name": "Test " + ada,
		"Remote-Groups": "staff"}
	for k, v := range want {
		if vals := got.Header.Values(k); len(vals) != 1 || vals[0] != v {
			t.Errorf("the app got %s = %q, want %q", k, vals, v)
		}
	}
	if got.URI != uri {
		t.Errorf("the app got %s, want %s", got.URI, uri)
	}
}

// wantAnonymous checks that r is the app's answer with no identity: the
// Remote-* headers absent or empty, whatever the client sent.
func wantAnonymous(t *testing.T, r *testenv.Response) {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s = %d, want the app:\n%s", r.Request.URL, r.StatusCode, r.Body)
	}
	got := testenv.Echoed(t, r.Body)
	for _, k := range []string{"Remote-User", "Remote-Email", "Remote-Name", "Remote-Groups"} {
		if v := strings.Join(got.Header.Values(k), ","); v != "" {
			t.Errorf("the app got %s = %q on a public path, want none", k, v)
		}
	}
}

// password goes from the gateway's /auth/start (start, the proxy's
// redirect followed once) through the login form, and returns the page
// the browser lands on after it.
func (st *stack) password(t *testing.T, c *testenv.Client, start *testenv.Response) *testenv.Response {
	t.Helper()
	login := walk(t, c, start)
	if login.Request.URL.Path != "/login" {
		t.Fatalf("/auth/start led to %s %d, want the login page:\n%s", login.Request.URL, login.StatusCode, login.Body)
	}
	r := c.PostForm(st.node.URL+"/login", url.Values{"_csrf": {c.CSRF(login)}, "email": {ada},
		"password": {adaPassword}, "return": {login.Request.URL.Query().Get("return")}})
	return walk(t, c, r)
}

// wantBack checks that r, the answer to the last form, sends the browser
// back to target.
func wantBack(t *testing.T, r *testenv.Response, target string) {
	t.Helper()
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != target {
		t.Fatalf("%s = %d to %q, want 303 back to %s:\n%s", r.Request.URL, r.StatusCode, loc, target, r.Body)
	}
}

// logout signs the browser out at the gateway.
func (st *stack) logout(t *testing.T, c *testenv.Client) {
	t.Helper()
	if r := c.Submit(st.node.URL+"/logout", st.node.URL+"/logout", url.Values{}); r.StatusCode != http.StatusOK {
		t.Fatalf("POST /logout = %d:\n%s", r.StatusCode, r.Body)
	}
}

// disable disables the user in the store, as an administrator would.
func (st *stack) disable(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	u, err := st.node.Server.Store.UserByEmail(ctx, ada)
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if err := st.node.Server.Store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
}

// journey runs the browser's whole story against the proxy at appURL
// (http://app.example.test:PORT), which must answer a browser without a
// session with a 302 to the gateway's /auth/start.
func (st *stack) journey(t *testing.T, appURL string) {
	c := st.browser(t)
	// A query that survives only if every hop encodes it properly.
	const uri = "/dashboard?q=a+b%26c&tab=%2Fx&empty="
	target := appURL + uri

	// No session: sign in first, whatever the client claims to be.
	st.wantSignIn(t, getWith(t, c, target, "Remote-User", "admin@evil"), target, 0)
	first := getWith(t, c, target)
	st.wantSignIn(t, first, target, 0)
	// A client-sent X-Original-URL naming a public path changes nothing.
	st.wantSignIn(t, getWith(t, c, target, "X-Original-URL", appURL+"/public/x", "X-Forwarded-Uri", "/public/x"), target, 0)
	// Public paths need no session and carry no identity.
	wantAnonymous(t, getWith(t, c, appURL+"/public/x", "Remote-User", "admin@evil", "Remote-Groups", "admins"))

	// Password, then an authenticator app set up on first use, then back
	// to the very URL. (EnrolTOTPOnFirstUse follows loopback redirects
	// only: app.example.test is not one, so r is the gateway's 303.)
	app, r := testenv.EnrolTOTPOnFirstUse(t, c, st.node, st.password(t, c, c.Get(first.Header.Get("Location"))))
	wantBack(t, r, target)
	wantApp(t, c.Get(target), uri)
	wantApp(t, getWith(t, c, appURL+"/api/x", "Remote-User", "admin@evil", "Remote-Groups", "admins"), "/api/x")

	// A path rule for a group the user is not in.
	hits := st.app.Hits()
	if r := c.Get(appURL + "/admin/users"); r.StatusCode != http.StatusForbidden || st.app.Hits() != hits {
		t.Errorf("/admin/users without group admins = %d (app reached %d times), want 403", r.StatusCode,
			st.app.Hits()-hits)
	}

	// Signed out: back to sign-in.
	st.logout(t, c)
	st.wantSignIn(t, c.Get(target), target, st.app.Hits())

	// Signed in with the password only, at the gateway's own page: the
	// proxy sends the browser to step up, with the app's code for the step
	// after the enrolment's. (The gateway takes each 30 s step once, within
	// ±1 step of now: the enrolment's code and this one are all a test
	// gets without waiting.)
	if r := c.Login(st.node, ada, adaPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login = %d:\n%s", r.StatusCode, r.Body)
	}
	r = c.Get(target)
	st.wantSignIn(t, r, target, st.app.Hits())
	stepUp := walk(t, c, c.Get(r.Header.Get("Location")))
	wantBack(t, testenv.SubmitTOTP(t, c, st.node, stepUp, app.Code()), target)
	wantApp(t, c.Get(target), uri)
	if st.node.Server.Memo != nil { // Redis sessions: two factors from memory too
		st.node.WantMemoHit(t, func() int { return c.Get(target).StatusCode }, nil)
	}

	// Disabled in the directory: the very next request is refused.
	st.disable(t)
	st.wantSignIn(t, c.Get(target), target, st.app.Hits())
}
