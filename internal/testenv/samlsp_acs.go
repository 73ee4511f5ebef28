package testenv

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	saml2 "github.com/russellhaering/gosaml2"
)

// ErrSPNoResponse is what SP.LastLogin returns before any Response came.
var ErrSPNoResponse = errors.New("samlsp: no SAMLResponse was posted to the ACS")

// SPLogin is a Response the SP's ACS accepted.
type SPLogin struct {
	NameID, NameIDFormat, SessionIndex string
	// NameQualifier and SPNameQualifier are those of the assertion's NameID.
	NameQualifier, SPNameQualifier string
	// Attributes maps each attribute Name to its values.
	Attributes           map[string][]string
	AuthnContextClassRef string
	AuthnInstant         time.Time
	RelayState           string
	// InResponseTo is the ID of the SP's AuthnRequest, "" for an
	// IdP-initiated (unsolicited) Response.
	InResponseTo string
	// ResponseSigned and AssertionSigned say which elements carried a
	// signature, which gosaml2 verified; Encrypted that the assertion came
	// as an EncryptedAssertion.
	ResponseSigned, AssertionSigned, Encrypted bool
	// ResponseXML is the Response as posted, decoded from base64.
	// AssertionXML is its assertion alone, decrypted if it was encrypted,
	// with the namespaces it inherited declared: its signature can be
	// checked with VerifyWithXMLSec1.
	ResponseXML, AssertionXML []byte
	// WarningInfo is what gosaml2 flags without failing; see Warnings.
	WarningInfo saml2.WarningInfo
}

// Warnings names the WarningInfo flags that are set: "InvalidTime" (now is
// outside the Conditions), "NotInAudience", "OneTimeUse",
// "ProxyRestriction". A correct IdP response to this SP has none.
func (l *SPLogin) Warnings() []string {
	var w []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"InvalidTime", l.WarningInfo.InvalidTime},
		{"NotInAudience", l.WarningInfo.NotInAudience},
		{"OneTimeUse", l.WarningInfo.OneTimeUse},
		{"ProxyRestriction", l.WarningInfo.ProxyRestriction != nil},
	} {
		if f.set {
			w = append(w, f.name)
		}
	}
	return w
}

// spOutcome is the result of the last POST to the ACS.
type spOutcome struct {
	login *SPLogin
	err   error
	seen  map[string]bool // assertion IDs accepted, against replay
}

// LastLogin returns the outcome of the latest POST to the ACS: the login it
// accepted, or why it rejected the Response (nil login), or
// ErrSPNoResponse.
func (sp *SP) LastLogin() (*SPLogin, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.acs.login == nil && sp.acs.err == nil {
		return nil, ErrSPNoResponse
	}
	return sp.acs.login, sp.acs.err
}

// serveACS is the HTTP-POST assertion consumer service (SAML Profiles
// §4.1.4.3). It answers 200 for an accepted Response and 403 otherwise.
func (sp *SP) serveACS(w http.ResponseWriter, r *http.Request) {
	login, err := sp.consume(r)
	sp.mu.Lock()
	sp.acs.login, sp.acs.err = login, err
	sp.mu.Unlock()
	if err != nil {
		sp.t.Logf("samlsp: ACS rejected the Response: %v", err)
		http.Error(w, "SAML response rejected: "+err.Error(), http.StatusForbidden)
		return
	}
	fmt.Fprintf(w, "signed in to the test SP as %s\n", login.NameID)
}

// consume validates the posted Response with gosaml2, then applies the
// checks gosaml2 leaves to its caller.
func (sp *SP) consume(r *http.Request) (*SPLogin, error) {
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("samlsp: ACS form: %w", err)
	}
	encoded := r.PostForm.Get("SAMLResponse")
	if encoded == "" {
		return nil, errors.New("samlsp: ACS: no SAMLResponse field")
	}
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("samlsp: ACS: SAMLResponse is not base64: %w", err)
	}
	sp.mu.Lock()
	info, err := sp.saml.RetrieveAssertionInfo(encoded)
	sp.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("samlsp: gosaml2 rejected the Response: %w", err)
	}
	login, err := sp.newLogin(info, raw)
	if err != nil {
		return nil, err
	}
	login.RelayState = r.PostForm.Get("RelayState")
	if err := sp.check(login, info); err != nil {
		return nil, err
	}
	return login, nil
}

// newLogin copies what gosaml2 validated into an SPLogin and inspects the
// Response XML for which signatures it carried.
func (sp *SP) newLogin(info *saml2.AssertionInfo, raw []byte) (*SPLogin, error) {
	a := info.Assertions[0]
	l := &SPLogin{
		NameID:         info.NameID,
		NameIDFormat:   info.NameIDFormat,
		SessionIndex:   info.SessionIndex,
		Attributes:     map[string][]string{},
		ResponseSigned: info.ResponseSignatureValidated,
		ResponseXML:    raw,
		WarningInfo:    *info.WarningInfo,
	}
	for name := range info.Values {
		l.Attributes[name] = info.Values.GetAll(name)
	}
	if n := a.Subject.NameID; n != nil {
		l.NameQualifier, l.SPNameQualifier = n.NameQualifier, n.SPNameQualifier
	}
	if info.AuthnInstant != nil {
		l.AuthnInstant = *info.AuthnInstant
	}
	if s := a.AuthnStatement; s != nil && s.AuthnContext != nil && s.AuthnContext.AuthnContextClassRef != nil {
		l.AuthnContextClassRef = s.AuthnContext.AuthnContextClassRef.Value
	}
	if c := a.Subject.SubjectConfirmation; c != nil && c.SubjectConfirmationData != nil {
		l.InResponseTo = c.SubjectConfirmationData.InResponseTo
	}
	var err error
	l.AssertionXML, l.Encrypted, err = sp.assertionXML(raw)
	if err != nil {
		return nil, err
	}
	l.AssertionSigned = hasSignature(l.AssertionXML)
	return l, nil
}

// check applies the SP's own rules: the signatures SPOptions asks for, that
// a solicited Response answers an AuthnRequest of this SP, once (SAML
// Profiles §4.1.4.3), and that no assertion is accepted twice (§4.1.4.5).
func (sp *SP) check(l *SPLogin, info *saml2.AssertionInfo) error {
	switch {
	case sp.opts.WantResponseSigned && !l.ResponseSigned:
		return errors.New("samlsp: the Response is not signed (WantResponseSigned)")
	case sp.opts.WantAssertionsSigned && !l.AssertionSigned:
		return errors.New("samlsp: the assertion is not signed (WantAssertionsSigned)")
	}
	if rt := responseInResponseTo(l.ResponseXML); rt != l.InResponseTo {
		return fmt.Errorf("samlsp: Response InResponseTo %q differs from the assertion's %q", rt, l.InResponseTo)
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if l.InResponseTo != "" && sp.sent[l.InResponseTo] != "AuthnRequest" {
		return fmt.Errorf("samlsp: InResponseTo %q is no pending AuthnRequest of this SP", l.InResponseTo)
	}
	delete(sp.sent, l.InResponseTo)
	id := info.Assertions[0].ID
	if sp.acs.seen[id] {
		return fmt.Errorf("samlsp: assertion %s was already used", id)
	}
	if sp.acs.seen == nil {
		sp.acs.seen = map[string]bool{}
	}
	sp.acs.seen[id] = true
	return nil
}
