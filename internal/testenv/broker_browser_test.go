package testenv_test

import (
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/sp"
)

// TestBrokerBrowserChain runs the two-gateway chain in headless Chromium:
// the SP's AuthnRequest to B, the "Sign in with A" button, A's password
// form, and the two auto-submitting Response pages, with real cookies,
// redirects and scripts. Both gateways are on 127.0.0.1 (one site, so B's
// SameSite=Lax request cookie comes back with A's cross-port POST), A with
// a session cookie of its own.
func TestBrokerBrowserChain(t *testing.T) {
	t.Parallel()
	b := testenv.NewBrowser(t)
	ch := newChain(t, chainOpts{settings: jit, upstream: testenv.Start(t, testenv.UpstreamCookie),
		peer: testenv.SPOptions{WantAssertionsSigned: true}})

	b.Navigate(ch.peer.AuthnRequestURL("relay-browser"))
	requestID := ch.peer.LastRequestID()
	b.WaitURL(ch.bn.URL + "/login")
	b.Do("click Sign in with A", chromedp.Click(chromedp.CSS(`[data-idps] a[href^="`+sp.LoginPath+`?idp=A"]`)))
	b.WaitURL(ch.an.URL + "/login")
	b.Login(aliceEmail, alicePassword)
	b.WaitURL(ch.peer.ACSURL())
	b.WaitText("signed in to the test SP as " + aliceEmail)

	l, err := ch.peer.LastLogin()
	if err != nil {
		t.Fatalf("the SP rejected B's Response: %v", err)
	}
	if l.NameID != aliceEmail || l.RelayState != "relay-browser" || l.InResponseTo != requestID {
		t.Errorf("NameID %q, RelayState %q, InResponseTo %q (want %q)", l.NameID, l.RelayState, l.InResponseTo, requestID)
	}
	var posts []string
	for _, p := range b.PageRequests() {
		if p.Method == "POST" {
			posts = append(posts, p.URL)
		}
	}
	want := []string{ch.an.URL + "/login", ch.bn.URL + sp.ACSPath, ch.peer.ACSURL()}
	if !slices.Equal(posts, want) {
		t.Errorf("the browser posted to %v, want %v", posts, want)
	}
}
