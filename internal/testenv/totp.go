package testenv

// A user with an authenticator app, driven through the HTML pages of the
// TOTP factor (mfa/totp) as a browser would: it reads the key off the
// enrolment page and computes its codes with totpref, the tests'
// hand-written RFC 6238 reference, never with the code under test.

import (
	"encoding/base32"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/internal/testenv/totpref"
)

var (
	totpEnrolLink = regexp.MustCompile(`href="(/mfa/totp/enrol\?c=[^"]+)"`)
	totpSecret    = regexp.MustCompile(`<p class="secret" id="secret">([A-Z2-7 ]+)</p>`)
	totpPending   = regexp.MustCompile(`name="enrolment" value="(\d+)"`)
	hiddenC       = regexp.MustCompile(`name="c" value="([^"]+)"`)
)

// Authenticator is an authenticator app (TOTP) a test enrolled: the secret
// it read off the enrolment page, and when it confirmed it with that step's
// code (the step is used up).
type Authenticator struct {
	Secret []byte
	At     time.Time
}

// Code is the app's code for the step after the enrolment's: unused, and
// within the ±1 step window for a minute after the enrolment.
func (a Authenticator) Code() string { return totpref.Code(a.Secret, a.At.Add(30*time.Second), 6) }

// EnrolTOTP reads the key off an enrolment page at node and confirms it
// with its first code, as a user with an authenticator app would. It
// returns the app and the answer to the confirmation, unfollowed.
func EnrolTOTP(t testing.TB, c *Client, node *Node, page *Response) (Authenticator, *Response) {
	t.Helper()
	m, id := totpSecret.FindStringSubmatch(page.Body), totpPending.FindStringSubmatch(page.Body)
	if page.StatusCode != http.StatusOK || m == nil || id == nil {
		t.Fatalf("enrolment page %s = %d:\n%s", page.Request.URL, page.StatusCode, page.Body)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	a := Authenticator{Secret: secret, At: time.Now()}
	form := url.Values{"_csrf": {c.CSRF(page)}, "enrolment": {id[1]}, "name": {"Phone"},
		"code": {totpref.Code(secret, a.At, 6)}}
	if tok := hiddenC.FindStringSubmatch(page.Body); tok != nil {
		form.Set("c", html.UnescapeString(tok[1]))
	}
	return a, c.PostForm(node.URL+"/mfa/totp/enrol", form)
}

// EnrolTOTPOnFirstUse takes the offer of a factor-choice page at node to
// set up an authenticator app, enrols it and follows the browser (SAML
// forms included) until it stops.
func EnrolTOTPOnFirstUse(t testing.TB, c *Client, node *Node, choice *Response) (Authenticator, *Response) {
	t.Helper()
	link := totpEnrolLink.FindStringSubmatch(choice.Body)
	if link == nil {
		t.Fatalf("%s %d offers no authenticator app to set up:\n%s", choice.Request.URL, choice.StatusCode, choice.Body)
	}
	a, r := EnrolTOTP(t, c, node, c.Get(node.URL+html.UnescapeString(link[1])))
	return a, FollowSAML(c, r)
}

// EnrolTOTPAtDevices enrols an authenticator app for c's user, signed in at
// node with no factor yet, as from the devices page, and checks that the
// browser returns there.
func EnrolTOTPAtDevices(t testing.TB, c *Client, node *Node) Authenticator {
	t.Helper()
	a, r := EnrolTOTP(t, c, node, c.Get(node.URL+"/mfa/totp/enrol"))
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != "/mfa/devices" {
		t.Fatalf("enrolment from the devices page = %d to %q:\n%s", r.StatusCode, loc, r.Body)
	}
	return a
}

// SubmitTOTP answers the TOTP step-up page of node with code and returns
// the answer, unfollowed. It fails the test when page is not that page.
func SubmitTOTP(t testing.TB, c *Client, node *Node, page *Response, code string) *Response {
	t.Helper()
	tok := hiddenC.FindStringSubmatch(page.Body)
	u := page.Request.URL
	if u.Path != "/mfa/totp" || !strings.HasPrefix(u.String(), node.URL+"/") || tok == nil {
		t.Fatalf("at %s %d, want the TOTP page of %s:\n%s", u, page.StatusCode, node.URL, page.Body)
	}
	return c.PostForm(node.URL+"/mfa/totp", url.Values{"_csrf": {c.CSRF(page)}, "c": {html.UnescapeString(tok[1])},
		"code": {code}})
}

// PresentTOTP answers the TOTP step-up page of node with a's code and
// follows the browser (SAML forms included) until it stops.
func PresentTOTP(t testing.TB, c *Client, node *Node, page *Response, a Authenticator) *Response {
	t.Helper()
	return FollowSAML(c, SubmitTOTP(t, c, node, page, a.Code()))
}
