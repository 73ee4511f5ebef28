package testenv_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/internal/testenv"
	"github.com/portcullis/portcullis/sp"
)

// postSAML posts fields to action as the auto-submitting page of origin
// would.
func postSAML(c *testenv.Client, origin, action string, fields url.Values) *testenv.Response {
	req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	return c.Do(req)
}

// TestBrokerReplayRefusedAcrossNodes has B run as two nodes behind one
// address. A's Response is taken off its auto-submitting page and posted
// to node 1, which signs alice in, then to node 2, which must refuse it:
// the AuthnRequest it answers and its assertion ID are used up on every
// node. Node 1's session then finishes the SP's sign-in through the
// balancer.
func TestBrokerReplayRefusedAcrossNodes(t *testing.T) {
	t.Parallel()
	b := testenv.StartBalanced(t, 2)
	ch := newChain(t, chainOpts{settings: jit, broker: b.Env, front: b.Front})
	c := testenv.NewClient(t)
	login := testenv.FollowSAML(c, c.Get(ch.peer.AuthnRequestURL("relay-replay")))
	requestID := ch.peer.LastRequestID()
	atPath(t, login, ch.bn, "/login")
	aLogin := testenv.FollowSAML(c, c.Get(ch.bn.URL+idpButtonURL(t, login, "A")))
	atPath(t, aLogin, ch.an, "/login")
	page := c.Follow(ch.an, postLogin(t, c, ch.an, aLogin))
	f, err := testenv.ParseAutoForm(page)
	if err != nil || f.Action != b.Front.URL+sp.ACSPath || f.Fields.Get("SAMLResponse") == "" {
		t.Fatalf("A's page %s is no Response form to B's ACS (%v):\n%s", page.Request.URL, err, page.Body)
	}

	first := postSAML(c, ch.an.URL, b.Nodes[0].URL+sp.ACSPath, f.Fields)
	if first.StatusCode != http.StatusSeeOther {
		t.Fatalf("node 1's ACS = %d, want 303:\n%s", first.StatusCode, first.Body)
	}
	again := postSAML(c, ch.an.URL, b.Nodes[1].URL+sp.ACSPath, f.Fields)
	if again.StatusCode != http.StatusForbidden || !strings.Contains(again.Body, "Sign-in refused") {
		t.Fatalf("node 2's ACS for the same Response = %d, want 403:\n%s", again.StatusCode, again.Body)
	}
	logins := events(t, ch.bn, sp.EventLogin)
	if len(logins) != 2 || logins[0].Outcome != audit.Denied || logins[1].Outcome != audit.Success {
		t.Fatalf("sp.login events %+v, want a success then a refusal", logins)
	}
	if r := logins[0].Details["reason"]; r != string(sp.ReasonReplay) && r != string(sp.ReasonInResponseTo) {
		t.Errorf("refusal reason %q, want replay or in_response_to", r)
	}
	checkPeerLogin(t, ch, testenv.FollowSAML(c, first), requestID, "relay-replay", unspecified)
}

// TestBrokerUnsolicitedReplayAcrossNodes presents one IdP-initiated
// Response of A (launching app "B" from A's portal) to both nodes of B,
// which accepts unsolicited Responses: with no AuthnRequest to use up, the
// assertion ID claimed by node 1 is what makes node 2 refuse it.
func TestBrokerUnsolicitedReplayAcrossNodes(t *testing.T) {
	t.Parallel()
	b := testenv.StartBalanced(t, 2)
	s := jit
	s.AllowUnsolicited = true
	ch := newChain(t, chainOpts{settings: s, broker: b.Env, front: b.Front})
	c := testenv.NewClient(t)
	if r := c.Login(ch.an, aliceEmail, alicePassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login at A = %d", r.StatusCode)
	}
	page := c.Follow(ch.an, c.Get(ch.an.URL+"/saml/apps/B/launch"))
	f, err := testenv.ParseAutoForm(page)
	if err != nil || f.Action != b.Front.URL+sp.ACSPath || f.Fields.Get("SAMLResponse") == "" {
		t.Fatalf("A's launch page %s is no Response form to B's ACS (%v):\n%s", page.Request.URL, err, page.Body)
	}
	if r := postSAML(c, ch.an.URL, b.Nodes[0].URL+sp.ACSPath, f.Fields); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("node 1's ACS = %d, want 303:\n%s", r.StatusCode, r.Body)
	}
	if r := postSAML(c, ch.an.URL, b.Nodes[1].URL+sp.ACSPath, f.Fields); r.StatusCode != http.StatusForbidden {
		t.Fatalf("node 2's ACS for the same Response = %d, want 403:\n%s", r.StatusCode, r.Body)
	}
	logins := events(t, ch.bn, sp.EventLogin)
	if len(logins) != 2 || logins[1].Details["solicited"] != "false" || logins[0].Details["reason"] != string(sp.ReasonReplay) {
		t.Fatalf("sp.login events %+v, want an unsolicited success then a replay refusal", logins)
	}
}
