package idp

import (
	"errors"
	"net/http"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/session"
)

// sloFlow is the crewjam SessionProvider side of one logout message. For a
// hop of the chain it names the one app crewjam contacts; for a
// LogoutRequest from an app it finds the browser's session, ends it, and
// keeps the other apps for the chain.
type sloFlow struct {
	lookup
	w http.ResponseWriter // the real response, for the session cookie

	hop *saml.SessionParticipant // set: the one participant to log out

	issuer  string              // of the LogoutRequest, read before crewjam
	matched []session.SAMLEntry // the browser session's entries it names
	rec     *sloRecord          // set once the session was ended
}

// GetSession implements saml.SessionProvider; logout never asks.
func (f *sloFlow) GetSession(http.ResponseWriter, *http.Request, *saml.IdpAuthnRequest) *saml.Session {
	return nil
}

// WriteResponse implements saml.ResponseWriter; logout sends no Response.
func (f *sloFlow) WriteResponse(http.ResponseWriter, *saml.IdpAuthnRequest) error { return errNotHere }

// AddSessionParticipant implements saml.SessionParticipantTracker; logout
// adds none.
func (f *sloFlow) AddSessionParticipant(*http.Request, *saml.Session, saml.SessionParticipant) error {
	return errNotHere
}

// SessionParticipants implements saml.SessionParticipantTracker. For a hop
// it is the one app. For a LogoutRequest it is the entries of this browser's
// session that the request names (its NameID and SessionIndex, through
// match): only the sender's own entry when it is one of them, so crewjam
// answers it at once and the chain is ours; all of them otherwise, so crewjam
// refuses a sender that is not a participant (saml-profiles §4.4.4.1).
func (f *sloFlow) SessionParticipants(r *http.Request, match func(*saml.Session) bool) ([]saml.SessionParticipant, error) {
	if f.hop != nil {
		return []saml.SessionParticipant{*f.hop}, nil
	}
	s, err := f.h.Sessions.Load(r)
	if errors.Is(err, session.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range s.SAML {
		if match(&saml.Session{ID: "current", NameID: e.NameID, NameIDFormat: e.NameIDFormat, Index: e.SessionIndex}) {
			f.matched = append(f.matched, e)
		}
	}
	var out []saml.SessionParticipant
	for _, e := range f.matched {
		if e.App == f.issuer {
			return []saml.SessionParticipant{f.h.participant(e)}, nil
		}
		out = append(out, f.h.participant(e))
	}
	return out, nil
}

// InvalidateSession implements saml.SessionInvalidator: it ends this
// browser's session when the request names it (the cookie is cleared on
// the real response), and keeps every other app of the session for the
// chain. A request naming another session ends nothing, which is not an
// error (the user may be signed out already).
func (f *sloFlow) InvalidateSession(_ http.ResponseWriter, r *http.Request, req *saml.IdpLogoutRequest) error {
	if _, ok := findEntry(f.matched, req.ServiceProviderMetadata.EntityID); !ok {
		return nil
	}
	s, err := f.h.Sessions.Logout(r.Context(), f.w, r)
	if err != nil || s == nil {
		return err
	}
	rec := &sloRecord{User: s.Email, Expires: f.h.now().Add(SLOTTL), Upstream: f.h.upstreamOf(s), Initiator: &sloInitiator{
		App: req.ServiceProviderMetadata.EntityID, RequestID: req.Request.ID,
		RelayState: req.RelayState, Endpoint: *req.SLOEndpoint}}
	for _, e := range s.SAML {
		if e.App != rec.Initiator.App {
			rec.Pending = append(rec.Pending, e)
		}
	}
	f.rec = rec
	return nil
}

// participant is the participant crewjam sends a LogoutRequest for, with
// the NameID as the assertion carried it: persistent and transient NameIDs
// are qualified by both entity IDs (saml-core §8.3.7, §8.3.8).
func (h *Handler) participant(e session.SAMLEntry) saml.SessionParticipant {
	id := saml.NameID{Value: e.NameID, Format: e.NameIDFormat}
	if e.NameIDFormat == string(saml.PersistentNameIDFormat) || e.NameIDFormat == string(saml.TransientNameIDFormat) {
		u := h.entityURL()
		id.NameQualifier, id.SPNameQualifier = u.String(), e.App
	}
	return saml.SessionParticipant{ServiceProviderID: e.App, SessionIndex: e.SessionIndex, NameID: id}
}
