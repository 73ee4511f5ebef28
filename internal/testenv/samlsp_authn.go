package testenv

import (
	"encoding/base64"
	"net/url"

	"github.com/beevik/etree"
	saml2 "github.com/russellhaering/gosaml2"
)

// AuthnOption changes one AuthnRequest (SAML Core §3.4.1).
type AuthnOption func(*saml2.SAMLServiceProvider)

// ForceAuthn sets ForceAuthn="true": the IdP must authenticate the user
// afresh.
func ForceAuthn() AuthnOption {
	return func(s *saml2.SAMLServiceProvider) { s.ForceAuthn = true }
}

// IsPassive sets IsPassive="true": the IdP must not interact with the user.
func IsPassive() AuthnOption {
	return func(s *saml2.SAMLServiceProvider) { s.IsPassive = true }
}

// RequestAuthnContext adds a RequestedAuthnContext with the comparison
// ("exact", "minimum", "maximum", "better") and AuthnContextClassRefs.
func RequestAuthnContext(comparison string, classRefs ...string) AuthnOption {
	return func(s *saml2.SAMLServiceProvider) {
		s.RequestedAuthnContext = &saml2.RequestedAuthnContext{Comparison: comparison, Contexts: classRefs}
	}
}

// AuthnRequestURL returns the IdP SSO URL carrying a new AuthnRequest with
// the HTTP-Redirect binding (SAML Bindings §3.4), signed in the query with
// SPOptions.SignAuthnRequests. A test GETs it with its Client.
func (sp *SP) AuthnRequestURL(relayState string, opts ...AuthnOption) string {
	sp.t.Helper()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.idp.SSORedirect == "" {
		sp.t.Fatal("samlsp: the IdP has no HTTP-Redirect SingleSignOnService (call Trust first)")
	}
	sp.saml.IdentityProviderSSOURL = sp.idp.SSORedirect
	doc := sp.authnRequest(false, opts)
	u, err := sp.saml.BuildAuthURLRedirect(relayState, doc)
	if err != nil {
		sp.t.Fatalf("samlsp: AuthnRequest URL: %v", err)
	}
	return u
}

// AuthnRequestPOSTForm returns the action and fields of an HTTP-POST binding
// form (SAML Bindings §3.5) carrying a new AuthnRequest, with an enveloped
// signature under SPOptions.SignAuthnRequests. A test posts it with
// SP.PostAuthnRequest, or its Client.
func (sp *SP) AuthnRequestPOSTForm(relayState string, opts ...AuthnOption) (action string, fields url.Values) {
	sp.t.Helper()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.idp.SSOPost == "" {
		sp.t.Fatal("samlsp: the IdP has no HTTP-POST SingleSignOnService (call Trust first)")
	}
	sp.saml.IdentityProviderSSOURL = sp.idp.SSOPost
	doc := sp.authnRequest(sp.opts.SignAuthnRequests, opts)
	b, err := doc.WriteToBytes()
	if err != nil {
		sp.t.Fatalf("samlsp: AuthnRequest: %v", err)
	}
	fields = url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(b)}}
	if relayState != "" {
		fields.Set("RelayState", relayState)
	}
	return sp.idp.SSOPost, fields
}

// PostAuthnRequest posts an AuthnRequestPOSTForm with c as the SP's page
// would, with the SP's Origin, and returns the IdP's answer.
func (sp *SP) PostAuthnRequest(c *Client, relayState string, opts ...AuthnOption) *Response {
	sp.t.Helper()
	action, fields := sp.AuthnRequestPOSTForm(relayState, opts...)
	return postFrom(c, sp.URL, action, fields)
}

// authnRequest builds an AuthnRequest with gosaml2, enveloped-signed if
// sign, with the options applied for this request only. sp.mu is held.
func (sp *SP) authnRequest(sign bool, opts []AuthnOption) *etree.Document {
	s := sp.saml
	defer func() { s.ForceAuthn, s.IsPassive, s.RequestedAuthnContext = false, false, nil }()
	for _, o := range opts {
		o(s)
	}
	build := s.BuildAuthRequestDocumentNoSig
	if sign {
		build = s.BuildAuthRequestDocument
	}
	doc, err := build()
	if err != nil {
		sp.t.Fatalf("samlsp: AuthnRequest: %v", err)
	}
	sp.remember(doc)
	return doc
}

// remember records the ID of a request the SP sends, so that answers to
// it are recognised. sp.mu is held.
func (sp *SP) remember(doc *etree.Document) {
	id := doc.Root().SelectAttrValue("ID", "")
	sp.sent[id] = doc.Root().Tag
	sp.lastReq = id
}

// LastRequestID is the ID of the last AuthnRequest or LogoutRequest built.
func (sp *SP) LastRequestID() string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.lastReq
}
