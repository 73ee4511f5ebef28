package sp

import (
	"time"

	"github.com/beevik/etree"
)

// readAssertion checks the verified assertion (SAML Core §2.3.3–§2.7,
// Profiles §4.1.4.2) and reads it. It also returns the InResponseTo of the
// bearer confirmation that was accepted.
func (e Expect) readAssertion(el *etree.Element) (*Assertion, string, error) {
	if v := attr(el, "Version"); v != "2.0" {
		return nil, "", refuse(ReasonMalformed, "Assertion Version %q", v)
	}
	if err := e.checkIssued(el); err != nil {
		return nil, "", err
	}
	a := &Assertion{ID: attr(el, "ID"), Issuer: e.IdPEntityID}
	issuer, err := only(el, samlNS, "Issuer")
	if err != nil {
		return nil, "", refuse(ReasonIssuer, "%v", err)
	}
	if err := e.checkIssuer(issuer, "Assertion"); err != nil {
		return nil, "", err
	}
	scdInResponseTo, err := e.readSubject(el, a)
	if err != nil {
		return nil, "", err
	}
	if err := e.checkConditions(el, a); err != nil {
		return nil, "", err
	}
	if err := readAuthn(el, a); err != nil {
		return nil, "", err
	}
	return a, scdInResponseTo, readAttributes(el, a)
}

// readSubject reads the one NameID and accepts the assertion only through a
// bearer SubjectConfirmation for our ACS that is still valid (§2.4.1.2).
func (e Expect) readSubject(el *etree.Element, a *Assertion) (string, error) {
	subj, err := only(el, samlNS, "Subject")
	if err != nil {
		return "", err
	}
	nameID, err := only(subj, samlNS, "NameID")
	if err != nil {
		return "", err
	}
	if a.NameID, err = text(nameID); err != nil {
		return "", err
	}
	if a.NameID == "" {
		return "", refuse(ReasonMalformed, "empty NameID")
	}
	a.NameIDFormat = attr(nameID, "Format")
	var first error
	for _, sc := range children(subj, samlNS, "SubjectConfirmation") {
		irt, until, err := e.checkBearer(sc)
		if err == nil {
			a.NotOnOrAfter = until
			return irt, nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = refuse(ReasonSubjectConfirmation, "no SubjectConfirmation")
	}
	return "", first
}

// checkBearer checks one SubjectConfirmation: bearer, Recipient is our ACS,
// NotOnOrAfter required and not passed (Profiles §4.1.4.2).
func (e Expect) checkBearer(sc *etree.Element) (string, time.Time, error) {
	if m := attr(sc, "Method"); m != bearer {
		return "", time.Time{}, refuse(ReasonSubjectConfirmation, "SubjectConfirmation Method %q, want bearer", m)
	}
	data, err := only(sc, samlNS, "SubjectConfirmationData")
	if err != nil {
		return "", time.Time{}, refuse(ReasonSubjectConfirmation, "%v", err)
	}
	if r := attr(data, "Recipient"); r != e.ACS {
		return "", time.Time{}, refuse(ReasonRecipient, "SubjectConfirmationData Recipient %q, want %q", r, e.ACS)
	}
	notBefore, until, err := e.window(data)
	switch {
	case err != nil:
		return "", time.Time{}, err
	case until.IsZero():
		return "", time.Time{}, refuse(ReasonSubjectConfirmation, "bearer SubjectConfirmationData without NotOnOrAfter")
	case !notBefore.IsZero():
		return "", time.Time{}, refuse(ReasonSubjectConfirmation, "bearer SubjectConfirmationData with NotBefore")
	}
	return attr(data, "InResponseTo"), until, nil
}

// window checks an element's NotBefore and NotOnOrAfter against Now, with
// Skew either way.
func (e Expect) window(el *etree.Element) (notBefore, notOnOrAfter time.Time, err error) {
	if notBefore, err = instant(el, "NotBefore"); err != nil {
		return
	}
	if notOnOrAfter, err = instant(el, "NotOnOrAfter"); err != nil {
		return
	}
	switch {
	case !notBefore.IsZero() && e.Now.Add(e.Skew).Before(notBefore):
		err = refuse(ReasonNotYetValid, "<%s> NotBefore %s, now %s", el.Tag, notBefore, e.Now)
	case !notOnOrAfter.IsZero() && !e.Now.Add(-e.Skew).Before(notOnOrAfter):
		err = refuse(ReasonExpired, "<%s> NotOnOrAfter %s, now %s", el.Tag, notOnOrAfter, e.Now)
	}
	return
}

// checkConditions requires one Conditions whose time window holds and
// whose every AudienceRestriction names us (§2.5.1.4, Profiles §4.1.4.2).
// A condition this SP does not know makes the assertion invalid (§2.5.1).
func (e Expect) checkConditions(el *etree.Element, a *Assertion) error {
	cond, err := only(el, samlNS, "Conditions")
	if err != nil {
		return refuse(ReasonConditions, "%v", err)
	}
	_, until, err := e.window(cond)
	if err != nil {
		return err
	}
	if !until.IsZero() && until.Before(a.NotOnOrAfter) {
		a.NotOnOrAfter = until
	}
	audiences := 0
	for _, c := range cond.ChildElements() {
		switch {
		case is(c, samlNS, "AudienceRestriction"):
			audiences++
			if err := e.checkAudience(c); err != nil {
				return err
			}
		case is(c, samlNS, "OneTimeUse"), is(c, samlNS, "ProxyRestriction"):
		default:
			return refuse(ReasonConditions, "unknown condition <%s>", c.Tag)
		}
	}
	if audiences == 0 {
		return refuse(ReasonAudience, "no AudienceRestriction")
	}
	return nil
}

func (e Expect) checkAudience(r *etree.Element) error {
	var seen []string
	for _, aud := range children(r, samlNS, "Audience") {
		v, err := text(aud)
		if err != nil {
			return err
		}
		if v == e.EntityID {
			return nil
		}
		seen = append(seen, v)
	}
	return refuse(ReasonAudience, "Audience %q, want %q", seen, e.EntityID)
}

// readAuthn reads the first AuthnStatement, which Profiles §4.1.4.2
// requires.
func readAuthn(el *etree.Element, a *Assertion) error {
	stmts := children(el, samlNS, "AuthnStatement")
	if len(stmts) == 0 {
		return refuse(ReasonMalformed, "no AuthnStatement")
	}
	s := stmts[0]
	var err error
	if a.AuthnInstant, err = instant(s, "AuthnInstant"); err != nil {
		return err
	}
	a.SessionIndex = attr(s, "SessionIndex")
	ctx, err := optional(s, samlNS, "AuthnContext")
	if err != nil || ctx == nil {
		return err
	}
	ref, err := optional(ctx, samlNS, "AuthnContextClassRef")
	if err != nil || ref == nil {
		return err
	}
	a.AuthnContextClassRef, err = text(ref)
	return err
}

// readAttributes collects every AttributeStatement's values by Name.
func readAttributes(el *etree.Element, a *Assertion) error {
	a.Attributes = map[string][]string{}
	for _, st := range children(el, samlNS, "AttributeStatement") {
		for _, at := range children(st, samlNS, "Attribute") {
			name := attr(at, "Name")
			for _, v := range children(at, samlNS, "AttributeValue") {
				s, err := text(v)
				if err != nil {
					return err
				}
				a.Attributes[name] = append(a.Attributes[name], s)
			}
		}
	}
	return nil
}
