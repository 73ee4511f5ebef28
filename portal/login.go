package portal

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/password"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// genericFailure is the one message every failed login gets.
const genericFailure = "Incorrect email or password."

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	ret := h.returnTarget(r.URL.Query().Get("return"))
	if _, _, err := h.Current(r); err == nil && r.URL.Query().Get("prompt") != "login" {
		http.Redirect(w, r, ret, http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, web.LoginData{Return: ret, Email: r.URL.Query().Get("email")},
		r.URL.Query().Get("prompt") == "login")
}

// renderLogin shows login.html with d, adding the upstream IdPs' buttons
// (force: ForceAuthn carried to them) and hiding the password form when
// password sign-in is off.
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, d web.LoginData, force bool) {
	d.NoPassword = h.NoPassword
	if h.IdPs != nil {
		idps, err := h.IdPs(r.Context(), d.Return, force)
		if err != nil {
			h.unavailable(w, r, err)
			return
		}
		d.IdPs = idps
	}
	h.Render.Render(w, r, status, "login.html", web.Page{Title: "Sign in", Data: d})
}

// attempt is one login attempt as the audit trail sees it.
type attempt struct {
	email, ip, ret string
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if err := web.ParseForm(w, r); err != nil {
		h.Render.Fail(w, r, err)
		return
	}
	a := attempt{
		email: strings.TrimSpace(r.PostFormValue("email")),
		ip:    web.ClientIP(r),
		ret:   h.returnTarget(r.PostFormValue("return")),
	}
	if h.NoPassword {
		h.record(r, &audit.Event{Type: audit.LoginFailed, Subject: a.email, IP: a.ip,
			Outcome: audit.Denied, Reason: "password sign-in is turned off (login.password_form)"})
		h.renderLogin(w, r, http.StatusForbidden, web.LoginData{Return: a.ret,
			Error: "Password sign-in is turned off. Use your organisation's account."}, false)
		return
	}
	ctx := r.Context()
	wait, err := h.Throttle.Blocked(ctx, a.email, a.ip)
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	if wait > 0 {
		h.throttled(w, r, a, wait)
		return
	}
	u, reason, err := h.authenticate(ctx, a.email, r.PostFormValue("password"))
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	if reason != "" {
		h.failed(w, r, a, reason)
		return
	}
	h.succeeded(w, r, a, u, r.PostFormValue("password"))
}

// authenticate checks the password. It returns the reason for a refusal, or
// "" when the user may sign in; an error only when a backend failed.
func (h *Handler) authenticate(ctx context.Context, email, pw string) (store.User, string, error) {
	u, err := h.Store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return u, "", err
	}
	hash := u.PasswordHash
	if err != nil || hash == "" {
		hash = h.Hasher.Dummy() // same work as a real check: no timing oracle
	}
	ok, verr := password.Verify(pw, hash)
	switch {
	case err != nil:
		return u, "unknown user", nil
	case u.PasswordHash == "":
		return u, "no password set", nil
	case verr != nil:
		return u, "stored hash unreadable: " + verr.Error(), nil
	case !ok:
		return u, "wrong password", nil
	case u.Disabled:
		return u, "user disabled", nil
	}
	return u, "", nil
}

func (h *Handler) throttled(w http.ResponseWriter, r *http.Request, a attempt, wait time.Duration) {
	h.countLogin("throttled")
	h.record(r, &audit.Event{Type: audit.LoginThrottled, Subject: a.email, IP: a.ip,
		Outcome: audit.Denied, Reason: "too many failed attempts"})
	w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	h.renderLogin(w, r, http.StatusTooManyRequests,
		web.LoginData{Email: a.email, Return: a.ret, RetryAfter: web.HumanDuration(wait)}, false)
}

func (h *Handler) failed(w http.ResponseWriter, r *http.Request, a attempt, reason string) {
	h.countLogin("failure")
	if err := h.Throttle.Failed(r.Context(), a.email, a.ip); err != nil {
		h.unavailable(w, r, err)
		return
	}
	h.record(r, &audit.Event{Type: audit.LoginFailed, Subject: a.email, IP: a.ip,
		Outcome: audit.Failure, Reason: reason})
	h.Logger.InfoContext(r.Context(), "login failed", "email", a.email, "ip", a.ip, "reason", reason,
		"request_id", web.RequestID(r.Context()))
	h.renderLogin(w, r, http.StatusUnauthorized, web.LoginData{Email: a.email, Return: a.ret, Error: genericFailure}, false)
}

func (h *Handler) succeeded(w http.ResponseWriter, r *http.Request, a attempt, u store.User, pw string) {
	ctx := r.Context()
	now := h.now()
	if err := h.Throttle.Succeeded(ctx, a.email); err != nil {
		h.unavailable(w, r, err)
		return
	}
	if err := h.recordLogin(ctx, u, a, pw, now); err != nil {
		h.unavailable(w, r, err)
		return
	}
	s := &session.Session{UserID: u.ID, Email: u.Email, AuthTime: now,
		IP: a.ip, UserAgent: truncate(r.UserAgent(), 256)}
	s.AddFactor(session.FactorPassword, now)
	if err := h.Sessions.Login(ctx, w, r, s); err != nil {
		h.unavailable(w, r, err)
		return
	}
	h.countLogin("success")
	target := a.ret
	if u.PasswordResetRequired {
		target = "/password?return=" + urlQueryEscape(a.ret)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// recordLogin updates the last-login time (and upgrades the hash when the
// configured cost changed) together with the audit event.
func (h *Handler) recordLogin(ctx context.Context, u store.User, a attempt, pw string, now time.Time) error {
	var rehash string
	if h.Hasher.NeedsRehash(u.PasswordHash) {
		var err error
		if rehash, err = h.Hasher.Hash(pw); err != nil {
			return err
		}
	}
	return h.Store.InTx(ctx, func(tx store.Tx) error {
		cur, err := tx.User(ctx, u.ID)
		if err != nil {
			return err
		}
		cur.LastLoginAt = now
		if rehash != "" && cur.PasswordHash == u.PasswordHash {
			cur.PasswordHash = rehash
		}
		return errors.Join(tx.UpdateUser(ctx, cur), tx.Record(ctx, &audit.Event{
			Type: audit.LoginSucceeded, Actor: u.Email, Subject: u.Email, IP: a.ip,
			Outcome: audit.Success, Details: map[string]string{"method": "password"}}))
	})
}

// record writes an audit event outside any other change; a failure is logged,
// not shown, because the user-facing outcome does not depend on it.
func (h *Handler) record(r *http.Request, e *audit.Event) {
	if err := h.Store.Record(r.Context(), e); err != nil {
		h.Logger.ErrorContext(r.Context(), "audit event not written", "type", e.Type, "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
