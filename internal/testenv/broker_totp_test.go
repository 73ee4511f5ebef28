package testenv_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/internal/testenv"
)

// rfcCode is the TOTP code of secret at t (RFC 6238 §4, RFC 4226 §5.3:
// HMAC-SHA1, dynamic truncation), computed here rather than by the code
// under test.
func rfcCode(secret []byte, t time.Time, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

var (
	enrolLink  = regexp.MustCompile(`href="(/mfa/totp/enrol\?c=[^"]+)"`)
	secretText = regexp.MustCompile(`<p class="secret" id="secret">([A-Z2-7 ]+)</p>`)
	hiddenC    = regexp.MustCompile(`name="c" value="([^"]+)"`)
	pendingID  = regexp.MustCompile(`name="enrolment" value="(\d+)"`)
)

// authenticator is a TOTP app the test enrolled: its secret and when the
// enrolment used up a code.
type authenticator struct {
	secret []byte
	at     time.Time
}

// code is the code of the step after the enrolment's (within ±1 step for a
// minute), computed by rfcCode.
func (a authenticator) code() string { return rfcCode(a.secret, a.at.Add(30*time.Second), 6) }

// enrolTOTP reads the key off an enrolment page at node and confirms it
// with its first code, as a user with an authenticator app would.
func enrolTOTP(t *testing.T, c *testenv.Client, node *testenv.Node, page *testenv.Response) (authenticator, *testenv.Response) {
	t.Helper()
	m, id := secretText.FindStringSubmatch(page.Body), pendingID.FindStringSubmatch(page.Body)
	if page.StatusCode != http.StatusOK || m == nil || id == nil {
		t.Fatalf("enrolment page %s = %d:\n%s", page.Request.URL, page.StatusCode, page.Body)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	a := authenticator{secret: secret, at: time.Now()}
	form := url.Values{"_csrf": {c.CSRF(page)}, "enrolment": {id[1]}, "name": {"Phone"},
		"code": {rfcCode(secret, a.at, 6)}}
	if tok := hiddenC.FindStringSubmatch(page.Body); tok != nil {
		form.Set("c", html.UnescapeString(tok[1]))
	}
	return a, c.PostForm(node.URL+"/mfa/totp/enrol", form)
}

// enrolOnFirstUse follows the enrol link of a factor-choice page at node,
// enrols TOTP and returns where the browser ends.
func enrolOnFirstUse(t *testing.T, c *testenv.Client, node *testenv.Node, choice *testenv.Response) (authenticator, *testenv.Response) {
	t.Helper()
	link := enrolLink.FindStringSubmatch(choice.Body)
	if link == nil {
		t.Fatalf("%s %d offers no authenticator app to set up:\n%s", choice.Request.URL, choice.StatusCode, choice.Body)
	}
	a, r := enrolTOTP(t, c, node, c.Get(node.URL+html.UnescapeString(link[1])))
	return a, testenv.FollowSAML(c, r)
}

// enrolAtDevices enrols a TOTP app for alice at node from the devices page,
// in a browser of her own.
func enrolAtDevices(t *testing.T, node *testenv.Node) authenticator {
	t.Helper()
	c := testenv.NewClient(t)
	if r := c.Login(node, aliceEmail, alicePassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login at %s = %d:\n%s", node.URL, r.StatusCode, r.Body)
	}
	a, r := enrolTOTP(t, c, node, c.Get(node.URL+"/mfa/totp/enrol"))
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || loc != "/mfa/devices" {
		t.Fatalf("enrolment from the devices page = %d to %q:\n%s", r.StatusCode, loc, r.Body)
	}
	return a
}

// presentTOTP answers the TOTP step-up page at node with a's code and
// follows the browser until it stops.
func presentTOTP(t *testing.T, c *testenv.Client, node *testenv.Node, page *testenv.Response, a authenticator) *testenv.Response {
	t.Helper()
	tok := hiddenC.FindStringSubmatch(page.Body)
	if !strings.HasPrefix(page.Request.URL.String(), node.URL+"/mfa/totp") || tok == nil {
		t.Fatalf("at %s %d, want the TOTP page of %s:\n%s", page.Request.URL, page.StatusCode, node.URL, page.Body)
	}
	return testenv.FollowSAML(c, c.PostForm(node.URL+"/mfa/totp", url.Values{"_csrf": {c.CSRF(page)},
		"c": {html.UnescapeString(tok[1])}, "code": {a.code()}}))
}
