package idp

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// LogoutData is the Data of saml_logout.html: the end of a single logout.
type LogoutData struct {
	Apps    []LogoutApp
	Partial bool // some app did not confirm
}

// LogoutApp is one app's outcome.
type LogoutApp struct {
	Name string
	OK   bool
}

// sloRun drives the chain: each pending app in turn gets a LogoutRequest
// from crewjam's StartLogout, for that app alone. An app that crewjam logs
// out without the browser (over SOAP, or not at all because its metadata has
// no SLO endpoint) is settled at once; for the others the browser is sent
// and the chain resumes when it comes back (sloAnswer, sloSkip).
func (h *Handler) sloRun(w http.ResponseWriter, r *http.Request, rec *sloRecord) {
	for rec.next() {
		c, err := h.sloHop(r, rec)
		if err != nil {
			rec.finish(false, err.Error())
			continue
		}
		c.copyCookies(w)
		if c.done {
			rec.finish(!slices.Contains(c.failed, rec.Current.App), c.reasonIf(c.failed))
			continue
		}
		if err := h.saveSLO(w, r, rec); err != nil {
			h.unavailable(w, r, err)
			return
		}
		c.flush(w, r, h, PostData{Heading: "Signing you out", Message: "Signing you out of " + h.appName(r.Context(), rec.Current.App) + "…"})
		return
	}
	h.sloFinish(w, r, rec)
}

// sloHop has crewjam start the logout of rec.Current.
func (h *Handler) sloHop(r *http.Request, rec *sloRecord) (*capture, error) {
	hop := h.participant(*rec.Current)
	f := &sloFlow{lookup: lookup{h: h}, hop: &hop}
	idp, err := h.identityProvider(r.Context(), f)
	if err != nil {
		return nil, err
	}
	c := newCapture()
	c.install(idp, h)
	idp.StartLogout(c, r, &saml.Session{ID: "hop"}, "")
	if !c.done && c.form == nil && c.status >= http.StatusBadRequest {
		return nil, fmt.Errorf("cannot send a LogoutRequest: %s", c.reason())
	}
	return c, nil
}

// reasonIf is crewjam's last log line when the app is among failed.
func (c *capture) reasonIf(failed []string) string {
	if len(failed) == 0 {
		return ""
	}
	return c.reason()
}

// sloFinish ends the chain: the initiating app gets its LogoutResponse
// (PartialLogout under Success if another app was not logged out,
// saml-core §3.7.3.2); an IdP-initiated logout ends on saml_logout.html.
func (h *Handler) sloFinish(w http.ResponseWriter, r *http.Request, rec *sloRecord) {
	if h.upstreamHop(w, r, rec) {
		return
	}
	h.dropSLO(w, r, rec)
	h.recordSLO(r, rec)
	if rec.Then != "" {
		http.Redirect(w, r, rec.Then, http.StatusSeeOther)
		return
	}
	if rec.Initiator == nil {
		h.Render.Render(w, r, http.StatusOK, "saml_logout.html", web.Page{Title: "Signed out", Data: h.logoutData(r, rec)})
		return
	}
	if err := h.answerInitiator(w, r, rec); err != nil {
		h.Render.Fail(w, r, err)
	}
}

// upstreamHop sends the browser to log out of the upstream IdP the session
// signed in through, once the apps are done, and reports whether it did;
// the browser comes back to SLOPath with no message (sloSkip), and the
// chain ends. Failing to send it is logged and the chain ends at once.
func (h *Handler) upstreamHop(w http.ResponseWriter, r *http.Request, rec *sloRecord) bool {
	values := rec.Upstream
	if len(values) == 0 || h.UpstreamLogout == nil {
		return false
	}
	rec.Upstream = nil
	if err := h.saveSLO(w, r, rec); err != nil {
		h.logger().WarnContext(r.Context(), "saml: upstream logout skipped", "err", err)
		return false
	}
	return h.UpstreamLogout(w, r, values, SLOPath)
}

// answerInitiator writes the LogoutResponse to the app that asked, with
// crewjam's signing and bindings.
func (h *Handler) answerInitiator(w http.ResponseWriter, r *http.Request, rec *sloRecord) error {
	idp, err := h.identityProvider(r.Context(), &sloFlow{lookup: lookup{h: h}})
	if err != nil {
		return err
	}
	c := newCapture()
	c.install(idp, h)
	in := rec.Initiator
	req := &saml.IdpLogoutRequest{IDP: idp, HTTPRequest: r, RelayState: in.RelayState,
		Request: saml.LogoutRequest{ID: in.RequestID}, SLOEndpoint: &in.Endpoint, Now: h.now()}
	resp := req.MakeLogoutResponse(saml.StatusSuccess)
	if rec.partial() {
		resp.Status.StatusCode.StatusCode = &saml.StatusCode{Value: saml.StatusPartialLogout}
	}
	if err := req.WriteLogoutResponse(c, resp); err != nil {
		return err
	}
	c.flush(w, r, h, PostData{Heading: "Signed out", Message: "Returning to " + h.appName(r.Context(), in.App) + "…"})
	return nil
}

func (h *Handler) logoutData(r *http.Request, rec *sloRecord) LogoutData {
	d := LogoutData{Partial: rec.partial()}
	for _, res := range rec.Results {
		d.Apps = append(d.Apps, LogoutApp{Name: h.appName(r.Context(), res.App), OK: res.OK})
	}
	return d
}

// recordSLO writes the saml.slo event with every app's outcome.
func (h *Handler) recordSLO(r *http.Request, rec *sloRecord) {
	e := audit.Event{Type: EventSLO, Actor: rec.User, Subject: rec.User, Outcome: audit.Success,
		Details: map[string]string{}}
	if rec.Initiator != nil {
		e.App = h.appName(r.Context(), rec.Initiator.App)
		e.Details["initiator"] = rec.Initiator.App
	}
	var failed []string
	for _, res := range rec.Results {
		status := "ok"
		if !res.OK {
			status, failed = "failed: "+res.Reason, append(failed, res.App)
		}
		e.Details["app:"+res.App] = status
	}
	if len(failed) > 0 {
		e.Outcome, e.Reason = audit.Failure, "not logged out: "+strings.Join(failed, ", ")
	}
	h.record(r, &e)
}

// appOf is the app with that entity ID, or none.
func (h *Handler) appOf(r *http.Request, entityID string) store.App {
	a, err := h.appByEntityID(r.Context(), entityID)
	if err != nil {
		return store.App{}
	}
	return a.App
}
