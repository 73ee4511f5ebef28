package web

import (
	"context"
	"html/template"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/templates"
)

// samplePages holds every template with sample data and what its page must
// show.
var samplePages = map[string]struct {
	page Page
	want []string
}{
	"login.html": {
		Page{Data: LoginData{Email: "ada@example.com", Error: "Email or password is wrong.", Return: "/saml/sso?x=1", Notice: "You have signed out."}},
		[]string{`action="/login"`, `name="return" value="/saml/sso?x=1"`, `autocomplete="username"`,
			`autocomplete="current-password"`, `role="alert"`, `aria-describedby="login-error"`,
			"Email or password is wrong.", "You have signed out.", `value="ada@example.com"`},
	},
	"portal.html": {
		Page{Data: PortalData{Name: "Ada Lovelace", Email: "ada@example.com", Admin: true,
			Groups: []string{"engineering"}, AuthTime: "today 09:14",
			Factors: []Factor{{Name: "Password", At: "09:14"}}, Apps: []App{{Name: "Grafana", URL: "https://grafana.example.com/"}}}},
		[]string{`action="/logout"`, "Sign out", "Ada Lovelace", "ada@example.com", "engineering",
			"today 09:14", "Password", `href="https://grafana.example.com/"`, "Grafana", "Admin", `href="/mfa/devices"`},
	},
	"logout.html": {
		Page{User: &PageUser{Email: "ada@example.com"}},
		[]string{"Sign out of Portcullis?", `action="/logout"`, `href="/"`, "ada@example.com"},
	},
	"logged_out.html": {
		Page{},
		[]string{"You have signed out.", `href="/login"`},
	},
	"error.html": {
		Page{Data: ErrorData{Status: 404, Title: "Page not found", Message: "There is nothing here."}},
		[]string{"Page not found", "There is nothing here.", "404", "req-123"},
	},
	// The SAML pages' Data types live in package idp (PostData, LogoutData),
	// which web cannot import; maps with the same field names stand in.
	"saml_post.html": {
		Page{Data: map[string]any{"URL": "https://app.example.com/acs", "Heading": "Signing you in",
			"Fields": []map[string]template.HTMLAttr{{"Attrs": `name="SAMLResponse" value="PHNhbWw+"`},
				{"Attrs": `name="RelayState" value="x&amp;y"`}}}},
		[]string{`action="https://app.example.com/acs"`, `data-autosubmit`, `name="SAMLResponse" value="PHNhbWw+"`,
			`name="RelayState" value="x&amp;y"`, `type="submit">Continue`, `/static/autosubmit.js?v=`},
	},
	"saml_logout.html": {
		Page{Data: map[string]any{"Partial": true, "Apps": []map[string]any{{"Name": "Wiki", "OK": true}, {"Name": "CRM", "OK": false}}}},
		[]string{"You have signed out.", "Wiki", "Signed out", "CRM", "Not confirmed", `href="/login"`},
	},
	// The MFA core pages' Data types live in package mfa; maps with the
	// same field names stand in.
	"mfa_choose.html": {
		Page{Data: map[string]any{"App": "Grafana", "Enrol": false, "Options": []map[string]string{
			{"Title": "Security key or passkey", "URL": "/mfa/webauthn?c=t"}, {"Title": "Recovery code", "URL": "/mfa/recovery?c=t"}}}},
		[]string{"Verify it's you", "Grafana", `href="/mfa/webauthn?c=t"`, "Security key or passkey", "Recovery code"},
	},
	"mfa_devices.html": {
		Page{Data: map[string]any{"Devices": []map[string]any{{"ID": 7, "Kind": "Authenticator app", "Name": "Phone", "Created": "2026-11-30", "LastUsed": ""}},
			"Add": []map[string]string{{"Title": "Authenticator app", "URL": "/mfa/totp/enrol"}}}},
		[]string{"Phone", "Authenticator app", "never used", `action="/mfa/devices/7/rename"`, `action="/mfa/devices/7/remove"`,
			`name="name" value="Phone"`, `href="/mfa/totp/enrol"`},
	},
	"password_change.html": {
		Page{Data: PasswordChangeData{Error: "The passwords do not match.", Return: "/"}},
		[]string{`action="/password"`, `name="current"`, `name="new"`, `name="confirm"`,
			`autocomplete="new-password"`, `role="alert"`, "The passwords do not match.", `name="return" value="/"`},
	},
}

func TestEverySampleHasATemplate(t *testing.T) {
	names, _ := fs.Glob(templates.FS, "*.html")
	for _, n := range names {
		if _, ok := samplePages[n]; !ok && n != layoutName {
			t.Errorf("%s has no sample in samplePages", n)
		}
	}
}

func renderSample(t *testing.T, rd *Renderer, name string, p Page) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, "req-123"))
	p.CSRF = "tok-" + name
	w := httptest.NewRecorder()
	rd.Render(w, r, http.StatusOK, name, p)
	return w
}

func TestPagesRender(t *testing.T) {
	rd := testRenderer(t)
	for name, sample := range samplePages {
		t.Run(name, func(t *testing.T) {
			w := renderSample(t, rd, name, sample.page)
			body := w.Body.String()
			if w.Code != http.StatusOK {
				t.Fatalf("status %d:\n%s", w.Code, body)
			}
			if !strings.HasPrefix(body, "<!doctype html>\n<html lang=\"en\">") {
				t.Errorf("page does not start with the doctype: %.60q", body)
			}
			for _, s := range sample.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			checkAccessible(t, body)
			checkFormsCarryToken(t, body, "tok-"+name)
			if !strings.Contains(body, `<link rel="stylesheet" href="/static/portcullis.css?v=`) {
				t.Error("page does not link the versioned stylesheet")
			}
		})
	}
}

var (
	inputTag  = regexp.MustCompile(`<input [^>]*>`)
	idAttr    = regexp.MustCompile(`\bid="([^"]+)"`)
	formTag   = regexp.MustCompile(`(?s)<form method="post".*?</form>`)
	inlineCSS = regexp.MustCompile(`<style|\sstyle="|\son[a-z]+="`)
	// scriptTag finds script elements; only those loading a file from
	// /static/ (which the CSP allows as 'self') may appear.
	scriptTag = regexp.MustCompile(`<script[^>]*>`)
)

// checkAccessible asserts every visible input has a <label for> and that
// the page carries nothing the CSP would block.
func checkAccessible(t *testing.T, body string) {
	t.Helper()
	for _, in := range inputTag.FindAllString(body, -1) {
		if strings.Contains(in, `type="hidden"`) {
			continue
		}
		m := idAttr.FindStringSubmatch(in)
		if m == nil || !strings.Contains(body, `<label for="`+m[1]+`">`) {
			t.Errorf("input without a label: %s", in)
		}
	}
	if loc := inlineCSS.FindString(body); loc != "" {
		t.Errorf("page has inline code the CSP blocks: %q", loc)
	}
	for _, tag := range scriptTag.FindAllString(body, -1) {
		if !strings.Contains(tag, ` src="/static/`) {
			t.Errorf("script not loaded from /static/: %s", tag)
		}
	}
}

// checkFormsCarryToken asserts every form posting to us carries the CSRF
// token. A form posting to another origin (a SAML message to an app) must
// not: the token would leak to that site.
func checkFormsCarryToken(t *testing.T, body, token string) {
	t.Helper()
	for _, f := range formTag.FindAllString(body, -1) {
		if strings.Contains(f, `action="http`) {
			if strings.Contains(f, `name="_csrf"`) {
				t.Errorf("form to another origin carries the csrf token:\n%s", f)
			}
			continue
		}
		if !strings.Contains(f, `<input type="hidden" name="_csrf" value="`+token+`">`) {
			t.Errorf("form without the csrf token:\n%s", f)
		}
	}
}

func TestLoginRetryAfter(t *testing.T) {
	w := renderSample(t, testRenderer(t), "login.html", Page{Data: LoginData{Error: "ignored", RetryAfter: "2 minutes"}})
	body := w.Body.String()
	if !strings.Contains(body, "Too many attempts. Try again in 2 minutes.") || strings.Contains(body, "ignored") {
		t.Fatalf("retry message wrong:\n%s", body)
	}
}

func TestPortalEmptyState(t *testing.T) {
	w := renderSample(t, testRenderer(t), "portal.html", Page{Data: PortalData{Email: "ada@example.com"}})
	if !strings.Contains(w.Body.String(), "No apps are assigned to you yet.") {
		t.Fatal("no empty state")
	}
}

func TestPortalRefusesScriptURLs(t *testing.T) {
	w := renderSample(t, testRenderer(t), "portal.html", Page{Data: PortalData{Apps: []App{{Name: "x", URL: "javascript:alert(1)"}}}})
	if strings.Contains(w.Body.String(), "javascript:") {
		t.Fatal("a javascript: URL reached the page")
	}
}

func TestRenderHeadersAndFill(t *testing.T) {
	c, err := NewCSRF(testCSRFKey, testRenderer(t), CSRFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rd := testRenderer(t)
	h := AssignRequestID(c.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd.Render(w, r, http.StatusUnauthorized, "login.html", Page{Data: LoginData{}})
	})))
	w := serve(h, httptest.NewRequest("GET", "/login", nil))
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want the one asked for", w.Code)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	tok := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(w.Body.String())
	if tok == nil || len(tok[1]) < 40 {
		t.Fatalf("Render did not fill the csrf token:\n%s", w.Body)
	}
}

func TestErrorPage(t *testing.T) {
	rd := testRenderer(t)
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, "abcdefgh23456789"))
	w := httptest.NewRecorder()
	rd.Error(w, r, http.StatusBadGateway, "Upstream unavailable", "Try again soon.")
	body := w.Body.String()
	if w.Code != http.StatusBadGateway {
		t.Fatalf("status %d", w.Code)
	}
	for _, s := range []string{"abcdefgh23456789", "Upstream unavailable", "Try again soon.", "Error 502"} {
		if !strings.Contains(body, s) {
			t.Errorf("error page lacks %q", s)
		}
	}
	checkNoStack(t, body)
}

func checkNoStack(t *testing.T, body string) {
	t.Helper()
	for _, s := range []string{"goroutine ", ".go:", "runtime/", "panic"} {
		if strings.Contains(body, s) {
			t.Errorf("page shows %q", s)
		}
	}
}

func TestFailHidesInternalErrors(t *testing.T) {
	logger, logs := testLogger()
	rd, err := NewRenderer("", logger)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	rd.Fail(w, httptest.NewRequest("GET", "/", nil), os.ErrPermission)
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "permission") {
		t.Fatalf("status %d, body shows the cause: %v", w.Code, strings.Contains(w.Body.String(), "permission"))
	}
	if !strings.Contains(logs.String(), "permission denied") {
		t.Fatalf("cause not logged: %s", logs)
	}
}

func writeOverride(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTemplateErrorIsACleanErrorPage(t *testing.T) {
	// The page writes output, then fails on an unknown asset.
	dir := writeOverride(t, map[string]string{
		"logged_out.html": `{{define "title"}}x{{end}}{{define "content"}}PARTIAL-OUTPUT{{asset "missing.css"}}{{end}}`,
	})
	logger, logs := testLogger()
	rd, err := NewRenderer(dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	w := renderSample(t, rd, "logged_out.html", Page{})
	body := w.Body.String()
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", w.Code)
	}
	if strings.Contains(body, "PARTIAL-OUTPUT") || strings.Count(body, "<html") != 1 {
		t.Fatalf("partial page leaked:\n%s", body)
	}
	if !strings.Contains(body, "Something went wrong") || !strings.Contains(body, "req-123") {
		t.Fatalf("not the error page:\n%s", body)
	}
	checkNoStack(t, body)
	if !strings.Contains(logs.String(), "missing.css") {
		t.Fatalf("template error not logged: %s", logs)
	}
}

func TestUnknownTemplateIs500(t *testing.T) {
	w := renderSample(t, testRenderer(t), "nope.html", Page{})
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "req-123") {
		t.Fatalf("status %d", w.Code)
	}
}

func TestBrokenErrorTemplateFallsBack(t *testing.T) {
	dir := writeOverride(t, map[string]string{"error.html": `{{define "content"}}{{.Data.Nope}}{{end}}`})
	rd, err := NewRenderer(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := renderSample(t, rd, "error.html", Page{Data: ErrorData{Status: 404, Title: "<Gone>"}})
	body := w.Body.String()
	if w.Code != http.StatusInternalServerError || !strings.Contains(body, "req-123") || !strings.Contains(body, "<h1>500") {
		t.Fatalf("status %d:\n%s", w.Code, body)
	}
}

func TestOverrideReplacesOnlyNamedFiles(t *testing.T) {
	dir := writeOverride(t, map[string]string{
		"logged_out.html": `{{define "title"}}Bye{{end}}{{define "content"}}<p>Custom goodbye</p>{{end}}`,
		"extra.html":      `ignored`,
	})
	rd, err := NewRenderer(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if body := renderSample(t, rd, "logged_out.html", Page{}).Body.String(); !strings.Contains(body, "Custom goodbye") || !strings.Contains(body, "<title>Bye · Portcullis</title>") {
		t.Fatalf("override not used:\n%s", body)
	}
	if body := renderSample(t, rd, "logout.html", Page{}).Body.String(); !strings.Contains(body, "Sign out of Portcullis?") {
		t.Fatal("embedded page lost")
	}
	if w := renderSample(t, rd, "extra.html", Page{}); w.Code != http.StatusInternalServerError {
		t.Fatal("a file that replaces nothing became a page")
	}
}

func TestNewRendererRejectsBrokenOverrides(t *testing.T) {
	if _, err := NewRenderer(filepath.Join(t.TempDir(), "missing"), nil); err == nil {
		t.Error("missing directory accepted")
	}
	dir := writeOverride(t, map[string]string{"login.html": `{{define "content"}}{{if}}{{end}}`})
	_, err := NewRenderer(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "login.html") {
		t.Errorf("err = %v, want a parse error naming login.html", err)
	}
}

func TestInitial(t *testing.T) {
	for in, want := range map[string]string{"ada": "A", " émile": "É", "": "?", "\x00x": "?", "李雷": "李"} {
		if got := initial(in); got != want {
			t.Errorf("initial(%q) = %q, want %q", in, got, want)
		}
	}
}
