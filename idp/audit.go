package idp

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/crewjam/saml"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Audit event types written by the IdP.
const (
	EventSSO        = "saml.sso"
	EventSSORefused = "saml.sso.refused"
	EventSLO        = "saml.slo"
)

// refusal is a request the IdP will not answer with an assertion: what the
// browser sees (Status, Title, Message) and the precise Reason, which goes
// only to the log and the audit trail.
type refusal struct {
	Status  int
	Title   string
	Message string
	Reason  string
}

func badRequest(reason string) refusal {
	return refusal{Status: http.StatusBadRequest, Title: "Sign-in request refused",
		Message: "The app sent a sign-in request that Portcullis cannot accept. " +
			"Go back to the app and try again, or contact your administrator.",
		Reason: reason}
}

var notAssigned = refusal{Status: http.StatusForbidden, Title: "App not assigned",
	Message: "This app is not assigned to you. Ask your administrator for access.",
	Reason:  "not assigned: the user is in none of the app's groups and no shared folder gives access"}

// validationRefusal turns an error of crewjam's IdpAuthnRequest.Validate
// into a refusal with a precise reason.
func validationRefusal(err error, info RequestInfo, r *http.Request) refusal {
	switch {
	case errors.Is(err, os.ErrNotExist) && errors.Is(err, saml.ErrUnknownServiceProvider):
		return badRequest(fmt.Sprintf("unknown issuer %q", info.Issuer))
	case errors.Is(err, saml.ErrUnknownAssertionConsumerService):
		return badRequest(fmt.Sprintf("ACS URL %q not in the app's metadata (or not with the requested binding)", info.ACS))
	case errors.Is(err, saml.ErrInvalidSignature) && !requestSigned(info, r):
		return badRequest("unsigned AuthnRequest, but the app's metadata (AuthnRequestsSigned) or want_authn_requests_signed requires a signature")
	case errors.Is(err, saml.ErrInvalidSignature):
		return badRequest("bad signature: " + err.Error())
	case errors.Is(err, saml.ErrDestinationMismatch):
		return badRequest("Destination is not our SSO URL: " + err.Error())
	case errors.Is(err, saml.ErrUnsupported):
		return badRequest("unsupported: " + err.Error())
	}
	return badRequest("invalid AuthnRequest: " + err.Error())
}

// requestSigned reports whether the request carries any signature: an
// enveloped one, or SigAlg/Signature parameters (HTTP-Redirect, SimpleSign).
func requestSigned(info RequestInfo, r *http.Request) bool {
	if info.Signed || r.URL.Query().Has("Signature") || r.URL.Query().Has("SigAlg") {
		return true
	}
	return r.PostForm != nil && (r.PostForm.Has("Signature") || r.PostForm.Has("SigAlg"))
}

// refuse answers a refused request with an error page and no SAML message,
// and records why.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, rf refusal, e audit.Event) {
	e.Type, e.Outcome, e.Reason = EventSSORefused, audit.Denied, rf.Reason
	h.record(r, &e)
	h.logger().WarnContext(r.Context(), "saml: request refused", "reason", rf.Reason, "app", e.App,
		"subject", e.Subject, "request_id", web.RequestID(r.Context()))
	h.Render.Error(w, r, rf.Status, rf.Title, rf.Message)
}

// record writes an audit event; a failure is logged, as the answer to the
// browser does not depend on it.
func (h *Handler) record(r *http.Request, e *audit.Event) {
	if e.IP == "" {
		e.IP = web.ClientIP(r)
	}
	if err := h.Store.Record(r.Context(), e); err != nil {
		h.logger().ErrorContext(r.Context(), "audit event not written", "type", e.Type, "err", err)
	}
}

// queuedEvent is an audit event queued before the work it reports and
// committed after it (store.EventQueue), or recorded then where the store
// has no queue.
type queuedEvent struct {
	h *Handler
	r *http.Request
	e *audit.Event
	q store.QueuedEvent // nil without a queue
}

// queue queues e; commit or withdraw must follow.
func (h *Handler) queue(r *http.Request, e *audit.Event) queuedEvent {
	if e.IP == "" {
		e.IP = web.ClientIP(r)
	}
	qe := queuedEvent{h: h, r: r, e: e}
	if q, ok := h.Store.(store.EventQueue); ok {
		qe.q = q.QueueEvent(r.Context(), e)
	}
	return qe
}

// commit writes the event; a failure is logged, as for record.
func (qe queuedEvent) commit() {
	if qe.q == nil {
		qe.h.record(qe.r, qe.e)
		return
	}
	if err := qe.q.Commit(qe.r.Context()); err != nil {
		qe.h.logger().ErrorContext(qe.r.Context(), "audit event not written", "type", qe.e.Type, "err", err)
	}
}

// withdraw takes the event back when the work it reports failed. Another
// request's commit may already have taken it along: then it stays in the
// trail, and the failure event the caller records next tells what happened.
func (qe queuedEvent) withdraw() {
	if qe.q != nil && !qe.q.Withdraw() {
		qe.commit()
	}
}

// event starts an audit event about a request from info's issuer.
func event(info RequestInfo, a store.App) audit.Event {
	e := audit.Event{App: a.Name, Details: map[string]string{}}
	if e.App == "" {
		e.App = info.Issuer
	}
	if info.Issuer != "" {
		e.Details["entity_id"] = info.Issuer
	}
	if info.ID != "" {
		e.Details["request_id"] = info.ID
	}
	return e
}

// isUnavailable reports whether err means a backend is down (answer 503).
func isUnavailable(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, session.ErrUnavailable)
}
