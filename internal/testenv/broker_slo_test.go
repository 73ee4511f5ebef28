package testenv_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/idp"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/sp"
)

// signIn runs the chain without MFA: the SP's AuthnRequest, B, A's
// password, B's Response to the SP, which must accept it.
func (ch *brokerChain) signIn(t *testing.T, c *testenv.Client) *testenv.SPLogin {
	t.Helper()
	first := c.Get(ch.peer.AuthnRequestURL("relay-slo"))
	requestID := ch.peer.LastRequestID()
	checkPeerLogin(t, ch, ch.viaUpstream(t, c, c.Follow(ch.bn, first)), requestID, "relay-slo", unspecified)
	l, _ := ch.peer.LastLogin()
	return l
}

// signedOut fails unless node has no session for c: its portal sends the
// browser to sign in.
func signedOut(t *testing.T, c *testenv.Client, node *testenv.Node, who string) {
	t.Helper()
	r := c.Get(node.URL + "/")
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Errorf("%s's portal = %d to %q: the session is still there", who, r.StatusCode, loc)
	}
}

// signedIn fails unless node's portal shows alice's page to c.
func signedIn(t *testing.T, c *testenv.Client, node *testenv.Node, who string) {
	t.Helper()
	if r := c.Get(node.URL + "/"); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, aliceEmail) {
		t.Fatalf("%s's portal = %d, want alice's page", who, r.StatusCode)
	}
}

// logoutAt posts the sign-out form of node's /logout page and follows the
// single logout to its end.
func logoutAt(t *testing.T, c *testenv.Client, node *testenv.Node) *testenv.Response {
	t.Helper()
	confirm := c.Get(node.URL + "/logout")
	atPath(t, confirm, node, "/logout")
	return testenv.FollowSAML(c, c.PostForm(node.URL+"/logout", url.Values{"_csrf": {c.CSRF(confirm)}}))
}

// checkPeerLoggedOut fails unless the SP got exactly one LogoutRequest from
// B, for login, and rejected nothing.
func checkPeerLoggedOut(t *testing.T, ch *brokerChain, login *testenv.SPLogin) {
	t.Helper()
	reqs := ch.peer.LogoutRequests()
	if len(reqs) != 1 || reqs[0].NameID != login.NameID || len(reqs[0].SessionIndexes) != 1 ||
		reqs[0].SessionIndexes[0] != login.SessionIndex {
		t.Errorf("the SP received LogoutRequests %+v, want one for %s/%s", reqs, login.NameID, login.SessionIndex)
	}
	if errs := ch.peer.SLOErrors(); len(errs) != 0 {
		t.Errorf("the SP rejected logout messages: %v", errs)
	}
}

// lastLogout is node's newest sp.logout event, failing without one.
func lastLogout(t *testing.T, node *testenv.Node) audit.Event {
	t.Helper()
	ev := events(t, node, sp.EventLogout)
	if len(ev) == 0 {
		t.Fatalf("no %s event at %s", sp.EventLogout, node.URL)
	}
	return ev[0]
}

// lastSLO is node's newest saml.slo event (the IdP's single logout),
// failing without one.
func lastSLO(t *testing.T, node *testenv.Node) audit.Event {
	t.Helper()
	ev := events(t, node, idp.EventSLO)
	if len(ev) == 0 {
		t.Fatalf("no %s event at %s", idp.EventSLO, node.URL)
	}
	return ev[0]
}

// TestBrokerChainLogoutAtBroker signs out at B: B logs the gosaml2 SP out,
// then sends A its LogoutRequest; A ends its session and answers, and the
// browser ends on B's signed-out page.
func TestBrokerChainLogoutAtBroker(t *testing.T) {
	t.Parallel()
	ch := newChain(t, chainOpts{settings: jit, peer: testenv.SPOptions{SLO: true}})
	c := testenv.NewClient(t)
	login := ch.signIn(t, c)
	signedIn(t, c, ch.an, "A")
	signedIn(t, c, ch.bn, "B")

	end := logoutAt(t, c, ch.bn)
	atPath(t, end, ch.bn, "/saml/")
	if !strings.Contains(end.Body, "You have signed out.") || strings.Contains(end.Body, "did not confirm") {
		t.Errorf("B's last page is no complete sign-out:\n%s", end.Body)
	}
	checkPeerLoggedOut(t, ch, login)
	signedOut(t, c, ch.an, "A")
	signedOut(t, c, ch.bn, "B")
	if e := lastLogout(t, ch.bn); e.Outcome != audit.Success || e.Details["initiator"] != "portcullis" || e.Details["idp"] != "A" {
		t.Errorf("B's sp.logout event %+v, want A's successful answer to ours", e)
	}
	bSP := ch.bn.URL + testenv.SPMetadataPath
	if e := lastSLO(t, ch.an); e.Outcome != audit.Success || e.Details["initiator"] != bSP || e.Subject != aliceEmail {
		t.Errorf("A's saml.slo event %+v, want alice's logout asked by %s", e, bSP)
	}
}

// TestBrokerChainLogoutAtUpstream signs out at A: A's single logout sends
// B (app "B") a LogoutRequest at /saml/sp/slo; B ends its session, logs the
// gosaml2 SP out, and answers A, which shows its signed-out page.
func TestBrokerChainLogoutAtUpstream(t *testing.T) {
	t.Parallel()
	ch := newChain(t, chainOpts{settings: jit, peer: testenv.SPOptions{SLO: true}})
	c := testenv.NewClient(t)
	login := ch.signIn(t, c)

	end := logoutAt(t, c, ch.an)
	atPath(t, end, ch.an, "/saml/")
	if !strings.Contains(end.Body, "You have signed out.") || strings.Contains(end.Body, "did not confirm") {
		t.Errorf("A's last page is no complete sign-out:\n%s", end.Body)
	}
	checkPeerLoggedOut(t, ch, login)
	signedOut(t, c, ch.bn, "B")
	signedOut(t, c, ch.an, "A")
	e := lastLogout(t, ch.bn)
	if e.Outcome != audit.Success || e.Details["initiator"] != "upstream" || e.Subject != aliceEmail {
		t.Errorf("B's sp.logout event %+v, want alice's session ended by A's request", e)
	}
	bSP := ch.bn.URL + testenv.SPMetadataPath
	if e := lastSLO(t, ch.an); e.Outcome != audit.Success || e.Details["app:"+bSP] != "ok" {
		t.Errorf("A's saml.slo event %+v, want B (%s) confirmed", e, bSP)
	}
}

// TestBrokerChainLogoutAtApp has the gosaml2 SP start the logout: B ends
// its session, logs out of A on the way, and answers the SP's
// LogoutRequest with Success.
func TestBrokerChainLogoutAtApp(t *testing.T) {
	t.Parallel()
	ch := newChain(t, chainOpts{settings: jit, peer: testenv.SPOptions{SLO: true}})
	c := testenv.NewClient(t)
	login := ch.signIn(t, c)

	end := testenv.FollowSAML(c, c.Get(ch.peer.LogoutRequestURL(login.NameID, login.SessionIndex)))
	requestID := ch.peer.LastRequestID()
	if end.StatusCode != http.StatusOK || !strings.HasPrefix(end.Request.URL.String(), ch.peer.SLOURL()) {
		t.Fatalf("logout ended at %s %d, want the SP's SLO:\n%s", end.Request.URL, end.StatusCode, end.Body)
	}
	resp, err := ch.peer.LastLogoutResponse()
	if err != nil || resp.InResponseTo != requestID || resp.Status != "urn:oasis:names:tc:SAML:2.0:status:Success" || resp.SubStatus != "" {
		t.Fatalf("the SP's LogoutResponse %+v, %v: want Success for %s", resp, err, requestID)
	}
	signedOut(t, c, ch.an, "A")
	signedOut(t, c, ch.bn, "B")
	if e := lastLogout(t, ch.bn); e.Outcome != audit.Success || e.Details["initiator"] != "portcullis" {
		t.Errorf("B's sp.logout event %+v, want A's successful answer to ours", e)
	}
}
