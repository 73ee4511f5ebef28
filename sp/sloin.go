package sp

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/web"
)

// logoutRequested takes an upstream IdP's LogoutRequest (saml-profiles
// §4.4.4.1): crewjam checks its signature against the IdP's certificates,
// Destination, issuer and times; its ID is claimed on every node. When it
// names this browser's session (the IdP, the NameID and, if given, the
// SessionIndex), the session ends and the apps it signed in to are logged
// out before the IdP is answered. A request naming no session of this
// browser is answered Success: nobody is signed in here under that name.
func (h *Handler) logoutRequested(w http.ResponseWriter, r *http.Request) {
	issuer, err := peekIssuer(web.SAMLParam(r, "SAMLRequest"), r.Method == http.MethodGet)
	if err != nil {
		h.refuseLogout(w, r, nil, nil, err.Error())
		return
	}
	u, err := h.byEntityID(r.Context(), issuer)
	if err != nil {
		h.refuseLogout(w, r, nil, err, fmt.Sprintf("LogoutRequest from %q, no registered IdP", issuer))
		return
	}
	sp, _, err := h.serviceProvider(r.Context(), u)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	lr, err := sp.ValidateLogoutRequest(r)
	if err != nil {
		h.refuseLogout(w, r, u, nil, "LogoutRequest refused: "+privateErr(err))
		return
	}
	first, err := h.replay().Claim(r.Context(), "saml:sp:logout-request:"+u.EntityID+" "+lr.ID, RequestTTL)
	if err != nil || !first {
		h.refuseLogout(w, r, u, err, fmt.Sprintf("LogoutRequest %q replayed", lr.ID))
		return
	}
	l := logout{IdP: u.ID, AnswerTo: lr.ID, RelayState: web.SAMLParam(r, "RelayState")}
	s, err := h.endNamedSession(w, r, u, lr)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	if s == nil {
		h.answer(w, r, u, l)
		return
	}
	l.User = s.Email
	if h.AppsLogout != nil {
		if err := h.saveLogout(w, r, l); err != nil {
			h.failed(w, r, err)
			return
		}
		if h.AppsLogout(w, r, s, SLOPath) {
			return
		}
		http.SetCookie(w, h.cookie(logoutCookie, "", -1))
	}
	h.answer(w, r, u, l)
}

// endNamedSession ends this browser's session if lr names it, and records
// the logout; it returns the ended session, or nil.
func (h *Handler) endNamedSession(w http.ResponseWriter, r *http.Request, u *upstreamIdP, lr *saml.LogoutRequest) (*session.Session, error) {
	e := audit.Event{Type: EventLogout, Outcome: audit.Success, IP: web.ClientIP(r),
		Details: map[string]string{"idp": u.Name, "initiator": "upstream", "request_id": lr.ID}}
	if lr.NameID != nil {
		e.Details["name_id"] = lr.NameID.Value
	}
	s, err := h.Sessions.Load(r)
	if errors.Is(err, session.ErrNotFound) || (err == nil && !names(lr, u, s)) {
		e.Reason = "no session of this browser matches"
		h.record(r, &e)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := h.Sessions.Logout(r.Context(), w, r); err != nil {
		return nil, err
	}
	e.Actor, e.Subject = s.Email, s.Email
	h.record(r, &e)
	return s, nil
}

// names reports whether lr names session s (saml-core §3.7.3.1).
func names(lr *saml.LogoutRequest, u *upstreamIdP, s *session.Session) bool {
	if lr.NameID == nil || s.Values[ValueIdP] != u.Name || s.Values[ValueNameID] != lr.NameID.Value {
		return false
	}
	indexes := lr.AllSessionIndexes()
	if len(indexes) == 0 {
		return true
	}
	for _, si := range indexes {
		if si.Value == s.Values[ValueSessionIndex] {
			return true
		}
	}
	return false
}

// appsLoggedOut is the browser back from the apps' single logout: the
// IdP's LogoutRequest is answered now.
func (h *Handler) appsLoggedOut(w http.ResponseWriter, r *http.Request) {
	l, err := h.takeLogout(w, r)
	if err != nil || l.AnswerTo == "" {
		h.refuseLogout(w, r, nil, err, "no SAML message and no logout under way")
		return
	}
	u, err := h.idpByID(r, l.IdP)
	if err != nil {
		h.refuseLogout(w, r, nil, err, "IdP of the logout is gone")
		return
	}
	h.answer(w, r, u, l)
}

// answer sends the IdP a signed LogoutResponse with Success.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, u *upstreamIdP, l logout) {
	sp, _, err := h.serviceProvider(r.Context(), u)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	ep := preferRedirect(u.meta.SLO)
	to := ep.Location
	if ep.ResponseLocation != "" {
		to = ep.ResponseLocation
	}
	resp, err := sp.MakeLogoutResponse(to, l.AnswerTo)
	if err == nil {
		err = h.deliver(w, r, ep, "SAMLResponse", resp.Element(), l.RelayState, func() (string, error) {
			to, err := sp.MakeRedirectLogoutResponse(l.AnswerTo, l.RelayState)
			if err != nil {
				return "", err
			}
			return to.String(), nil
		})
	}
	if err != nil {
		h.failed(w, r, err)
	}
}

// maxLogoutBytes bounds a LogoutRequest, inflated or decoded.
const maxLogoutBytes = 64 << 10

// peekIssuer reads the Issuer of a LogoutRequest before it is verified, to
// choose whose certificates verify it; crewjam then checks it for real.
// The message is bounded, and refused with any DOCTYPE.
func peekIssuer(field string, deflated bool) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(field)
	if err != nil || len(field) > 2*maxLogoutBytes {
		return "", errors.New("LogoutRequest is not base64 or too large")
	}
	if deflated {
		if raw, err = io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), maxLogoutBytes+1)); err != nil {
			return "", errors.New("LogoutRequest does not inflate")
		}
	}
	if len(raw) > maxLogoutBytes {
		return "", errors.New("LogoutRequest too large")
	}
	if err := scan(raw); err != nil {
		return "", fmt.Errorf("LogoutRequest refused: %w", err)
	}
	var m struct {
		XMLName xml.Name
		Issuer  string `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
	}
	if err := xml.Unmarshal(raw, &m); err != nil || m.XMLName.Local != "LogoutRequest" {
		return "", errors.New("not a LogoutRequest")
	}
	return m.Issuer, nil
}
