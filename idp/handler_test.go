package idp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

// get serves GET target with cookie (if any).
func (u *unit) get(target string, cookie *http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	return u.serve(r)
}

func (u *unit) advance(d time.Duration) {
	u.mu.Lock()
	u.now = u.now.Add(d)
	u.mu.Unlock()
}

func TestBackendDownIs503(t *testing.T) {
	u := newUnit(t, time.Now())
	sp := newTestSP(t, "wiki", spOpts{})
	u.app("Wiki", sp, idp.AppSettings{}, idp.Everyone)
	sp.IDPMetadata = u.metadata(t)
	u.h.Current = func(*http.Request) (*session.Session, store.User, error) {
		return nil, store.User{}, fmt.Errorf("%w: redis is down", session.ErrUnavailable)
	}
	w := u.get(sp.redirectURL(t, "", sp.authnRequest(t, nil), ""), nil)
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "SAMLResponse") {
		t.Fatalf("= %d, want 503 and no Response", w.Code)
	}
}

// A request parked across a slow sign-in is checked as of its arrival:
// crewjam's own 90-second window must not refuse it, the parking time must.
func TestResumeIsValidatedAsOfArrival(t *testing.T) {
	u := newUnit(t, time.Now())
	sp := newTestSP(t, "wiki", spOpts{sign: true})
	u.app("Wiki", sp, idp.AppSettings{}, idp.Everyone)
	sp.IDPMetadata = u.metadata(t)
	park := func() string {
		req := sp.authnRequest(t, func(r *saml.AuthnRequest) { r.IssueInstant = u.clock() })
		w := u.get(sp.redirectURL(t, "", req, ""), nil)
		loc, _ := url.QueryUnescape(strings.TrimPrefix(w.Header().Get("Location"), "/login?return="))
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, idp.ResumePath) {
			t.Fatalf("= %d to %q", w.Code, loc)
		}
		return loc
	}
	resume := park()
	u.advance(5 * time.Minute)
	cookie := u.signIn("ada@example.com")
	parseForm(t, 200, u.get(resume, cookie).Body.String())

	late := park()
	u.advance(idp.ParkTTL + time.Second)
	if w := u.get(late, cookie); w.Code != http.StatusBadRequest {
		t.Errorf("resumed after ParkTTL = %d, want 400", w.Code)
	}
}

func TestStepUpSeam(t *testing.T) {
	u := newUnit(t, time.Now())
	sp := newTestSP(t, "wiki", spOpts{})
	u.app("Wiki", sp, idp.AppSettings{}, idp.Everyone)
	sp.IDPMetadata = u.metadata(t)
	cookie := u.signIn("ada@example.com")
	var asked store.App
	u.h.StepUp = func(w http.ResponseWriter, r *http.Request, req idp.StepUpRequest) bool {
		asked = req.App
		ret, err := req.Resume()
		if err != nil {
			t.Fatal(err)
		}
		http.Redirect(w, r, "/mfa?return="+url.QueryEscape(ret), http.StatusSeeOther)
		return true
	}
	w := u.get(sp.redirectURL(t, "", sp.authnRequest(t, nil), ""), cookie)
	loc, _ := url.QueryUnescape(strings.TrimPrefix(w.Header().Get("Location"), "/mfa?return="))
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(loc, idp.ResumePath) || asked.Name != "Wiki" {
		t.Fatalf("= %d to %q, app %q", w.Code, w.Header().Get("Location"), asked.Name)
	}
	u.h.StepUp = nil // the MFA pages are done
	parseForm(t, 200, u.get(loc, cookie).Body.String())
}

// A refreshed metadata (the app's new certificate) is used by the next
// request, without a restart.
func TestRefreshedMetadataIsUsedAtOnce(t *testing.T) {
	u := newUnit(t, time.Now())
	ctx := context.Background()
	sp := newTestSP(t, "wiki", spOpts{sign: true})
	u.app("Wiki", sp, idp.AppSettings{}, idp.Everyone)
	sp.IDPMetadata = u.metadata(t)
	cookie := u.signIn("ada@example.com")
	try := func(sp *testSP) int {
		return u.get(sp.redirectURL(t, "", sp.authnRequest(t, nil), ""), cookie).Code
	}
	if code := try(sp); code != http.StatusOK {
		t.Fatalf("before the refresh: %d", code)
	}
	key := spKey(t, 2)
	if sp.Key == key {
		key = spKey(t, 1)
	}
	rolled := *sp.ServiceProvider
	rolled.Key, rolled.Certificate = key, selfSigned(t, key, "rolled")
	next := &testSP{&rolled}
	a, err := u.st.AppByName(ctx, "Wiki")
	must(t, err)
	a.Metadata = next.metadataXML(t, spOpts{})
	must(t, u.st.UpdateApp(ctx, a))
	if code := try(sp); code != http.StatusBadRequest {
		t.Errorf("old key after the refresh: %d, want 400", code)
	}
	if code := try(next); code != http.StatusOK {
		t.Errorf("new key after the refresh: %d, want 200", code)
	}
}
