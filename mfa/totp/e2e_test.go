package totp_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/internal/testenv"
)

const (
	email    = "ada@example.com"
	password = "ada's long password"
	// refedsMFA is the REFEDS MFA profile's AuthnContextClassRef.
	refedsMFA = "https://refeds.org/profile/mfa"
)

// checkMFALogin checks what the SP accepted after a step-up with TOTP.
func checkMFALogin(t *testing.T, sp *testenv.SP, last *testenv.Response, requestID, relay string) {
	t.Helper()
	if last.StatusCode != http.StatusOK || last.Request.URL.String() != sp.ACSURL() {
		t.Fatalf("ended at %s %d, want the SP's ACS:\n%s", last.Request.URL, last.StatusCode, last.Body)
	}
	l, err := sp.LastLogin()
	if err != nil {
		t.Fatalf("the SP rejected the login: %v", err)
	}
	amr := l.Attributes["amr"]
	if l.NameID != email || l.RelayState != relay || l.InResponseTo != requestID {
		t.Errorf("NameID %q, RelayState %q (want %q), InResponseTo %q (want %q)", l.NameID, l.RelayState, relay,
			l.InResponseTo, requestID)
	}
	if !slices.Contains(amr, "otp") || !slices.Contains(amr, "mfa") || !slices.Contains(amr, "pwd") {
		t.Errorf("amr = %v, want pwd, otp and mfa", amr)
	}
	if l.AuthnContextClassRef != refedsMFA {
		t.Errorf("AuthnContextClassRef = %q, want %q", l.AuthnContextClassRef, refedsMFA)
	}
	if w := l.Warnings(); len(w) > 0 {
		t.Errorf("gosaml2 warnings: %v", w)
	}
}

// TestSAMLStepUpWithTOTP runs SP-initiated SSO to an app that requires MFA
// against the whole gateway, with gosaml2 as the SP: the first login
// enrols an authenticator app on first use, the second presents a code;
// each time the parked AuthnRequest resumes and the SP gets an MFA
// assertion with its RelayState.
func TestSAMLStepUpWithTOTP(t *testing.T) {
	env := testenv.Start(t)
	node := env.Nodes[0]
	env.AddUser(t, email, password)
	sp := testenv.NewSP(t, testenv.SPOptions{WantAssertionsSigned: true})
	env.AddSAMLApp(t, "App", sp, "required", nil)

	c := testenv.NewClient(t)
	if r := c.Login(node, email, password); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login = %d", r.StatusCode)
	}
	choice := c.Follow(node, c.Get(sp.AuthnRequestURL("relay-enrol")))
	app, end := testenv.EnrolTOTPOnFirstUse(t, c, node, choice)
	checkMFALogin(t, sp, end, sp.LastRequestID(), "relay-enrol")

	// Another browser: password, then the code, for a new AuthnRequest.
	c = testenv.NewClient(t)
	c.Login(node, email, password)
	first := c.Get(sp.AuthnRequestURL("relay-2"))
	requestID := sp.LastRequestID()
	if loc := first.Header.Get("Location"); first.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/mfa?c=") {
		t.Fatalf("SSO for an app requiring MFA = %d to %q, want the step-up", first.StatusCode, loc)
	}
	end = testenv.PresentTOTP(t, c, node, c.Follow(node, first), app)
	checkMFALogin(t, sp, end, requestID, "relay-2")
}

// TestBrowserTOTPLogin signs in to an app in headless Chromium: password,
// then the authenticator app's code, which the test computes itself, then
// the app.
func TestBrowserTOTPLogin(t *testing.T) {
	b := testenv.NewBrowser(t)
	env := testenv.Start(t)
	node := env.Nodes[0]
	env.AddUser(t, email, password)
	sp := testenv.NewSP(t, testenv.SPOptions{})
	env.AddSAMLApp(t, "App", sp, "required", nil)

	// The user set up their app earlier, from their devices page.
	c := testenv.NewClient(t)
	c.Login(node, email, password)
	app := testenv.EnrolTOTPAtDevices(t, c, node)

	b.Navigate(sp.AuthnRequestURL("relay-browser"))
	b.WaitURL(node.URL + "/login")
	b.Login(email, password)
	b.WaitURL(node.URL + "/mfa/totp?c=")
	b.WaitText("Enter your code")
	b.Submit(map[string]string{"code": app.Code()})
	b.WaitURL(sp.ACSURL())
	b.WaitText("signed in to the test SP as " + email)
	l, err := sp.LastLogin()
	if err != nil {
		t.Fatalf("the SP rejected the login: %v", err)
	}
	if l.RelayState != "relay-browser" || !slices.Contains(l.Attributes["amr"], "otp") || l.AuthnContextClassRef != refedsMFA {
		t.Errorf("RelayState %q, amr %v, AuthnContextClassRef %q", l.RelayState, l.Attributes["amr"], l.AuthnContextClassRef)
	}
}

// TestClusterReplayRefused presents one code on two nodes of a cluster
// (PostgreSQL and Redis shared): the first accepts it, the second refuses
// it as used.
func TestClusterReplayRefused(t *testing.T) {
	env := testenv.StartCluster(t, 2)
	env.AddUser(t, email, password)
	setup := testenv.NewClient(t)
	setup.Login(env.Nodes[0], email, password)
	app := testenv.EnrolTOTPAtDevices(t, setup, env.Nodes[0])

	code := app.Code()
	want := []int{http.StatusSeeOther, http.StatusUnauthorized}
	for i, node := range env.Nodes {
		// A fresh session wanting to add a factor is sent to step up first:
		// that is a TOTP page with a continuation, on this node.
		c := testenv.NewClient(t)
		c.Login(node, email, password)
		r := testenv.SubmitTOTP(t, c, node, c.Follow(node, c.Get(node.URL+"/mfa/totp/enrol")), code)
		if r.StatusCode != want[i] || i == 1 && !strings.Contains(r.Body, "already used") {
			t.Errorf("node %d: the code = %d, want %d:\n%s", i, r.StatusCode, want[i], r.Body)
		}
	}
}
