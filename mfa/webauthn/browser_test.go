package webauthn_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/store"
)

const (
	email    = "ada@example.com"
	password = "correct horse battery staple"
)

// TestBrowserPasskey runs the factor in headless Chromium with its virtual
// WebAuthn authenticator (a platform authenticator with a biometric):
// register a passkey after a password sign-in, then, in a fresh browser
// session, sign in to a SAML app (gosaml2, SP-initiated, MFA required)
// with the passkey alone; then, in another session, the step-up after a
// password. The gateway runs as http://localhost:PORT, a secure context
// whose host can be the RP ID.
func TestBrowserPasskey(t *testing.T) {
	b := testenv.NewBrowser(t)
	env := testenv.StartLocalhost(t)
	node := env.Nodes[0]
	env.AddUser(t, email, password)
	sp := testenv.NewSP(t, testenv.SPOptions{})
	env.AddSAMLApp(t, "App", sp, "required", nil)
	authenticator := b.AddPlatformAuthenticator()

	b.Navigate(node.URL + "/login")
	b.Login(email, password)
	b.WaitText("Welcome")
	b.Navigate(node.URL + "/mfa/webauthn/enrol")
	b.Submit(map[string]string{"name": "This laptop"}, "name")
	b.WaitURL(node.URL + "/mfa/devices")
	b.WaitText("This laptop")
	creds := b.AuthenticatorCredentials(authenticator)
	if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
		t.Fatalf("authenticator holds %+v, want one resident credential for localhost", creds)
	}

	// A fresh browser session: no cookie, only the passkey.
	b.ClearCookies()
	b.Navigate(sp.AuthnRequestURL("relay-passkey"))
	b.WaitURL(node.URL + "/login")
	b.Click(`form[data-webauthn="passkey"] [type=submit]`)
	b.WaitURL(sp.ACSURL())
	l := lastLogin(t, sp)
	if l.NameID != email || l.RelayState != "relay-passkey" || l.AuthnContextClassRef != idp.REFEDSMFA {
		t.Errorf("SP login: NameID %q, RelayState %q, class %q", l.NameID, l.RelayState, l.AuthnContextClassRef)
	}
	if amr := l.Attributes["amr"]; !slices.Contains(amr, "hwk") || !slices.Contains(amr, "mfa") || slices.Contains(amr, "pwd") {
		t.Errorf("amr %v, want hwk and mfa without pwd", amr)
	}
	events, err := node.Server.Store.ListEvents(context.Background(), store.EventFilter{Types: []string{audit.LoginSucceeded}})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Details["method"] != "passkey" {
		t.Errorf("login events %+v, want the password then the passkey", events)
	}

	// Another session: a password, then the key as the step-up.
	b.ClearCookies()
	b.Navigate(sp.AuthnRequestURL("relay-step-up"))
	b.WaitURL(node.URL + "/login")
	b.Login(email, password)
	b.WaitURL(node.URL + "/mfa/webauthn?")
	b.Click(`form[data-webauthn="verify"] [type=submit]`)
	b.WaitURL(sp.ACSURL())
	l = lastLogin(t, sp)
	if amr := l.Attributes["amr"]; l.RelayState != "relay-step-up" || !slices.Contains(amr, "pwd") || !slices.Contains(amr, "hwk") {
		t.Errorf("step-up login: RelayState %q, amr %v", l.RelayState, amr)
	}
}

// TestBrowserPasskeyWithoutCredential: when the authenticator has no
// passkey for the gateway, the browser refuses the request (as when the
// user dismisses the prompt), and the page says so in its alert and stays.
func TestBrowserPasskeyWithoutCredential(t *testing.T) {
	b := testenv.NewBrowser(t)
	env := testenv.StartLocalhost(t)
	node := env.Nodes[0]
	b.AddPlatformAuthenticator() // holds no credential for the gateway
	b.Navigate(node.URL + "/login")
	b.Click(`form[data-webauthn="passkey"] [type=submit]`)
	text := b.WaitText("cancelled or timed out")
	if !strings.HasPrefix(b.URL(), node.URL+"/login") || !strings.Contains(text, "Sign in with a passkey") {
		t.Errorf("after the refusal the tab is at %s:\n%s", b.URL(), text)
	}
}

func lastLogin(t *testing.T, sp *testenv.SP) *testenv.SPLogin {
	t.Helper()
	l, err := sp.LastLogin()
	if err != nil {
		t.Fatalf("gosaml2 SP rejected the login: %v", err)
	}
	if w := l.Warnings(); len(w) > 0 {
		t.Errorf("gosaml2 warnings: %v", w)
	}
	return l
}
