package sp

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/web"
)

const sloURL = "https://gw.example.com/saml/sp/slo"

// signedMessage is a logout message from the test IdP, signed, for the
// HTTP-POST binding.
func (g *gateway) signedMessage(t *testing.T, x string) string {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromString(x); err != nil {
		t.Fatal(err)
	}
	signer{kp: g.idp}.signEl(t, d.Root())
	return encode(str(t, d))
}

func logoutRequestXML(id, nameID, sessionIndex string) string {
	si := ""
	if sessionIndex != "" {
		si = `<samlp:SessionIndex>` + sessionIndex + `</samlp:SessionIndex>`
	}
	return `<samlp:LogoutRequest xmlns:samlp="` + samlpNS + `" xmlns:saml="` + samlNS + `" ID="` + id +
		`" Version="2.0" IssueInstant="` + ts(now) + `" Destination="` + sloURL + `"><saml:Issuer>` + idpEntity +
		`</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">` + nameID +
		`</saml:NameID>` + si + `</samlp:LogoutRequest>`
}

func logoutResponseXML(id, inResponseTo string) string {
	return `<samlp:LogoutResponse xmlns:samlp="` + samlpNS + `" xmlns:saml="` + samlNS + `" ID="` + id +
		`" Version="2.0" IssueInstant="` + ts(now) + `" Destination="` + sloURL + `" InResponseTo="` + inResponseTo +
		`"><saml:Issuer>` + idpEntity + `</saml:Issuer><samlp:Status><samlp:StatusCode Value="` + statusSuccess +
		`"/></samlp:Status></samlp:LogoutResponse>`
}

// signedIn is a browser with a session from the test IdP.
func (g *gateway) signedIn(t *testing.T) *browser {
	t.Helper()
	b, code := g.login(t, func(id string) string { return g.answer(t, id, goodMsg()) })
	if code != http.StatusSeeOther || b.session(t) == nil {
		t.Fatalf("login: %d", code)
	}
	return b
}

func TestUpstreamLogoutRoundTrip(t *testing.T) {
	g := newGateway(t, Settings{CreateUsers: true})
	g.mux.HandleFunc("GET /test/logout", func(w http.ResponseWriter, r *http.Request) {
		s, err := g.h.Sessions.Logout(r.Context(), w, r)
		if err != nil || !g.h.UpstreamLogout(w, r, s.Values, "/back") {
			w.WriteHeader(http.StatusNoContent)
		}
	})
	b := g.signedIn(t)
	w := b.get("/test/logout")
	loc, _ := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(loc.String(), idpSLO+"?") {
		t.Fatalf("logout: %d to %q", w.Code, loc)
	}
	var lr saml.LogoutRequest
	readRedirect(t, loc, "SAMLRequest", g.spKey.cert, &lr)
	if lr.NameID == nil || lr.NameID.Value != "alice@example.org" || lr.NameID.NameQualifier != "" ||
		lr.NameID.Format != "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" ||
		lr.SessionIndex == nil || lr.SessionIndex.Value != "_sess-1" || lr.Destination != idpSLO || lr.Issuer.Value != spEntity {
		t.Fatalf("LogoutRequest %+v", lr)
	}
	// Another browser cannot answer it.
	if w := g.browser().post(SLOPath, url.Values{"SAMLResponse": {g.signedMessage(t, logoutResponseXML("_lr0", lr.ID))}}); w.Code != http.StatusBadRequest {
		t.Fatalf("foreign LogoutResponse: %d", w.Code)
	}
	w = b.post(SLOPath, url.Values{"SAMLResponse": {g.signedMessage(t, logoutResponseXML("_lr1", lr.ID))}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/back" {
		t.Fatalf("LogoutResponse: %d to %q %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	evs := g.events(t, EventLogout)
	if e := evs[len(evs)-1]; e.Outcome != audit.Success || e.Details["initiator"] != "portcullis" || e.Subject != "alice@example.org" {
		t.Fatalf("event %+v", e)
	}
	// The exchange is over: the same answer again is refused.
	if w := b.post(SLOPath, url.Values{"SAMLResponse": {g.signedMessage(t, logoutResponseXML("_lr2", lr.ID))}}); w.Code != http.StatusBadRequest {
		t.Fatalf("second LogoutResponse: %d", w.Code)
	}
}

func TestUpstreamLogoutNeedsSLOEndpoint(t *testing.T) {
	g := newGateway(t, Settings{})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for name, values := range map[string]map[string]string{
		"no idp":      {},
		"unknown idp": {ValueIdP: "nope", ValueNameID: "x"},
		"no name id":  {ValueIdP: "okta"},
	} {
		w := httptest.NewRecorder()
		if g.h.UpstreamLogout(w, r, values, "/back") || w.Code != http.StatusOK || w.Body.Len() > 0 {
			t.Errorf("%s: sent a logout (%d)", name, w.Code)
		}
	}
	// The same IdP without a SingleLogoutService: nothing to send.
	values := map[string]string{ValueIdP: "okta", ValueNameID: "alice@example.org"}
	w := httptest.NewRecorder()
	if !g.h.UpstreamLogout(w, r, values, "/back") {
		t.Fatal("no logout sent to an IdP with an SLO endpoint")
	}
	p := g.idpRow
	p.Metadata = strings.Replace(p.Metadata, `<md:SingleLogoutService Binding="`+saml.HTTPRedirectBinding+`" Location="`+idpSLO+`"/>`, "", 1)
	if err := g.st.UpdateIdP(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	w = httptest.NewRecorder()
	if g.h.UpstreamLogout(w, r, values, "/back") || w.Body.Len() > 0 || w.Header().Get("Location") != "" {
		t.Errorf("a logout was sent to an IdP without an SLO endpoint (%d)", w.Code)
	}
}

func TestUpstreamLogoutRequestEndsSession(t *testing.T) {
	g := newGateway(t, Settings{CreateUsers: true})
	b := g.signedIn(t)
	// The session signed in to an app: the apps are logged out first.
	s := b.session(t)
	if err := g.h.Sessions.Update(t.Context(), s, func(s *session.Session) error {
		s.SAML = append(s.SAML, session.SAMLEntry{App: "https://app.example/sp", NameID: "alice@example.org"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	req := g.signedMessage(t, logoutRequestXML("_lq1", "alice@example.org", "_sess-1"))
	w := b.post(SLOPath, url.Values{"SAMLRequest": {req}, "RelayState": {"rs-1"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != SLOPath {
		t.Fatalf("LogoutRequest: %d to %q %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if b.session(t) != nil || len(g.appsOut) != 1 || g.appsOut[0].Email != "alice@example.org" {
		t.Fatalf("session not ended or apps not logged out: %+v", g.appsOut)
	}
	// Back from the apps: the IdP gets its answer.
	w = b.get(SLOPath)
	loc, _ := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(loc.String(), idpSLO+"?") || loc.Query().Get("RelayState") != "rs-1" {
		t.Fatalf("answer: %d to %q", w.Code, loc)
	}
	var resp saml.LogoutResponse
	readRedirect(t, loc, "SAMLResponse", g.spKey.cert, &resp)
	if resp.InResponseTo != "_lq1" || resp.Status.StatusCode.Value != saml.StatusSuccess {
		t.Fatalf("LogoutResponse %+v", resp)
	}
	// The same request again (posted back by our own page, as the browser
	// has no session cookie now) is a replay.
	if w := b.post(SLOPath, url.Values{"SAMLRequest": {req}, web.BounceField: {"1"}}); w.Code != http.StatusBadRequest {
		t.Fatalf("replayed LogoutRequest: %d", w.Code)
	}
}

func TestUpstreamLogoutRequestOfAnotherSessionKeepsThisOne(t *testing.T) {
	g := newGateway(t, Settings{CreateUsers: true})
	b := g.signedIn(t)
	for i, x := range []string{
		logoutRequestXML("_lq2", "bob@example.org", ""),
		logoutRequestXML("_lq3", "alice@example.org", "_another-session"),
	} {
		w := b.post(SLOPath, url.Values{"SAMLRequest": {g.signedMessage(t, x)}})
		if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), idpSLO+"?") {
			t.Fatalf("%d: %d to %q", i, w.Code, w.Header().Get("Location"))
		}
		if b.session(t) == nil {
			t.Fatalf("%d: a LogoutRequest naming another session ended this one", i)
		}
	}
	if len(g.appsOut) != 0 {
		t.Fatal("apps logged out for another session")
	}
}

func TestUpstreamLogoutRequestRefusals(t *testing.T) {
	g := newGateway(t, Settings{CreateUsers: true})
	b := g.signedIn(t)
	unsigned := encode(logoutRequestXML("_lq4", "alice@example.org", ""))
	other := signer{kp: loadKey(t, "other")}
	d := etree.NewDocument()
	if err := d.ReadFromString(logoutRequestXML("_lq5", "alice@example.org", "")); err != nil {
		t.Fatal(err)
	}
	other.signEl(t, d.Root())
	for name, req := range map[string]string{
		"unsigned":        unsigned,
		"wrong key":       encode(str(t, d)),
		"doctype":         encode(`<!DOCTYPE x [<!ENTITY e "x">]>` + logoutRequestXML("_lq6", "&e;", "")),
		"unknown issuer":  g.signedMessage(t, strings.Replace(logoutRequestXML("_lq7", "alice@example.org", ""), idpEntity, "https://x.example", 1)),
		"not a request":   g.signedMessage(t, logoutResponseXML("_lq8", "x")),
		"wrong recipient": g.signedMessage(t, strings.Replace(logoutRequestXML("_lq9", "alice@example.org", ""), sloURL, "https://gw.example.com/elsewhere", 1)),
	} {
		w := b.post(SLOPath, url.Values{"SAMLRequest": {req}})
		if w.Code != http.StatusBadRequest || b.session(t) == nil {
			t.Errorf("%s: %d, session kept: %v", name, w.Code, b.session(t) != nil)
		}
	}
}

func TestCrossSiteLogoutRequestIsPostedAgain(t *testing.T) {
	g := newGateway(t, Settings{CreateUsers: true})
	req := g.signedMessage(t, logoutRequestXML("_lq10", "alice@example.org", ""))
	w := g.browser().post(SLOPath, url.Values{"SAMLRequest": {req}})
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, `action="`+sloURL+`"`) || !strings.Contains(body, web.BounceField) {
		t.Fatalf("no bounce: %d %s", w.Code, body)
	}
}
