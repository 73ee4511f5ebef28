package idp

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/web"
)

// SingleLogout is IdP-initiated single logout (saml-profiles §4.4.3.3), the
// portal's hook for /logout: s has already ended; every app it signed in to
// is sent a signed LogoutRequest in turn. It returns false, letting the
// portal show its own page, only when the logout cannot even start.
func (h *Handler) SingleLogout(w http.ResponseWriter, r *http.Request, s *session.Session) bool {
	rec := &sloRecord{User: s.Email, Pending: s.SAML, Expires: h.now().Add(SLOTTL), Upstream: h.upstreamOf(s)}
	if len(rec.Pending) == 0 && len(rec.Upstream) == 0 {
		return false
	}
	h.sloRun(w, r, rec)
	return true
}

// SingleLogoutThen logs the ended session s out of its apps, as
// SingleLogout, and then sends the browser to then rather than showing the
// signed-out page: the upstream IdP's LogoutRequest that ended s is
// answered there. It returns false, having written nothing, when s signed
// in to no app.
func (h *Handler) SingleLogoutThen(w http.ResponseWriter, r *http.Request, s *session.Session, then string) bool {
	if len(s.SAML) == 0 {
		return false
	}
	h.sloRun(w, r, &sloRecord{User: s.Email, Pending: s.SAML, Expires: h.now().Add(SLOTTL), Then: then})
	return true
}

// upstreamOf is the session's "upstream." values when it signed in
// through an upstream IdP and UpstreamLogout is wired; nil otherwise.
func (h *Handler) upstreamOf(s *session.Session) map[string]string {
	if h.UpstreamLogout == nil {
		return nil
	}
	var out map[string]string
	for k, v := range s.Values {
		if strings.HasPrefix(k, "upstream.") {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// slo serves /saml/slo: a LogoutRequest from an app (SP-initiated), an
// app's LogoutResponse to one of ours, or the browser coming back with
// neither while a logout is under way.
func (h *Handler) slo(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			h.Render.Error(w, r, http.StatusBadRequest, "Sign-out request refused", "The form could not be read.")
			return
		}
	}
	switch {
	case web.SAMLParam(r, "SAMLResponse") != "":
		h.sloAnswer(w, r)
	case web.SAMLParam(r, "SAMLRequest") != "":
		// Posted from the app's page, the request comes without our
		// SameSite=Lax cookie, so the session it names could not be found
		// and ended: it is posted again from our own page first.
		u := h.url(SLOPath)
		if !h.Render.Bounce(w, r, h.Sessions.HasCookie(r), u.String(), "Signing you out") {
			h.sloRequest(w, r)
		}
	default:
		h.sloSkip(w, r)
	}
}

// sloRequest handles an app's LogoutRequest: crewjam validates it (signed by
// the app, addressed to us, current, not replayed) and calls back to end the
// session; the other apps are then logged out before the sender is answered.
func (h *Handler) sloRequest(w http.ResponseWriter, r *http.Request) {
	raw, err := decodeMessage(web.SAMLParam(r, "SAMLRequest"), r.Method == http.MethodGet)
	var info RequestInfo
	if err == nil {
		info, err = inspect(raw, "LogoutRequest")
	}
	if err != nil {
		h.refuseSLO(w, r, info, err.Error())
		return
	}
	f := &sloFlow{lookup: lookup{h: h}, w: w, issuer: info.Issuer}
	idp, err := h.identityProvider(r.Context(), f)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	c := newCapture()
	c.install(idp, h)
	idp.ServeSLO(c, r)
	switch {
	case f.rec != nil && (len(f.rec.Pending) > 0 || len(f.rec.Upstream) > 0):
		c.copyCookies(w)
		h.sloRun(w, r, f.rec)
	case c.status >= http.StatusBadRequest:
		h.refuseSLO(w, r, info, c.reason())
	case f.rec == nil && len(f.matched) > 0:
		// crewjam answered Requester: the sender is not a participant of
		// the session it names, which stays (saml-profiles §4.4.4.1).
		h.recordRefusedSLO(r, info, "not a participant of the session it names")
		c.flush(w, r, h, PostData{Heading: "Sign-out refused", Message: "Returning to the app…"})
	default:
		if f.rec != nil {
			h.recordSLO(r, f.rec)
		}
		c.flush(w, r, h, PostData{Heading: "Signing you out", Message: "Returning to the app…"})
	}
}

// sloAnswer handles an app's LogoutResponse to the current hop. crewjam
// checks it against its own record of the request (signature, InResponseTo,
// issuer, Destination); whatever it decides, the chain moves on.
func (h *Handler) sloAnswer(w http.ResponseWriter, r *http.Request) {
	rec, err := h.loadSLO(r)
	if err != nil || rec.Current == nil {
		h.sloNone(w, r, err, "unsolicited LogoutResponse")
		return
	}
	f := &sloFlow{lookup: lookup{h: h}, w: w}
	hop := h.participant(*rec.Current)
	f.hop = &hop
	idp, err := h.identityProvider(r.Context(), f)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	c := newCapture()
	c.install(idp, h)
	idp.ServeSLO(c, r)
	c.copyCookies(w)
	ok := c.done && !slices.Contains(c.failed, rec.Current.App)
	reason := ""
	if !ok {
		reason = c.reason()
	}
	rec.finish(ok, reason)
	h.sloRun(w, r, rec)
}

// sloSkip is the browser back at /saml/slo with no message while a logout
// is under way: the current app did not answer (it failed, or the user gave
// up on it), so it counts as not logged out and the chain goes on.
func (h *Handler) sloSkip(w http.ResponseWriter, r *http.Request) {
	rec, err := h.loadSLO(r)
	if err != nil {
		h.sloNone(w, r, err, "no SAML message and no logout in progress")
		return
	}
	// With no current app, the browser is back from the upstream IdP's
	// logout (sloFinish sent it there): the chain ends.
	rec.finish(false, "no answer: the browser came back without a LogoutResponse")
	h.sloRun(w, r, rec)
}

func (h *Handler) sloNone(w http.ResponseWriter, r *http.Request, err error, reason string) {
	if err != nil && !errors.Is(err, session.ErrNotFound) {
		h.unavailable(w, r, err)
		return
	}
	h.refuseSLO(w, r, RequestInfo{}, reason)
}

// refuseSLO answers a logout message the IdP will not act on with a 400
// page, and records why.
func (h *Handler) refuseSLO(w http.ResponseWriter, r *http.Request, info RequestInfo, reason string) {
	h.recordRefusedSLO(r, info, reason)
	h.Render.Error(w, r, http.StatusBadRequest, "Sign-out request refused",
		"The sign-out message could not be accepted. Close the browser to make sure you are signed out.")
}

func (h *Handler) recordRefusedSLO(r *http.Request, info RequestInfo, reason string) {
	e := event(info, h.appOf(r, info.Issuer))
	e.Type, e.Outcome, e.Reason = EventSLO, audit.Denied, reason
	h.record(r, &e)
	h.logger().WarnContext(r.Context(), "saml: logout message refused", "reason", reason,
		"request_id", web.RequestID(r.Context()))
}
