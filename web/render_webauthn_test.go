package web

import (
	"strings"
	"testing"
)

// The WebAuthn pages' Data types live in package mfa/webauthn (VerifyData,
// EnrolData); maps with the same field names stand in.
func init() {
	samplePages["mfa_webauthn.html"] = struct {
		page Page
		want []string
	}{
		Page{User: &PageUser{Email: "ada@example.com"}, Data: map[string]any{"App": "Grafana", "Token": "tok&c",
			"Begin": "/mfa/webauthn/begin", "Finish": "/mfa/webauthn/finish", "Other": "/mfa?c=tok"}},
		[]string{"Use your security key", "Grafana", `action="/mfa/webauthn/finish"`, `data-webauthn="verify"`,
			`data-begin="/mfa/webauthn/begin"`, `name="c" value="tok&amp;c"`, `role="alert"`, `id="webauthn-error"`,
			`data-error="webauthn-error"`, `href="/mfa?c=tok"`, `/static/webauthn.js?v=`, "<noscript>"},
	}
	samplePages["mfa_webauthn_enrol.html"] = struct {
		page Page
		want []string
	}{
		Page{User: &PageUser{Email: "ada@example.com"}, Data: map[string]any{"Token": "", "Name": "Security key",
			"Begin": "/mfa/webauthn/enrol/begin", "Finish": "/mfa/webauthn/enrol/finish", "Cancel": "/mfa/devices"}},
		[]string{"Add a security key or passkey", `action="/mfa/webauthn/enrol/finish"`, `data-webauthn="register"`,
			`data-begin="/mfa/webauthn/enrol/begin"`, `<label for="name">Name</label>`, `name="name"`,
			`value="Security key"`, `maxlength="64"`, `role="alert"`, `href="/mfa/devices"`, `/static/webauthn.js?v=`},
	}
}

// TestEnrolPageCarriesContinuation: the enrol-on-first-use flow posts its
// continuation back; from the devices page there is none to post.
func TestEnrolPageCarriesContinuation(t *testing.T) {
	rd := testRenderer(t)
	data := map[string]any{"Token": "t1", "Name": "Key", "Begin": "/b", "Finish": "/f", "Cancel": "/mfa?c=t1"}
	if body := renderSample(t, rd, "mfa_webauthn_enrol.html", Page{Data: data}).Body.String(); !strings.Contains(body, `name="c" value="t1"`) {
		t.Errorf("continuation not in the form:\n%s", body)
	}
	data["Token"] = ""
	if body := renderSample(t, rd, "mfa_webauthn_enrol.html", Page{Data: data}).Body.String(); strings.Contains(body, `name="c"`) {
		t.Errorf("empty continuation posted:\n%s", body)
	}
}

// TestLoginOffersPasskey: the sign-in page has the passkey form, hidden
// until the script finds WebAuthn, carrying the CSRF token and the return
// target, and loads the script that runs it.
func TestLoginOffersPasskey(t *testing.T) {
	body := renderSample(t, testRenderer(t), "login.html", Page{Data: LoginData{Return: "/saml/resume?key=k"}}).Body.String()
	for _, s := range []string{`<div data-passkey hidden>`, `action="/mfa/webauthn/passkey/finish"`, `data-webauthn="passkey"`,
		`data-begin="/mfa/webauthn/passkey/begin"`, `id="passkey-error" role="alert"`, "Sign in with a passkey",
		`<script src="/static/webauthn.js?v=`} {
		if !strings.Contains(body, s) {
			t.Errorf("login page lacks %q", s)
		}
	}
	if n := strings.Count(body, `name="return" value="/saml/resume?key=k"`); n != 2 {
		t.Errorf("return target in %d forms, want 2 (password and passkey)", n)
	}
	if n := strings.Count(body, `<input type="hidden" name="_csrf" value="tok-login.html">`); n != 2 {
		t.Errorf("csrf token in %d forms, want 2", n)
	}
}
