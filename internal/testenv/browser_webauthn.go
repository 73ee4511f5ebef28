package testenv

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// StartLocalhost runs one node like Start, but as http://localhost:PORT
// instead of http://127.0.0.1:PORT. WebAuthn needs a secure context and an
// RP ID that is a domain name: loopback by name is both, while an IP
// address can never be an RP ID (the webauthn factor is off there).
func StartLocalhost(t testing.TB, opts ...Option) *Env {
	t.Helper()
	cfg := Base(t)
	for _, o := range opts {
		o(&cfg)
	}
	return startOn(t, cfg, 1, "localhost")
}

// AddPlatformAuthenticator gives the tab a virtual authenticator (the
// DevTools WebAuthn domain) that behaves like a platform authenticator with
// a biometric: CTAP 2.1 over the internal transport, resident keys, user
// verification that always succeeds, presence simulated. It lasts as long
// as the tab, across navigations and ClearCookies.
func (b *Browser) AddPlatformAuthenticator() webauthn.AuthenticatorID {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, BrowserTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.fail("enable WebAuthn", err)
	}
	res, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		}})
	if err != nil {
		b.fail("add a virtual authenticator", err)
	}
	return res.AuthenticatorID
}

// AuthenticatorCredentials lists the credentials the virtual authenticator
// id holds.
func (b *Browser) AuthenticatorCredentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, BrowserTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		b.fail("list the authenticator's credentials", err)
	}
	return res.Credentials
}

// ClearCookies ends the browser session: every cookie goes, the tab and
// its virtual authenticators stay.
func (b *Browser) ClearCookies() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, BrowserTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		b.fail("clear cookies", err)
	}
}

// Click clicks the element sel selects, once it is visible.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.Do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}
