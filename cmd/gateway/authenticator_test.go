package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/store"
)

func TestAuthenticatorUsageErrors(t *testing.T) {
	key := filepath.Join(t.TempDir(), "device.json")
	for _, args := range [][]string{
		{"authenticator"}, {"authenticator", "frob"}, {"authenticator", "enroll"},
		{"authenticator", "enroll", "https://sso.example.com/not-a-link"},
		{"authenticator", "enroll", "https://sso.example.com/push/v1/enrol"}, // no token
		{"authenticator", "approve", "--key", key}, {"authenticator", "approve", "--number", "7", "--key", key},
		{"authenticator", "listen", "--auto-approve-number", "100"}, {"authenticator", "deny", "extra"},
	} {
		r := gw(t, nil, "", args...)
		if r.code != 2 || r.stderr == "" {
			t.Errorf("gateway %v: exit %d, stderr %q; want 2 with a message", args, r.code, r.stderr)
		}
	}
	r := gw(t, nil, "", "authenticator", "deny", "--key", key)
	if r.code != 1 || !strings.Contains(r.stderr, "device.json") {
		t.Errorf("deny without a key file: exit %d, stderr %q", r.code, r.stderr)
	}
}

// pushSite is a running gateway with a signed-in user, seen by a browser.
type pushSite struct {
	t    *testing.T
	node *testenv.Node
	c    *testenv.Client
	user store.User
}

func newPushSite(t *testing.T) *pushSite {
	env := testenv.Start(t)
	node := env.Nodes[0]
	u := env.AddUser(t, "kim@example.com", "kim's long password")
	c := testenv.NewClient(t)
	c.Login(node, "kim@example.com", "kim's long password")
	return &pushSite{t: t, node: node, c: c, user: u}
}

var (
	linkText   = regexp.MustCompile(`<p class="secret">([^<]+)</p>`)
	numberText = regexp.MustCompile(`<p class="number-match"><span class="visually-hidden">[^<]*</span>(\d\d)</p>`)
	pollURL    = regexp.MustCompile(`data-push-poll="([^"]+)"`)
)

func hidden(t *testing.T, page *testenv.Response, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no %s field:\n%s", name, page.Body)
	}
	return html.UnescapeString(m[1])
}

func (s *pushSite) status(page *testenv.Response) map[string]any {
	s.t.Helper()
	m := pollURL.FindStringSubmatch(page.Body)
	if m == nil {
		s.t.Fatalf("page does not poll:\n%s", page.Body)
	}
	var v map[string]any
	if r := s.c.Get(s.node.URL + html.UnescapeString(m[1])); json.Unmarshal([]byte(r.Body), &v) != nil {
		s.t.Fatalf("status %d:\n%s", r.StatusCode, r.Body)
	}
	return v
}

func (s *pushSite) post(page *testenv.Response, action string, names ...string) *testenv.Response {
	s.t.Helper()
	form := url.Values{"_csrf": {s.c.CSRF(page)}}
	for _, n := range names {
		form.Set(n, hidden(s.t, page, n))
	}
	return s.c.PostForm(s.node.URL+action, form)
}

// push opens a push page for a step-up and returns it with its number.
func (s *pushSite) push(ret string) (*testenv.Response, int) {
	s.t.Helper()
	to, err := s.node.Server.MFA.StepUpURL(s.user, policy.Requirement{Mode: policy.Required},
		policy.Decision{Outcome: policy.StepUp}, "Wiki", ret)
	if err != nil {
		s.t.Fatal(err)
	}
	page := s.c.Follow(s.node, s.c.Get(s.node.URL+to))
	m := numberText.FindStringSubmatch(page.Body)
	if page.StatusCode != http.StatusOK || m == nil {
		s.t.Fatalf("push page = %d:\n%s", page.StatusCode, page.Body)
	}
	n, _ := strconv.Atoi(m[1])
	return page, n
}

// TestAuthenticatorAgainstGateway enrols the CLI from the set-up page's
// link and answers pushes with approve, deny and listen, against a running
// gateway, while the browser's pages see each answer.
func TestAuthenticatorAgainstGateway(t *testing.T) {
	s := newPushSite(t)
	key := filepath.Join(t.TempDir(), "kim.json")
	setup := s.c.Get(s.node.URL + "/mfa/push/enrol")
	m := linkText.FindStringSubmatch(setup.Body)
	if m == nil {
		t.Fatalf("no link on the set-up page:\n%s", setup.Body)
	}
	link := html.UnescapeString(m[1])

	var enrolled map[string]string
	decode(t, mustRun(t, nil, "", "authenticator", "enroll", link, "--key", key, "--name", "Kim's laptop", "--json").stdout, &enrolled)
	if enrolled["user"] != "kim@example.com" || enrolled["server"] != s.node.URL || enrolled["name"] != "Kim's laptop" {
		t.Errorf("enroll said %v", enrolled)
	}
	st, err := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", st, err)
	}
	b, _ := os.ReadFile(key)
	if !strings.Contains(string(b), enrolled["device_id"]) || !strings.Contains(string(b), `"private_key"`) {
		t.Errorf("key file:\n%s", b)
	}
	if r := gw(t, nil, "", "authenticator", "enroll", link, "--key", key); r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("enroll over an existing key file: %+v", r)
	}
	if v := s.status(setup); v["status"] != "enrolled" {
		t.Fatalf("set-up page status = %v", v)
	}
	if r := s.post(setup, "/mfa/push/enrol", "c", "l"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmation = %d", r.StatusCode)
	}

	page, n := s.push("/approved")
	var answer map[string]string
	decode(t, mustRun(t, nil, "", "authenticator", "approve", "--number", strconv.Itoa(n), "--key", key, "--json").stdout, &answer)
	if answer["status"] != "approved" || answer["id"] != hidden(t, page, "id") || answer["user"] != "kim@example.com" || answer["app"] != "Wiki" {
		t.Errorf("approve said %v", answer)
	}
	if r := s.post(page, "/mfa/push", "c", "id"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/approved" {
		t.Fatalf("completion = %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	r := gw(t, nil, "", "authenticator", "approve", "--number", strconv.Itoa(n), "--challenge", answer["id"], "--key", key)
	if r.code != 1 || !strings.Contains(r.stderr, "answered") {
		t.Errorf("approving again: %+v", r)
	}

	page, _ = s.push("/denied")
	out := mustRun(t, nil, "", "authenticator", "deny", "--key", key).stdout
	if !strings.Contains(out, "Denied push "+hidden(t, page, "id")+" for kim@example.com to Wiki.") {
		t.Errorf("deny said %q", out)
	}
	if v := s.status(page); v["status"] != "denied" {
		t.Errorf("status after deny = %v", v)
	}
	if r := gw(t, nil, "", "authenticator", "deny", "--key", key); r.code != 1 || !strings.Contains(r.stderr, "no push is pending") {
		t.Errorf("deny with nothing pending: %+v", r)
	}

	page, n = s.push("/listened")
	out = mustRun(t, nil, "hello\n"+strconv.Itoa(n)+"\n", "authenticator", "listen", "--once", "--key", key).stdout
	for _, want := range []string{"Push for kim@example.com: sign-in to Wiki from 127.0.0.1", "Type the two-digit number", "Approved."} {
		if !strings.Contains(out, want) {
			t.Errorf("listen output lacks %q:\n%s", want, out)
		}
	}
	if v := s.status(page); v["status"] != "approved" {
		t.Errorf("status after listen = %v", v)
	}

	// Without --once, listen goes on after a refused answer, until stopped.
	wrongPage, n := s.push("/wrong")
	denyPage, _ := s.push("/second")
	var out2, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	code := run(ctx, []string{"authenticator", "listen", "--key", key}, env{
		stdin: strings.NewReader(strconv.Itoa(n%89+10) + "\nd\n"), stdout: &out2, stderr: &errb})
	cancel()
	if code != 0 || !strings.Contains(out2.String(), "wrong_number") || !strings.Contains(out2.String(), "Denied.") {
		t.Errorf("listen: exit %d\n%s\n%s", code, out2.String(), errb.String())
	}
	if v := s.status(wrongPage); v["status"] != "failed" {
		t.Errorf("first push = %v, want failed", v)
	}
	if v := s.status(denyPage); v["status"] != "denied" {
		t.Errorf("second push = %v, want denied", v)
	}

	page, n = s.push("/auto")
	out = mustRun(t, nil, "", "authenticator", "listen", "--once", "--json", "--auto-approve-number", strconv.Itoa(n), "--key", key).stdout
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var first, last map[string]any
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &first) != nil || json.Unmarshal([]byte(lines[1]), &last) != nil ||
		first["event"] != "challenge" || last["event"] != "answer" || last["status"] != "approved" || last["id"] != hidden(t, page, "id") {
		t.Errorf("listen --json said:\n%s", out)
	}
}

// TestAuthenticatorKeyFileMode refuses a key file others can read.
func TestAuthenticatorKeyFileMode(t *testing.T) {
	key := filepath.Join(t.TempDir(), "open.json")
	os.WriteFile(key, []byte(`{"server":"http://127.0.0.1:1","device_id":"1.x","private_key":"`+strings.Repeat("A", 43)+`"}`), 0o644)
	os.Chmod(key, 0o644)
	r := gw(t, nil, "", "authenticator", "deny", "--key", key)
	if r.code != 1 || !strings.Contains(r.stderr, "chmod 600") {
		t.Errorf("deny with a world-readable key: %+v", r)
	}
}
