package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSecurityHeaders(t *testing.T) {
	h := SecurityHeaders(HeaderOptions{})(http.NotFoundHandler())
	got := serve(h, httptest.NewRequest("GET", "/nope", nil)).Header()

	want := map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "strict-origin-when-cross-origin",
		"Permissions-Policy":      permissionsPolicy,
		"Content-Security-Policy": contentSecurityPolicy,
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, got.Get(k), v)
		}
	}
	for _, d := range []string{"default-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(got.Get("Content-Security-Policy"), d) {
			t.Errorf("CSP lacks %q", d)
		}
	}
	if strings.Contains(got.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Error("CSP allows inline code")
	}
	if got.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent without the option")
	}
}

func TestSecurityHeadersHSTS(t *testing.T) {
	h := SecurityHeaders(HeaderOptions{HSTS: true})(http.NotFoundHandler())
	got := serve(h, httptest.NewRequest("GET", "/", nil)).Header().Get("Strict-Transport-Security")
	if !strings.HasPrefix(got, "max-age=") {
		t.Fatalf("Strict-Transport-Security = %q", got)
	}
}

func TestAllowFormAction(t *testing.T) {
	var allowErr error
	h := SecurityHeaders(HeaderOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allowErr = AllowFormAction(w, "https://App.example.com:8443/saml/acs?x=1")
		AllowFormAction(w, "https://app.example.com:8443/other") // same origin: added once
	}))
	csp := serve(h, httptest.NewRequest("GET", "/saml/sso", nil)).Header().Get("Content-Security-Policy")
	if allowErr != nil {
		t.Fatal(allowErr)
	}
	if !strings.Contains(csp, "form-action 'self' https://app.example.com:8443;") &&
		!strings.HasSuffix(csp, "form-action 'self' https://app.example.com:8443") {
		t.Fatalf("CSP = %q, want the ACS origin in form-action", csp)
	}
	if strings.Count(csp, "app.example.com") != 1 {
		t.Fatalf("CSP = %q, want the origin once", csp)
	}
	if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP = %q lost other directives", csp)
	}
}

func TestAllowFormActionOnlyAffectsThatResponse(t *testing.T) {
	h := SecurityHeaders(HeaderOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/sso" {
			AllowFormAction(w, "https://app.example.com/acs")
		}
	}))
	serve(h, httptest.NewRequest("GET", "/sso", nil))
	csp := serve(h, httptest.NewRequest("GET", "/login", nil)).Header().Get("Content-Security-Policy")
	if csp != contentSecurityPolicy {
		t.Fatalf("next response CSP = %q, want the default", csp)
	}
}

func TestAllowFormActionRejectsNonOrigins(t *testing.T) {
	bad := []string{
		"",
		"/relative/acs",
		"javascript:alert(1)",
		"data:text/html,x",
		"ftp://files.example.com/",
		"https://a.example.com;script-src *",
		"https://a.example.com,b.example.com",
		"https://*.example.com/",
		"https://a.example.com'/",
		"https://user:pw@a.example.com/",
		"https://[fe80::1%25eth0]/",
		"https://a.example.com:x/",
	}
	for _, target := range bad {
		w := httptest.NewRecorder()
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		if err := AllowFormAction(w, target); err == nil {
			t.Errorf("%q accepted", target)
		}
		if got := w.Header().Get("Content-Security-Policy"); got != contentSecurityPolicy {
			t.Errorf("%q changed the policy to %q", target, got)
		}
	}
}

// TestSecurityHeadersUnlessOK: an answer to a proxy's check gets the
// headers unless it is a 200, however the status is written.
func TestSecurityHeadersUnlessOK(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(http.ResponseWriter)
		want  bool
	}{
		{"200", func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }, false},
		{"body without a status", func(w http.ResponseWriter) { w.Write([]byte("ok")) }, false},
		{"nothing written", func(http.ResponseWriter) {}, false},
		{"302", func(w http.ResponseWriter) { w.WriteHeader(http.StatusFound) }, true},
		{"401", func(w http.ResponseWriter) { w.WriteHeader(http.StatusUnauthorized) }, true},
		{"403 then a body", func(w http.ResponseWriter) { w.WriteHeader(http.StatusForbidden); w.Write([]byte("no")) }, true},
		{"503 by http.Error", func(w http.ResponseWriter) { http.Error(w, "down", http.StatusServiceUnavailable) }, true},
	} {
		h := SecurityHeadersUnlessOK(HeaderOptions{HSTS: true})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tc.write(w) }))
		got := serve(h, httptest.NewRequest("GET", "/auth/request", nil)).Header()
		for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Strict-Transport-Security"} {
			if has := got.Get(k) != ""; has != tc.want {
				t.Errorf("%s: %s present %v, want %v", tc.name, k, has, tc.want)
			}
		}
	}
}
