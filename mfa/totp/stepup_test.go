package totp_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/mfa/totp"
)

// stepUpPage signs a new browser in on node and follows an SP-initiated
// login to the TOTP page, returning the client, the page and its
// continuation.
func stepUpPage(t *testing.T, node *testenv.Node, sp *testenv.SP, opts ...testenv.AuthnOption) (*testenv.Client, *testenv.Response, string) {
	t.Helper()
	c := testenv.NewClient(t)
	c.Login(node, email, password)
	page := c.Follow(node, c.Get(sp.AuthnRequestURL("relay", opts...)))
	tok := hiddenC.FindStringSubmatch(page.Body)
	if page.Request.URL.Path != "/mfa/totp" || tok == nil {
		t.Fatalf("step-up went to %s, want the TOTP page:\n%s", page.Request.URL, page.Body)
	}
	return c, page, html.UnescapeString(tok[1])
}

// TestFailuresThrottledAcrossNodes proves the second-factor failure budget
// is shared by every node: wrong codes sent to two nodes in turn add up,
// and at the limit both nodes refuse even the right code.
func TestFailuresThrottledAcrossNodes(t *testing.T) {
	env := testenv.StartCluster(t, 2, func(c *config.Config) { c.MFA.MaxFailuresPerUser = 4 })
	env.AddUser(t, email, password)
	sp := testenv.NewSP(t, testenv.SPOptions{})
	env.AddSAMLApp(t, "App", sp, "required", nil)
	setup := testenv.NewClient(t)
	setup.Login(env.Nodes[0], email, password)
	app, _ := confirmEnrolment(t, setup, env.Nodes[0], setup.Get(env.Nodes[0].URL+"/mfa/totp/enrol"))

	type browser struct {
		c    *testenv.Client
		page *testenv.Response
		tok  string
	}
	var bs []browser
	for _, node := range env.Nodes {
		c, page, tok := stepUpPage(t, node, sp)
		bs = append(bs, browser{c, page, tok})
	}
	wrong := "000000"
	if wrong == app.code() {
		wrong = "111111"
	}
	for i := range 4 {
		b, node := bs[i%2], env.Nodes[i%2]
		r := b.c.PostForm(node.URL+"/mfa/totp", url.Values{"_csrf": {b.c.CSRF(b.page)}, "c": {b.tok}, "code": {wrong}})
		want := http.StatusUnauthorized
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if r.StatusCode != want {
			t.Fatalf("wrong code %d on node %d = %d, want %d", i+1, i%2, r.StatusCode, want)
		}
	}
	for i, b := range bs {
		r := b.c.PostForm(env.Nodes[i].URL+"/mfa/totp", url.Values{"_csrf": {b.c.CSRF(b.page)}, "c": {b.tok}, "code": {app.code()}})
		if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Errorf("right code on node %d at the limit = %d (Retry-After %q), want 429", i, r.StatusCode, r.Header.Get("Retry-After"))
		}
	}
}

// TestForceAuthnAsksForTheFactorAgain: an app that requires MFA and sends
// ForceAuthn gets a password and a second factor presented after its
// request, even from a session that did both minutes ago.
func TestForceAuthnAsksForTheFactorAgain(t *testing.T) {
	env := testenv.Start(t)
	node := env.Nodes[0]
	env.AddUser(t, email, password)
	sp := testenv.NewSP(t, testenv.SPOptions{})
	env.AddSAMLApp(t, "App", sp, "required", nil)
	c := testenv.NewClient(t)
	c.Login(node, email, password)
	app, _ := confirmEnrolment(t, c, node, c.Get(node.URL+"/mfa/totp/enrol"))

	// The session has a password and a fresh TOTP: an ordinary request
	// goes straight through.
	if r := c.Get(sp.AuthnRequestURL("plain")); r.StatusCode != http.StatusOK {
		t.Fatalf("plain SSO after enrolment = %d, want the SAML POST page", r.StatusCode)
	}
	first := c.Get(sp.AuthnRequestURL("forced", testenv.ForceAuthn()))
	requestID := sp.LastRequestID()
	loc := first.Header.Get("Location")
	if first.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?prompt=login") {
		t.Fatalf("ForceAuthn = %d %q, want the password again", first.StatusCode, loc)
	}
	ret, _ := url.Parse(loc)
	login := c.Submit(node.URL+loc, node.URL+"/login", url.Values{"email": {email}, "password": {password},
		"return": {ret.Query().Get("return")}})
	page := c.Follow(node, login)
	tok := hiddenC.FindStringSubmatch(page.Body)
	if page.Request.URL.Path != "/mfa/totp" || tok == nil {
		t.Fatalf("after the forced password, %s, want the TOTP page again:\n%s", page.Request.URL, page.Body)
	}
	// The code of the step before the enrolment's is still in the window
	// and unused.
	code := totp.RFCCode(app.secret, app.at.Add(-30*time.Second), 6)
	r := c.PostForm(node.URL+"/mfa/totp", url.Values{"_csrf": {c.CSRF(page)}, "c": {html.UnescapeString(tok[1])}, "code": {code}})
	checkMFALogin(t, sp, testenv.FollowSAML(c, r), requestID, "forced")
}
