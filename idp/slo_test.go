package idp_test

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/testenv"
)

// sloSetup is ada signed in to three apps with single logout.
func sloSetup(t *testing.T) (*harness, *testenv.Client, map[string]*testSP) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	c := h.loggedIn("ada@example.com")
	o := spOpts{sign: true, slo: true}
	sps := map[string]*testSP{}
	for _, name := range []string{"wiki", "crm", "broken"} {
		sp := newTestSP(t, name, o)
		h.app(name, sp, o, idp.AppSettings{}, "staff")
		sp.trust(t, c.HTTP, h.url)
		ssoOnce(t, h, sp, c)
		sps[sp.SloURL.Host] = sp
	}
	return h, c, sps
}

// How an app in playApps misbehaves.
const (
	strand   = "strand"   // never answers: the user comes back to /saml/slo
	unsigned = "unsigned" // answers with an unsigned LogoutResponse
)

// playApps follows the logout chain: each app the browser is sent to
// answers with a signed LogoutResponse, except those whose host starts with
// fail, which misbehave as how says. It returns the final answer from the
// gateway (a page, or a redirect to the initiator) and the hosts visited.
func playApps(t *testing.T, h *harness, c *testenv.Client, sps map[string]*testSP, r *testenv.Response, fail string, how ...string) (*testenv.Response, []string) {
	t.Helper()
	var visited []string
	for i := 0; i < 10; i++ {
		u, _ := url.Parse(r.Header.Get("Location"))
		if r.StatusCode != http.StatusFound || u == nil || u.Query().Get("SAMLRequest") == "" {
			return r, visited
		}
		sp := sps[u.Host]
		visited = append(visited, u.Host)
		bad := fail != "" && strings.HasPrefix(u.Host, fail)
		if bad && (len(how) == 0 || how[0] == strand) {
			r = c.Get(h.url + idp.SLOPath)
			continue
		}
		lr, err := sp.ValidateLogoutRequest(&http.Request{Method: http.MethodGet, URL: u})
		if err != nil {
			t.Fatalf("%s rejects the LogoutRequest: %v", u.Host, err)
		}
		if lr.NameID == nil || lr.NameID.Value != "ada@example.com" || lr.SessionIndex == nil {
			t.Errorf("LogoutRequest names %+v", lr.NameID)
		}
		answer := sp.ServiceProvider
		if bad {
			plain := *sp.ServiceProvider
			plain.SignatureMethod, plain.LogoutSignatureMethod = "", ""
			answer = &plain
		}
		back, err := answer.MakeRedirectLogoutResponse(lr.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		r = c.Get(h.url + back.Path + "?" + back.RawQuery)
	}
	t.Fatal("logout chain does not end")
	return nil, nil
}

// TestConcurrentSignInsAllLoggedOut opens several apps at once from one
// browser (as from the portal): each sign-in records its app in the same
// session concurrently, and single logout must still reach every one.
func TestConcurrentSignInsAllLoggedOut(t *testing.T) {
	h := newHarness(t)
	h.user("ada@example.com", "staff")
	c := h.loggedIn("ada@example.com")
	o := spOpts{sign: true, slo: true}
	sps := map[string]*testSP{}
	var urls []string
	for _, name := range []string{"wiki", "crm", "mail", "chat", "docs", "jira"} {
		sp := newTestSP(t, name, o)
		h.app(name, sp, o, idp.AppSettings{}, "staff")
		sp.trust(t, c.HTTP, h.url)
		sps[sp.SloURL.Host] = sp
		urls = append(urls, sp.redirectURL(t, h.url, sp.authnRequest(t, nil), ""))
	}
	status := make([]int, len(urls))
	errs := make([]error, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Go(func() {
			resp, err := c.HTTP.Get(u)
			if err != nil {
				errs[i] = err
				return
			}
			resp.Body.Close()
			status[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i := range urls {
		if errs[i] != nil || status[i] != http.StatusOK {
			t.Fatalf("sign-in %d: %d, %v; want 200", i, status[i], errs[i])
		}
	}
	r := c.Submit(h.url+"/logout", h.url+"/logout", url.Values{})
	if _, visited := playApps(t, h, c, sps, r, ""); len(visited) != len(urls) {
		t.Fatalf("single logout visited %v, want all %d apps", visited, len(urls))
	}
}

func TestIdPInitiatedSLO(t *testing.T) {
	h, c, sps := sloSetup(t)
	r := c.Submit(h.url+"/logout", h.url+"/logout", url.Values{})
	final, visited := playApps(t, h, c, sps, r, "broken")
	if len(visited) != 3 {
		t.Errorf("apps visited: %v", visited)
	}
	if final.StatusCode != http.StatusOK {
		t.Fatalf("final page = %d\n%s", final.StatusCode, pageText(final.Body))
	}
	text := pageText(final.Body)
	for _, want := range []string{"wiki Signed out", "crm Signed out", "broken Not confirmed", "did not confirm"} {
		if !strings.Contains(text, want) {
			t.Errorf("final page lacks %q:\n%s", want, text)
		}
	}
	if r := c.Get(h.url + "/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("still signed in after logout: %d", r.StatusCode)
	}
	e := h.lastEvent(idp.EventSLO)
	if e.Outcome != audit.Failure || e.Subject != "ada@example.com" || e.Details["app:https://crm.example.com/metadata"] != "ok" ||
		!strings.HasPrefix(e.Details["app:https://broken.example.com/metadata"], "failed: no answer") {
		t.Errorf("audit = %+v", e)
	}
}

// An app that answers wrongly, and one that cannot be sent a LogoutRequest
// at all, do not stop the others.
func TestSLOBadAnswerAndNoEndpoint(t *testing.T) {
	h, c, sps := sloSetup(t)
	plain := newTestSP(t, "plain", spOpts{})
	h.app("plain", plain, spOpts{}, idp.AppSettings{}, "staff")
	plain.trust(t, c.HTTP, h.url)
	ssoOnce(t, h, plain, c)
	r := c.Submit(h.url+"/logout", h.url+"/logout", url.Values{})
	final, visited := playApps(t, h, c, sps, r, "crm", unsigned)
	if len(visited) != 3 {
		t.Errorf("apps visited: %v", visited)
	}
	text := pageText(final.Body)
	for _, want := range []string{"wiki Signed out", "crm Not confirmed", "broken Signed out", "plain Not confirmed"} {
		if !strings.Contains(text, want) {
			t.Errorf("final page lacks %q:\n%s", want, text)
		}
	}
	e := h.lastEvent(idp.EventSLO)
	if !strings.Contains(e.Details["app:https://crm.example.com/metadata"], "signature") {
		t.Errorf("crm's reason: %q", e.Details["app:https://crm.example.com/metadata"])
	}
}

func TestSPInitiatedSLO(t *testing.T) {
	for _, fail := range []string{"", "broken"} {
		t.Run("fail="+fail, func(t *testing.T) {
			h, c, sps := sloSetup(t)
			wiki := sps["wiki.example.com"]
			u, err := wiki.MakeRedirectLogoutRequest("ada@example.com", "bye")
			if err != nil {
				t.Fatal(err)
			}
			r := c.Get(h.url + u.Path + "?" + u.RawQuery)
			final, visited := playApps(t, h, c, sps, r, fail)
			if len(visited) != 2 {
				t.Errorf("apps visited: %v", visited)
			}
			back, _ := url.Parse(final.Header.Get("Location"))
			if final.StatusCode != http.StatusFound || back.Host != "wiki.example.com" || back.Query().Get("RelayState") != "bye" {
				t.Fatalf("final answer = %d to %s\n%s", final.StatusCode, back, pageText(final.Body))
			}
			if err := wiki.ValidateLogoutResponseRequest(&http.Request{Method: http.MethodGet, URL: back}); err != nil {
				t.Fatalf("wiki rejects the LogoutResponse: %v", err)
			}
			want := saml.StatusSuccess
			if fail != "" {
				want = saml.StatusPartialLogout
			}
			if got := logoutStatus(t, back); got != want {
				t.Errorf("status %s, want %s", got, want)
			}
			if r := c.Get(h.url + "/"); r.StatusCode != http.StatusSeeOther {
				t.Errorf("still signed in after logout: %d", r.StatusCode)
			}
		})
	}
}

func TestSLORefusals(t *testing.T) {
	h, c, sps := sloSetup(t)
	wiki := sps["wiki.example.com"]
	unsigned := *wiki.ServiceProvider
	unsigned.SignatureMethod, unsigned.LogoutSignatureMethod = "", ""
	u, _ := (&testSP{&unsigned}).MakeRedirectLogoutRequest("ada@example.com", "")
	if r := c.Get(h.url + u.Path + "?" + u.RawQuery); r.StatusCode != http.StatusBadRequest {
		t.Errorf("unsigned LogoutRequest = %d", r.StatusCode)
	}
	if e := h.lastEvent(idp.EventSLO); e.Outcome != audit.Denied || e.Reason == "" {
		t.Errorf("audit = %+v", e)
	}
	plain := newTestSP(t, "plain", spOpts{sign: true, slo: true})
	h.app("plain", plain, spOpts{sign: true, slo: true}, idp.AppSettings{}, "staff")
	plain.trust(t, c.HTTP, h.url)
	u, _ = plain.MakeRedirectLogoutRequest("ada@example.com", "")
	if r := c.Get(h.url + u.Path + "?" + u.RawQuery); logoutStatus(t, location(r)) != saml.StatusRequester {
		t.Errorf("LogoutRequest from a non-participant = %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if e := h.lastEvent(idp.EventSLO); e.Outcome != audit.Denied || !strings.Contains(e.Reason, "not a participant") {
		t.Errorf("audit = %+v", e)
	}
	if r := c.Get(h.url + idp.SLOPath); r.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /saml/slo with nothing in progress = %d", r.StatusCode)
	}
	if r := c.Get(h.url + "/"); r.StatusCode != http.StatusOK {
		t.Errorf("session ended by a refused request: %d", r.StatusCode)
	}
}

// logoutStatus reads the second-level (else top-level) status of a
// LogoutResponse sent with the HTTP-Redirect binding.
func logoutStatus(t *testing.T, u *url.URL) string {
	t.Helper()
	raw, _ := base64.StdEncoding.DecodeString(u.Query().Get("SAMLResponse"))
	b, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var resp saml.LogoutResponse
	if err := xml.Unmarshal(b, &resp); err != nil {
		t.Fatal(err)
	}
	if sc := resp.Status.StatusCode.StatusCode; sc != nil {
		return sc.Value
	}
	return resp.Status.StatusCode.Value
}

func location(r *testenv.Response) *url.URL {
	u, _ := url.Parse(r.Header.Get("Location"))
	return u
}

// TestSPInitiatedSLOOverCrossSitePOST: a LogoutRequest posted from another
// site arrives without the SameSite=Lax session cookie. The gateway posts it
// again from its own page, and that same-site POST ends the session.
func TestSPInitiatedSLOOverCrossSitePOST(t *testing.T) {
	h, c, sps := sloSetup(t)
	wiki := sps["wiki.example.com"]
	req, err := wiki.MakeLogoutRequest(h.url+idp.SLOPath, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	raw, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(raw)}, "RelayState": {"bye"}}

	cookieless := testenv.NewClient(t) // the browser's POST from wiki.example.com, cookies left behind
	page := cookieless.PostForm(h.url+idp.SLOPath, form)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `action="`+h.url+idp.SLOPath+`"`) ||
		!strings.Contains(page.Body, `name="portcullis_bounce" value="1"`) {
		t.Fatalf("cross-site POST was not bounced: %d\n%s", page.StatusCode, page.Body)
	}
	if r := c.Get(h.url + "/"); r.StatusCode != http.StatusOK {
		t.Fatalf("the bounce itself ended the session: %d", r.StatusCode)
	}
	f, err := testenv.ParseAutoForm(page)
	if err != nil {
		t.Fatal(err)
	}
	if f.Fields.Get("SAMLRequest") != form.Get("SAMLRequest") || f.Fields.Get("RelayState") != "bye" {
		t.Fatalf("bounced form changed the message: %v", f.Fields)
	}
	r := c.PostForm(f.Action, f.Fields) // same-site now: the browser sends the cookie
	playApps(t, h, c, sps, r, "")
	if r := c.Get(h.url + "/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("still signed in after the bounced logout: %d", r.StatusCode)
	}
}
