package totp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/internal/testenv/totpref"
)

// stepUpPage signs a new browser in on node and follows an SP-initiated
// login to the page it stops at (the TOTP page, which SubmitTOTP checks).
func stepUpPage(t *testing.T, node *testenv.Node, sp *testenv.SP) (*testenv.Client, *testenv.Response) {
	t.Helper()
	c := testenv.NewClient(t)
	c.Login(node, email, password)
	return c, c.Follow(node, c.Get(sp.AuthnRequestURL("relay")))
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
	app := testenv.EnrolTOTPAtDevices(t, setup, env.Nodes[0])

	type browser struct {
		c    *testenv.Client
		page *testenv.Response
	}
	var bs []browser
	for _, node := range env.Nodes {
		c, page := stepUpPage(t, node, sp)
		bs = append(bs, browser{c, page})
	}
	wrong := "000000"
	if wrong == app.Code() {
		wrong = "111111"
	}
	for i := range 4 {
		b, node := bs[i%2], env.Nodes[i%2]
		r := testenv.SubmitTOTP(t, b.c, node, b.page, wrong)
		want := http.StatusUnauthorized
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if r.StatusCode != want {
			t.Fatalf("wrong code %d on node %d = %d, want %d", i+1, i%2, r.StatusCode, want)
		}
	}
	for i, b := range bs {
		r := testenv.SubmitTOTP(t, b.c, env.Nodes[i], b.page, app.Code())
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
	app := testenv.EnrolTOTPAtDevices(t, c, node)

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
	// After the forced password, the TOTP page again. The code of the step
	// before the enrolment's is still in the window and unused.
	code := totpref.Code(app.Secret, app.At.Add(-30*time.Second), 6)
	r := testenv.SubmitTOTP(t, c, node, c.Follow(node, login), code)
	checkMFALogin(t, sp, testenv.FollowSAML(c, r), requestID, "forced")
}
