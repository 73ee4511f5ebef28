package recovery

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/mfatest"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

var (
	shownCode    = regexp.MustCompile(`<li><code>([2-9a-z]{5}-[2-9a-z]{5})</code></li>`)
	continueLink = regexp.MustCompile(`<a class="btn btn-primary btn-block" href="([^"]+)">`)
)

type httpResult struct {
	code     int
	body     string
	location string
}

func result(w interface{ Result() *http.Response }) *httpResult {
	resp := w.Result()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return &httpResult{code: resp.StatusCode, body: buf.String(), location: resp.Header.Get("Location")}
}

// generate posts the set-up form on n (with the continuation token, if any)
// and returns the page and the codes it shows.
func (b *user) generate(n *node, token string) (*httpResult, []string) {
	b.h.T.Helper()
	form := url.Values{}
	if token != "" {
		form.Set("c", token)
	}
	r := result(b.Do(n, "POST", mfa.EnrolPath(policy.Recovery), form))
	var codes []string
	for _, m := range shownCode.FindAllStringSubmatch(r.body, -1) {
		codes = append(codes, m[1])
	}
	return r, codes
}

// verify posts code to the verify page of n for a new step-up.
func (b *user) verify(n *node, code string) *httpResult {
	return result(b.Do(n, "POST", mfa.VerifyPath(policy.Recovery), url.Values{"c": {b.stepUp()}, "code": {code}}))
}

// set returns the user's stored recovery enrolment and its codes.
func (b *user) set() (store.Enrolment, set) {
	b.h.T.Helper()
	for _, e := range b.Enrolments() {
		if e.Factor == policy.Recovery {
			s, err := decodeSet(e.Data)
			if err != nil {
				b.h.T.Fatal(err)
			}
			return e, s
		}
	}
	b.h.T.Fatal("no recovery enrolment")
	return store.Enrolment{}, set{}
}

func TestGenerateShowsCodesOnceAndStoresHashes(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com", true)
	page := result(b.Do(h.nodes[0], "GET", mfa.EnrolPath(policy.Recovery), nil))
	if page.code != http.StatusOK || !strings.Contains(page.body, `action="/mfa/recovery/enrol"`) {
		t.Fatalf("set-up page = %d:\n%s", page.code, page.body)
	}
	r, codes := b.generate(h.nodes[0], "")
	if r.code != http.StatusOK || len(codes) != Count {
		t.Fatalf("generate = %d with %d codes:\n%s", r.code, len(codes), r.body)
	}
	if m := continueLink.FindStringSubmatch(r.body); m == nil || m[1] != mfa.DevicesPath {
		t.Errorf("Continue link %v, want the devices page", m)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		seen[c] = true
	}
	if len(seen) != Count {
		t.Errorf("codes repeat: %v", codes)
	}
	e, s := b.set()
	if !e.Confirmed || e.Name != Name || len(s.Codes) != Count || s.unused() != Count {
		t.Fatalf("stored %+v with %d codes, %d unused", e, len(s.Codes), s.unused())
	}
	for _, c := range codes {
		n, _ := normalise(c)
		if bytes.Contains(e.Data, []byte(n)) || bytes.Contains(e.Data, []byte(c)) {
			t.Fatalf("stored Data holds code %s", c)
		}
		if s.find(b.h.nodes[0].factor.hash(b.User.ID, n)) < 0 {
			t.Errorf("code %s has no hash in the set", c)
		}
	}
	// Never shown again: the set-up page gives only the count.
	again := result(b.Do(h.nodes[0], "GET", mfa.EnrolPath(policy.Recovery), nil))
	if shownCode.MatchString(again.body) || !strings.Contains(again.body, "<strong>10</strong> of 10 codes left") {
		t.Errorf("set-up page after generating:\n%s", again.body)
	}
	if ev := b.Events(mfa.EventEnrolled); len(ev) != 1 || ev[0].Details["factor"] != policy.Recovery {
		t.Errorf("enrolment events %+v", ev)
	}
}

// TestGenerateInStepUpContinuesThere shows the codes, then continues the
// step-up the user came from instead of redirecting at once.
func TestGenerateInStepUpContinuesThere(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com", true)
	token := b.stepUp()
	r, codes := b.generate(h.nodes[0], token)
	m := continueLink.FindStringSubmatch(r.body)
	if r.code != http.StatusOK || len(codes) != Count || m == nil {
		t.Fatalf("generate = %d:\n%s", r.code, r.body)
	}
	if got := html.UnescapeString(m[1]); got != mfa.ChoosePath+"?c="+url.QueryEscape(token) {
		t.Errorf("Continue goes to %q, want the step-up's factor choice", got)
	}
}

func TestGenerateNeedsRecentMFAAndAnotherFactor(t *testing.T) {
	h := newHarness(t)
	stale := h.signIn("ada@example.com", false)
	w := stale.Do(h.nodes[0], "GET", mfa.EnrolPath(policy.Recovery), nil)
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, mfa.ChoosePath+"?c=") {
		t.Errorf("set-up page without a recent second factor = %d to %q, want the step-up", w.Code, loc)
	}
	if r, codes := stale.generate(h.nodes[0], ""); r.code != http.StatusForbidden || len(codes) != 0 {
		t.Errorf("generate without a recent second factor = %d with %d codes", r.code, len(codes))
	}

	alone := h.signIn("bob@example.com", false)
	for _, e := range alone.Enrolments() {
		if err := h.Store.DeleteEnrolment(context.Background(), e.ID); err != nil {
			t.Fatal(err)
		}
	}
	r, codes := alone.generate(h.nodes[0], "")
	if r.code != http.StatusConflict || len(codes) != 0 || !strings.Contains(r.body, "backup for one of them") {
		t.Errorf("generate with no other factor = %d with %d codes:\n%s", r.code, len(codes), r.body)
	}
	for _, u := range []*user{stale, alone} {
		for _, e := range u.Enrolments() {
			if e.Factor == policy.Recovery {
				t.Errorf("%s got codes", u.User.Email)
			}
		}
	}
}

func TestNewSetReplacesTheOld(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com", true)
	_, old := b.generate(h.nodes[0], "")
	r, fresh := b.generate(h.nodes[0], "")
	if !strings.Contains(r.body, "previous recovery codes no longer work") {
		t.Error("replacing the set does not say the old codes stopped working")
	}
	n := 0
	for _, e := range b.Enrolments() {
		if e.Factor == policy.Recovery {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d recovery enrolments, want 1", n)
	}
	if r := b.verify(h.nodes[0], old[0]); r.code != http.StatusUnauthorized {
		t.Errorf("a code of the replaced set = %d, want 401", r.code)
	}
	if r := b.verify(h.nodes[0], fresh[0]); r.code != http.StatusSeeOther || r.location != "/done" {
		t.Errorf("a code of the new set = %d %q", r.code, r.location)
	}
	ev := b.Events(mfa.EventRemoved)
	if len(ev) != 1 || ev[0].Reason != "replaced by a new set" {
		t.Errorf("removal events %+v", ev)
	}
}

func TestCodeWorksOnceInAnySpelling(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com", true)
	_, codes := b.generate(h.nodes[0], "")
	spellings := []string{
		codes[0],
		strings.ToUpper(strings.ReplaceAll(codes[1], "-", "")),
		" " + codes[2][:3] + " " + codes[2][3:8] + " " + codes[2][8:] + " ",
	}
	for i, s := range spellings {
		r := b.verify(h.nodes[0], s)
		if r.code != http.StatusSeeOther || r.location != "/done" {
			t.Fatalf("code %q = %d %q:\n%s", s, r.code, r.location, r.body)
		}
		ev := b.Events(mfa.EventSucceeded)
		if want := []string{"9", "8", "7"}[i]; ev[0].Details["remaining"] != want || ev[0].Details["factor"] != policy.Recovery {
			t.Errorf("success details %v, want remaining %s", ev[0].Details, want)
		}
	}
	if !mfatest.HasFactor(b.Session(), policy.Recovery) {
		t.Error("the session does not record the recovery factor")
	}
	r := b.verify(h.nodes[0], codes[0])
	if r.code != http.StatusUnauthorized || !strings.Contains(r.body, "already used") {
		t.Fatalf("used code again = %d:\n%s", r.code, r.body)
	}
	if ev := b.Events(mfa.EventFailed); len(ev) != 1 || ev[0].Reason != "code already used" {
		t.Errorf("failure events %+v", ev)
	}
	e, s := b.set()
	if s.unused() != Count-3 || !e.LastUsedAt.Equal(h.Now()) {
		t.Errorf("%d unused, last used %v", s.unused(), e.LastUsedAt)
	}
}

func TestWrongAndMalformedCodes(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com", true)
	b.generate(h.nodes[0], "")
	for _, in := range []string{"", "abcde", "abcde-23456-x", "abcde-2345o", "abcde-1l0oi"} {
		if r := b.verify(h.nodes[0], in); r.code != http.StatusBadRequest || !strings.Contains(r.body, "ten letters and digits") {
			t.Errorf("%q = %d", in, r.code)
		}
	}
	if n := len(b.Events(mfa.EventFailed)); n != 0 {
		t.Errorf("malformed input counted as %d failures", n)
	}
	r := b.verify(h.nodes[0], "abcde-23456")
	if r.code != http.StatusUnauthorized || !strings.Contains(r.body, "not one of your recovery codes") {
		t.Errorf("wrong code = %d:\n%s", r.code, r.body)
	}
	if ev := b.Events(mfa.EventFailed); len(ev) != 1 || ev[0].Reason != "wrong code" {
		t.Errorf("failure events %+v", ev)
	}
	if _, s := b.set(); s.unused() != Count {
		t.Error("a wrong code used up a code")
	}
}

func TestUsableWhileCodesRemain(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com", true)
	_, codes := b.generate(h.nodes[0], "")
	f := h.nodes[0].factor
	for i, c := range codes {
		e, _ := b.set()
		if !f.Usable(e) {
			t.Fatalf("not usable with %d codes left", Count-i)
		}
		if r := b.verify(h.nodes[0], c); r.code != http.StatusSeeOther {
			t.Fatalf("code %d = %d", i, r.code)
		}
	}
	e, _ := b.set()
	if f.Usable(e) {
		t.Error("usable with every code used")
	}
	_, names, err := h.nodes[0].Core.Enrolled(context.Background(), b.User.ID)
	if err != nil || len(names) != 1 || names[0] != policy.TOTP {
		t.Errorf("Enrolled = %v, %v; want only the app", names, err)
	}
	w := b.Do(h.nodes[0], "GET", mfa.VerifyPath(policy.Recovery)+"?c="+url.QueryEscape(b.stepUp()), nil)
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), mfa.ChoosePath) {
		t.Errorf("verify page with no code left = %d %q", w.Code, w.Header().Get("Location"))
	}
	if f.Usable(store.Enrolment{Factor: policy.Recovery, Data: []byte("{")}) {
		t.Error("a set that does not decode is usable")
	}
}

// TestConcurrentUseOfOneCode spends one code from many goroutines on two
// nodes sharing the store and session backend: exactly one wins.
func TestConcurrentUseOfOneCode(t *testing.T) {
	h := newHarness(t)
	one, two := h.nodes[0], h.addNode()
	b := h.signIn("ada@example.com", true)
	_, codes := b.generate(one, "")
	code, _ := normalise(codes[0])
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		n := []*node{one, two}[i%2]
		wg.Go(func() { _, errs[i] = n.factor.use(context.Background(), b.User.ID, code) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, errUsed):
			t.Errorf("a losing use failed with %v, want errUsed", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d uses won, want exactly 1", won)
	}
	if _, s := b.set(); s.unused() != Count-1 {
		t.Errorf("%d unused after one use", s.unused())
	}
}

// noTx is a store whose transactions isolate nothing, as a read-modify-write
// under PostgreSQL's READ COMMITTED would be.
type noTx struct{ store.Store }

func (s noTx) InTx(ctx context.Context, fn func(store.Tx) error) error { return fn(s.Store.(store.Tx)) }

// TestConcurrentUsesKeepEveryMark spends all ten codes at once on a store
// without isolation: the lock must keep each use's mark from being
// overwritten by another's.
func TestConcurrentUsesKeepEveryMark(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com", true)
	_, codes := b.generate(h.nodes[0], "")
	one := h.nodes[0]
	one.Core.Store = noTx{h.Store}
	var wg sync.WaitGroup
	errs := make([]error, len(codes))
	for i, c := range codes {
		code, _ := normalise(c)
		wg.Go(func() { _, errs[i] = one.factor.use(context.Background(), b.User.ID, code) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("use of code %d: %v", i, err)
		}
	}
	if _, s := b.set(); s.unused() != 0 {
		t.Errorf("%d codes still unused after all were spent: a mark was lost", s.unused())
	}
}

// failingCounters is a session backend whose counters fail, as when Redis
// is down.
type failingCounters struct{ session.Store }

func (failingCounters) Incr(context.Context, string, time.Duration) (int64, time.Duration, error) {
	return 0, 0, session.ErrUnavailable
}

func TestBackendDownLetsNobodyIn(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com", true)
	_, codes := b.generate(h.nodes[0], "")
	h.nodes[0].Core.Replay = failingCounters{h.Replay}
	if r := b.verify(h.nodes[0], codes[0]); r.code != http.StatusServiceUnavailable {
		t.Fatalf("session backend down = %d, want 503", r.code)
	}
	if _, s := b.set(); s.unused() != Count || mfatest.HasFactor(b.Session(), policy.Recovery) {
		t.Error("a code was spent or accepted while the backend was down")
	}
}

func TestHashIsBoundToUserAndKey(t *testing.T) {
	h := newHarness(t)
	f := h.nodes[0].factor
	a, b := f.hash(1, "abcde23456"), f.hash(2, "abcde23456")
	if bytes.Equal(a, b) {
		t.Error("the same code hashes alike for two users")
	}
	other := newHarness(t).nodes[0].factor // another master secret
	if bytes.Equal(a, other.hash(1, "abcde23456")) {
		t.Error("the hash does not depend on the master secret")
	}
}

func TestNormalise(t *testing.T) {
	for in, want := range map[string]string{
		"abcde-23456": "abcde23456", "ABCDE23456": "abcde23456", " ab cde-234 56\t": "abcde23456",
		"abcde-2345": "", "abcde-234567": "", "abcde-0000o": "", "abcdé-23456": "",
	} {
		got, ok := normalise(in)
		if got != want || ok != (want != "") {
			t.Errorf("normalise(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestNewCodesUseTheWholeAlphabet(t *testing.T) {
	codes, err := newCodes(rand.Reader, 200)
	if err != nil {
		t.Fatal(err)
	}
	count := map[rune]int{}
	for _, c := range codes {
		if len(c) != codeLen {
			t.Fatalf("code %q", c)
		}
		for _, r := range c {
			count[r]++
		}
	}
	if len(count) != len(alphabet) {
		t.Errorf("%d distinct symbols in 2000, want all %d", len(count), len(alphabet))
	}
	for r := range count {
		if !strings.ContainsRune(alphabet, r) {
			t.Errorf("symbol %q outside the alphabet", r)
		}
	}
}
