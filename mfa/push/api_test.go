package push_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/push"
	"github.com/portcullis/portcullis/policy"
)

// recorder is a transport that keeps a copy of each request it sends and
// may change one on the way (after it was signed).
type recorder struct {
	mu     sync.Mutex
	last   *http.Request
	body   []byte
	tamper func(body []byte) []byte
}

func (rt *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	if rt.tamper != nil {
		body = rt.tamper(body)
	}
	rt.mu.Lock()
	rt.last, rt.body = req.Clone(req.Context()), body
	rt.mu.Unlock()
	req = req.Clone(req.Context())
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	return http.DefaultTransport.RoundTrip(req)
}

// replay sends the last request again, byte for byte.
func (rt *recorder) replay(t *testing.T) *http.Response {
	t.Helper()
	rt.mu.Lock()
	req := rt.last.Clone(t.Context())
	req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(rt.body)), int64(len(rt.body))
	rt.mu.Unlock()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestSignedRequests covers how device requests are authenticated: a
// replayed request, a body changed after signing, a skewed clock and a
// device ID nobody enrolled are refused, and change nothing.
func TestSignedRequests(t *testing.T) {
	t.Parallel()
	_, b, d := setup(t)
	p := b.openPush(b.stepUpURL("Wiki", "/"))

	rt := &recorder{}
	d.HTTP = &http.Client{Transport: rt}
	if chs, err := d.Challenges(ctx(t), 0); err != nil || len(chs) != 1 {
		t.Fatalf("challenges = %v, %v", chs, err)
	}
	if resp := rt.replay(t); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("replayed poll = %d, want 401", resp.StatusCode)
	}

	rt.tamper = func(body []byte) []byte { return bytes.Replace(body, []byte("deny"), []byte("approve"), 1) }
	_, err := d.Deny(ctx(t), p.id)
	wantCode(t, err, push.CodeUnauthorized)
	rt.tamper = nil

	skewed := *d
	skewed.Now = func() time.Time { return time.Now().Add(-2 * time.Minute) }
	_, err = skewed.Challenges(ctx(t), 0)
	wantCode(t, err, push.CodeClockSkew)

	key, _ := push.NewKey()
	forged := *d
	forged.Key = key
	_, err = forged.Approve(ctx(t), p.id, p.number)
	wantCode(t, err, push.CodeUnauthorized)
	for _, id := range []string{"", "x", "999.AAAAAAAAAAAAAAAAAAAAAA", d.ID[:strings.Index(d.ID, ".")] + ".AAAAAAAAAAAAAAAAAAAAAA"} {
		other := *d
		other.ID = id
		_, err = other.Challenges(ctx(t), 0)
		wantCode(t, err, push.CodeUnauthorized)
	}
	if _, s := b.status(p.Response); s["status"] != push.StatePending {
		t.Fatalf("a refused request changed the push: %v", s)
	}

}

// TestEnrolmentLink checks the link: the token only in the fragment, a
// browser opening it gets instructions, a bad token or name is refused, it
// works once, the device is inactive until the browser that showed the link
// confirms, and only that browser can.
func TestEnrolmentLink(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	node := env.Nodes[0]
	b := signIn(t, env, node, "lin@example.com")
	page, link := b.enrolPage(mfa.EnrolPath(policy.Push))
	server, token, err := push.ParseLink(link)
	if err != nil || server != node.URL || len(token) < 43 || !strings.HasPrefix(link, node.URL+push.EnrolPath+"#") {
		t.Fatalf("link %q: %q %q %v", link, server, token, err)
	}
	if !strings.Contains(page.Body, `class="qr" src="data:image/png;base64,`) {
		t.Error("no QR code on the page")
	}
	r := b.c.Get(link)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "gateway authenticator enroll") {
		t.Errorf("opening the link in a browser = %d:\n%s", r.StatusCode, r.Body)
	}

	key, _ := push.NewKey()
	_, err = push.Enrol(ctx(t), node.URL+push.EnrolPath+"#"+token+"x", "Phone", key, nil)
	wantCode(t, err, push.CodeInvalidLink)
	_, err = push.Enrol(ctx(t), link, "Bad\x01name", key, nil)
	wantCode(t, err, push.CodeBadRequest)

	// Another browser of the same user sees nothing of this link.
	other := testenv.NewClient(t)
	other.Login(node, "lin@example.com", pw)
	m := pollAttr.FindStringSubmatch(page.Body)
	if r := other.Get(node.URL + strings.ReplaceAll(m[1], "&amp;", "&")); r.StatusCode != http.StatusNotFound {
		t.Errorf("other browser's poll = %d, want 404", r.StatusCode)
	}

	early, err := push.Enrol(ctx(t), link, "Phone", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Until the browser confirms, the device is not active, and the link
	// is spent.
	_, err = early.Challenges(ctx(t), 0)
	wantCode(t, err, push.CodeNotConfirmed)
	_, err = push.Enrol(ctx(t), link, "Again", key, nil)
	wantCode(t, err, push.CodeInvalidLink)
	form := url.Values{"_csrf": {other.CSRF(other.Get(node.URL + "/logout"))}, "l": {field(t, page, "l")}}
	if r := other.PostForm(node.URL+mfa.EnrolPath(policy.Push), form); r.StatusCode != http.StatusGone {
		t.Errorf("other browser confirming = %d, want 410", r.StatusCode)
	}
	if es, _ := node.Server.Store.UserEnrolments(ctx(t), b.user.ID); len(es) != 1 || es[0].Confirmed {
		t.Fatalf("enrolments = %+v, want one unconfirmed", es)
	}
	if r := b.submit(page, mfa.EnrolPath(policy.Push), "c", "l"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmation = %d", r.StatusCode)
	}
	if es, _ := node.Server.Store.UserEnrolments(ctx(t), b.user.ID); len(es) != 1 || !es[0].Confirmed || es[0].Name != "Phone" {
		t.Fatalf("enrolments = %+v, want one confirmed", es)
	}
	// Confirming twice finishes once. (Now that the user has a factor, the
	// core's gate asks for a recent second factor first.)
	if r := b.submit(page, mfa.EnrolPath(policy.Push), "c", "l"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("second confirmation = %d, want 403", r.StatusCode)
	}
	if n := len(events(t, node, mfa.EventEnrolled)); n != 1 {
		t.Errorf("%d enrolment events, want 1", n)
	}
}

// TestCompletionBoundToBrowser: an approval completes only the browser
// session that asked, even for the same user and continuation.
func TestCompletionBoundToBrowser(t *testing.T) {
	t.Parallel()
	env, b, d := setup(t)
	node := env.Nodes[0]
	p := b.openPush(b.stepUpURL("Wiki", "/"))
	if _, err := d.Approve(ctx(t), p.id, p.number); err != nil {
		t.Fatal(err)
	}
	other := testenv.NewClient(t)
	other.Login(node, b.user.Email, pw)
	page := other.Get(node.URL + mfa.DevicesPath)
	form := url.Values{"_csrf": {other.CSRF(page)}, "c": {field(t, p.Response, "c")}, "id": {p.id}}
	if r := other.PostForm(node.URL+mfa.VerifyPath(policy.Push), form); r.StatusCode != http.StatusGone {
		t.Errorf("another browser completing = %d, want 410", r.StatusCode)
	}
	if r := b.complete(p); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the asking browser completing = %d", r.StatusCode)
	}
}

// TestLongPollWakes: a poll held open returns as soon as a push is made.
func TestLongPollWakes(t *testing.T) {
	t.Parallel()
	_, b, d := setup(t)
	got := make(chan []push.Challenge, 1)
	go func() {
		chs, _ := d.Challenges(ctx(t), 20*time.Second)
		got <- chs
	}()
	time.Sleep(300 * time.Millisecond) // let the poll start waiting
	p := b.openPush(b.stepUpURL("Wiki", "/"))
	select {
	case chs := <-got:
		if len(chs) != 1 || chs[0].ID != p.id {
			t.Fatalf("poll returned %+v", chs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the held poll did not return within 5 s of the push")
	}
}
