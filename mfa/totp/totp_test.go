package totp

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/mfa"
	"github.com/portcullis/portcullis/mfa/mfatest"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

var (
	secretText = regexp.MustCompile(`<p class="secret" id="secret">([A-Z2-7 ]+)</p>`)
	pendingID  = regexp.MustCompile(`name="enrolment" value="(\d+)"`)
	qrSrc      = regexp.MustCompile(`<img class="qr" src="data:image/png;base64,([^"]+)"`)
	otpauthURI = regexp.MustCompile(`href="(otpauth://[^"]+)"`)
)

// shown is the key an enrolment page showed.
type shown struct {
	id     string
	secret []byte
	b32    string
}

// enrolPage fetches the enrolment page on n and reads the key it shows.
func (b *user) enrolPage(n *node) shown {
	b.h.T.Helper()
	w := b.Do(n, "GET", mfa.EnrolPath(policy.TOTP), nil)
	if w.Code != http.StatusOK {
		b.h.T.Fatalf("GET enrol = %d:\n%s", w.Code, w.Body)
	}
	return readKey(b.h.T, w.Body.String())
}

func readKey(t testing.TB, body string) shown {
	t.Helper()
	m, id := secretText.FindStringSubmatch(body), pendingID.FindStringSubmatch(body)
	if m == nil || id == nil {
		t.Fatalf("no key or enrolment on the page:\n%s", body)
	}
	enc := strings.ReplaceAll(m[1], " ", "")
	secret, err := b32.DecodeString(enc)
	if err != nil {
		t.Fatalf("key %q: %v", m[1], err)
	}
	return shown{id: id[1], secret: secret, b32: enc}
}

// confirm posts the enrolment form with code.
func (b *user) confirm(n *node, k shown, name, code string) *httpResult {
	return result(b.Do(n, "POST", mfa.EnrolPath(policy.TOTP), url.Values{"enrolment": {k.id}, "name": {name}, "code": {code}}))
}

// enrol runs the enrolment pages with the right code and returns the key.
func (b *user) enrol(n *node, name string) shown {
	b.h.T.Helper()
	k := b.enrolPage(n)
	if r := b.confirm(n, k, name, rfcCode(k.secret, b.h.Now(), 6)); r.code != http.StatusSeeOther {
		b.h.T.Fatalf("confirm = %d:\n%s", r.code, r.body)
	}
	return k
}

// verify posts code to the verify page of n for a new step-up.
func (b *user) verify(n *node, code string) *httpResult {
	return result(b.Do(n, "POST", mfa.VerifyPath(policy.TOTP), url.Values{"c": {b.stepUp()}, "code": {code}}))
}

type httpResult struct {
	code     int
	body     string
	location string
}

func result(w interface {
	Result() *http.Response
}) *httpResult {
	resp := w.Result()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return &httpResult{code: resp.StatusCode, body: buf.String(), location: resp.Header.Get("Location")}
}

func TestEnrolShowsKeyAndConfirmsWithCode(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com")
	w := b.Do(h.nodes[0], "GET", mfa.EnrolPath(policy.TOTP), nil)
	body := w.Body.String()
	k := readKey(t, body)
	if len(k.secret) != 20 {
		t.Errorf("secret of %d bytes, want 20 (160 bits)", len(k.secret))
	}
	img := qrSrc.FindStringSubmatch(body)
	if img == nil {
		t.Fatal("no QR code data: URL on the page")
	}
	raw, _ := base64.StdEncoding.DecodeString(html.UnescapeString(img[1]))
	if pic, err := png.Decode(bytes.NewReader(raw)); err != nil || pic.Bounds().Dx() != qrSize {
		t.Errorf("QR code is not a %dpx PNG: %v", qrSize, err)
	}
	link := otpauthURI.FindStringSubmatch(body)
	if link == nil {
		t.Fatal("no otpauth:// link")
	}
	u, err := url.Parse(html.UnescapeString(link[1]))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "totp" || u.Path != "/Test Gateway:ada@example.com" || q.Get("secret") != k.b32 ||
		q.Get("issuer") != "Test Gateway" || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Errorf("otpauth URI %s", u)
	}
	if es := b.Enrolments(); len(es) != 1 || es[0].Confirmed {
		t.Fatalf("after GET: %+v, want one unconfirmed enrolment", es)
	}

	r := b.confirm(h.nodes[0], k, "  Work phone ", rfcCode(k.secret, h.Now(), 6))
	if r.code != http.StatusSeeOther || r.location != mfa.DevicesPath {
		t.Fatalf("confirm = %d to %q, want 303 to the devices page:\n%s", r.code, r.location, r.body)
	}
	es := b.Enrolments()
	if len(es) != 1 || !es[0].Confirmed || es[0].Name != "Work phone" || es[0].Factor != policy.TOTP {
		t.Fatalf("after confirming: %+v", es)
	}
	if !mfatest.HasFactor(b.Session(), policy.TOTP) {
		t.Error("confirming with a code did not count as presenting the factor")
	}
	if len(b.Events(mfa.EventEnrolled)) != 1 {
		t.Error("no enrolment audit event")
	}
}

func TestEnrolDefaultNameAndBadName(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com")
	k := b.enrolPage(h.nodes[0])
	r := b.confirm(h.nodes[0], k, "bad\x01name", rfcCode(k.secret, h.Now(), 6))
	if r.code != http.StatusBadRequest || !strings.Contains(r.body, "Name not accepted") {
		t.Fatalf("bad name = %d:\n%s", r.code, r.body)
	}
	if es := b.Enrolments(); es[0].Confirmed {
		t.Fatal("a refused name confirmed the enrolment")
	}
	b.confirm(h.nodes[0], k, "", rfcCode(k.secret, h.Now(), 6))
	if es := b.Enrolments(); !es[0].Confirmed || es[0].Name != DefaultName {
		t.Fatalf("empty name: %+v, want confirmed as %q", es[0], DefaultName)
	}
}

func TestEnrolRevisitDoesNotPileUp(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com")
	first := b.enrolPage(h.nodes[0])
	again := b.enrolPage(h.nodes[0])
	if again.id != first.id || !bytes.Equal(again.secret, first.secret) {
		t.Errorf("a second visit showed another key (%s, want %s)", again.id, first.id)
	}
	// A stale pending key from long ago, as a crash or another tab leaves.
	stale := store.Enrolment{UserID: b.User.ID, Factor: policy.TOTP, Name: DefaultName, Data: []byte("x"),
		CreatedAt: h.Now().Add(-2 * time.Hour)}
	if err := h.Store.CreateEnrolment(context.Background(), &stale); err != nil {
		t.Fatal(err)
	}
	h.Advance(pendingTTL + time.Minute)
	later := b.enrolPage(h.nodes[0])
	if later.id == first.id {
		t.Error("a pending key older than pendingTTL was shown again")
	}
	es := b.Enrolments()
	if len(es) != 1 || strconv.FormatInt(es[0].ID, 10) != later.id {
		t.Fatalf("enrolments after revisits: %+v, want only the newest pending one", es)
	}
	// Confirming the expired key is refused and shows the current one.
	r := b.confirm(h.nodes[0], first, "", rfcCode(first.secret, h.Now(), 6))
	if r.code != http.StatusBadRequest || !strings.Contains(r.body, "This set-up expired") || readKey(t, r.body).id != later.id {
		t.Fatalf("confirming an expired key = %d:\n%s", r.code, r.body)
	}
	if es := b.Enrolments(); len(es) != 1 || es[0].Confirmed {
		t.Fatalf("after confirming an expired key: %+v", es)
	}
}

func TestEnrolWrongCodeChangesNothing(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com")
	k := b.enrolPage(h.nodes[0])
	wrong := rfcCode(k.secret, h.Now().Add(-5*time.Minute), 6)
	r := b.confirm(h.nodes[0], k, "Phone", wrong)
	if r.code != http.StatusUnauthorized || !strings.Contains(r.body, "That code is not right") {
		t.Fatalf("wrong code = %d:\n%s", r.code, r.body)
	}
	if again := readKey(t, r.body); again.id != k.id || again.b32 != k.b32 {
		t.Error("a wrong code replaced the key being set up")
	}
	if es := b.Enrolments(); len(es) != 1 || es[0].Confirmed {
		t.Fatalf("after a wrong code: %+v", es)
	}
	if mfatest.HasFactor(b.Session(), policy.TOTP) {
		t.Error("a wrong code counted as presenting the factor")
	}
	ev := b.Events(mfa.EventFailed)
	if len(ev) != 1 || ev[0].Reason != "wrong confirmation code" {
		t.Errorf("failure events %+v", ev)
	}
}

// TestVerifyWindow accepts codes one step either side of now and refuses
// two steps away.
func TestVerifyWindow(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com")
	k := b.enrol(h.nodes[0], "Phone")
	h.Advance(10 * time.Minute) // clear of the step the enrolment used
	for _, tc := range []struct {
		offset time.Duration
		ok     bool
	}{
		{-60 * time.Second, false}, {+60 * time.Second, false},
		{-30 * time.Second, true}, {0, true}, {+30 * time.Second, true},
	} {
		r := b.verify(h.nodes[0], rfcCode(k.secret, h.Now().Add(tc.offset), 6))
		if got := r.code == http.StatusSeeOther && r.location == "/done"; got != tc.ok {
			t.Errorf("code of now%+v: %d to %q, want accepted %v", tc.offset, r.code, r.location, tc.ok)
		}
	}
	if n := len(b.Events(mfa.EventSucceeded)); n != 1+3 { // the enrolment's, then three
		t.Errorf("%d success events, want 4", n)
	}
}

// TestReplayRefusedAcrossNodes uses a code on one node and replays it on
// another sharing the session backend.
func TestReplayRefusedAcrossNodes(t *testing.T) {
	h := newHarness(t)
	one, two := h.nodes[0], h.addNode()
	b := h.signIn("ada@example.com")
	k := b.enrol(one, "Phone")
	h.Advance(30 * time.Second)
	code := rfcCode(k.secret, h.Now(), 6)
	if r := b.verify(one, code); r.code != http.StatusSeeOther || r.location != "/done" {
		t.Fatalf("first use on node 1 = %d %q:\n%s", r.code, r.location, r.body)
	}
	r := b.verify(two, code)
	if r.code != http.StatusUnauthorized || !strings.Contains(r.body, "already used") {
		t.Fatalf("replay on node 2 = %d:\n%s", r.code, r.body)
	}
	ev := b.Events(mfa.EventFailed)
	if len(ev) != 1 || ev[0].Reason != "code already used" || ev[0].Details["factor"] != policy.TOTP {
		t.Errorf("failure events %+v, want one \"code already used\"", ev)
	}
	// The same code one step later (it is still within the window) is
	// refused too; the next code is fine.
	h.Advance(30 * time.Second)
	if r := b.verify(two, code); r.code != http.StatusUnauthorized {
		t.Errorf("replay a step later = %d", r.code)
	}
	if r := b.verify(two, rfcCode(k.secret, h.Now(), 6)); r.code != http.StatusSeeOther {
		t.Errorf("next code on node 2 = %d:\n%s", r.code, r.body)
	}
}

func TestVerifyAnyOfTheUsersApps(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com")
	phone := b.enrol(h.nodes[0], "Phone")
	h.Advance(time.Minute)
	tablet := b.enrol(h.nodes[0], "Tablet")
	if bytes.Equal(phone.secret, tablet.secret) {
		t.Fatal("two enrolments share a secret")
	}
	h.Advance(time.Minute)
	before := b.Enrolments()
	if r := b.verify(h.nodes[0], rfcCode(phone.secret, h.Now(), 6)); r.code != http.StatusSeeOther {
		t.Fatalf("phone's code = %d", r.code)
	}
	after := b.Enrolments()
	if !after[0].LastUsedAt.Equal(h.Now()) || !after[1].LastUsedAt.Equal(before[1].LastUsedAt) {
		t.Errorf("LastUsedAt: phone %v (want %v), tablet %v (want unchanged %v)",
			after[0].LastUsedAt, h.Now(), after[1].LastUsedAt, before[1].LastUsedAt)
	}
	// The step is used up for the user, whichever app shows it.
	if r := b.verify(h.nodes[0], rfcCode(tablet.secret, h.Now(), 6)); r.code != http.StatusUnauthorized {
		t.Errorf("tablet's code in the step just used = %d, want 401", r.code)
	}
	h.Advance(30 * time.Second)
	if r := b.verify(h.nodes[0], rfcCode(tablet.secret, h.Now(), 6)); r.code != http.StatusSeeOther {
		t.Errorf("tablet's code = %d", r.code)
	}
}

func TestUnconfirmedEnrolmentIsNotUsable(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com")
	k := b.enrolPage(h.nodes[0])
	r := b.verify(h.nodes[0], rfcCode(k.secret, h.Now(), 6))
	if r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, mfa.ChoosePath+"?c=") {
		t.Fatalf("code of an unconfirmed key = %d to %q, want back to the choice", r.code, r.location)
	}
	if mfatest.HasFactor(b.Session(), policy.TOTP) {
		t.Fatal("an unconfirmed key passed the step-up")
	}
	if _, names, err := h.nodes[0].Core.Enrolled(context.Background(), b.User.ID); err != nil || len(names) != 0 {
		t.Errorf("Enrolled = %v, %v; want none", names, err)
	}
}

func TestWrongCodesAreCountedAndThrottled(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com")
	k := b.enrol(h.nodes[0], "Phone")
	h.Advance(time.Minute)
	wrong := rfcCode(k.secret, h.Now().Add(time.Hour), 6)
	if r := b.verify(h.nodes[0], "12 34"); r.code != http.StatusBadRequest || !strings.Contains(r.body, msgMalformed) {
		t.Errorf("malformed = %d", r.code)
	}
	if n := len(b.Events(mfa.EventFailed)); n != 0 {
		t.Errorf("malformed input counted: %d failure events", n)
	}
	for i := 1; i <= 5; i++ {
		r := b.verify(h.nodes[0], wrong)
		want := http.StatusUnauthorized
		if i == 5 { // MaxUser in the harness
			want = http.StatusTooManyRequests
		}
		if r.code != want {
			t.Fatalf("wrong code %d = %d, want %d", i, r.code, want)
		}
	}
	// Throttled: even the right code is not looked at.
	if r := b.verify(h.nodes[0], rfcCode(k.secret, h.Now(), 6)); r.code != http.StatusTooManyRequests {
		t.Errorf("right code while throttled = %d", r.code)
	}
}

func TestVerifyPageFollowsTheContinuation(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com")
	b.enrol(h.nodes[0], "Phone")
	w := b.Do(h.nodes[0], "GET", mfa.VerifyPath(policy.TOTP)+"?c="+url.QueryEscape(b.stepUp(policy.WebAuthn)), nil)
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), mfa.ChoosePath) {
		t.Errorf("TOTP page for a step-up that wants WebAuthn = %d %q", w.Code, w.Header().Get("Location"))
	}
	token := b.stepUp()
	w = b.Do(h.nodes[0], "GET", mfa.VerifyPath(policy.TOTP)+"?c="+url.QueryEscape(token), nil)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, `name="c" value="`+token+`"`) || !strings.Contains(body, "Test Gateway") {
		t.Errorf("verify page = %d:\n%s", w.Code, body)
	}
}

// TestSecretSealedAtRest checks the stored Data: no secret in it, and it
// opens only under the right master secret and user.
func TestSecretSealedAtRest(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com")
	k := b.enrol(h.nodes[0], "Phone")
	e := b.Enrolments()[0]
	for _, form := range [][]byte{k.secret, []byte(k.b32), []byte(strings.ToLower(k.b32))} {
		if bytes.Contains(e.Data, form) {
			t.Fatalf("stored Data holds the secret (%q)", form)
		}
	}
	got, err := keys.OpenFor(h.Master, sealLabel, e.Data, []byte("user "+strconv.FormatInt(b.User.ID, 10)))
	if err != nil || !bytes.Equal(got, k.secret) {
		t.Fatalf("OpenFor with the right master and user = %x, %v", got, err)
	}
	other, _ := keys.NewMaster(strings.Repeat("another master secret ", 2))
	if _, err := keys.OpenFor(other, sealLabel, e.Data, []byte("user "+strconv.FormatInt(b.User.ID, 10))); err == nil {
		t.Error("opened under another master secret")
	}
	if _, err := keys.OpenFor(h.Master, sealLabel, e.Data, []byte("user "+strconv.FormatInt(b.User.ID+1, 10))); err == nil {
		t.Error("opened bound to another user")
	}
	// Copied onto another user's row it opens for nobody: that user's
	// verification finds no key and refuses the code.
	mallory := h.signIn("mallory@example.com")
	stolen := store.Enrolment{UserID: mallory.User.ID, Factor: policy.TOTP, Name: "Stolen", Data: e.Data, Confirmed: true,
		CreatedAt: h.Now()}
	if err := h.Store.CreateEnrolment(context.Background(), &stolen); err != nil {
		t.Fatal(err)
	}
	h.Advance(time.Minute)
	if r := mallory.verify(h.nodes[0], rfcCode(k.secret, h.Now(), 6)); r.code != http.StatusUnauthorized {
		t.Errorf("a secret copied to another user verified: %d", r.code)
	}
}

// failingClaims is a session backend whose claims fail, as when Redis is
// down.
type failingClaims struct{ session.Store }

func (failingClaims) Claim(context.Context, string, time.Duration) (bool, error) {
	return false, session.ErrUnavailable
}

func TestBackendDownLetsNobodyIn(t *testing.T) {
	h := newHarness(t)
	b := h.signIn("ada@example.com")
	k := b.enrol(h.nodes[0], "Phone")
	h.Advance(time.Minute)
	h.nodes[0].Core.Replay = failingClaims{h.Replay}
	r := b.verify(h.nodes[0], rfcCode(k.secret, h.Now(), 6))
	if r.code != http.StatusServiceUnavailable {
		t.Fatalf("claim failing = %d, want 503", r.code)
	}
	if s := b.Session(); len(b.Events(mfa.EventSucceeded)) != 1 || s.MFATime.After(h.Now().Add(-time.Minute)) {
		t.Error("a code was accepted without its claim")
	}
}

// TestOathtoolCodeAccepted enrols with a code from oathtool, an
// independent implementation, and verifies with another.
func TestOathtoolCodeAccepted(t *testing.T) {
	requireOathtool(t)
	h := newHarness(t)
	b := h.signIn("ada@example.com")
	k := b.enrolPage(h.nodes[0])
	if r := b.confirm(h.nodes[0], k, "Phone", oathtool(t, k.b32, h.Now())); r.code != http.StatusSeeOther {
		t.Fatalf("confirming with oathtool's code = %d:\n%s", r.code, r.body)
	}
	h.Advance(30 * time.Second)
	if r := b.verify(h.nodes[0], oathtool(t, k.b32, h.Now())); r.code != http.StatusSeeOther || r.location != "/done" {
		t.Fatalf("oathtool's code = %d %q:\n%s", r.code, r.location, r.body)
	}
}
