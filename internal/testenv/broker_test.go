package testenv_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/config"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/sp"
	"github.com/portcullis/portcullis/store"
)

const (
	aliceEmail    = "alice@example.com"
	alicePassword = "alice's long password"
	refedsMFA     = "https://refeds.org/profile/mfa"
	// unspecified is what B asserts for a sign-in at A alone: it cannot
	// tell how A authenticated.
	unspecified = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
)

// brokerChain is gateway A, the upstream IdP where alice has a password,
// and gateway B, the broker that signs her in through A (registered as
// "A"; B's SP is app "B" at A), with a gosaml2 SP registered at B as "App".
type brokerChain struct {
	a, b   *testenv.Env
	an, bn *testenv.Node // their first nodes
	peer   *testenv.SP
}

// chainOpts are the knobs of newChain.
type chainOpts struct {
	settings sp.Settings
	appMFA   string // the gosaml2 SP's MFA mode at B
	aMFA     string // app "B"'s MFA mode at A
	peer     testenv.SPOptions
	upstream *testenv.Env  // A when already started (see testenv.StartUpstream)
	broker   *testenv.Env  // B when already started (a cluster, a special config)
	front    *testenv.Node // B's address when not its first node (a balancer)
	fromXML  bool          // B registers A from its metadata XML, not its URL
}

func newChain(t *testing.T, o chainOpts) *brokerChain {
	t.Helper()
	ch := &brokerChain{a: o.upstream, b: o.broker}
	if ch.a == nil {
		ch.a = testenv.StartUpstream(t)
	}
	if ch.b == nil {
		ch.b = testenv.Start(t)
	}
	ch.an, ch.bn = ch.a.Nodes[0], ch.b.Nodes[0]
	if o.front != nil {
		ch.bn = o.front
	}
	ch.a.AddUser(t, aliceEmail, alicePassword)
	if o.fromXML {
		ch.a.AddSAMLAppFromMetadata(t, "B", ch.b.Nodes[0].URL+testenv.SPMetadataPath, or(o.aMFA, "off"), idp.AppSettings{})
		ch.b.RegisterUpstream(t, "A", testenv.NewClient(t).Get(ch.an.URL+testenv.IdPMetadataPath).Body, o.settings)
	} else {
		testenv.Chain(t, ch.b, ch.a, "A", o.settings, "B", or(o.aMFA, "off"))
	}
	ch.peer = testenv.NewSP(t, o.peer)
	ch.b.AddSAMLApp(t, "App", ch.peer, or(o.appMFA, "off"), nil)
	return ch
}

func or(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// jit is the settings of a broker that creates users on first sign-in.
var jit = sp.Settings{Link: sp.LinkByEmail, CreateUsers: true}

var idpButton = regexp.MustCompile(`<a [^>]*href="([^"]+)"[^>]*>Sign in with ([^<]+)</a>`)

// idpButtonURL is the href of the page's "Sign in with NAME" button.
func idpButtonURL(t *testing.T, page *testenv.Response, name string) string {
	t.Helper()
	for _, m := range idpButton.FindAllStringSubmatch(page.Body, -1) {
		if m[2] == name {
			return html.UnescapeString(m[1])
		}
	}
	t.Fatalf("%s %d has no \"Sign in with %s\" button:\n%s", page.Request.URL, page.StatusCode, name, page.Body)
	return ""
}

// atPath fails unless r is a 200 page at node's path.
func atPath(t *testing.T, r *testenv.Response, node *testenv.Node, path string) {
	t.Helper()
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Request.URL.String(), node.URL+path) {
		t.Fatalf("at %s %d, want 200 at %s%s:\n%s", r.Request.URL, r.StatusCode, node.URL, path, r.Body)
	}
}

// viaUpstream clicks the "Sign in with A" button of B's login page, signs
// in at A with a password, and follows the browser until it stops: at a
// page that is no redirect and no SAML form.
func (ch *brokerChain) viaUpstream(t *testing.T, c *testenv.Client, login *testenv.Response) *testenv.Response {
	t.Helper()
	atPath(t, login, ch.bn, "/login")
	href := idpButtonURL(t, login, "A")
	if !strings.HasPrefix(href, sp.LoginPath+"?") {
		t.Fatalf("button links to %q, want %s?…", href, sp.LoginPath)
	}
	aLogin := testenv.FollowSAML(c, c.Get(ch.bn.URL+href))
	atPath(t, aLogin, ch.an, "/login")
	return testenv.FollowSAML(c, postLogin(t, c, ch.an, aLogin))
}

// postLogin submits the password form of a login page as alice.
func postLogin(t *testing.T, c *testenv.Client, node *testenv.Node, page *testenv.Response) *testenv.Response {
	t.Helper()
	f, err := testenv.ParseAutoForm(page)
	if err != nil || f.Fields.Get("_csrf") == "" {
		t.Fatalf("no login form at %s: %v", page.Request.URL, err)
	}
	f.Fields.Set("email", aliceEmail)
	f.Fields.Set("password", alicePassword)
	return c.PostForm(f.Action, f.Fields)
}

// events lists node's audit events of type typ, newest first.
func events(t *testing.T, node *testenv.Node, typ string) []audit.Event {
	t.Helper()
	ev, err := node.Server.Store.ListEvents(context.Background(), store.EventFilter{Types: []string{typ}})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// checkPeerLogin checks what the gosaml2 SP accepted at the end of r.
func checkPeerLogin(t *testing.T, ch *brokerChain, r *testenv.Response, requestID, relay, classRef string) {
	t.Helper()
	if r.StatusCode != http.StatusOK || r.Request.URL.String() != ch.peer.ACSURL() {
		t.Fatalf("ended at %s %d, want the SP's ACS:\n%s", r.Request.URL, r.StatusCode, r.Body)
	}
	l, err := ch.peer.LastLogin()
	if err != nil {
		t.Fatalf("the SP rejected B's Response: %v", err)
	}
	if l.NameID != aliceEmail || l.RelayState != relay || l.InResponseTo != requestID {
		t.Errorf("NameID %q, RelayState %q (want %q), InResponseTo %q (want %q)",
			l.NameID, l.RelayState, relay, l.InResponseTo, requestID)
	}
	if got := l.Attributes["email"]; len(got) != 1 || got[0] != aliceEmail {
		t.Errorf("email attribute %v, want [%s]", got, aliceEmail)
	}
	if l.AuthnContextClassRef != classRef {
		t.Errorf("AuthnContextClassRef %q, want %q", l.AuthnContextClassRef, classRef)
	}
	if !l.ResponseSigned && !l.AssertionSigned {
		t.Error("B's Response carries no signature")
	}
	if w := l.Warnings(); len(w) > 0 {
		t.Errorf("gosaml2 warnings: %v", w)
	}
}

// TestBrokerChainWithMFA runs SP-initiated SSO through two gateways: the
// gosaml2 SP asks B, B sends alice to A, A's password sign-in comes back to
// B's ACS, B creates alice just in time, steps her up with TOTP for the
// app, and answers the SP's AuthnRequest with its RelayState.
func TestBrokerChainWithMFA(t *testing.T) {
	t.Parallel()
	ch := newChain(t, chainOpts{settings: jit, appMFA: "required", peer: testenv.SPOptions{WantAssertionsSigned: true}})
	c := testenv.NewClient(t)
	first := c.Get(ch.peer.AuthnRequestURL("relay-chain"))
	requestID := ch.peer.LastRequestID()
	choice := ch.viaUpstream(t, c, c.Follow(ch.bn, first))
	atPath(t, choice, ch.bn, "/mfa")

	u, err := ch.bn.Server.Store.UserByEmail(context.Background(), aliceEmail)
	if err != nil || u.PasswordHash != "" {
		t.Fatalf("B's JIT user: %+v, %v", u, err)
	}
	logins := events(t, ch.bn, sp.EventLogin)
	if len(logins) != 1 || logins[0].Outcome != audit.Success || logins[0].Details["created"] != "true" ||
		logins[0].Details["idp"] != "A" || logins[0].Details["solicited"] != "true" {
		t.Fatalf("B's sp.login events: %+v", logins)
	}
	created := events(t, ch.bn, audit.UserCreated) // the admin's first, alice's last
	if len(created) != 2 || created[0].Actor != "idp:A" || created[0].Subject != aliceEmail {
		t.Errorf("user.created events %+v, want alice's by idp:A after the admin's", created)
	}
	_, end := testenv.EnrolTOTPOnFirstUse(t, c, ch.bn, choice)
	checkPeerLogin(t, ch, end, requestID, "relay-chain", refedsMFA)
}

// TestBrokerTrustMFA runs the chain to an app requiring MFA at B. When A
// requires MFA for app "B", alice presents a TOTP code at A and A asserts
// REFEDS MFA: a broker trusting A's MFA (trust_mfa) takes that as her
// second factor and asks for none; one that does not steps her up itself.
// A trusting broker still steps her up when A asserts only a password.
func TestBrokerTrustMFA(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name            string
		trust           bool
		aMFA            string // app "B"'s MFA mode at A
		classRef        string // A's AuthnContextClassRef
		upstreamCounted bool
	}{
		{"trusted", true, "required", refedsMFA, true},
		{"not trusted", false, "required", refedsMFA, false},
		{"trusted, password at A", true, "off", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := jit
			s.TrustMFA = tc.trust
			ch := newChain(t, chainOpts{settings: s, appMFA: "required", aMFA: tc.aMFA})
			var aApp testenv.Authenticator
			if tc.aMFA == "required" {
				aApp = enrolAtDevices(t, ch.an)
			}
			c := testenv.NewClient(t)
			first := c.Get(ch.peer.AuthnRequestURL("relay-trust"))
			requestID := ch.peer.LastRequestID()
			end := ch.viaUpstream(t, c, c.Follow(ch.bn, first))
			if tc.aMFA == "required" {
				end = testenv.PresentTOTP(t, c, ch.an, end, aApp)
			}
			logins := events(t, ch.bn, sp.EventLogin)
			if len(logins) != 1 || logins[0].Details["upstream_mfa"] != fmt.Sprint(tc.upstreamCounted) ||
				logins[0].Details["authn_context"] != tc.classRef {
				t.Fatalf("B's sp.login events %+v, want upstream_mfa=%v after A's %s", logins, tc.upstreamCounted, tc.classRef)
			}
			if !tc.upstreamCounted {
				atPath(t, end, ch.bn, "/mfa")
				_, end = testenv.EnrolTOTPOnFirstUse(t, c, ch.bn, end)
			}
			checkPeerLogin(t, ch, end, requestID, "relay-trust", refedsMFA)
			enrolled, err := ch.bn.Server.Store.UserEnrolments(context.Background(), mustUser(t, ch.bn).ID)
			if want := map[bool]int{true: 0, false: 1}[tc.upstreamCounted]; err != nil || len(enrolled) != want {
				t.Errorf("alice has %d factors at B (%v), want %d", len(enrolled), err, want)
			}
		})
	}
}

// enrolAtDevices enrols an authenticator app for alice at node from the
// devices page, in a browser of her own.
func enrolAtDevices(t *testing.T, node *testenv.Node) testenv.Authenticator {
	t.Helper()
	c := testenv.NewClient(t)
	if r := c.Login(node, aliceEmail, alicePassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login at %s = %d:\n%s", node.URL, r.StatusCode, r.Body)
	}
	return testenv.EnrolTOTPAtDevices(t, c, node)
}

func mustUser(t *testing.T, node *testenv.Node) store.User {
	t.Helper()
	u, err := node.Server.Store.UserByEmail(context.Background(), aliceEmail)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestBrokerPasswordFormOff turns password sign-in off at B: its login page
// offers only the upstream IdP (registered from its metadata XML this
// time), through which alice signs in, and a POST of a valid password
// (with a valid CSRF token) is refused.
func TestBrokerPasswordFormOff(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, func(c *config.Config) { c.Login.PasswordForm = false })
	ch := newChain(t, chainOpts{settings: jit, broker: b, fromXML: true})
	b.AddUser(t, "bob@example.com", "bob's long password")
	c := testenv.NewClient(t)
	login := c.Get(ch.bn.URL + "/login")
	for _, absent := range []string{`action="/login"`, `name="password"`, `data-passkey`} {
		if strings.Contains(login.Body, absent) {
			t.Errorf("login page has %s with password_form false", absent)
		}
	}
	home := ch.viaUpstream(t, c, login)
	atPath(t, home, ch.bn, "/")
	if !strings.Contains(home.Body, aliceEmail) {
		t.Fatalf("B's portal after sign-in through A does not show alice:\n%s", home.Body)
	}

	confirm := c.Get(ch.bn.URL + "/logout") // any page with a CSRF token
	r := c.PostForm(ch.bn.URL+"/login", url.Values{"_csrf": {c.CSRF(confirm)},
		"email": {"bob@example.com"}, "password": {"bob's long password"}})
	if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "Password sign-in is turned off") {
		t.Fatalf("POST /login = %d, want 403 for password sign-in off:\n%s", r.StatusCode, r.Body)
	}
	failed := events(t, ch.bn, audit.LoginFailed)
	if len(failed) != 1 || failed[0].Subject != "bob@example.com" || failed[0].Outcome != audit.Denied {
		t.Errorf("login.failed events %+v, want bob's refusal", failed)
	}
	if ok := events(t, ch.bn, audit.LoginSucceeded); len(ok) != 0 {
		t.Errorf("password logins recorded: %+v", ok)
	}
}

// TestBrokerForceAuthn sends a ForceAuthn AuthnRequest while alice is
// signed in at both gateways: B shows its login page again, its button
// carries prompt=login, and A, asked with ForceAuthn in turn, asks for her
// password again before the SP gets its Response.
func TestBrokerForceAuthn(t *testing.T) {
	t.Parallel()
	ch := newChain(t, chainOpts{settings: jit})
	c := testenv.NewClient(t)
	first := c.Get(ch.peer.AuthnRequestURL("relay-1"))
	firstID := ch.peer.LastRequestID()
	checkPeerLogin(t, ch, ch.viaUpstream(t, c, c.Follow(ch.bn, first)), firstID, "relay-1", unspecified)

	again := c.Follow(ch.bn, c.Get(ch.peer.AuthnRequestURL("relay-2", testenv.ForceAuthn())))
	requestID := ch.peer.LastRequestID()
	if q := again.Request.URL.Query(); q.Get("prompt") != "login" {
		t.Fatalf("ForceAuthn at B went to %s %d, want its login page with prompt=login", again.Request.URL, again.StatusCode)
	}
	if href := idpButtonURL(t, again, "A"); !strings.Contains(href, "prompt=login") {
		t.Fatalf("B's button %q does not ask A to authenticate again", href)
	}
	checkPeerLogin(t, ch, ch.viaUpstream(t, c, again), requestID, "relay-2", unspecified)
	if n := len(events(t, ch.an, audit.LoginSucceeded)); n != 2 {
		t.Errorf("%d password sign-ins at A, want 2", n)
	}
	if n := len(events(t, ch.bn, sp.EventLogin)); n != 2 {
		t.Errorf("%d upstream sign-ins at B, want 2", n)
	}
}
