package mfa

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/keys"
	"github.com/portcullis/portcullis/policy"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Paths of the core pages. Each factor serves its own under
// /mfa/{name}: VerifyPath(name) to present it, EnrolPath(name) to set it up.
const (
	ChoosePath  = "/mfa"
	DevicesPath = "/mfa/devices"
)

// VerifyPath is where a factor is presented; the continuation goes in "c".
func VerifyPath(factor string) string { return "/mfa/" + factor }

// EnrolPath is where a factor is set up; a continuation in "c" (the
// enrol-on-first-use flow) is optional.
func EnrolPath(factor string) string { return "/mfa/" + factor + "/enrol" }

// RecentMFA is how fresh a second factor must be to add or remove factors
// when the user already has one.
const RecentMFA = 10 * time.Minute

// Audit event types written by the MFA pipeline and its factors.
const (
	EventEnrolled          = "mfa.enrolled"
	EventRemoved           = "mfa.removed"
	EventRenamed           = "mfa.renamed"
	EventSucceeded         = "mfa.succeeded"
	EventFailed            = "mfa.failed"
	EventThrottled         = "mfa.throttled"
	EventRefused           = "mfa.refused" // policy denied: no acceptable factor, or not in a group
	EventReset             = "mfa.reset"   // an administrator removed every factor
	EventPushSent          = "mfa.push.sent"
	EventPushApproved      = "mfa.push.approved"
	EventPushDenied        = "mfa.push.denied"
	EventPushExpired       = "mfa.push.expired"
	EventPushFraud         = "mfa.push.suspected_fraud" // a wrong number was sent back
	EventCounterRegression = "mfa.webauthn.counter_regression"
)

// Factor is one kind of second factor, living in its own package
// (mfa/totp, mfa/webauthn, mfa/push, mfa/recovery) and built on a Handler.
type Factor interface {
	// Name is the factor's session and enrolment name (policy.TOTP…).
	Name() string
	// Title is what pages call it ("Authenticator app").
	Title() string
	// Mount registers the factor's routes, VerifyPath(Name()) and
	// EnrolPath(Name()) among them, wrapping browser forms in csrf.
	Mount(mux *http.ServeMux, csrf func(http.Handler) http.Handler)
}

// Usable is implemented by factors whose confirmed enrolments can be used
// up (recovery codes): an enrolment counts only while Usable says so.
type Usable interface {
	Usable(e store.Enrolment) bool
}

// Handler is the step-up pipeline's core: the continuation, the factor
// choice, success and failure bookkeeping, the devices page. Its fields are
// its dependencies.
type Handler struct {
	Store    store.Store
	Sessions *session.Manager
	// Current returns the signed-in session and user (portal.Handler.Current).
	Current func(r *http.Request) (*session.Session, store.User, error)
	Render  *web.Renderer
	Logger  *slog.Logger
	Now     func() time.Time
	// Throttle counts failed second-factor attempts per user and IP.
	Throttle *session.Throttle
	// Replay is the session backend, for claims (used TOTP steps, recovery
	// codes, push approvals) and shared state that must hold across nodes.
	Replay session.Store
	// ContinuationKey signs continuations (HMAC-SHA256, 32 bytes).
	ContinuationKey []byte
	// Master seals factor secrets at rest (keys.SealFor, one label per
	// factor).
	Master *keys.Master
	// EnrolOnFirstUse: see config mfa.enrol_on_first_use.
	EnrolOnFirstUse bool
	// AllowReturn widens where a continuation may return beyond local
	// paths (the hosts of forward-auth rules).
	AllowReturn func(target string) bool

	factors []Factor
}

// Register adds factors; call before Mount.
func (h *Handler) Register(f ...Factor) { h.factors = append(h.factors, f...) }

// Factor returns the registered factor called name.
func (h *Handler) Factor(name string) (Factor, bool) {
	for _, f := range h.factors {
		if f.Name() == name {
			return f, true
		}
	}
	return nil, false
}

// Mount registers the core pages and every factor's routes.
func (h *Handler) Mount(mux *http.ServeMux, csrf func(http.Handler) http.Handler) {
	if csrf == nil {
		csrf = func(next http.Handler) http.Handler { return next }
	}
	mux.Handle("GET "+ChoosePath, csrf(http.HandlerFunc(h.choose)))
	mux.Handle("GET "+DevicesPath, csrf(http.HandlerFunc(h.devices)))
	mux.Handle("POST "+DevicesPath+"/{id}/rename", csrf(http.HandlerFunc(h.rename)))
	mux.Handle("POST "+DevicesPath+"/{id}/remove", csrf(http.HandlerFunc(h.remove)))
	for _, f := range h.factors {
		f.Mount(mux, csrf)
	}
}

// NowTime returns the handler's clock, in UTC.
func (h *Handler) NowTime() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Enrolled lists the user's usable, confirmed enrolments, and their factor
// names (policy.Subject.Enrolled).
func (h *Handler) Enrolled(ctx context.Context, userID int64) ([]store.Enrolment, []string, error) {
	all, err := h.Store.UserEnrolments(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	var es []store.Enrolment
	var names []string
	for _, e := range all {
		if !e.Confirmed {
			continue
		}
		f, ok := h.Factor(e.Factor)
		if !ok {
			continue // a factor this build does not offer
		}
		if u, ok := f.(Usable); ok && !u.Usable(e) {
			continue
		}
		es = append(es, e)
		if !slices.Contains(names, e.Factor) {
			names = append(names, e.Factor)
		}
	}
	return es, names, nil
}

// Subject gathers what policy needs about u and s.
func (h *Handler) Subject(ctx context.Context, u store.User, s *session.Session) (policy.Subject, error) {
	_, names, err := h.Enrolled(ctx, u.ID)
	if err != nil {
		return policy.Subject{}, err
	}
	groups, err := h.Store.UserGroups(ctx, u.ID)
	if err != nil {
		return policy.Subject{}, err
	}
	sub := policy.Subject{Enrolled: names}
	for _, g := range groups {
		sub.Groups = append(sub.Groups, g.Name)
	}
	for _, f := range s.Factors {
		sub.Factors = append(sub.Factors, policy.Presented{Name: f.Name, At: f.At})
	}
	return sub, nil
}

// Decide runs the policy for u's session s against req, and returns what
// it knew about the user (groups, enrolled factors), so that a caller
// needing the groups does not read them again. EnrolOnFirstUse is taken
// from the handler.
func (h *Handler) Decide(ctx context.Context, u store.User, s *session.Session, req policy.Requirement) (policy.Decision, policy.Subject, error) {
	sub, err := h.Subject(ctx, u, s)
	if err != nil {
		return policy.Decision{}, sub, err
	}
	return h.Judge(sub, req), sub, nil
}

// Judge runs the policy for req against sub, as Decide does once it has
// read sub: for a caller that keeps subjects (forward auth's memo).
func (h *Handler) Judge(sub policy.Subject, req policy.Requirement) policy.Decision {
	req.EnrolOnFirstUse = h.EnrolOnFirstUse
	return policy.Decide(req, sub, h.NowTime())
}

// StepUpURL is the local URL that runs the step-up d asks for and then
// returns to ret. It fails if ret is not a permitted return target.
func (h *Handler) StepUpURL(u store.User, req policy.Requirement, d policy.Decision, app, ret string) (string, error) {
	if !h.returnAllowed(ret) {
		return "", fmt.Errorf("mfa: return target %q is not permitted", ret)
	}
	c := Continuation{UserID: u.ID, Return: ret, App: app, Factors: req.Factors,
		Enrol: d.Outcome == policy.Enrol, Expires: h.NowTime().Add(ContinuationTTL).Unix()}
	if !req.FreshSince.IsZero() {
		c.Fresh = req.FreshSince.Unix()
	}
	return ChoosePath + "?c=" + url.QueryEscape(c.sign(h.ContinuationKey)), nil
}

func (h *Handler) returnAllowed(ret string) bool {
	return web.LocalPath(ret) || (h.AllowReturn != nil && h.AllowReturn(ret))
}

// Need is a browser request that must meet a requirement before it goes on.
type Need struct {
	User        store.User
	Session     *session.Session
	Requirement policy.Requirement
	App         string // what asks, for pages and the audit trail
	// Resume returns where the browser continues after the step-up.
	Resume func() (string, error)
}

// Require answers a browser request that does not meet n: a redirect to
// the step-up (or enrolment), or the refusal page. It returns false, having
// written nothing, when the request may go on.
func (h *Handler) Require(w http.ResponseWriter, r *http.Request, n Need) bool {
	d, _, err := h.Decide(r.Context(), n.User, n.Session, n.Requirement)
	if err != nil {
		h.unavailable(w, r, err)
		return true
	}
	switch d.Outcome {
	case policy.Allow:
		return false
	case policy.Deny:
		h.Refuse(w, r, n.User, n.App, d.Reason)
		return true
	}
	ret, err := n.Resume()
	if err != nil {
		h.unavailable(w, r, err)
		return true
	}
	to, err := h.StepUpURL(n.User, n.Requirement, d, n.App, ret)
	if err != nil {
		h.Render.Fail(w, r, err)
		return true
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return true
}

// Refuse answers 403 when policy denies, with the precise reason in the log
// and the audit trail only.
func (h *Handler) Refuse(w http.ResponseWriter, r *http.Request, u store.User, app, reason string) {
	h.Record(r, &audit.Event{Type: EventRefused, Actor: u.Email, Subject: u.Email, App: app,
		Outcome: audit.Denied, Reason: reason})
	msg := "Your account cannot open this app."
	if reason == "no acceptable factor enrolled" {
		msg = "This app requires two-step verification, and your account has no verification method " +
			"it accepts. Ask your administrator to help you set one up."
	}
	h.Render.Error(w, r, http.StatusForbidden, "Access refused", msg)
}

// Record writes an audit event; a failure is logged, since the answer to
// the browser does not depend on it.
func (h *Handler) Record(r *http.Request, e *audit.Event) {
	if e.IP == "" {
		e.IP = web.ClientIP(r)
	}
	if err := h.Store.Record(r.Context(), e); err != nil {
		h.logger().ErrorContext(r.Context(), "audit event not written", "type", e.Type, "err", err)
	}
}

// Unavailable answers 503 when a backend is down. Nobody is let through.
func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.logger().ErrorContext(r.Context(), "backend unavailable", "err", err, "request_id", web.RequestID(r.Context()))
	w.Header().Set("Retry-After", "5")
	h.Render.Error(w, r, http.StatusServiceUnavailable, "Temporarily unavailable",
		"Verification is temporarily unavailable. Please try again in a moment.")
}

// Unavailable is unavailable for factor packages.
func (h *Handler) Unavailable(w http.ResponseWriter, r *http.Request, err error) {
	h.unavailable(w, r, err)
}

// isUnavailable reports whether err means a backend is down (as opposed to
// a missing record).
func isUnavailable(err error) bool {
	return errors.Is(err, session.ErrUnavailable) || errors.Is(err, store.ErrUnavailable)
}
