package mfa

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

func TestContinuation(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	c := Continuation{UserID: 7, Return: "/saml/sso/resume?key=k", App: "Wiki", Factors: []string{"totp"}, Fresh: 5, Expires: now.Add(time.Minute).Unix()}
	tok := c.sign(key)
	got, err := parseContinuation(key, tok, now)
	if err != nil || got.UserID != 7 || got.Return != c.Return || got.App != "Wiki" || !slices.Equal(got.Factors, c.Factors) || got.Fresh != 5 {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	body, sig, _ := strings.Cut(tok, ".")
	forged := Continuation{UserID: 8, Return: c.Return, Expires: c.Expires}.sign([]byte("another key, another key, another"))
	fbody, _, _ := strings.Cut(forged, ".")
	for name, bad := range map[string]string{
		"other key":       forged,
		"swapped body":    fbody + "." + sig,
		"flipped sig":     body + "." + strings.Map(func(r rune) rune { return r ^ 1 }, sig),
		"no dot":          body + sig,
		"empty":           "",
		"huge":            strings.Repeat("a", 5000) + "." + sig,
		"not base64 body": "!!!." + sig,
	} {
		if _, err := parseContinuation(key, bad, now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := parseContinuation(key, tok, now.Add(time.Minute)); err != errExpired {
		t.Errorf("expired: %v", err)
	}
	if _, err := parseContinuation(key, Continuation{Return: "/", Expires: c.Expires}.sign(key), now); err == nil {
		t.Error("a continuation without a user was accepted")
	}
}

// TestStepUpResumes runs the whole pipeline with the fake factor: a
// required app sends the browser to /mfa, which goes straight to the only
// factor; a wrong code is refused; the right one records the factor,
// rotates the session and returns to the app, which now lets the user in.
func TestStepUpResumes(t *testing.T) {
	x := newHarness(t)
	x.user("ann@example.com", policy.TOTP)
	b := x.browser("ann@example.com")

	a := b.get("/test/app?mode=required")
	if a.code != http.StatusSeeOther || !strings.HasPrefix(a.location, ChoosePath+"?c=") {
		t.Fatalf("app = %d %q, want a step-up redirect", a.code, a.location)
	}
	choice := b.get(a.location)
	if choice.code != http.StatusSeeOther || !strings.HasPrefix(choice.location, "/mfa/totp?c=") {
		t.Fatalf("/mfa with one factor = %d %q, want straight to it", choice.code, choice.location)
	}
	tok := token(t, choice.location)
	if page := b.get(choice.location); page.code != 200 || page.body != "enter code" {
		t.Fatalf("factor page = %d %q", page.code, page.body)
	}
	if r := b.post("/mfa/totp", url.Values{"c": {tok}, "code": {"000000"}}); r.code != http.StatusUnauthorized {
		t.Fatalf("wrong code = %d", r.code)
	}
	if got := x.events(EventFailed); len(got) != 1 || got[0] != "ann@example.com|failure|wrong code" {
		t.Errorf("failure events = %v", got)
	}
	before := b.cookie()
	done := b.post("/mfa/totp", url.Values{"c": {tok}, "code": {"123456"}})
	if done.code != http.StatusSeeOther || done.location != "/test/app?mode=required" {
		t.Fatalf("right code = %d %q, want back to the app", done.code, done.location)
	}
	if b.cookie() == before || b.cookie() == "" {
		t.Error("the session ID was not rotated at step-up")
	}
	if in := b.get(done.location); in.code != 200 || in.body != "in" {
		t.Fatalf("app after step-up = %d %q", in.code, in.body)
	}
	if got := x.events(EventSucceeded); len(got) != 1 {
		t.Errorf("success events = %v", got)
	}
	// Another app that accepts only WebAuthn is not satisfied by TOTP, and
	// the user has no WebAuthn: sent to enrol one, or, with enrolment on
	// first use off, refused with a page and audited.
	if r := b.get("/test/app?mode=required&factor=webauthn"); r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, ChoosePath) {
		t.Errorf("webauthn-only app with enrolment on = %d %q, want the enrol flow", r.code, r.location)
	}
	x.h.EnrolOnFirstUse = false
	if r := b.get("/test/app?mode=required&factor=webauthn"); r.code != http.StatusForbidden {
		t.Errorf("webauthn-only app = %d, want 403", r.code)
	}
	if got := x.events(EventRefused); len(got) != 1 || !strings.Contains(got[0], "no acceptable factor enrolled") {
		t.Errorf("refusal events = %v", got)
	}
}

func TestContinuationBelongsToItsUser(t *testing.T) {
	x := newHarness(t)
	x.user("ann@example.com", policy.TOTP)
	x.user("ben@example.com", policy.TOTP)
	ann, ben := x.browser("ann@example.com"), x.browser("ben@example.com")
	loc := ann.get("/test/app?mode=required").location
	if r := ben.get(loc); r.code != http.StatusBadRequest {
		t.Errorf("ann's continuation used by ben = %d, want 400", r.code)
	}
	if r := ben.post("/mfa/totp", url.Values{"c": {token(t, loc)}, "code": {"123456"}}); r.code != http.StatusBadRequest {
		t.Errorf("ben completing ann's step-up = %d, want 400", r.code)
	}
	anon := x.browser("")
	if r := anon.get(loc); r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, "/login?return=%2Fmfa%3Fc%3D") {
		t.Errorf("anonymous = %d %q, want sign-in returning to /mfa", r.code, r.location)
	}
	x.advance(ContinuationTTL + time.Second)
	if r := ann.get(loc); r.code != http.StatusBadRequest {
		t.Errorf("expired continuation = %d, want 400", r.code)
	}
}

func TestFailuresAreThrottled(t *testing.T) {
	x := newHarness(t)
	x.user("ann@example.com", policy.TOTP)
	b := x.browser("ann@example.com")
	tok := token(t, b.get("/test/app?mode=required").location)
	for i := 0; i < 2; i++ {
		if r := b.post("/mfa/totp", url.Values{"c": {tok}, "code": {"1"}}); r.code != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d", i+1, r.code)
		}
	}
	r := b.post("/mfa/totp", url.Values{"c": {tok}, "code": {"2"}})
	if r.code != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("third failure = %d (Retry-After %q), want 429", r.code, r.header.Get("Retry-After"))
	}
	// Even the right code is not looked at while throttled.
	if r := b.post("/mfa/totp", url.Values{"c": {tok}, "code": {"123456"}}); r.code != http.StatusTooManyRequests {
		t.Errorf("right code while throttled = %d, want 429", r.code)
	}
	if len(x.events(EventThrottled)) < 1 {
		t.Error("throttling not audited")
	}
	x.advance(16 * time.Minute)
	if r := b.post("/mfa/totp", url.Values{"c": {tok}, "code": {"123456"}}); r.code != http.StatusBadRequest {
		// the continuation (15 min) has expired by now: a fresh one is needed
		t.Errorf("after the window with an expired continuation = %d, want 400", r.code)
	}
	tok = token(t, b.get("/test/app?mode=required").location)
	if r := b.post("/mfa/totp", url.Values{"c": {tok}, "code": {"123456"}}); r.code != http.StatusSeeOther {
		t.Errorf("after the window = %d, want success", r.code)
	}
}

func TestBackendDownNeverLetsIn(t *testing.T) {
	x := newHarness(t)
	x.user("ann@example.com", policy.TOTP)
	b := x.browser("ann@example.com")
	tok := token(t, b.get("/test/app?mode=required").location)
	x.flaky.setDown(true)
	if r := b.post("/mfa/totp", url.Values{"c": {tok}, "code": {"123456"}}); r.code != http.StatusServiceUnavailable {
		t.Errorf("counter backend down = %d, want 503", r.code)
	}
	x.flaky.setDown(false)
	x.st.Close()
	if r := b.get("/test/app?mode=required"); r.code == 200 {
		t.Error("store down let the request in")
	}
}

func TestEnrolOnFirstUse(t *testing.T) {
	x := newHarness(t)
	x.user("ann@example.com")
	b := x.browser("ann@example.com")
	loc := b.get("/test/app?mode=required").location
	page := b.get(loc)
	if page.code != 200 || !strings.Contains(page.body, "Set up two-step verification") ||
		!strings.Contains(page.body, `href="/mfa/totp/enrol?c=`) {
		t.Fatalf("enrol choice = %d:\n%s", page.code, page.body)
	}
	done := b.post("/mfa/totp/enrol", url.Values{"c": {token(t, loc)}, "code": {"123456"}})
	if done.code != http.StatusSeeOther || done.location != "/test/app?mode=required" {
		t.Fatalf("proven enrolment = %d %q, want back to the app", done.code, done.location)
	}
	if in := b.get(done.location); in.body != "in" {
		t.Errorf("app after enrolment = %d %q", in.code, in.body)
	}
	if len(x.events(EventEnrolled)) != 1 {
		t.Error("enrolment not audited")
	}

	x.h.EnrolOnFirstUse = false
	x.user("ben@example.com")
	ben := x.browser("ben@example.com")
	if r := ben.get("/test/app?mode=required"); r.code != http.StatusForbidden {
		t.Errorf("no factor and enrolment off = %d, want 403", r.code)
	}
	if r := ben.get("/test/app?mode=optional"); r.body != "in" {
		t.Errorf("optional with no factor = %d %q, want in", r.code, r.body)
	}
}

func TestEnrolNeedsRecentMFAOnceEnrolled(t *testing.T) {
	x := newHarness(t)
	x.user("ann@example.com", policy.TOTP)
	b := x.browser("ann@example.com")
	r := b.get("/mfa/totp/enrol")
	if r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, ChoosePath+"?c=") {
		t.Fatalf("enrol without recent MFA = %d %q, want a step-up", r.code, r.location)
	}
	if p := b.post("/mfa/totp/enrol", url.Values{"code": {"123456"}}); p.code != http.StatusForbidden {
		t.Errorf("POST enrol without recent MFA = %d, want 403", p.code)
	}
	tok := token(t, b.get(r.location).location)
	back := b.post("/mfa/totp", url.Values{"c": {tok}, "code": {"123456"}})
	if back.location != "/mfa/totp/enrol" {
		t.Fatalf("step-up returned to %q", back.location)
	}
	if p := b.get("/mfa/totp/enrol"); p.body != "enrol page" {
		t.Errorf("enrol after step-up = %d %q", p.code, p.body)
	}
	x.advance(RecentMFA + time.Minute)
	if p := b.get("/mfa/totp/enrol"); p.code != http.StatusSeeOther {
		t.Errorf("enrol %s after the step-up = %d, want a step-up again", RecentMFA+time.Minute, p.code)
	}
}

func TestDevicesPage(t *testing.T) {
	x := newHarness(t)
	ann := x.user("ann@example.com", policy.TOTP)
	ben := x.user("ben@example.com", policy.TOTP)
	ctx := context.Background()
	if err := x.st.CreateEnrolment(ctx, &store.Enrolment{UserID: ann.ID, Factor: policy.TOTP, Name: "pending-one"}); err != nil {
		t.Fatal(err)
	}
	b := x.browser("ann@example.com")
	page := b.get(DevicesPath)
	if page.code != 200 || strings.Count(page.body, `class="device"`) != 1 || strings.Contains(page.body, "pending-one") {
		t.Fatalf("devices page lists %d devices (unconfirmed must not show):\n%s", strings.Count(page.body, `class="device"`), page.body)
	}
	es, _ := x.st.UserEnrolments(ctx, ann.ID)
	id := es[0].ID
	benEs, _ := x.st.UserEnrolments(ctx, ben.ID)

	if r := b.post("/mfa/devices/"+itoa(id)+"/rename", url.Values{"name": {"  Work phone "}}); r.code != http.StatusSeeOther {
		t.Fatalf("rename = %d", r.code)
	}
	if e, _ := x.st.Enrolment(ctx, id); e.Name != "Work phone" {
		t.Errorf("renamed to %q", e.Name)
	}
	for _, bad := range []string{"", strings.Repeat("x", 65), "tab\there"} {
		if r := b.post("/mfa/devices/"+itoa(id)+"/rename", url.Values{"name": {bad}}); r.code != http.StatusBadRequest {
			t.Errorf("rename to %q = %d, want 400", bad, r.code)
		}
	}
	if r := b.post("/mfa/devices/"+itoa(benEs[0].ID)+"/rename", url.Values{"name": {"mine"}}); r.code != http.StatusNotFound {
		t.Errorf("renaming another user's device = %d, want 404", r.code)
	}
	if r := b.post("/mfa/devices/"+itoa(benEs[0].ID)+"/remove", nil); r.code != http.StatusNotFound {
		t.Errorf("removing another user's device = %d, want 404", r.code)
	}
	r := b.post("/mfa/devices/"+itoa(id)+"/remove", nil)
	if r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, ChoosePath+"?c=") {
		t.Fatalf("remove without recent MFA = %d %q, want a step-up", r.code, r.location)
	}
	if _, err := x.st.Enrolment(ctx, id); err != nil {
		t.Fatal("removed without a step-up")
	}
	tok := token(t, b.get(r.location).location)
	b.post("/mfa/totp", url.Values{"c": {tok}, "code": {"123456"}})
	if r := b.post("/mfa/devices/"+itoa(id)+"/remove", nil); r.code != http.StatusSeeOther || r.location != DevicesPath {
		t.Fatalf("remove after step-up = %d %q", r.code, r.location)
	}
	if _, err := x.st.Enrolment(ctx, id); err == nil {
		t.Error("enrolment still there")
	}
	if got := x.events(EventRemoved); len(got) != 1 || got[0] != "ann@example.com|success|" {
		t.Errorf("removal events = %v", got)
	}
	if got := x.events(EventRenamed); len(got) != 1 {
		t.Errorf("rename events = %v", got)
	}
}

// TestSessionFactorsSurviveRotation checks Succeed keeps earlier factors
// and the user ID while the ID changes.
func TestSessionFactorsSurviveRotation(t *testing.T) {
	x := newHarness(t)
	x.user("ann@example.com", policy.TOTP)
	b := x.browser("ann@example.com")
	tok := token(t, b.get("/test/app?mode=required").location)
	b.post("/mfa/totp", url.Values{"c": {tok}, "code": {"123456"}})
	req, _ := http.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: b.cookie()})
	s, err := x.sessions.Load(req)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range s.Factors {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "password,totp" || s.MFATime.IsZero() || s.Email != "ann@example.com" {
		t.Errorf("session after step-up: factors %v, MFATime %v, email %q", names, s.MFATime, s.Email)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
