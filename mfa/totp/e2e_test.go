package totp_test

import (
	"encoding/base32"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/mfa/totp"
)

const (
	email    = "ada@example.com"
	password = "ada's long password"
	// refedsMFA is the REFEDS MFA profile's AuthnContextClassRef.
	refedsMFA = "https://refeds.org/profile/mfa"
)

var (
	enrolLink  = regexp.MustCompile(`href="(/mfa/totp/enrol\?c=[^"]+)"`)
	secretText = regexp.MustCompile(`<p class="secret" id="secret">([A-Z2-7 ]+)</p>`)
	hiddenC    = regexp.MustCompile(`name="c" value="([^"]+)"`)
	pendingID  = regexp.MustCompile(`name="enrolment" value="(\d+)"`)
)

// enrolment is an authenticator app the test set up: the secret it read off
// the page, and when it confirmed it (that step is used up).
type enrolment struct {
	secret []byte
	at     time.Time
}

// code is the app's code for the step after the enrolment's, computed by the
// test's own RFC 6238 code. It stays within the ±1 step window for the next
// minute.
func (e enrolment) code() string { return totp.RFCCode(e.secret, e.at.Add(30*time.Second), 6) }

// confirmEnrolment reads the key off an enrolment page and posts the first
// code, as a user with an authenticator app would.
func confirmEnrolment(t *testing.T, c *testenv.Client, node *testenv.Node, page *testenv.Response) (enrolment, *testenv.Response) {
	t.Helper()
	m, id := secretText.FindStringSubmatch(page.Body), pendingID.FindStringSubmatch(page.Body)
	if page.StatusCode != http.StatusOK || m == nil || id == nil {
		t.Fatalf("enrolment page %s = %d:\n%s", page.Request.URL, page.StatusCode, page.Body)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	e := enrolment{secret: secret, at: time.Now()}
	form := url.Values{"_csrf": {c.CSRF(page)}, "enrolment": {id[1]}, "name": {"Phone"},
		"code": {totp.RFCCode(secret, e.at, 6)}}
	if tok := hiddenC.FindStringSubmatch(page.Body); tok != nil {
		form.Set("c", html.UnescapeString(tok[1]))
	}
	return e, c.PostForm(node.URL+"/mfa/totp/enrol", form)
}

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
	link := enrolLink.FindStringSubmatch(choice.Body)
	if link == nil {
		t.Fatalf("%s offers no authenticator app to set up:\n%s", choice.Request.URL, choice.Body)
	}
	app, confirmed := confirmEnrolment(t, c, node, c.Get(node.URL+html.UnescapeString(link[1])))
	checkMFALogin(t, sp, testenv.FollowSAML(c, confirmed), sp.LastRequestID(), "relay-enrol")

	// Another browser: password, then the code, for a new AuthnRequest.
	c = testenv.NewClient(t)
	c.Login(node, email, password)
	first := c.Get(sp.AuthnRequestURL("relay-2"))
	requestID := sp.LastRequestID()
	if loc := first.Header.Get("Location"); first.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/mfa?c=") {
		t.Fatalf("SSO for an app requiring MFA = %d to %q, want the step-up", first.StatusCode, loc)
	}
	page := c.Follow(node, first)
	tok := hiddenC.FindStringSubmatch(page.Body)
	if page.Request.URL.Path != "/mfa/totp" || tok == nil {
		t.Fatalf("step-up went to %s, want the TOTP page:\n%s", page.Request.URL, page.Body)
	}
	r := c.PostForm(node.URL+"/mfa/totp", url.Values{"_csrf": {c.CSRF(page)}, "c": {html.UnescapeString(tok[1])},
		"code": {app.code()}})
	checkMFALogin(t, sp, testenv.FollowSAML(c, r), requestID, "relay-2")
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
	app, r := confirmEnrolment(t, c, node, c.Get(node.URL+"/mfa/totp/enrol"))
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != "/mfa/devices" {
		t.Fatalf("enrolment from the devices page = %d to %q:\n%s", r.StatusCode, loc, r.Body)
	}

	b.Navigate(sp.AuthnRequestURL("relay-browser"))
	b.WaitURL(node.URL + "/login")
	b.Login(email, password)
	b.WaitURL(node.URL + "/mfa/totp?c=")
	b.WaitText("Enter your code")
	b.Submit(map[string]string{"code": app.code()})
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
	app, _ := confirmEnrolment(t, setup, env.Nodes[0], setup.Get(env.Nodes[0].URL+"/mfa/totp/enrol"))

	code := app.code()
	want := []int{http.StatusSeeOther, http.StatusUnauthorized}
	for i, node := range env.Nodes {
		// A fresh session wanting to add a factor is sent to step up first:
		// that is a TOTP page with a continuation, on this node.
		c := testenv.NewClient(t)
		c.Login(node, email, password)
		page := c.Follow(node, c.Get(node.URL+"/mfa/totp/enrol"))
		tok := hiddenC.FindStringSubmatch(page.Body)
		if page.Request.URL.Path != "/mfa/totp" || tok == nil {
			t.Fatalf("node %d: step-up went to %s:\n%s", i, page.Request.URL, page.Body)
		}
		r := c.PostForm(node.URL+"/mfa/totp", url.Values{"_csrf": {c.CSRF(page)}, "c": {html.UnescapeString(tok[1])},
			"code": {code}})
		if r.StatusCode != want[i] || i == 1 && !strings.Contains(r.Body, "already used") {
			t.Errorf("node %d: the code = %d, want %d:\n%s", i, r.StatusCode, want[i], r.Body)
		}
	}
}
