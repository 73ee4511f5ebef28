package idp

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
)

// GetSession implements saml.SessionProvider. It returns the session to
// assert, or answers the request itself and returns nil: a redirect to sign
// in (the request parked for the return), NoPassive, the "not assigned"
// page, 503, or the step-up seam's answer. ForceAuthn and IsPassive are ours
// to honour (saml-core §3.4.1, saml-profiles §4.1.3.4).
func (f *ssoFlow) GetSession(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	h, ctx := f.h, r.Context()
	a, err := f.find(ctx, req.ServiceProviderMetadata.EntityID)
	if err != nil {
		h.unavailable(w, r, err)
		return nil
	}
	f.app = a
	s, u, err := h.Current(r)
	switch {
	case errors.Is(err, session.ErrNotFound):
		return f.prompt(w, r, req, "/login?return=")
	case err != nil:
		h.unavailable(w, r, err)
		return nil
	}
	f.sess, f.user = s, u
	switch {
	case u.PasswordResetRequired:
		return f.prompt(w, r, req, "/password?return=")
	case isTrue(req.Request.ForceAuthn) && !s.AuthTime.After(f.arrived):
		return f.prompt(w, r, req, "/login?prompt=login&return=")
	}
	if !f.assigned(w, r) || f.stepUp(w, r, req) {
		return nil
	}
	ss, err := f.samlSession()
	if err != nil {
		h.failed(w, r, f, err)
		return nil
	}
	return ss
}

// assigned checks the user may use the app, answering with the "not
// assigned" page (and never a Response) when not.
func (f *ssoFlow) assigned(w http.ResponseWriter, r *http.Request) bool {
	h := f.h
	d, err := h.loadGroups(r.Context(), f.user)
	if err == nil {
		f.dir = d
		var ok bool
		if ok, err = h.allowed(r.Context(), f.user, d, f.app.App); err == nil && !ok {
			h.refuse(w, r, notAssigned, h.userEvent(f))
			return false
		}
	}
	if err != nil {
		h.unavailable(w, r, err)
		return false
	}
	return true
}

// stepUp asks the MFA seam, if any, whether it must answer first.
func (f *ssoFlow) stepUp(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) bool {
	if f.h.StepUp == nil {
		return false
	}
	answered := f.h.StepUp(w, r, StepUpRequest{App: f.app.App, User: f.user, Session: f.sess,
		Requirement: f.requirement(req), Resume: func() (string, error) { return f.resumePath(r) }})
	f.redirected = f.redirected || answered
	return answered
}

// prompt sends the browser to a page of the portal (sign-in, re-sign-in,
// password change) that returns to this request, or answers NoPassive when
// the app asked that the user see no page.
func (f *ssoFlow) prompt(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest, to string) *saml.Session {
	h := f.h
	if isTrue(req.Request.IsPassive) {
		h.sendStatus(w, r, req.IDP, req, f, &saml.StatusError{TopLevel: saml.StatusResponder,
			SecondLevel: saml.StatusNoPassive, Message: "the user must sign in"})
		return nil
	}
	target, err := f.resumePath(r)
	if errors.Is(err, errParkTooBig) {
		h.refuse(w, r, badRequest(err.Error()), event(f.info, f.app.App))
		return nil
	}
	if err != nil {
		h.unavailable(w, r, err)
		return nil
	}
	f.redirected = true
	http.Redirect(w, r, to+url.QueryEscape(target), http.StatusSeeOther)
	return nil
}

// resumePath is the local path that continues this request: the launch URL
// for an IdP-initiated sign-in, else the resume URL of the parked request.
func (f *ssoFlow) resumePath(r *http.Request) (string, error) {
	switch {
	case f.launch != "":
		return f.launch, nil
	case f.parkKey != "":
		return ResumePath + "?key=" + f.parkKey, nil
	}
	key, err := f.h.park(r, f.arrived)
	if err != nil {
		return "", err
	}
	f.parkKey = key
	return ResumePath + "?key=" + key, nil
}

// samlSession is the session as crewjam's DefaultAssertionMaker reads it.
func (f *ssoFlow) samlSession() (*saml.Session, error) {
	entry, err := f.newEntry()
	if err != nil {
		return nil, err
	}
	f.entry = entry
	return &saml.Session{
		ID:                   "current",
		CreateTime:           f.sess.AuthTime,
		Index:                entry.SessionIndex,
		NameID:               entry.NameID,
		NameIDFormat:         entry.NameIDFormat,
		AuthnContextClassRef: authnContext(f.sess),
	}, nil
}

// authnContext is what the session's factors prove: the REFEDS MFA profile
// once a second factor was used, PasswordProtectedTransport for a password
// (every page is served over TLS in production), and unspecified for a
// sign-in at an upstream IdP, which says nothing about how.
func authnContext(s *session.Session) string {
	switch {
	case !s.MFATime.IsZero():
		return REFEDSMFA
	case hasFactor(s, session.FactorPassword):
		return PasswordProtectedTransport
	}
	return "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
}

func hasFactor(s *session.Session, name string) bool {
	for _, f := range s.Factors {
		if f.Name == name {
			return true
		}
	}
	return false
}

func isTrue(b *bool) bool { return b != nil && *b }

// requirement is the app's MFA policy as this request raises it.
//   - A RequestedAuthnContext that REFEDS MFA satisfies and a password does
//     not (exact REFEDS MFA, "minimum" or "better" of a password class…)
//     makes MFA required, since crewjam would otherwise answer
//     NoAuthnContext to a password-only session.
//   - ForceAuthn asks for fresh authentication: the password is asked again
//     (see GetSession), and a second factor, where the app uses one (mode
//     optional or required), must be presented after the request arrived.
func (f *ssoFlow) requirement(ar *saml.IdpAuthnRequest) policy.Requirement {
	mode, err := policy.ParseMode(f.app.MFA)
	if err != nil {
		mode = policy.Required // an unreadable setting fails closed
	}
	maxAge, _ := f.app.Settings.maxAge() // validated when stored
	req := policy.Requirement{Mode: mode, Factors: f.app.Settings.MFAFactors, MaxAge: maxAge}
	if wantsMFA(ar.Request.RequestedAuthnContext) {
		req.Mode = policy.Required
	}
	if isTrue(ar.Request.ForceAuthn) && req.Mode != policy.Off {
		req.FreshSince = f.arrived
	}
	return req
}

// wantsMFA reports whether rac is met by REFEDS MFA but not by a password
// (saml-core §3.3.2.2.1 with errata E65, ranked by strengths).
func wantsMFA(rac *saml.RequestedAuthnContext) bool {
	if rac == nil || len(rac.ClassRefs()) == 0 {
		return false
	}
	refs := rac.ClassRefs()
	meets := func(achieved string) bool {
		if slices.Contains(refs, achieved) && rac.Comparison != "better" {
			return true
		}
		a := strengths[achieved]
		for _, ref := range refs {
			r, ok := strengths[ref]
			if !ok {
				continue
			}
			switch rac.Comparison {
			case "minimum":
				if a >= r {
					return true
				}
			case "better":
				if a > r {
					return true
				}
			case "maximum":
				if a <= r {
					return true
				}
			}
		}
		return false
	}
	return meets(REFEDSMFA) && !meets(PasswordProtectedTransport)
}
