package push_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/push"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
)

const pw = "a long enough password"

// browser is a signed-in user's browser on one node.
type browser struct {
	t    *testing.T
	env  *testenv.Env
	node *testenv.Node
	c    *testenv.Client
	user store.User
}

// signIn adds a user and signs them in on node.
func signIn(t *testing.T, env *testenv.Env, node *testenv.Node, email string) *browser {
	t.Helper()
	u := env.AddUser(t, email, pw)
	c := testenv.NewClient(t)
	if r := c.Login(node, email, pw); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login = %d:\n%s", r.StatusCode, r.Body)
	}
	return &browser{t: t, env: env, node: node, c: c, user: u}
}

var (
	secretText = regexp.MustCompile(`<p class="secret">([^<]+)</p>`)
	numberText = regexp.MustCompile(`<p class="number-match"><span class="visually-hidden">[^<]*</span>(\d\d)</p>`)
	pollAttr   = regexp.MustCompile(`data-push-poll="([^"]+)"`)
	deviceID   = regexp.MustCompile(`^[1-9][0-9]*\.[A-Za-z0-9_-]{22}$`)
)

// field returns the value of the hidden input name in page.
func field(t *testing.T, page *testenv.Response, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no %s field in %s:\n%s", name, page.Request.URL, page.Body)
	}
	return html.UnescapeString(m[1])
}

// enrolPage opens the enrolment page (path may carry ?c=) and returns it
// with its link.
func (b *browser) enrolPage(path string) (*testenv.Response, string) {
	b.t.Helper()
	page := b.c.Get(b.node.URL + path)
	if page.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s = %d:\n%s", path, page.StatusCode, page.Body)
	}
	m := secretText.FindStringSubmatch(page.Body)
	if m == nil {
		b.t.Fatalf("no link on the enrolment page:\n%s", page.Body)
	}
	return page, html.UnescapeString(m[1])
}

// status fetches a page's poll URL and decodes the JSON.
func (b *browser) status(page *testenv.Response) (int, map[string]any) {
	b.t.Helper()
	m := pollAttr.FindStringSubmatch(page.Body)
	if m == nil {
		b.t.Fatalf("page does not poll:\n%s", page.Body)
	}
	r := b.c.Get(b.node.URL + html.UnescapeString(m[1]))
	var s map[string]any
	if err := json.Unmarshal([]byte(r.Body), &s); err != nil {
		b.t.Fatalf("status %d is not JSON: %v\n%s", r.StatusCode, err, r.Body)
	}
	return r.StatusCode, s
}

// submit posts page's form (as push.js does) to action.
func (b *browser) submit(page *testenv.Response, action string, names ...string) *testenv.Response {
	b.t.Helper()
	form := url.Values{"_csrf": {b.c.CSRF(page)}}
	for _, n := range names {
		form.Set(n, field(b.t, page, n))
	}
	return b.c.PostForm(b.node.URL+action, form)
}

// enrol runs the whole enrolment: the page, the device's POST, the page's
// poll seeing it, and the confirmation. It returns the device and the
// confirmation's answer.
func (b *browser) enrol(path, name string) (*push.Device, *testenv.Response) {
	b.t.Helper()
	page, link := b.enrolPage(path)
	if _, s := b.status(page); s["status"] != "waiting" || s["done"] != false {
		b.t.Fatalf("status before the device enrolled = %v", s)
	}
	key, err := push.NewKey()
	if err != nil {
		b.t.Fatal(err)
	}
	d, err := push.Enrol(context.Background(), link, name, key, nil)
	if err != nil {
		b.t.Fatalf("enrol: %v", err)
	}
	if d.User != b.user.Email || !deviceID.MatchString(d.ID) || d.Name != name {
		b.t.Fatalf("enrolled as %+v", d)
	}
	if _, s := b.status(page); s["status"] != "enrolled" || s["done"] != true {
		b.t.Fatalf("status after the device enrolled = %v", s)
	}
	return d, b.submit(page, mfa.EnrolPath(policy.Push), "c", "l")
}

// pushPage is a push page with its number and challenge.
type pushPage struct {
	*testenv.Response
	number int
	id     string
}

// openPush fetches the push page at u (which may redirect to it first).
func (b *browser) openPush(u string) *pushPage {
	b.t.Helper()
	page := b.c.Follow(b.node, b.c.Get(u))
	if page.StatusCode != http.StatusOK || page.Request.URL.Path != mfa.VerifyPath(policy.Push) {
		b.t.Fatalf("push page %s = %d:\n%s", page.Request.URL, page.StatusCode, page.Body)
	}
	return parsePush(b.t, page)
}

func parsePush(t *testing.T, page *testenv.Response) *pushPage {
	t.Helper()
	m := numberText.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no number on the push page:\n%s", page.Body)
	}
	n, _ := strconv.Atoi(m[1])
	if n < 10 || n > 99 {
		t.Fatalf("number %d out of range", n)
	}
	return &pushPage{Response: page, number: n, id: field(t, page, "id")}
}

// stepUpURL is a step-up for the browser's user that returns to ret.
func (b *browser) stepUpURL(app, ret string) string {
	b.t.Helper()
	to, err := b.node.Server.MFA.StepUpURL(b.user, policy.Requirement{Mode: policy.Required},
		policy.Decision{Outcome: policy.StepUp}, app, ret)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.node.URL + to
}

// complete posts the push page's form.
func (b *browser) complete(p *pushPage) *testenv.Response {
	b.t.Helper()
	return b.submit(p.Response, mfa.VerifyPath(policy.Push), "c", "id")
}

// wrongNumber is a valid number other than n.
func wrongNumber(n int) int {
	if n == 99 {
		return 10
	}
	return n + 1
}

// events returns the node's audit events of the given types.
func events(t *testing.T, node *testenv.Node, types ...string) []audit.Event {
	t.Helper()
	evs, err := node.Server.Store.ListEvents(context.Background(), store.EventFilter{Types: types})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// wantEvent fails unless exactly n events of typ concern the challenge.
func wantEvent(t *testing.T, node *testenv.Node, typ, challenge string, n int) {
	t.Helper()
	got := 0
	for _, e := range events(t, node, typ) {
		if e.Details["challenge"] == challenge {
			got++
		}
	}
	if got != n {
		t.Errorf("%d %s events for challenge %s, want %d", got, typ, challenge, n)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := push.ErrorCode(err); got != code {
		t.Fatalf("error %v (code %q), want code %q", err, got, code)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}
