package sp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/web"
)

// logoutCookie names the logout with an upstream IdP under way in this
// browser; its record is kept in the session backend for RequestTTL.
const logoutCookie = "portcullis_sp_slo"

// logout is one logout exchange with an upstream IdP: either our
// LogoutRequest waiting for its LogoutResponse (RequestID, then Then), or
// the IdP's LogoutRequest waiting for the apps before we answer it
// (AnswerTo, RelayState).
type logout struct {
	IdP        int64  `json:"idp"`
	User       string `json:"user,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	Then       string `json:"then,omitempty"`
	AnswerTo   string `json:"answer_to,omitempty"`
	RelayState string `json:"relay_state,omitempty"`
}

func logoutKey(key string) string { return "saml:sp:logout:" + key }

// slo serves /saml/sp/slo: the IdP's LogoutResponse to ours, the IdP's own
// LogoutRequest, or the browser back from the apps' single logout.
func (h *Handler) slo(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if err := web.ParseForm(w, r); err != nil {
			h.Render.Fail(w, r, err)
			return
		}
	}
	switch {
	case web.SAMLParam(r, "SAMLResponse") != "":
		h.logoutAnswered(w, r)
	case web.SAMLParam(r, "SAMLRequest") != "":
		u := h.url(SLOPath) // posted from the IdP's page, it is bounced to carry our cookie
		if !h.Render.Bounce(w, r, h.Sessions.HasCookie(r), u.String(), "Signing you out") {
			h.logoutRequested(w, r)
		}
	default:
		h.appsLoggedOut(w, r)
	}
}

// UpstreamLogout is the last hop of our single logout (the idp package's
// hook): when the ended session signed in through an upstream IdP with an
// SLO endpoint, the browser is sent there with our signed LogoutRequest
// and, once the IdP answers, on to back. values are the ended session's.
// It returns false, having written nothing, when there is nothing to do.
func (h *Handler) UpstreamLogout(w http.ResponseWriter, r *http.Request, values map[string]string, back string) bool {
	u, err := h.byName(r.Context(), values[ValueIdP])
	if err != nil || len(u.meta.SLO) == 0 || values[ValueNameID] == "" {
		return false
	}
	sp, _, err := h.serviceProvider(r.Context(), u)
	if err != nil {
		h.logger().WarnContext(r.Context(), "saml sp: no upstream logout", "idp", u.Name, "err", err)
		return false
	}
	ep := preferRedirect(u.meta.SLO)
	req, err := sp.MakeLogoutRequest(ep.Location, values[ValueNameID], nameIDAs(values), sessionIndex(values))
	if err == nil {
		err = h.saveLogout(w, r, logout{IdP: u.ID, User: values[ValueUser], RequestID: req.ID, Then: back})
	}
	if err == nil {
		err = h.deliver(w, r, ep, "SAMLRequest", req.Element(), "", func() (string, error) {
			to, err := sp.RedirectLogoutRequestURL(req, "")
			if err != nil {
				return "", err
			}
			return to.String(), nil
		})
	}
	if err != nil {
		h.logger().WarnContext(r.Context(), "saml sp: upstream logout not sent", "idp", u.Name, "err", err)
		return false
	}
	return true
}

// nameIDAs gives our LogoutRequest the NameID as the assertion had it
// (saml-core §3.7.1): its format, and crewjam's qualifiers only where the
// format is qualified (persistent, transient).
func nameIDAs(values map[string]string) saml.LogoutRequestOption {
	return func(req *saml.LogoutRequest) {
		f := values[ValueNameIDFormat]
		req.NameID.Format = f
		if f != string(saml.PersistentNameIDFormat) && f != string(saml.TransientNameIDFormat) {
			req.NameID.NameQualifier, req.NameID.SPNameQualifier = "", ""
		}
	}
}

func sessionIndex(values map[string]string) saml.LogoutRequestOption {
	if si := values[ValueSessionIndex]; si != "" {
		return saml.WithSessionIndex(si)
	}
	return func(*saml.LogoutRequest) {}
}

func preferRedirect(eps []Endpoint) Endpoint {
	for _, e := range eps {
		if e.Binding == saml.HTTPRedirectBinding {
			return e
		}
	}
	return eps[0]
}

// deliver sends a signed SAML message to ep: redirect makes the
// HTTP-Redirect URL, el is posted otherwise.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request, ep Endpoint, field string, el *etree.Element, relayState string, redirect func() (string, error)) error {
	if ep.Binding == saml.HTTPRedirectBinding {
		to, err := redirect()
		if err != nil {
			return err
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
	doc := etree.NewDocument()
	doc.SetRoot(el)
	raw, err := doc.WriteToBytes()
	if err != nil {
		return err
	}
	to := ep.Location
	if field == "SAMLResponse" && ep.ResponseLocation != "" {
		to = ep.ResponseLocation
	}
	fields := []web.Field{{Name: field, Value: base64.StdEncoding.EncodeToString(raw)}}
	if relayState != "" {
		fields = append(fields, web.Field{Name: "RelayState", Value: relayState})
	}
	return h.Render.Post(w, r, web.PostData{URL: to, Heading: "Signing you out", Fields: fields})
}

func (h *Handler) saveLogout(w http.ResponseWriter, r *http.Request, l logout) error {
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	key := rand.Text()
	if err := h.replay().Put(r.Context(), logoutKey(key), 0, data, RequestTTL); err != nil {
		return err
	}
	http.SetCookie(w, h.cookie(logoutCookie, key, int(RequestTTL/time.Second)))
	return nil
}

// takeLogout returns the logout under way in this browser and forgets it,
// or session.ErrNotFound.
func (h *Handler) takeLogout(w http.ResponseWriter, r *http.Request) (logout, error) {
	var l logout
	c, err := r.Cookie(logoutCookie)
	if err != nil || c.Value == "" || len(c.Value) > 64 {
		return l, session.ErrNotFound
	}
	http.SetCookie(w, h.cookie(logoutCookie, "", -1))
	data, _, err := h.replay().Get(r.Context(), logoutKey(c.Value))
	if err != nil {
		return l, err
	}
	if err := h.replay().Delete(r.Context(), logoutKey(c.Value)); err != nil {
		return l, err
	}
	if json.Unmarshal(data, &l) != nil {
		return l, session.ErrNotFound
	}
	return l, nil
}

// logoutAnswered takes the IdP's LogoutResponse to our LogoutRequest:
// crewjam checks its signature, Destination, issuer and InResponseTo; the
// outcome is recorded and the browser goes on, since our session is over
// either way.
func (h *Handler) logoutAnswered(w http.ResponseWriter, r *http.Request) {
	l, err := h.takeLogout(w, r)
	if err != nil || l.RequestID == "" {
		h.refuseLogout(w, r, nil, err, "LogoutResponse without a logout of ours under way")
		return
	}
	u, err := h.idpByID(r, l.IdP)
	if err != nil {
		h.refuseLogout(w, r, nil, err, "IdP of the logout is gone")
		return
	}
	sp, _, err := h.serviceProvider(r.Context(), u)
	if err != nil {
		h.failed(w, r, err)
		return
	}
	e := audit.Event{Type: EventLogout, Actor: l.User, Subject: l.User, Outcome: audit.Success, IP: web.ClientIP(r),
		Details: map[string]string{"idp": u.Name, "initiator": "portcullis"}}
	resp, err := sp.ParseLogoutResponse(r, []string{l.RequestID})
	switch {
	case err != nil:
		e.Outcome, e.Reason = audit.Failure, "LogoutResponse refused: "+privateErr(err)
	case resp.Status.StatusCode.Value != saml.StatusSuccess:
		e.Outcome, e.Reason = audit.Failure, "upstream status "+resp.Status.StatusCode.Value
	}
	h.record(r, &e)
	if l.Then != "" {
		http.Redirect(w, r, l.Then, http.StatusSeeOther)
		return
	}
	h.Render.Render(w, r, http.StatusOK, "logged_out.html", web.Page{Title: "Signed out"})
}

// privateErr is the detail of a crewjam error, for the log only.
func privateErr(err error) string {
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		return ire.PrivateErr.Error()
	}
	return err.Error()
}

func (h *Handler) idpByID(r *http.Request, id int64) (*upstreamIdP, error) {
	p, err := h.Store.IdP(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return h.upstream(p)
}

// refuseLogout answers a logout message we cannot act on with 400, and
// records why; a backend failure is 503.
func (h *Handler) refuseLogout(w http.ResponseWriter, r *http.Request, u *upstreamIdP, err error, reason string) {
	if err != nil && isUnavailable(err) {
		h.unavailable(w, r, err)
		return
	}
	e := audit.Event{Type: EventLogout, Outcome: audit.Denied, Reason: reason, IP: web.ClientIP(r),
		Details: map[string]string{}}
	if u != nil {
		e.Details["idp"] = u.Name
	}
	h.record(r, &e)
	h.logger().WarnContext(r.Context(), "saml sp: logout message refused", "reason", reason,
		"request_id", web.RequestID(r.Context()))
	h.Render.Error(w, r, http.StatusBadRequest, "Sign-out request refused",
		"The sign-out message could not be accepted. Close the browser to make sure you are signed out.")
}
