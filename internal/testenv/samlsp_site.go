package testenv

import (
	"encoding/base64"
	"net"
	"net/url"
)

// OnHost makes the SP known as host (such as "sp.test") instead of
// 127.0.0.1: its URL and with it the ACS and SLO URLs of its metadata and
// requests, and its entity ID unless SPOptions.EntityID set one. The
// server still listens on 127.0.0.1, where a Browser resolves every .test
// host: the SP is then on another site than the gateway, as in production,
// and the browser applies SameSite to the gateway's cookies. Call it before
// Trust and before registering sp.Metadata with the IdP.
func (sp *SP) OnHost(host string) {
	sp.t.Helper()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	u, err := url.Parse(sp.URL)
	if err != nil {
		sp.t.Fatalf("samlsp: %v", err)
	}
	old := sp.URL
	u.Host = net.JoinHostPort(host, u.Port())
	sp.URL = u.String()
	if sp.opts.EntityID == old+"/metadata" {
		sp.opts.EntityID = sp.URL + "/metadata"
	}
	sp.saml = sp.newServiceProvider()
	if sp.idp.EntityID != "" {
		sp.configureIdP()
	}
}

// LogoutRequestPOSTForm returns the action and fields of an HTTP-POST
// binding form (SAML Bindings §3.5) carrying a new LogoutRequest for nameID
// and sessionIndex, built by gosaml2 with an enveloped signature; NameID
// attributes as in LogoutRequestURL. The action is the Location of the
// IdP's SingleLogoutService (Portcullis serves both bindings there).
func (sp *SP) LogoutRequestPOSTForm(nameID, sessionIndex, relayState string) (action string, fields url.Values) {
	sp.t.Helper()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.idp.SLO.Location == "" {
		sp.t.Fatal("samlsp: the IdP has no SingleLogoutService (call Trust first)")
	}
	doc, err := sp.saml.BuildLogoutRequestDocumentNoSig(nameID, sessionIndex)
	if err != nil {
		sp.t.Fatalf("samlsp: LogoutRequest: %v", err)
	}
	sp.fixLogoutRequest(doc.Root(), nameID, sessionIndex)
	signed, err := sp.saml.SignLogoutRequest(doc.Root())
	if err != nil {
		sp.t.Fatalf("samlsp: sign LogoutRequest: %v", err)
	}
	doc.SetRoot(signed)
	sp.remember(doc)
	b, err := doc.WriteToBytes()
	if err != nil {
		sp.t.Fatalf("samlsp: LogoutRequest: %v", err)
	}
	fields = url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(b)}}
	if relayState != "" {
		fields.Set("RelayState", relayState)
	}
	return sp.idp.SLO.Location, fields
}
