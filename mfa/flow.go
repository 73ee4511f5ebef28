package mfa

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// Attempt is one visit to a factor page: the signed-in user, the session,
// and the continuation being served.
type Attempt struct {
	Session *session.Session
	User    store.User
	Cont    Continuation
	// Token is the signed continuation, to carry in links and forms as
	// "c"; empty on enrolment pages reached from the devices page.
	Token string
}

// Query returns "?c=TOKEN" (or "" without a token), for links and actions.
func (a *Attempt) Query() string {
	if a.Token == "" {
		return ""
	}
	return "?c=" + url.QueryEscape(a.Token)
}

// Begin starts a factor page: it parses the form, loads the signed-in user,
// verifies the continuation in "c" and that the user is not throttled. It
// answers the request itself and returns false when any of these fails.
func (h *Handler) Begin(w http.ResponseWriter, r *http.Request) (*Attempt, bool) {
	if err := web.ParseForm(w, r); err != nil {
		h.Render.Fail(w, r, err)
		return nil, false
	}
	token := r.Form.Get("c")
	a, ok := h.signedIn(w, r, ChoosePath+"?c="+url.QueryEscape(token))
	if !ok {
		return nil, false
	}
	c, err := parseContinuation(h.ContinuationKey, token, h.NowTime())
	if err == nil && c.UserID != a.User.ID {
		err = errors.New("mfa: continuation belongs to another user")
	}
	if err != nil {
		h.logger().InfoContext(r.Context(), "step-up refused", "reason", err, "user", a.User.Email)
		h.Render.Error(w, r, http.StatusBadRequest, "Verification expired",
			"This verification page has expired or is not valid. Go back to where you started and try again.")
		return nil, false
	}
	a.Cont, a.Token = c, token
	return a, h.notThrottled(w, r, a)
}

// signedIn loads the session, sending an anonymous browser to sign in first
// (returning to ret) and answering 503 when a backend is down.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request, ret string) (*Attempt, bool) {
	s, u, err := h.Current(r)
	switch {
	case errors.Is(err, session.ErrNotFound):
		http.Redirect(w, r, "/login?return="+url.QueryEscape(ret), http.StatusSeeOther)
		return nil, false
	case err != nil:
		h.unavailable(w, r, err)
		return nil, false
	case u.PasswordResetRequired:
		http.Redirect(w, r, "/password?return="+url.QueryEscape(ret), http.StatusSeeOther)
		return nil, false
	}
	return &Attempt{Session: s, User: u}, true
}

// notThrottled answers 429 when the user or their IP is over the failure
// budget.
func (h *Handler) notThrottled(w http.ResponseWriter, r *http.Request, a *Attempt) bool {
	wait, err := h.Throttle.Blocked(r.Context(), a.User.Email, web.ClientIP(r))
	if err != nil {
		h.unavailable(w, r, err)
		return false
	}
	if wait > 0 {
		h.throttled(w, r, a, wait)
		return false
	}
	return true
}

func (h *Handler) throttled(w http.ResponseWriter, r *http.Request, a *Attempt, wait time.Duration) {
	h.Record(r, &audit.Event{Type: EventThrottled, Actor: a.User.Email, Subject: a.User.Email, App: a.Cont.App,
		Outcome: audit.Denied, Reason: "too many failed second-factor attempts"})
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	h.Render.Error(w, r, http.StatusTooManyRequests, "Too many attempts",
		"Too many failed verification attempts. Try again in "+web.HumanDuration(wait)+".")
}

// Succeed records that a factor was presented, rotates the session ID
// (step-up is a privilege change), clears the user's failure count and
// sends the browser on to the continuation's target. details go into the
// audit event.
func (h *Handler) Succeed(w http.ResponseWriter, r *http.Request, a *Attempt, factor string, details map[string]string) {
	if target, ok := h.Complete(w, r, a, factor, details); ok {
		http.Redirect(w, r, target, http.StatusSeeOther)
	}
}

// Complete is Succeed without the redirect, for pages that answer a
// script: it sets the rotated session cookie and returns the target. When
// it returns false it has answered the request (sign in again, 503).
func (h *Handler) Complete(w http.ResponseWriter, r *http.Request, a *Attempt, factor string, details map[string]string) (string, bool) {
	ctx := r.Context()
	now := h.NowTime()
	err := h.Sessions.Update(ctx, a.Session, func(s *session.Session) error {
		s.AddFactor(factor, now)
		return nil
	})
	if err == nil {
		err = h.Sessions.Rotate(ctx, w, a.Session)
	}
	switch {
	case errors.Is(err, session.ErrNotFound):
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return "", false
	case err != nil:
		h.unavailable(w, r, err)
		return "", false
	}
	if err := h.Throttle.Succeeded(ctx, a.User.Email); err != nil {
		h.logger().WarnContext(ctx, "mfa failure count not cleared", "err", err)
	}
	if details == nil {
		details = map[string]string{}
	}
	details["factor"] = factor
	h.Record(r, &audit.Event{Type: EventSucceeded, Actor: a.User.Email, Subject: a.User.Email, App: a.Cont.App,
		Outcome: audit.Success, Details: details})
	return a.Cont.Return, true
}

// Fail counts a failed attempt and writes its audit event with the precise
// reason. It returns how long the user must now wait (0: they may try
// again), or an error when the backend is down; the caller shows its page
// again or, when wait > 0, calls Throttled.
func (h *Handler) Fail(r *http.Request, a *Attempt, factor, reason string) (time.Duration, error) {
	h.Record(r, &audit.Event{Type: EventFailed, Actor: a.User.Email, Subject: a.User.Email, App: a.Cont.App,
		Outcome: audit.Failure, Reason: reason, Details: map[string]string{"factor": factor}})
	ip := web.ClientIP(r)
	if err := h.Throttle.Failed(r.Context(), a.User.Email, ip); err != nil {
		return 0, err
	}
	return h.Throttle.Blocked(r.Context(), a.User.Email, ip)
}

// Throttled answers 429 after Fail returned a wait.
func (h *Handler) Throttled(w http.ResponseWriter, r *http.Request, a *Attempt, wait time.Duration) {
	h.throttled(w, r, a, wait)
}

// BeginEnrol starts an enrolment page. The user must be signed in; one who
// already has a usable factor must also have presented a second factor in
// the last RecentMFA (so a stolen password cannot add the thief's device),
// and is sent to step up first, returning to this page. A continuation in
// "c" is optional: with one (the enrol-on-first-use flow) success returns to
// its target, without one to the devices page.
func (h *Handler) BeginEnrol(w http.ResponseWriter, r *http.Request) (*Attempt, bool) {
	if err := web.ParseForm(w, r); err != nil {
		h.Render.Fail(w, r, err)
		return nil, false
	}
	a, ok := h.signedIn(w, r, r.URL.RequestURI())
	if !ok {
		return nil, false
	}
	a.Cont = Continuation{UserID: a.User.ID, Return: DevicesPath}
	if token := r.Form.Get("c"); token != "" {
		c, err := parseContinuation(h.ContinuationKey, token, h.NowTime())
		if err != nil || c.UserID != a.User.ID {
			h.Render.Error(w, r, http.StatusBadRequest, "Verification expired",
				"This set-up page has expired or is not valid. Go back to where you started and try again.")
			return nil, false
		}
		a.Cont, a.Token = c, token
	}
	if !h.notThrottled(w, r, a) {
		return nil, false
	}
	return a, h.recentEnough(w, r, a)
}

// recentEnough passes users with no usable factor (their first enrolment)
// and users whose session presented a second factor within RecentMFA;
// others are sent to step up (GET) or refused (POST, which cannot be
// replayed after the detour).
func (h *Handler) recentEnough(w http.ResponseWriter, r *http.Request, a *Attempt) bool {
	es, _, err := h.Enrolled(r.Context(), a.User.ID)
	if err != nil {
		h.unavailable(w, r, err)
		return false
	}
	if len(es) == 0 || !a.Session.MFATime.IsZero() && h.NowTime().Sub(a.Session.MFATime) <= RecentMFA {
		return true
	}
	if r.Method != http.MethodGet {
		h.Render.Error(w, r, http.StatusForbidden, "Verify it's you",
			"Changing your verification methods needs a recent second factor. Go back and try again.")
		return false
	}
	c := Continuation{UserID: a.User.ID, Return: r.URL.RequestURI(), App: "Account security",
		Expires: h.NowTime().Add(ContinuationTTL).Unix()}
	http.Redirect(w, r, ChoosePath+"?c="+url.QueryEscape(c.sign(h.ContinuationKey)), http.StatusSeeOther)
	return false
}

// EnrolDone finishes an enrolment: e (already confirmed and stored) is
// audited; when proven (the user presented the new factor while enrolling:
// a TOTP code, a WebAuthn registration) it also counts as presented, as in
// Succeed; otherwise the browser goes to AfterEnrol.
func (h *Handler) EnrolDone(w http.ResponseWriter, r *http.Request, a *Attempt, e store.Enrolment, proven bool) {
	h.RecordEnrolment(r, a, e)
	if proven {
		h.Succeed(w, r, a, e.Factor, map[string]string{"enrolment": "new"})
		return
	}
	http.Redirect(w, r, h.AfterEnrol(a), http.StatusSeeOther)
}

// RecordEnrolment writes the audit event of a new enrolment.
func (h *Handler) RecordEnrolment(r *http.Request, a *Attempt, e store.Enrolment) {
	h.Record(r, &audit.Event{Type: EventEnrolled, Actor: a.User.Email, Subject: a.User.Email, App: a.Cont.App,
		Outcome: audit.Success, Details: map[string]string{"factor": e.Factor, "name": e.Name, "id": strconv.FormatInt(e.ID, 10)}})
}

// AfterEnrol is where the browser goes after an enrolment that did not
// prove possession: back to the factor choice in the enrol-on-first-use
// flow (to use the new factor), else to the continuation's target.
func (h *Handler) AfterEnrol(a *Attempt) string {
	if a.Token != "" {
		return ChoosePath + a.Query()
	}
	return a.Cont.Return
}

// PageUser is the header's user for factor pages.
func PageUser(u store.User) *web.PageUser { return &web.PageUser{Email: u.Email, Name: u.Name} }
