package idp

import (
	"net/http"
	"strings"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/web"
)

// basicNameFormat is the attribute name format of the basic attribute
// profile (saml-profiles §8.1.2): names are plain strings like "email".
const basicNameFormat = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"

// AMRAttribute carries the methods the session used, as RFC 8176 values.
const AMRAttribute = "amr"

// amrValues maps factors to RFC 8176 §2 method references; "fed" (a sign-in
// at an upstream IdP) has no registered value.
var amrValues = map[string]string{
	session.FactorPassword: "pwd", session.FactorTOTP: "otp", session.FactorWebAuthn: "hwk",
	session.FactorPush: "swk", session.FactorRecovery: "otp", session.FactorUpstream: "fed",
}

// MakeAssertion implements saml.AssertionMaker. crewjam's default maker
// builds the assertion (Subject with the NameID, bearer confirmation,
// audience, AuthnStatement) and checks the RequestedAuthnContext; then the
// validity window, the client address and the attributes are made ours.
func (f *ssoFlow) MakeAssertion(req *saml.IdpAuthnRequest, s *saml.Session) error {
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, s); err != nil {
		return err
	}
	a := req.Assertion
	until := req.Now.Add(f.h.lifetime())
	a.Conditions.NotOnOrAfter = until
	ip := web.ClientIP(req.HTTPRequest)
	for _, sc := range a.Subject.SubjectConfirmations {
		if d := sc.SubjectConfirmationData; d != nil {
			// saml-profiles §4.1.4.2: the bearer window ends with the
			// assertion's.
			d.NotOnOrAfter, d.Address = until, ip
		}
	}
	for i := range a.AuthnStatements {
		a.AuthnStatements[i].SubjectLocality = &saml.SubjectLocality{Address: ip}
	}
	a.AttributeStatements = nil
	if attrs := f.attributes(); len(attrs) > 0 {
		a.AttributeStatements = []saml.AttributeStatement{{Attributes: attrs}}
	}
	return nil
}

// attributes maps the user per the app's settings (DefaultAttributes when
// it has none), leaving out attributes with no value, and adds amr unless
// the app maps that name itself.
func (f *ssoFlow) attributes() []saml.Attribute {
	mappings := f.app.Settings.Attributes
	if len(mappings) == 0 {
		mappings = DefaultAttributes
	}
	var out []saml.Attribute
	amr := true
	for _, m := range mappings {
		amr = amr && m.Name != AMRAttribute
		if vals := f.values(m); len(vals) > 0 {
			out = append(out, attribute(m.Name, vals))
		}
	}
	if vals := amrOf(f.sess); amr && len(vals) > 0 {
		out = append(out, attribute(AMRAttribute, vals))
	}
	return out
}

func attribute(name string, vals []string) saml.Attribute {
	a := saml.Attribute{Name: name, NameFormat: basicNameFormat}
	for _, v := range vals {
		a.Values = append(a.Values, saml.AttributeValue{Type: "xs:string", Value: v})
	}
	return a
}

// values reads one mapping. Given and family names come from the directory
// attributes of those names when set, else from splitting the full name at
// its first space.
func (f *ssoFlow) values(m AttributeMapping) []string {
	u := f.user
	given, family, _ := strings.Cut(strings.TrimSpace(u.Name), " ")
	var v string
	switch key, isAttr := strings.CutPrefix(m.Source, "attr:"); {
	case m.Value != "":
		v = m.Value
	case m.Source == "groups":
		return f.groupNames()
	case isAttr:
		v = u.Attributes[key]
	case m.Source == "email":
		v = u.Email
	case m.Source == "name":
		v = u.Name
	case m.Source == "given_name":
		v = or(u.Attributes["given_name"], given)
	case m.Source == "family_name":
		v = or(u.Attributes["family_name"], family)
	}
	if v == "" {
		return nil
	}
	return []string{v}
}

func (f *ssoFlow) groupNames() []string {
	if f.dir == nil {
		return nil
	}
	var names []string
	for _, g := range f.dir.groups {
		names = append(names, g.Name)
	}
	return names
}

// amrOf lists the session's methods once each, with "mfa" when it used a
// second factor (RFC 8176 §2).
func amrOf(s *session.Session) []string {
	var out []string
	seen := map[string]bool{}
	for _, fa := range s.Factors {
		if v := amrValues[fa.Name]; v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	if !s.MFATime.IsZero() {
		out = append(out, "mfa")
	}
	return out
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// AddSessionParticipant implements saml.SessionParticipantTracker: the
// entry is written to the session before the assertion leaves, so single
// logout knows every app that got one. It goes through Update, which adds
// it to the freshest record and retries on a conflict, so two apps signed
// in to at once from one browser both keep their entry.
func (f *ssoFlow) AddSessionParticipant(r *http.Request, _ *saml.Session, p saml.SessionParticipant) error {
	e := f.entry
	e.App, e.SessionIndex = p.ServiceProviderID, p.SessionIndex
	e.NameID, e.NameIDFormat = p.NameID.Value, p.NameID.Format
	if !upsert(&f.sess.SAML, e) {
		return nil
	}
	return f.h.Sessions.Update(r.Context(), f.sess, func(s *session.Session) error {
		upsert(&s.SAML, e)
		return nil
	})
}

// SessionParticipants implements saml.SessionParticipantTracker; sign-in
// never lists them.
func (f *ssoFlow) SessionParticipants(*http.Request, func(*saml.Session) bool) ([]saml.SessionParticipant, error) {
	return nil, errNotHere
}

// InvalidateSession implements saml.SessionInvalidator; sign-in ends none.
func (f *ssoFlow) InvalidateSession(http.ResponseWriter, *http.Request, *saml.IdpLogoutRequest) error {
	return errNotHere
}
