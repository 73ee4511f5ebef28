package idp_test

import (
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/testenv"
)

// autoPost is a page of the SP's site that posts a SAML message to the IdP
// as soon as it loads, as a real SP's login or logout button would.
var autoPost = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html><body onload="document.forms[0].submit()">
<form method="post" action="{{.Action}}">
{{range $name, $v := .Fields}}<input type="hidden" name="{{$name}}" value="{{index $v 0}}">
{{end}}<button type="submit">Continue</button>
</form></body></html>
`))

// TestBrowserCrossSiteSSOAndSLO runs SP-initiated SSO and SLO, both with the
// HTTP-POST binding, in headless Chromium, with the SP on another site
// (http://sp.test:PORT) than the gateway (http://127.0.0.1:PORT). The
// browser sends no SameSite=Lax session cookie with those cross-site POSTs,
// so they succeed only because the IdP parks the AuthnRequest and resumes
// it with a top-level GET, and re-posts the LogoutRequest from its own page.
func TestBrowserCrossSiteSSOAndSLO(t *testing.T) {
	b := testenv.NewBrowser(t)
	h := newHarness(t)
	h.user("ada@example.com", "staff")

	sp := testenv.NewSP(t, testenv.SPOptions{SignAuthnRequests: true, WantAssertionsSigned: true, SLO: true})
	sp.OnHost("sp.test")
	h.appXML("Peer", sp.EntityID(), string(sp.Metadata()), idp.AppSettings{}, "staff")
	if err := sp.Trust(fetch(t, h.client(), h.url+"/saml/metadata")); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sp.ACSURL(), "http://sp.test:") {
		t.Fatalf("SP ACS %s is not on sp.test", sp.ACSURL())
	}

	// The SP's own pages, on its site: /login and /logout auto-post a fresh
	// AuthnRequest or LogoutRequest.
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var action string
		var fields url.Values
		switch r.URL.Path {
		case "/login":
			action, fields = sp.AuthnRequestPOSTForm("relay-login")
		case "/logout":
			l, err := sp.LastLogin()
			if err != nil {
				http.Error(w, err.Error(), http.StatusConflict)
				return
			}
			action, fields = sp.LogoutRequestPOSTForm(l.NameID, l.SessionIndex, "relay-logout")
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		autoPost.Execute(w, struct {
			Action string
			Fields url.Values
		}{action, fields})
	}))
	t.Cleanup(pages.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(pages.URL, "http://"))
	spSite := "http://sp.test:" + port

	// Sign in at the gateway first: the session cookie exists, and only
	// SameSite keeps it off the SP's cross-site POST.
	b.Navigate(h.url + "/login?return=%2F")
	b.Login("ada@example.com", password)
	b.WaitText("Welcome")

	b.PageRequests()
	b.Navigate(spSite + "/login")
	b.WaitURL(sp.ACSURL())
	// The POST from sp.test arrives without the session cookie: the IdP
	// parks it and sends the browser through /login, which the cookie
	// passes at once (top-level GET), to the resume URL.
	checkPages(t, "SSO", b.PageRequests(),
		"GET "+spSite+"/login",
		"POST "+h.url+idp.SSOPath,
		"GET "+h.url+"/login",
		"GET "+h.url+idp.ResumePath,
		"POST "+sp.ACSURL())
	l, err := sp.LastLogin()
	if err != nil {
		t.Fatalf("gosaml2 SP rejected the login: %v", err)
	}
	if w := l.Warnings(); len(w) > 0 {
		t.Errorf("gosaml2 warnings: %v", w)
	}
	if l.NameID != "ada@example.com" || l.RelayState != "relay-login" || l.InResponseTo == "" || !l.AssertionSigned {
		t.Errorf("login: NameID %q, RelayState %q, InResponseTo %q, assertion signed %v",
			l.NameID, l.RelayState, l.InResponseTo, l.AssertionSigned)
	}
	if n := len(h.events("saml.sso")); n != 1 {
		t.Errorf("%d saml.sso events, want 1", n)
	}

	b.Navigate(spSite + "/logout")
	b.WaitText("signed out of the test SP")
	// The cross-site POST is re-posted from the gateway's own page, with
	// the cookie; the LogoutResponse goes back to the SP's /slo.
	checkPages(t, "SLO", b.PageRequests(),
		"GET "+spSite+"/logout",
		"POST "+h.url+idp.SLOPath,
		"POST "+h.url+idp.SLOPath,
		"* "+sp.SLOURL())
	resp, err := sp.LastLogoutResponse()
	if err != nil || resp.Status != saml.StatusSuccess || resp.SubStatus != "" || resp.RelayState != "relay-logout" {
		t.Fatalf("SP's LogoutResponse %+v, %v; want Success with RelayState relay-logout", resp, err)
	}

	b.Navigate(h.url + "/")
	if u := b.WaitURL(h.url + "/login"); !strings.HasPrefix(u, h.url+"/login?") && u != h.url+"/login" {
		t.Errorf("gateway / after logout is %s", u)
	}
}

// checkPages compares the page requests of a browser with want, each
// "METHOD URL" without the query ("*" for any method).
func checkPages(t *testing.T, what string, got []testenv.PageRequest, want ...string) {
	t.Helper()
	var lines []string
	ok := len(got) == len(want)
	for i, r := range got {
		u, _, _ := strings.Cut(r.URL, "?")
		lines = append(lines, r.Method+" "+u)
		if ok {
			m, w, _ := strings.Cut(want[i], " ")
			ok = (m == "*" || m == r.Method) && w == u
		}
	}
	if !ok {
		t.Errorf("%s: the browser requested\n\t%s\nwant\n\t%s", what, strings.Join(lines, "\n\t"), strings.Join(want, "\n\t"))
	}
}
