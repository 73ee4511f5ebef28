package webauthn

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	gowebauthn "github.com/go-webauthn/webauthn/webauthn"

	"github.com/portcullis/portcullis/audit"
	"github.com/portcullis/portcullis/session"
	"github.com/portcullis/portcullis/store"
	"github.com/portcullis/portcullis/web"
)

// signIn is one passkey sign-in attempt as the audit trail and the
// throttle see it. email is "" until the user handle names a user.
type signIn struct {
	email, ip, ret string
}

// who is the throttle's identity for the attempt: the user once known,
// else a per-IP pseudo-user that no email address can equal.
func (s signIn) who() string {
	if s.email != "" {
		return s.email
	}
	return "passkey sign-in from " + s.ip
}

// passkeyBegin answers the options of a discoverable login: no user, no
// allowed credentials, user verification required.
func (f *Factor) passkeyBegin(w http.ResponseWriter, r *http.Request) {
	if err := web.ParseForm(w, r); err != nil {
		writeJSON(w, http.StatusBadRequest, reply{Error: "The request was not understood."})
		return
	}
	ip := web.ClientIP(r)
	if !f.passkeyAllowed(w, r, signIn{ip: ip}) || !f.beginAllowed(w, r, ip) {
		return
	}
	assertion, sd, err := f.rp.BeginDiscoverableLogin(gowebauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		f.unavailable(w, r, err)
		return
	}
	f.started(w, r, ceremony{Kind: kindPasskey, Data: *sd}, assertion.Response)
}

// passkeyFinish signs the user in with a verified, user-verified assertion
// of a discoverable credential, and answers where to go next.
func (f *Factor) passkeyFinish(w http.ResponseWriter, r *http.Request) {
	if err := web.ParseForm(w, r); err != nil {
		writeJSON(w, http.StatusBadRequest, reply{Error: "The request was not understood."})
		return
	}
	ctx := r.Context()
	at := signIn{ip: web.ClientIP(r), ret: f.returnTarget(r.PostForm.Get("return"))}
	if !f.passkeyAllowed(w, r, at) {
		return
	}
	c, err := f.take(ctx, r.PostForm.Get("ceremony"), kindPasskey, "")
	switch {
	case errors.Is(err, errNoCeremony):
		f.passkeyFail(w, r, at, err.Error(), msgExpired)
		return
	case err != nil:
		f.unavailable(w, r, err)
		return
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(r.PostForm.Get("credential")))
	if err != nil {
		f.passkeyFail(w, r, at, "assertion unreadable: "+describe(err), msgPasskey)
		return
	}
	u, reason, err := f.owner(ctx, parsed)
	switch {
	case err != nil:
		f.unavailable(w, r, err)
		return
	case u == nil:
		f.passkeyFail(w, r, at, reason, msgPasskey)
		return
	}
	at.email = u.Email
	if !f.passkeyAllowed(w, r, at) {
		return
	}
	f.passkeyVerify(w, r, at, u, c, parsed)
}

// owner returns the user whose handle the assertion carries, with their
// credentials; nil and the reason when it names no one who has that
// credential. An error means a backend failed.
func (f *Factor) owner(ctx context.Context, parsed *protocol.ParsedCredentialAssertionData) (*user, string, error) {
	id, ok := f.userOf(parsed.Response.UserHandle)
	if !ok {
		return nil, "unknown credential: user handle not ours", nil
	}
	su, err := f.core.Store.User(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "unknown credential: no user " + strconv.FormatInt(id, 10), nil
	}
	if err != nil {
		return nil, "", err
	}
	u, err := f.loadUser(ctx, su)
	if err != nil {
		return nil, "", err
	}
	if _, ok := u.find(parsed.RawID); !ok {
		return nil, "unknown credential: not registered to " + su.Email, nil
	}
	return u, "", nil
}

// passkeyVerify checks the assertion against u's credential, then the
// account, and signs in.
func (f *Factor) passkeyVerify(w http.ResponseWriter, r *http.Request, at signIn, u *user, c ceremony,
	parsed *protocol.ParsedCredentialAssertionData) {
	_, cred, err := f.rp.ValidatePasskeyLogin(func(_, _ []byte) (gowebauthn.User, error) { return u, nil }, c.Data, parsed)
	switch {
	case err != nil:
		f.passkeyFail(w, r, at, "assertion refused: "+describe(err), msgPasskey)
		return
	case !parsed.Response.AuthenticatorData.Flags.HasUserVerified():
		// go-webauthn checks it too, from the ceremony; this does not
		// depend on what the ceremony record says.
		f.passkeyFail(w, r, at, "user verification missing", msgPasskey)
		return
	case u.Disabled:
		f.passkeyFail(w, r, at, "user disabled", msgPasskey)
		return
	case u.PasswordResetRequired:
		f.refuse(w, r, at, "password reset required", msgResetFirst)
		return
	}
	k, _ := u.find(cred.ID)
	received := parsed.Response.AuthenticatorData.Counter
	now := f.core.NowTime()
	e, err := store.Enrolment{}, errRegression
	if !cred.Authenticator.CloneWarning {
		e, err = f.used(r.Context(), k, cred, received, now, func(tx store.Tx) error {
			return f.recordLogin(r.Context(), tx, u, at, k, now)
		})
	}
	switch {
	case errors.Is(err, errRegression):
		f.counterRegression(r, u.User, k, received, "")
		f.passkeyFail(w, r, at, err.Error(), msgPasskey)
		return
	case errors.Is(err, store.ErrNotFound):
		f.passkeyFail(w, r, at, "credential or user removed during the ceremony", msgPasskey)
		return
	case err != nil:
		f.unavailable(w, r, err)
		return
	}
	f.startSession(w, r, at, u, e, now)
}

// recordLogin updates the user's last login and writes login.succeeded,
// in the transaction that stores the new sign count.
func (f *Factor) recordLogin(ctx context.Context, tx store.Tx, u *user, at signIn, k key, now time.Time) error {
	cur, err := tx.User(ctx, u.ID)
	if err != nil {
		return err
	}
	cur.LastLoginAt = now
	if err := tx.UpdateUser(ctx, cur); err != nil {
		return err
	}
	return tx.Record(ctx, &audit.Event{Type: audit.LoginSucceeded, Actor: u.Email, Subject: u.Email, IP: at.ip,
		Outcome: audit.Success, Details: map[string]string{"method": "passkey", "factor": f.Name(),
			"enrolment": strconv.FormatInt(k.e.ID, 10), "name": k.e.Name}})
}

// startSession creates the session: signed in now, with the passkey as its
// factor (user-verified: it satisfies MFA, see the package doc).
func (f *Factor) startSession(w http.ResponseWriter, r *http.Request, at signIn, u *user, e store.Enrolment, now time.Time) {
	ctx := r.Context()
	if err := f.core.Throttle.Succeeded(ctx, u.Email); err != nil {
		f.logger().WarnContext(ctx, "mfa failure count not cleared", "err", err)
	}
	s := &session.Session{UserID: u.ID, Email: u.Email, AuthTime: now, IP: at.ip, UserAgent: truncate(r.UserAgent(), 256)}
	s.AddFactor(session.FactorWebAuthn, now)
	if err := f.core.Sessions.Login(ctx, w, r, s); err != nil {
		f.unavailable(w, r, err)
		return
	}
	f.logger().InfoContext(ctx, "passkey sign-in", "user", u.Email, "enrolment", e.ID)
	writeJSON(w, http.StatusOK, reply{Redirect: at.ret})
}

// passkeyAllowed answers 429 (and audits it) when the attempt's identity or
// IP is over the failure budget.
func (f *Factor) passkeyAllowed(w http.ResponseWriter, r *http.Request, at signIn) bool {
	wait, err := f.core.Throttle.Blocked(r.Context(), at.who(), at.ip)
	switch {
	case err != nil:
		f.unavailable(w, r, err)
		return false
	case wait > 0:
		f.core.Record(r, &audit.Event{Type: audit.LoginThrottled, Subject: at.email, IP: at.ip, Outcome: audit.Denied,
			Reason: "too many failed attempts", Details: map[string]string{"method": "passkey"}})
		throttled(w, wait)
		return false
	}
	return true
}

// MaxPasskeyBegins bounds the passkey ceremonies one client IP may start
// per minute: each stores a record in the session backend before anyone
// is known, so without a bound an anonymous client could fill it.
const MaxPasskeyBegins = 30

// beginAllowed counts a passkey begin from ip and answers 429 over
// MaxPasskeyBegins in the minute.
func (f *Factor) beginAllowed(w http.ResponseWriter, r *http.Request, ip string) bool {
	n, ttl, err := f.core.Replay.Incr(r.Context(), "webauthn:passkey-begins:"+ip, time.Minute)
	switch {
	case err != nil:
		f.unavailable(w, r, err)
		return false
	case n > MaxPasskeyBegins:
		throttled(w, max(ttl, time.Second))
		return false
	}
	return true
}

// passkeyFail counts a failed sign-in and refuses it.
func (f *Factor) passkeyFail(w http.ResponseWriter, r *http.Request, at signIn, reason, msg string) {
	if err := f.core.Throttle.Failed(r.Context(), at.who(), at.ip); err != nil {
		f.unavailable(w, r, err)
		return
	}
	f.refuse(w, r, at, reason, msg)
}

// refuse audits a refused sign-in (the reason for operators only) and
// answers msg.
func (f *Factor) refuse(w http.ResponseWriter, r *http.Request, at signIn, reason, msg string) {
	f.core.Record(r, &audit.Event{Type: audit.LoginFailed, Subject: at.email, IP: at.ip, Outcome: audit.Failure,
		Reason: reason, Details: map[string]string{"method": "passkey"}})
	f.logger().InfoContext(r.Context(), "passkey sign-in refused", "user", at.email, "ip", at.ip, "reason", reason,
		"request_id", web.RequestID(r.Context()))
	writeJSON(w, http.StatusUnauthorized, reply{Error: msg})
}

// returnTarget is where the browser goes after signing in: a local path,
// or one the core's AllowReturn accepts (forward-auth hosts), else "/".
func (f *Factor) returnTarget(ret string) string {
	if web.LocalPath(ret) || ret != "" && f.core.AllowReturn != nil && f.core.AllowReturn(ret) {
		return ret
	}
	return "/"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
