package web

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

var testCSRFKey = bytes.Repeat([]byte{7}, 32)

// csrfSite is a Protect-ed route: GET answers the form token as the body,
// POST records that the handler ran.
type csrfSite struct {
	h   http.Handler
	ran bool
}

func newCSRFSite(t *testing.T, key []byte) *csrfSite {
	t.Helper()
	c, err := NewCSRF(key, testRenderer(t), CSRFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := &csrfSite{}
	s.h = c.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			io.WriteString(w, CSRFToken(r))
			return
		}
		s.ran = true
	}))
	return s
}

// visit does a first GET and returns the cookie it set and the token.
func (s *csrfSite) visit(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	w := serve(s.h, httptest.NewRequest("GET", "/login", nil))
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != CSRFCookie {
		t.Fatalf("first visit set cookies %v, want %s", cookies, CSRFCookie)
	}
	if w.Body.Len() == 0 {
		t.Fatal("first visit rendered no token")
	}
	return cookies[0], w.Body.String()
}

func (s *csrfSite) post(cookie *http.Cookie, token string, header http.Header) *httptest.ResponseRecorder {
	s.ran = false
	r := formRequest("POST", "/login", url.Values{"_csrf": {token}, "email": {"a@example.com"}}.Encode())
	if cookie != nil {
		r.AddCookie(cookie)
	}
	for k, v := range header {
		r.Header[k] = v
	}
	return serve(s.h, r)
}

func TestCSRFFirstVisitSetsCookie(t *testing.T) {
	s := newCSRFSite(t, testCSRFKey)
	cookie, token := s.visit(t)
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/", cookie)
	}
	if strings.Contains(token, cookie.Value) {
		t.Fatal("the token contains the cookie value")
	}
}

func TestCSRFSecureCookieOption(t *testing.T) {
	c, err := NewCSRF(testCSRFKey, testRenderer(t), CSRFOptions{Secure: true})
	if err != nil {
		t.Fatal(err)
	}
	w := serve(c.Protect(http.NotFoundHandler()), httptest.NewRequest("GET", "/", nil))
	if ck := w.Result().Cookies(); len(ck) != 1 || !ck[0].Secure {
		t.Fatalf("cookies %v: want one Secure cookie", ck)
	}
}

func TestCSRFKeepsAnExistingCookie(t *testing.T) {
	s := newCSRFSite(t, testCSRFKey)
	cookie, _ := s.visit(t)
	r := httptest.NewRequest("GET", "/login", nil)
	r.AddCookie(cookie)
	w := serve(s.h, r)
	if len(w.Result().Cookies()) != 0 {
		t.Fatal("a second visit replaced the cookie")
	}
	if w := s.post(cookie, w.Body.String(), nil); w.Code != http.StatusOK {
		t.Fatalf("token from the second render: status %d", w.Code)
	}
}

func TestCSRFTokensAreMaskedPerRender(t *testing.T) {
	s := newCSRFSite(t, testCSRFKey)
	cookie, first := s.visit(t)
	r := httptest.NewRequest("GET", "/login", nil)
	r.AddCookie(cookie)
	if second := serve(s.h, r).Body.String(); second == first {
		t.Fatal("two renders gave the same token bytes")
	}
}

func TestCSRFRejects(t *testing.T) {
	s := newCSRFSite(t, testCSRFKey)
	cookie, token := s.visit(t)
	otherCookie, otherToken := s.visit(t)
	_, tokenOtherKey := newCSRFSite(t, bytes.Repeat([]byte{8}, 32)).visit(t)

	tests := []struct {
		name   string
		cookie *http.Cookie
		token  string
		header http.Header
	}{
		{name: "no cookie", token: token},
		{name: "missing token", cookie: cookie},
		{name: "wrong token", cookie: cookie, token: strings.Repeat("A", len(token))},
		{name: "garbage token", cookie: cookie, token: "not base64!"},
		{name: "token of another cookie", cookie: cookie, token: otherToken},
		{name: "cookie of another token", cookie: otherCookie, token: token},
		{name: "token under another server key", cookie: cookie, token: tokenOtherKey},
		{name: "cookie value as token", cookie: cookie, token: cookie.Value},
		{name: "cross-site Sec-Fetch-Site", cookie: cookie, token: token,
			header: http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{name: "same-site subdomain", cookie: cookie, token: token,
			header: http.Header{"Sec-Fetch-Site": {"same-site"}}},
		{name: "old browser, foreign Origin", cookie: cookie, token: token,
			header: http.Header{"Origin": {"https://evil.example"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := s.post(tt.cookie, tt.token, tt.header)
			if w.Code != http.StatusForbidden {
				t.Fatalf("status = %d, want 403", w.Code)
			}
			if s.ran {
				t.Fatal("the handler ran")
			}
			if !strings.Contains(w.Body.String(), "This form has expired. Reload the page and try again.") {
				t.Fatalf("body lacks the expired message:\n%s", w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Fatalf("Content-Type = %q, want an HTML page", ct)
			}
		})
	}
}

func TestCSRFAccepts(t *testing.T) {
	s := newCSRFSite(t, testCSRFKey)
	cookie, token := s.visit(t)
	tests := []struct {
		name   string
		header http.Header
		field  string
	}{
		{name: "form field", field: token},
		{name: "same-origin browser", field: token, header: http.Header{"Sec-Fetch-Site": {"same-origin"}}},
		{name: "old browser, own Origin", field: token, header: http.Header{"Origin": {"http://example.com"}}},
		{name: "header instead of field", header: http.Header{"X-Csrf-Token": {token}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := s.post(cookie, tt.field, tt.header)
			if w.Code != http.StatusOK || !s.ran {
				t.Fatalf("status = %d, ran = %v: want the handler to run", w.Code, s.ran)
			}
		})
	}
}

func TestCSRFChecksEveryUnsafeMethod(t *testing.T) {
	s := newCSRFSite(t, testCSRFKey)
	cookie, _ := s.visit(t)
	for _, m := range []string{"PUT", "PATCH", "DELETE", "PROPFIND"} {
		r := httptest.NewRequest(m, "/login", nil)
		r.AddCookie(cookie)
		if w := serve(s.h, r); w.Code != http.StatusForbidden || s.ran {
			t.Errorf("%s without token: status %d, ran %v", m, w.Code, s.ran)
		}
	}
}

func TestCSRFLetsBodyErrorsThrough(t *testing.T) {
	s := newCSRFSite(t, testCSRFKey)
	cookie, _ := s.visit(t)
	r := formRequest("POST", "/login", "_csrf=%zz")
	r.AddCookie(cookie)
	if w := serve(s.h, r); w.Code != http.StatusBadRequest || s.ran {
		t.Fatalf("malformed form: status %d, ran %v; want 400", w.Code, s.ran)
	}
}

func TestCSRFTokenOutsideProtectIsEmpty(t *testing.T) {
	if tok := CSRFToken(httptest.NewRequest("GET", "/", nil)); tok != "" {
		t.Fatalf("CSRFToken = %q, want empty", tok)
	}
}

func TestNewCSRFRejectsShortKeyAndBadOrigin(t *testing.T) {
	if _, err := NewCSRF(make([]byte, 16), testRenderer(t), CSRFOptions{}); err == nil {
		t.Error("16-byte key accepted")
	}
	if _, err := NewCSRF(testCSRFKey, testRenderer(t), CSRFOptions{TrustedOrigins: []string{"https://a.example/path"}}); err == nil {
		t.Error("origin with a path accepted")
	}
}
