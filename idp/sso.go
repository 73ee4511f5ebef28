package idp

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
)

// ssoFlow is one SP-initiated (or IdP-initiated) sign-in: the crewjam
// SessionProvider, AssertionMaker, participant tracker and ResponseWriter
// for this request, and what they learn along the way.
type ssoFlow struct {
	lookup
	info    RequestInfo
	arrived time.Time // when the request first reached us
	// parkKey names the parked copy this request was resumed from.
	parkKey string
	// launch is the local path that starts an IdP-initiated sign-in again.
	launch string
	// redirected is set when the browser was sent to sign in; a parked
	// request is kept for its return.
	redirected bool

	sess  *session.Session
	user  store.User
	dir   *directory
	app   app
	entry session.SAMLEntry
	// sealed is the signed Response, base64-encoded, once made.
	sealed Field
}

func (h *Handler) sso(w http.ResponseWriter, r *http.Request) {
	h.serveAuthn(w, r, &ssoFlow{lookup: lookup{h: h}, arrived: h.now()})
}

// serveAuthn answers an AuthnRequest (saml-profiles §4.1.4). It does what
// crewjam's ServeSSO does, step by step, so that the request can be checked
// against our own limits first and validated as of its arrival when it is
// resumed after a sign-in.
func (h *Handler) serveAuthn(w http.ResponseWriter, r *http.Request, f *ssoFlow) {
	defer h.unpark(r, f)
	info, err := readRequest(r)
	f.info = info
	if err == nil {
		err = h.checkSkew(info, f.arrived)
	}
	if err != nil {
		h.refuse(w, r, badRequest(err.Error()), event(info, store.App{}))
		return
	}
	idp, err := h.identityProvider(r.Context(), f)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	req, err := h.validate(idp, r, info)
	if err != nil {
		h.refuseInvalid(w, r, f, err)
		return
	}
	h.answer(w, r, idp, req, f)
}

// readRequest decodes SAMLRequest from the query (HTTP-Redirect) or the
// form (HTTP-POST, HTTP-POST-SimpleSign), within MaxMessageBytes.
func readRequest(r *http.Request) (RequestInfo, error) {
	if r.Method == http.MethodGet {
		_, info, err := DecodeRequest(r.URL.Query().Get("SAMLRequest"), true)
		return info, err
	}
	if err := r.ParseForm(); err != nil {
		return RequestInfo{}, fmt.Errorf("unreadable form: %w", err)
	}
	_, info, err := DecodeRequest(r.PostForm.Get("SAMLRequest"), false)
	return info, err
}

// checkSkew applies saml.clock_skew to IssueInstant in both directions,
// against the time the request arrived (saml-core §1.3.3 leaves the window
// to the relying party).
func (h *Handler) checkSkew(info RequestInfo, arrived time.Time) error {
	if d := arrived.Sub(info.IssueInstant).Abs(); d > h.skew() {
		return fmt.Errorf("IssueInstant %s is %s from our clock, outside the clock skew of %s",
			info.IssueInstant.Format(time.RFC3339), d.Round(time.Second), h.skew())
	}
	return nil
}

// validate runs crewjam's checks (issuer, signature, Destination, ACS URL
// and binding, version). They run as of the request's own IssueInstant:
// crewjam's windows are package globals (90 s back, 180 s ahead) that would
// override saml.clock_skew, which checkSkew has applied already.
func (h *Handler) validate(idp *saml.IdentityProvider, r *http.Request, info RequestInfo) (*saml.IdpAuthnRequest, error) {
	req, err := saml.NewIdpAuthnRequest(idp, r)
	if err != nil {
		return nil, err
	}
	req.Now = info.IssueInstant
	if err := req.Validate(); err != nil {
		return nil, err
	}
	// Only HTTP-POST Responses are sent (saml-profiles §4.1.2 rules out
	// HTTP-Redirect for a Response carrying an assertion).
	if req.ACSEndpoint.Binding != saml.HTTPPostBinding {
		return nil, fmt.Errorf("%w: ACS binding %s", saml.ErrUnsupported, req.ACSEndpoint.Binding)
	}
	req.Now = h.now()
	return req, nil
}

func (h *Handler) refuseInvalid(w http.ResponseWriter, r *http.Request, f *ssoFlow, err error) {
	if isUnavailable(err) {
		h.unavailable(w, r, err)
		return
	}
	a, _ := f.find(r.Context(), f.info.Issuer)
	h.refuse(w, r, validationRefusal(err, f.info, r), event(f.info, a.App))
}

// answer gets a session for a validated request and posts the Response:
// the part shared by SP- and IdP-initiated sign-in.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, idp *saml.IdentityProvider, req *saml.IdpAuthnRequest, f *ssoFlow) {
	s := idp.SessionProvider.GetSession(w, r, req)
	if s == nil {
		return
	}
	if err := h.consume(idp, req); err != nil {
		h.refuseReplay(w, r, f, err)
		return
	}
	if err := f.MakeAssertion(req, s); err != nil {
		h.assertionFailed(w, r, idp, req, f, err)
		return
	}
	if err := req.CheckRequestSubject(); err != nil {
		h.assertionFailed(w, r, idp, req, f, err)
		return
	}
	if err := f.AddSessionParticipant(r, s, participant(req)); err != nil {
		h.failed(w, r, f, fmt.Errorf("record session participant: %w", err))
		return
	}
	// The success event is queued before the signature and committed after
	// it, before the page goes out (the browser may act on it at once): the
	// events of SSOs signing meanwhile share its commit.
	ev := h.ssoEvent(f, audit.Success, "")
	queued := h.queue(r, &ev)
	var err error
	if f.sealed, err = seal(req, f.app.Settings); err != nil {
		queued.withdraw()
		h.failed(w, r, f, err)
		return
	}
	queued.commit()
	if err := f.WriteResponse(w, req); err != nil {
		h.Render.Fail(w, r, fmt.Errorf("saml sso: %w", err))
	}
}

// consume refuses a request ID seen before (saml-profiles §4.1.4.1 asks the
// IdP to detect replays). Unlike crewjam, which records only signed
// requests, unsigned ones are recorded too: a forger can mint new IDs, but a
// captured request replayed as is gets refused the same way everywhere. The
// record lives as long as the request could pass the clock-skew check.
func (h *Handler) consume(idp *saml.IdentityProvider, req *saml.IdpAuthnRequest) error {
	if req.Request.ID == "" { // IdP-initiated: nothing to replay
		return nil
	}
	key := "AuthnRequest:" + req.Request.Issuer.Value + " " + req.Request.ID
	return idp.ReplayCache.Consume(key, req.Request.IssueInstant.Add(h.skew()))
}

func (h *Handler) refuseReplay(w http.ResponseWriter, r *http.Request, f *ssoFlow, err error) {
	if !errors.Is(err, saml.ErrAssertionReplayed) {
		h.unavailable(w, r, err)
		return
	}
	e := h.userEvent(f)
	h.refuse(w, r, badRequest(fmt.Sprintf("replayed request ID %q", f.info.ID)), e)
}

// assertionFailed answers a *saml.StatusError (NoAuthnContext, a subject
// mismatch) with an error Response and no assertion (saml-core §3.4.1.4);
// any other error is ours.
func (h *Handler) assertionFailed(w http.ResponseWriter, r *http.Request, idp *saml.IdentityProvider, req *saml.IdpAuthnRequest, f *ssoFlow, err error) {
	var se *saml.StatusError
	if !errors.As(err, &se) {
		h.failed(w, r, f, err)
		return
	}
	h.sendStatus(w, r, idp, req, f, se)
}

// sendStatus posts a SAML error Response to the app's ACS.
func (h *Handler) sendStatus(w http.ResponseWriter, r *http.Request, idp *saml.IdentityProvider, req *saml.IdpAuthnRequest, f *ssoFlow, se *saml.StatusError) {
	f.redirected = false
	h.recordSSO(r, f, audit.Failure, se.Error())
	if err := idp.SendErrorResponse(w, req, se); err != nil {
		h.Render.Fail(w, r, fmt.Errorf("saml sso: %w", err))
	}
}

// failed is an internal error: a 500 page, never an assertion.
func (h *Handler) failed(w http.ResponseWriter, r *http.Request, f *ssoFlow, err error) {
	if isUnavailable(err) {
		h.unavailable(w, r, err)
		return
	}
	h.recordSSO(r, f, audit.Failure, err.Error())
	h.Render.Fail(w, r, fmt.Errorf("saml sso: %w", err))
}

// participant is the session participant an assertion makes, as crewjam
// records it.
func participant(req *saml.IdpAuthnRequest) saml.SessionParticipant {
	p := saml.SessionParticipant{ServiceProviderID: req.ServiceProviderMetadata.EntityID}
	if req.Assertion == nil {
		return p
	}
	if req.Assertion.Subject != nil && req.Assertion.Subject.NameID != nil {
		p.NameID = *req.Assertion.Subject.NameID
	}
	for _, st := range req.Assertion.AuthnStatements {
		if st.SessionIndex != "" {
			p.SessionIndex = st.SessionIndex
			break
		}
	}
	return p
}

// recordSSO writes the saml.sso event: app, user, NameID and outcome.
func (h *Handler) recordSSO(r *http.Request, f *ssoFlow, outcome, reason string) {
	e := h.ssoEvent(f, outcome, reason)
	h.record(r, &e)
}

// ssoEvent is the saml.sso event of f.
func (h *Handler) ssoEvent(f *ssoFlow, outcome, reason string) audit.Event {
	e := h.userEvent(f)
	e.Type, e.Outcome, e.Reason = EventSSO, outcome, reason
	if f.entry.NameID != "" {
		e.Details["name_id"] = f.entry.NameID
		e.Details["name_id_format"] = f.entry.NameIDFormat
	}
	return e
}

func (h *Handler) userEvent(f *ssoFlow) audit.Event {
	e := event(f.info, f.app.App)
	e.Actor, e.Subject = f.user.Email, f.user.Email
	if f.app.EntityID != "" {
		e.Details["entity_id"] = f.app.EntityID
	}
	return e
}
