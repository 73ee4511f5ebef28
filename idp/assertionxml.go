package idp

import (
	"errors"
	"time"

	"github.com/crewjam/saml"
)

// Namespaces of the Response besides samlNS and samlpNS (decode.go).
const (
	xsNS  = "http://www.w3.org/2001/XMLSchema"
	xsiNS = "http://www.w3.org/2001/XMLSchema-instance"
)

// samlTime is how crewjam/saml writes xs:dateTime values (saml-core §1.3.3:
// UTC, no time zone but Z).
const samlTime = "2006-01-02T15:04:05.999Z07:00"

// errAssertionShape is a programming error: MakeAssertion made an element
// that writeAssertion does not write.
var errAssertionShape = errors.New("idp: the assertion has an element the IdP does not serialize")

// checkAssertion refuses what writeAssertion leaves out: elements
// crewjam/saml holds as etree trees (a signature, BaseID, EncryptedID) and
// conditions and attribute values MakeAssertion never makes.
func checkAssertion(a *saml.Assertion) error {
	bad := a.Signature != nil
	if s := a.Subject; s != nil {
		bad = bad || s.BaseID != nil || s.EncryptedID != nil
		for _, c := range s.SubjectConfirmations {
			bad = bad || c.NameID != nil || c.EncryptedID != nil
		}
	}
	if c := a.Conditions; c != nil {
		bad = bad || c.OneTimeUse != nil || c.ProxyRestriction != nil
	}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			for _, v := range at.Values {
				bad = bad || v.Nil || v.Encoding != "" || v.NameID != nil
			}
		}
	}
	if bad {
		return errAssertionShape
	}
	return nil
}

// writeAssertion writes a as crewjam/saml's Assertion.Element makes it
// (already in exclusive canonical form: xmlns:saml on the Assertion alone,
// attributes in order, xmlns:xs dropped), with sig after the Issuer when
// sig is not nil (saml-core §2.3.3). a must have passed checkAssertion.
func writeAssertion(w *xmlOut, a *saml.Assertion, sig *signature) {
	w.start("saml:Assertion")
	w.attr("xmlns:saml", samlNS)
	w.attr("ID", a.ID)
	w.time("IssueInstant", a.IssueInstant)
	w.attr("Version", "2.0")
	writeIssuer(w, &a.Issuer, false)
	if sig != nil {
		sig.write(w)
	}
	if a.Subject != nil {
		writeSubject(w, a.Subject)
	}
	if a.Conditions != nil {
		writeConditions(w, a.Conditions)
	}
	for i := range a.AuthnStatements {
		writeAuthnStatement(w, &a.AuthnStatements[i])
	}
	for _, st := range a.AttributeStatements {
		w.start("saml:AttributeStatement")
		for i := range st.Attributes {
			writeAttribute(w, &st.Attributes[i])
		}
		w.end()
	}
	w.end()
}

// writeIssuer writes an Issuer; apex is set when no ancestor declares the
// saml prefix in canonical form (the Response's Issuer).
func writeIssuer(w *xmlOut, is *saml.Issuer, apex bool) {
	w.start("saml:Issuer")
	if apex && w.canon {
		w.attr("xmlns:saml", samlNS)
	}
	w.opt("Format", is.Format)
	w.opt("NameQualifier", is.NameQualifier)
	w.opt("SPNameQualifier", is.SPNameQualifier)
	w.opt("SPProvidedID", is.SPProvidedID)
	w.text(is.Value)
	w.end()
}

func writeSubject(w *xmlOut, s *saml.Subject) {
	w.start("saml:Subject")
	if n := s.NameID; n != nil {
		w.start("saml:NameID")
		w.opt("Format", n.Format)
		w.opt("NameQualifier", n.NameQualifier)
		w.opt("SPNameQualifier", n.SPNameQualifier)
		w.opt("SPProvidedID", n.SPProvidedID)
		w.text(n.Value)
		w.end()
	}
	for _, c := range s.SubjectConfirmations {
		w.start("saml:SubjectConfirmation")
		w.attr("Method", c.Method)
		if d := c.SubjectConfirmationData; d != nil {
			w.start("saml:SubjectConfirmationData")
			w.opt("Address", d.Address)
			w.opt("InResponseTo", d.InResponseTo)
			w.optTime("NotBefore", d.NotBefore)
			w.optTime("NotOnOrAfter", d.NotOnOrAfter)
			w.opt("Recipient", d.Recipient)
			w.end()
		}
		w.end()
	}
	w.end()
}

func writeConditions(w *xmlOut, c *saml.Conditions) {
	w.start("saml:Conditions")
	w.optTime("NotBefore", c.NotBefore)
	w.optTime("NotOnOrAfter", c.NotOnOrAfter)
	for _, r := range c.AudienceRestrictions {
		w.start("saml:AudienceRestriction")
		w.leaf("saml:Audience", r.Audience.Value)
		for _, more := range r.AdditionalAudiences {
			w.leaf("saml:Audience", more.Value)
		}
		w.end()
	}
	w.end()
}

func writeAuthnStatement(w *xmlOut, s *saml.AuthnStatement) {
	w.start("saml:AuthnStatement")
	w.time("AuthnInstant", s.AuthnInstant)
	w.opt("SessionIndex", s.SessionIndex)
	if s.SessionNotOnOrAfter != nil {
		w.time("SessionNotOnOrAfter", *s.SessionNotOnOrAfter)
	}
	if l := s.SubjectLocality; l != nil {
		w.start("saml:SubjectLocality")
		w.opt("Address", l.Address)
		w.opt("DNSName", l.DNSName)
		w.end()
	}
	w.start("saml:AuthnContext")
	if ref := s.AuthnContext.AuthnContextClassRef; ref != nil {
		w.leaf("saml:AuthnContextClassRef", ref.Value)
	}
	for _, aa := range s.AuthnContext.AuthenticatingAuthorities {
		w.leaf("saml:AuthenticatingAuthority", aa.Value)
	}
	w.end()
	w.end()
}

// writeAttribute writes an Attribute (saml-core §2.7.3.1). Each value
// declares the xsi prefix its xsi:type uses; the xs prefix of the type's
// value is declared on the Response (see writeResponse).
func writeAttribute(w *xmlOut, a *saml.Attribute) {
	w.start("saml:Attribute")
	w.opt("FriendlyName", a.FriendlyName)
	w.opt("Name", a.Name)
	w.opt("NameFormat", a.NameFormat)
	for _, v := range a.Values {
		w.start("saml:AttributeValue")
		if v.Type != "" {
			w.attr("xmlns:xsi", xsiNS)
			w.attr("xsi:type", v.Type)
		}
		w.text(v.Value)
		w.end()
	}
	w.end()
}

// time writes a time attribute as crewjam/saml does.
func (w *xmlOut) time(name string, t time.Time) {
	w.b = append(w.b, ' ')
	w.b = append(w.b, name...)
	w.b = append(w.b, '=', '"')
	w.b = t.UTC().AppendFormat(w.b, samlTime)
	w.b = append(w.b, '"')
}

// optTime writes an optional time attribute: nothing for the zero time.
func (w *xmlOut) optTime(name string, t time.Time) {
	if !t.IsZero() {
		w.time(name, t)
	}
}
