package recovery_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/internal/testenv"
)

const (
	email    = "ada@example.com"
	password = "ada's long password"
)

var (
	shownCode  = regexp.MustCompile(`<li><code>([2-9a-z]{5}-[2-9a-z]{5})</code></li>`)
	verifyLink = regexp.MustCompile(`href="(/mfa/recovery\?c=[^"]+)"`)
	hiddenC    = regexp.MustCompile(`name="c" value="([^"]+)"`)
)

// TestSAMLStepUpWithRecoveryCode: a user with an authenticator app makes
// recovery codes on their devices page, then, without the phone, signs in
// to an app that requires MFA with one code. The parked AuthnRequest
// resumes and the SP gets an MFA assertion.
func TestSAMLStepUpWithRecoveryCode(t *testing.T) {
	env := testenv.Start(t)
	node := env.Nodes[0]
	env.AddUser(t, email, password)
	sp := testenv.NewSP(t, testenv.SPOptions{})
	env.AddSAMLApp(t, "App", sp, "required", nil)

	c := testenv.NewClient(t)
	c.Login(node, email, password)
	testenv.EnrolTOTPAtDevices(t, c, node)
	gen := c.Submit(node.URL+"/mfa/recovery/enrol", node.URL+"/mfa/recovery/enrol", url.Values{})
	codes := shownCode.FindAllStringSubmatch(gen.Body, -1)
	if gen.StatusCode != http.StatusOK || len(codes) != 10 {
		t.Fatalf("generate = %d with %d codes:\n%s", gen.StatusCode, len(codes), gen.Body)
	}

	c = testenv.NewClient(t)
	c.Login(node, email, password)
	choice := c.Follow(node, c.Get(sp.AuthnRequestURL("relay-recovery")))
	requestID := sp.LastRequestID()
	m := verifyLink.FindStringSubmatch(choice.Body)
	if m == nil || !strings.Contains(choice.Body, "/mfa/totp?c=") {
		t.Fatalf("the factor choice does not offer both the app and a recovery code:\n%s", choice.Body)
	}
	page := c.Get(node.URL + html.UnescapeString(m[1]))
	tok := hiddenC.FindStringSubmatch(page.Body)
	if page.StatusCode != http.StatusOK || tok == nil {
		t.Fatalf("recovery page = %d:\n%s", page.StatusCode, page.Body)
	}
	typed := strings.ToUpper(strings.ReplaceAll(codes[3][1], "-", " "))
	r := c.PostForm(node.URL+"/mfa/recovery", url.Values{"_csrf": {c.CSRF(page)}, "c": {html.UnescapeString(tok[1])},
		"code": {typed}})
	last := testenv.FollowSAML(c, r)
	if last.Request.URL.String() != sp.ACSURL() || last.StatusCode != http.StatusOK {
		t.Fatalf("ended at %s %d:\n%s", last.Request.URL, last.StatusCode, last.Body)
	}
	l, err := sp.LastLogin()
	if err != nil {
		t.Fatal(err)
	}
	if l.RelayState != "relay-recovery" || l.InResponseTo != requestID || !slices.Contains(l.Attributes["amr"], "mfa") ||
		l.AuthnContextClassRef != "https://refeds.org/profile/mfa" {
		t.Errorf("RelayState %q, InResponseTo %q (want %q), amr %v, AuthnContextClassRef %q",
			l.RelayState, l.InResponseTo, requestID, l.Attributes["amr"], l.AuthnContextClassRef)
	}
}
