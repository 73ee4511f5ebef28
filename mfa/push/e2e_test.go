package push_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/push"
	"github.com/portcullis/portcullis/policy"
)

var enrolLink = regexp.MustCompile(`href="(/mfa/push/enrol\?c=[^"]+)"`)

// TestSAMLLoginWithPush runs the whole story with the device client as the
// phone: an SP-initiated login to an app that requires MFA, enrolment on
// first use from the one-time link, the push page's number approved on the
// device, the page's poll seeing it, and the completion resuming the same
// AuthnRequest, whose assertion says push and MFA were used.
func TestSAMLLoginWithPush(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t)
	node := env.Nodes[0]
	sp := testenv.NewSP(t, testenv.SPOptions{})
	env.AddSAMLApp(t, "App", sp, "required", nil)
	b := signIn(t, env, node, "ada@example.com")

	choose := testenv.FollowSAML(b.c, b.c.Get(sp.AuthnRequestURL("relay-1")))
	m := enrolLink.FindStringSubmatch(choose.Body)
	if choose.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("step-up did not offer push enrolment (%d %s):\n%s", choose.StatusCode, choose.Request.URL, choose.Body)
	}
	d, done := b.enrol(strings.ReplaceAll(m[1], "&amp;", "&"), "Ada's phone")
	if loc := done.Header.Get("Location"); done.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, mfa.ChoosePath+"?c=") {
		t.Fatalf("confirmation = %d to %q, want the factor choice:\n%s", done.StatusCode, loc, done.Body)
	}
	p := b.openPush(node.URL + done.Header.Get("Location"))
	if !strings.Contains(p.Body, "Ada&#39;s phone") || !strings.Contains(p.Body, "<strong>App</strong>") {
		t.Errorf("push page does not name the device and the app:\n%s", p.Body)
	}

	chs, err := d.Challenges(ctx(t), 5*time.Second)
	if err != nil || len(chs) != 1 {
		t.Fatalf("device got %v, %v; want one challenge", chs, err)
	}
	ch := chs[0]
	if ch.ID != p.id || ch.User != "ada@example.com" || ch.App != "App" || ch.IP != "127.0.0.1" ||
		ch.Expires.Sub(ch.Created) != push.DefaultChallengeTTL {
		t.Errorf("device sees %+v", ch)
	}
	if code, s := b.status(p.Response); code != http.StatusOK || s["status"] != push.StatePending || s["done"] != false {
		t.Fatalf("status before the answer = %d %v", code, s)
	}
	if a, err := d.Approve(ctx(t), ch.ID, p.number); err != nil || a.Status != push.StateApproved {
		t.Fatalf("approve = %+v, %v", a, err)
	}
	if _, s := b.status(p.Response); s["status"] != push.StateApproved || s["done"] != true {
		t.Fatalf("status after approval = %v", s)
	}

	final := testenv.FollowSAML(b.c, b.complete(p))
	if final.StatusCode != http.StatusOK || final.Request.URL.String() != sp.ACSURL() {
		t.Fatalf("completion ended at %s %d:\n%s", final.Request.URL, final.StatusCode, final.Body)
	}
	l, err := sp.LastLogin()
	if err != nil {
		t.Fatal(err)
	}
	if l.InResponseTo != sp.LastRequestID() || l.RelayState != "relay-1" || l.NameID != "ada@example.com" {
		t.Errorf("SP got InResponseTo %q (want %q), RelayState %q, NameID %q", l.InResponseTo, sp.LastRequestID(), l.RelayState, l.NameID)
	}
	if amr := l.Attributes["amr"]; !slices.Contains(amr, "swk") || !slices.Contains(amr, "mfa") || !slices.Contains(amr, "pwd") {
		t.Errorf("amr = %v, want pwd, swk and mfa", amr)
	}
	for _, typ := range []string{mfa.EventPushSent, mfa.EventPushApproved, mfa.EventSucceeded} {
		wantEvent(t, node, typ, ch.ID, 1)
	}
	if evs := events(t, node, mfa.EventEnrolled); len(evs) != 1 || evs[0].Details["factor"] != policy.Push {
		t.Errorf("enrolment events: %+v", evs)
	}

	// The approval is spent: neither the device nor the browser can use it
	// again.
	_, err = d.Approve(ctx(t), ch.ID, p.number)
	wantCode(t, err, push.CodeAnswered)
	if r := b.complete(p); r.StatusCode != http.StatusGone && r.StatusCode != http.StatusConflict {
		t.Errorf("second completion = %d, want refused", r.StatusCode)
	}
	wantEvent(t, node, mfa.EventSucceeded, ch.ID, 1)
}

// setup is a node with a signed-in user who has enrolled a device from the
// devices page (no step-up in progress).
func setup(t *testing.T, opts ...testenv.Option) (*testenv.Env, *browser, *push.Device) {
	t.Helper()
	env := testenv.Start(t, opts...)
	b := signIn(t, env, env.Nodes[0], "grace@example.com")
	d, done := b.enrol(mfa.EnrolPath(policy.Push), "Grace's phone")
	if done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != mfa.DevicesPath {
		t.Fatalf("confirmation = %d to %q:\n%s", done.StatusCode, done.Header.Get("Location"), done.Body)
	}
	return env, b, d
}

func TestDenyThenRetry(t *testing.T) {
	t.Parallel()
	env, b, d := setup(t)
	node := env.Nodes[0]
	p := b.openPush(b.stepUpURL("Wiki", "/"))
	if a, err := d.Deny(ctx(t), p.id); err != nil || a.Status != push.StateDenied {
		t.Fatalf("deny = %+v, %v", a, err)
	}
	if _, s := b.status(p.Response); s["status"] != push.StateDenied || s["done"] != true {
		t.Fatalf("status after denial = %v", s)
	}
	r := b.complete(p)
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "Sign-in denied") || !strings.Contains(r.Body, "Send a new push") {
		t.Fatalf("completion after denial = %d:\n%s", r.StatusCode, r.Body)
	}
	wantEvent(t, node, mfa.EventPushDenied, p.id, 1)
	wantEvent(t, node, mfa.EventSucceeded, p.id, 0)
	_, err := d.Approve(ctx(t), p.id, p.number)
	wantCode(t, err, push.CodeAnswered)

	retry := b.openPush(node.URL + retryURL(t, r))
	if retry.id == p.id {
		t.Fatal("retry showed the denied challenge")
	}
	if _, err := d.Approve(ctx(t), retry.id, retry.number); err != nil {
		t.Fatal(err)
	}
	if r := b.complete(retry); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("completion of the retry = %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
}

var retryHref = regexp.MustCompile(`href="(/mfa/push\?c=[^"]+)">Send a new push`)

func retryURL(t *testing.T, page *testenv.Response) string {
	t.Helper()
	m := retryHref.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no retry link:\n%s", page.Body)
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

// TestWrongNumber: a wrong number kills the challenge (no second guess)
// and is audited as suspected fraud. It and a denial count as failed
// attempts: with a budget of two the user is then throttled.
func TestWrongNumber(t *testing.T) {
	t.Parallel()
	env, b, d := setup(t, func(c *config.Config) { c.MFA.MaxFailuresPerUser = 2 })
	node := env.Nodes[0]
	p := b.openPush(b.stepUpURL("Wiki", "/"))
	_, err := d.Approve(ctx(t), p.id, wrongNumber(p.number))
	wantCode(t, err, push.CodeWrongNumber)
	_, err = d.Approve(ctx(t), p.id, p.number)
	wantCode(t, err, push.CodeAnswered)
	wantEvent(t, node, mfa.EventPushFraud, p.id, 1)
	wantEvent(t, node, mfa.EventPushApproved, p.id, 0)
	if _, s := b.status(p.Response); s["status"] != push.StateFailed || s["done"] != true {
		t.Errorf("status = %v, want failed", s)
	}
	r := b.complete(p)
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "The numbers did not match") {
		t.Fatalf("completion = %d:\n%s", r.StatusCode, r.Body)
	}

	p = b.openPush(node.URL + retryURL(t, r))
	if _, err := d.Deny(ctx(t), p.id); err != nil {
		t.Fatal(err)
	}
	if r := b.c.Follow(node, b.c.Get(b.stepUpURL("Wiki", "/"))); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("push page after two failures = %d, want 429 (throttled)", r.StatusCode)
	}
}

// TestExpiry waits out a 10 s push (the shortest the config allows): the
// page's poll sees it expire, the expiry is audited once, and the device
// can no longer approve it.
func TestExpiry(t *testing.T) {
	t.Parallel()
	env, b, d := setup(t, func(c *config.Config) { c.MFA.Push.ChallengeTTL = config.Duration(10 * time.Second) })
	node := env.Nodes[0]
	p := b.openPush(b.stepUpURL("Wiki", "/"))
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, s := b.status(p.Response)
		if s["status"] == push.StateExpired && s["done"] == true {
			break
		}
		if s["status"] != push.StatePending || time.Now().After(deadline) {
			t.Fatalf("status = %v", s)
		}
		time.Sleep(500 * time.Millisecond)
	}
	_, err := d.Approve(ctx(t), p.id, p.number)
	wantCode(t, err, push.CodeExpired)
	if chs, err := d.Challenges(ctx(t), 0); err != nil || len(chs) != 0 {
		t.Errorf("device still sees %v, %v", chs, err)
	}
	r := b.complete(p)
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Body, "The push expired") {
		t.Errorf("completion = %d:\n%s", r.StatusCode, r.Body)
	}
	wantEvent(t, node, mfa.EventPushExpired, p.id, 1)
}

// TestAnotherUsersDevice: a device of another user cannot answer, even
// with the right number; the attempt is audited and the owner's device
// still can.
func TestAnotherUsersDevice(t *testing.T) {
	t.Parallel()
	env, alice, aliceDevice := setup(t)
	node := env.Nodes[0]
	bob := signIn(t, env, node, "bob@example.com")
	bobDevice, _ := bob.enrol(mfa.EnrolPath(policy.Push), "Bob's phone")

	p := alice.openPush(alice.stepUpURL("Wiki", "/"))
	if chs, err := bobDevice.Challenges(ctx(t), 0); err != nil || len(chs) != 0 {
		t.Fatalf("Bob's device sees %v, %v", chs, err)
	}
	_, err := bobDevice.Approve(ctx(t), p.id, p.number)
	wantCode(t, err, push.CodeNotFound)
	_, err = bobDevice.Deny(ctx(t), p.id)
	wantCode(t, err, push.CodeNotFound)
	refused := 0
	for _, e := range events(t, node, mfa.EventFailed) {
		if e.Details["challenge"] == p.id && e.Actor == "bob@example.com" && e.Subject == alice.user.Email {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("%d audited refusals, want 2", refused)
	}
	if _, s := alice.status(p.Response); s["status"] != push.StatePending {
		t.Fatalf("Alice's push after Bob's tries: %v", s)
	}
	if _, err := aliceDevice.Approve(ctx(t), p.id, p.number); err != nil {
		t.Fatal(err)
	}
	// Bob's browser cannot complete Alice's approval, even in a step-up of
	// his own.
	bp := bob.openPush(bob.stepUpURL("Wiki", "/"))
	form := url.Values{"_csrf": {bob.c.CSRF(bp.Response)}, "c": {field(t, bp.Response, "c")}, "id": {p.id}}
	if r := bob.c.PostForm(node.URL+mfa.VerifyPath(policy.Push), form); r.StatusCode != http.StatusGone {
		t.Errorf("Bob completing Alice's push = %d, want 410", r.StatusCode)
	}
	if r := alice.complete(p); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("completion = %d", r.StatusCode)
	}
}

// TestPendingLimit: three pushes may wait; the fourth is refused and
// audited, a reload shows the same push instead of sending another, and
// answering one frees a slot.
func TestPendingLimit(t *testing.T) {
	t.Parallel()
	env, b, d := setup(t)
	node := env.Nodes[0]
	var pages []*pushPage
	for _, ret := range []string{"/a", "/b", "/c"} {
		pages = append(pages, b.openPush(b.stepUpURL("Wiki", ret)))
	}
	again := b.openPush(pages[0].Request.URL.String())
	if again.id != pages[0].id || again.number != pages[0].number {
		t.Errorf("reload made a new push: %s/%d, was %s/%d", again.id, again.number, pages[0].id, pages[0].number)
	}
	over := b.c.Follow(node, b.c.Get(b.stepUpURL("Wiki", "/d")))
	if over.StatusCode != http.StatusTooManyRequests || !strings.Contains(over.Body, "Too many pushes waiting") {
		t.Fatalf("fourth push = %d:\n%s", over.StatusCode, over.Body)
	}
	if n := len(events(t, node, mfa.EventPushSent)); n != 3 {
		t.Errorf("%d pushes sent, want 3", n)
	}
	throttled := 0
	for _, e := range events(t, node, mfa.EventThrottled) {
		if e.Reason == "too many pending pushes" {
			throttled++
		}
	}
	if throttled != 1 {
		t.Errorf("%d audited refusals, want 1", throttled)
	}
	chs, err := d.Challenges(ctx(t), 0)
	if err != nil || len(chs) != 3 || chs[0].ID != pages[0].id || chs[2].ID != pages[2].id {
		t.Fatalf("device sees %+v, %v; want the three, oldest first", chs, err)
	}
	if _, err := d.Deny(ctx(t), pages[1].id); err != nil {
		t.Fatal(err)
	}
	b.openPush(b.stepUpURL("Wiki", "/d"))
}

// TestRemovedDevice: removing the enrolment on the devices page makes the
// device's next request fail.
func TestRemovedDevice(t *testing.T) {
	t.Parallel()
	env, b, d := setup(t)
	node := env.Nodes[0]
	// Removing a factor needs a recent second factor: the push itself.
	p := b.openPush(b.stepUpURL("Account", mfa.DevicesPath))
	if _, err := d.Approve(ctx(t), p.id, p.number); err != nil {
		t.Fatal(err)
	}
	if r := b.complete(p); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != mfa.DevicesPath {
		t.Fatalf("completion = %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	es, err := node.Server.Store.UserEnrolments(ctx(t), b.user.ID)
	if err != nil || len(es) != 1 {
		t.Fatalf("enrolments %v, %v", es, err)
	}
	action := mfa.DevicesPath + "/" + strconv.FormatInt(es[0].ID, 10) + "/remove"
	r := b.c.Submit(node.URL+mfa.DevicesPath, node.URL+action, url.Values{})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != mfa.DevicesPath {
		t.Fatalf("remove = %d to %q:\n%s", r.StatusCode, r.Header.Get("Location"), r.Body)
	}
	_, err = d.Challenges(ctx(t), 0)
	wantCode(t, err, push.CodeUnauthorized)
	_, err = d.Deny(ctx(t), p.id)
	wantCode(t, err, push.CodeUnauthorized)
}
